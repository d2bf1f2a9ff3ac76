// Dispatch: one request's way through a router — the `use` middleware whose prefix covers its
// path, in registration order; then the route lookup (req.params set); then the route's middleware
// and handler; or the router's 404 / 405 / OPTIONS answers. Synchronous throws, rejected promises
// and next(err) all take the error path.

import type { ServerResponse } from '../../keel.js';
import { ensureQuery } from './query.js';
import { parseRequestPath, RequestPath } from './request-path.js';
import { answerError, isThenable, sendOptions, sendStatus } from './respond.js';
import { EMPTY_PARAMS, type Route, type RouteTable } from './table.js';
import type { ErrorHandler, Handler, MethodNotAllowedHandler, Middleware, Next, NotFoundHandler, Params, RouterRequest } from './types.js';

/** A `use` registration: `prefix` is null for global middleware. */
export interface Layer {
  readonly prefix: string | null;
  readonly fn: Middleware;
}

/** What a router hands every dispatch (its state; routes and layers may still be added). */
export interface DispatchConfig {
  readonly table: RouteTable;
  readonly layers: Layer[];
  /** Whether some layer has a prefix (the request path is then parsed before the middleware). */
  hasPrefixes: boolean;
  readonly caseSensitive: boolean;
  readonly notFound: NotFoundHandler;
  readonly methodNotAllowed: MethodNotAllowedHandler;
  readonly onError: ErrorHandler;
}

/** Parsing and matching are synchronous: one RequestPath serves every dispatch. */
const scratch = new RequestPath();

const MIDDLEWARE = 0; // running the `use` layers
const ROUTE = 1; // running the matched route's functions
const NOT_FOUND = 2; // running the notFound option: next() gives the default 404
const FINISHED = 3; // answered (405/OPTIONS/404) or handed to the outer next: next() is ignored
const FAILED = 4; // on the error path: next() is ignored

export class Dispatch {
  readonly #config: DispatchConfig;
  readonly #req: RouterRequest;
  readonly #res: ServerResponse;
  readonly #done: Next | undefined;
  #phase = MIDDLEWARE;
  #layer = 0;
  #path = '';
  #route: Route | null = null;
  #step = 0;
  #params: Params = EMPTY_PARAMS;

  /** The `next` every function of this request gets. */
  readonly next: Next = (err?: unknown): void => {
    if (err !== undefined && err !== null) this.#fail(err);
    else this.#continue();
  };

  constructor(config: DispatchConfig, req: RouterRequest, res: ServerResponse, done: Next | undefined) {
    this.#config = config;
    this.#req = req;
    this.#res = res;
    this.#done = done;
    req.params = EMPTY_PARAMS;
    ensureQuery(req);
  }

  start(): void {
    if (this.#config.hasPrefixes) {
      try {
        this.#path = parseRequestPath(this.#req.url ?? '', this.#config.caseSensitive, scratch) ? scratch.path : '';
      } catch (err) {
        this.#fail(err);
        return;
      }
    }
    this.#continue();
  }

  #continue(): void {
    if (this.#phase === MIDDLEWARE) {
      const layers = this.#config.layers;
      while (this.#layer < layers.length) {
        const layer = layers[this.#layer++];
        if (layer.prefix !== null && !underPrefix(this.#path, layer.prefix)) continue;
        this.#call(layer.fn);
        return;
      }
      this.#resolve();
    } else if (this.#phase === ROUTE) {
      const handlers = (this.#route as Route).handlers;
      const step = this.#step++;
      if (step < handlers.length - 1) this.#call(handlers[step] as Middleware);
      else if (step === handlers.length - 1) this.#callHandler(handlers[step] as Handler);
      else this.#unrouted(null, false); // the handler called next(): nothing else routes this request
    } else if (this.#phase === NOT_FOUND) {
      this.#phase = FINISHED;
      if (!this.#res.headersSent) sendStatus(this.#res, 404);
    }
  }

  /** Look the route up (after the middleware, which may have rewritten req.url) and run it. */
  #resolve(): void {
    const req = this.#req;
    const config = this.#config;
    let hasPath: boolean;
    try {
      hasPath = parseRequestPath(req.url ?? '', config.caseSensitive, scratch);
    } catch (err) {
      this.#fail(err);
      return;
    }
    const route = hasPath ? config.table.find(req.method ?? 'GET', scratch) : null;
    if (route === null) {
      this.#unrouted(hasPath ? scratch : null, true);
      return;
    }
    this.#params = req.params = config.table.params(route, scratch);
    this.#route = route;
    this.#phase = ROUTE;
    this.#continue();
  }

  /**
   * No route takes the request: the outer `next` when mounted; else 204 for OPTIONS, 405 with
   * Allow when other methods have a route for the path (`byMethod`), 404 otherwise.
   */
  #unrouted(target: RequestPath | null, byMethod: boolean): void {
    this.#phase = FINISHED;
    if (this.#done !== undefined) {
      this.#done();
      return;
    }
    if (this.#res.headersSent) return; // answered already (a handler that still called next())
    const req = this.#req;
    const table = this.#config.table;
    let allowed: string[] = [];
    if (byMethod) {
      if (target !== null) allowed = table.allowed(target);
      else if (req.method === 'OPTIONS' && req.url === '*') {
        allowed = table.methods(); // "OPTIONS *": what the server supports (RFC 9110 §9.3.7)
        if (allowed.length === 0) allowed = ['OPTIONS'];
      }
    }
    if (allowed.length === 0) {
      this.#phase = NOT_FOUND;
      this.#call(this.#config.notFound);
    } else if (req.method === 'OPTIONS') {
      sendOptions(this.#res, allowed.join(', '));
    } else {
      this.#res.setHeader('Allow', allowed.join(', '));
      this.#callMethodNotAllowed(allowed);
    }
  }

  #fail(err: unknown): void {
    const failedBefore = this.#phase === FAILED;
    this.#phase = FAILED;
    if (this.#done !== undefined) {
      if (!failedBefore) this.#done(err);
      return;
    }
    answerError(err, this.#req, this.#res, this.#config.onError);
  }

  #call(fn: Middleware): void {
    try {
      const result = fn(this.#req, this.#res, this.next);
      if (isThenable(result)) this.#watch(result);
    } catch (err) {
      this.#fail(err);
    }
  }

  #callHandler(fn: Handler): void {
    try {
      const result = fn(this.#req, this.#res, this.#params, this.next);
      if (isThenable(result)) this.#watch(result);
    } catch (err) {
      this.#fail(err);
    }
  }

  #callMethodNotAllowed(allowed: readonly string[]): void {
    try {
      const result = this.#config.methodNotAllowed(this.#req, this.#res, allowed);
      if (isThenable(result)) this.#watch(result);
    } catch (err) {
      this.#fail(err);
    }
  }

  #watch(result: PromiseLike<unknown>): void {
    result.then(undefined, (err: unknown) => this.#fail(err ?? new Error('A handler rejected without a reason')));
  }
}

/** `path` is `prefix` or below it ("/api" covers "/api" and "/api/x", not "/apis"). */
function underPrefix(path: string, prefix: string): boolean {
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f);
}
