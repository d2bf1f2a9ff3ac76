// Router: the public face of keel/router — a function object that goes wherever a request listener
// goes (http.createServer(router), or router(req, res, next) as middleware of another router or
// app), with methods to register routes (get, post, ..., on, all) and middleware (use), and find().

import { keelError, type IncomingMessage, type ServerResponse } from '../../keel.js';
import { Dispatch, type DispatchConfig } from './dispatch.js';
import { routerError } from './errors.js';
import { parseRequestPath, RequestPath } from './request-path.js';
import { methodNotAllowed, notFound, reportError } from './respond.js';
import { ANY_METHOD, RouteTable, type Route } from './table.js';
import type { Handler, Middleware, Next, Params, RouteParams, RouterOptions, RouterRequest } from './types.js';

/** A route's functions: any number of middleware, then the handler, whose params are typed. */
export type RouteHandlers<Path extends string> = [...Middleware[], Handler<RouteParams<Path>>];

/** What find() returns. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Params;
}

/** tchar (RFC 9110 §5.6.2), for method names. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/**
 * A base class whose instances are functions: the constructor returns an arrow function that calls
 * handle(), with the subclass's prototype, so the subclass's `#private` fields land on it.
 */
class Callable {
  constructor() {
    const router = (req: IncomingMessage, res: ServerResponse, next?: Next): void => (router as unknown as Router).handle(req, res, next);
    return Object.setPrototypeOf(router, new.target.prototype);
  }
}
Object.setPrototypeOf(Callable.prototype, Function.prototype); // call, apply, bind

/** A router is a request listener: `router(req, res)`, or `router(req, res, next)` when mounted. */
export interface Router {
  (req: IncomingMessage, res: ServerResponse, next?: Next): void;
}

/**
 * A request router: a radix tree per method, built at registration. Every `use` middleware runs
 * first, in registration order; then the route's functions. See createRouter() for the rules.
 */
export class Router extends Callable {
  readonly #table: RouteTable;
  readonly #config: DispatchConfig;
  readonly #caseSensitive: boolean;
  readonly #scratch = new RequestPath();

  /** Throws ERR_INVALID_ARG_TYPE for an option of the wrong type. */
  constructor(options: RouterOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof options);
    const caseSensitive = optionalBoolean('caseSensitive', options.caseSensitive, true);
    const ignoreTrailingSlash = optionalBoolean('ignoreTrailingSlash', options.ignoreTrailingSlash, false);
    this.#caseSensitive = caseSensitive;
    this.#table = new RouteTable(caseSensitive, ignoreTrailingSlash);
    this.#config = {
      table: this.#table,
      layers: [],
      hasPrefixes: false,
      caseSensitive,
      notFound: optionalFunction('notFound', options.notFound) ?? notFound,
      methodNotAllowed: optionalFunction('methodNotAllowed', options.methodNotAllowed) ?? methodNotAllowed,
      onError: optionalFunction('onError', options.onError) ?? reportError,
    };
  }

  /**
   * Route one request. With a `next` function (mounted as middleware), a request no route takes
   * goes to next() and an error to next(err); without it the router answers 404 / 405 / 204 / the
   * error itself.
   */
  handle(req: IncomingMessage, res: ServerResponse, next?: Next): void {
    new Dispatch(this.#config, req as RouterRequest, res, typeof next === 'function' ? next : undefined).start();
  }

  /**
   * Register a route for `method` (a token, upper-cased; or a list of them) at `path`. The last
   * function is the handler `(req, res, params, next)`, any before it are middleware
   * `(req, res, next)`. Throws ERR_ROUTE_INVALID_METHOD, ERR_ROUTE_INVALID_PATH,
   * ERR_ROUTE_DUPLICATE, or ERR_INVALID_ARG_TYPE (no function / not a function).
   */
  on<const Path extends string>(method: string | readonly string[], path: Path, ...handlers: RouteHandlers<Path>): this {
    const methods = (typeof method === 'string' ? [method] : Array.isArray(method) ? method : [undefined]).map(checkMethod);
    checkFunctions('handler', handlers);
    this.#table.add(methods, path, handlers as (Middleware | Handler)[]);
    return this;
  }

  /** GET route; HEAD requests are answered by it too (Keel drops the body). */
  get<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('GET', path, ...handlers);
  }

  post<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('POST', path, ...handlers);
  }

  put<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('PUT', path, ...handlers);
  }

  patch<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('PATCH', path, ...handlers);
  }

  delete<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('DELETE', path, ...handlers);
  }

  /** HEAD route: takes precedence over the GET route's automatic HEAD. */
  head<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('HEAD', path, ...handlers);
  }

  /** OPTIONS route: replaces the automatic 204 for its path. */
  options<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    return this.on('OPTIONS', path, ...handlers);
  }

  /** A route for every method, matched after the method's own routes (and GET's for HEAD). */
  all<const Path extends string>(path: Path, ...handlers: RouteHandlers<Path>): this {
    checkFunctions('handler', handlers);
    this.#table.add([ANY_METHOD], path, handlers as (Middleware | Handler)[]);
    return this;
  }

  /**
   * Add middleware `(req, res, next)`, run before any route, in registration order; with a
   * `prefix` ("/api": literal, no ":" or "*"), only for paths equal to it or below it ("/api/x",
   * not "/apis"). The path is not rewritten. Throws ERR_ROUTE_INVALID_PATH, ERR_INVALID_ARG_TYPE.
   */
  use(...middleware: Middleware[]): this;
  use(prefix: string, ...middleware: Middleware[]): this;
  use(...args: (string | Middleware)[]): this {
    let prefix: string | null = null;
    if (typeof args[0] === 'string') prefix = this.#prefix(args.shift() as string);
    checkFunctions('middleware', args);
    for (const fn of args as Middleware[]) this.#config.layers.push({ prefix, fn });
    if (prefix !== null) this.#config.hasPrefixes = true;
    return this;
  }

  /**
   * The route `method` + `url` (a request-target; the query is ignored) resolves to, with its
   * params, as handle() would find it; null when none. Throws ERR_ROUTE_INVALID_URL (status 400).
   */
  find(method: string, url: string): RouteMatch | null {
    const target = this.#scratch;
    if (!parseRequestPath(url, this.#caseSensitive, target)) return null;
    const route = this.#table.find(method, target);
    return route === null ? null : { route, params: this.#table.params(route, target) };
  }

  /** The registered routes, in registration order (method "*" for `all`). */
  routes(): { method: string; path: string }[] {
    return this.#table.routes.map((route) => ({ method: route.method, path: route.path }));
  }

  /** A `use` prefix in matching form: "/" is global (null); a trailing "/" is dropped. */
  #prefix(prefix: string): string | null {
    if (prefix.charCodeAt(0) !== 0x2f || prefix.includes(':') || prefix.includes('*') || prefix.includes('?')) {
      throw routerError('ERR_ROUTE_INVALID_PATH', prefix, 'a middleware prefix is a literal path starting with "/"');
    }
    const target = new RequestPath();
    try {
      parseRequestPath(prefix, this.#caseSensitive, target);
    } catch {
      throw routerError('ERR_ROUTE_INVALID_PATH', prefix, 'malformed percent-encoding');
    }
    const path = target.path.endsWith('/') ? target.path.slice(0, -1) : target.path;
    return path === '' ? null : path;
  }
}

/**
 * Create a router (options: RouterOptions; throws ERR_INVALID_ARG_TYPE).
 * - Paths: static text, `:name` parameters (a whole segment or its tail after static text,
 *   optionally constrained: `:id(\\d+)`), a `*` tail (params['*'], may be empty). Static text beats a
 *   parameter beats the wildcard at every branch, backtracking when a branch fails further on.
 *   Matching is on the percent-decoded path, query and fragment ignored; params are decoded.
 * - Handlers get `(req, res, params, next)`, middleware `(req, res, next)`; both may be async.
 *   `req.params` holds the params too, `req.query` the query (URLSearchParams, parsed on first read).
 * - Answers: 404 when no route matches the path (RFC 9110 §15.5.5); 405 with a sorted `Allow`
 *   (HEAD with GET, OPTIONS always) when other methods match it (§15.5.6); HEAD by the GET route;
 *   OPTIONS 204 with `Allow` (§9.3.7); 400 (ERR_ROUTE_INVALID_URL) for a malformed encoding.
 * - Errors (sync throws, rejections, next(err)): reported to onError, answered with the error's
 *   own 4xx/5xx `status`/`statusCode` or 500; a response already started is destroyed.
 */
export function createRouter(options?: RouterOptions): Router {
  return new Router(options);
}

function checkMethod(method: unknown): string {
  if (typeof method !== 'string' || method === '') throw routerError('ERR_ROUTE_INVALID_METHOD', String(method));
  for (let i = 0; i < method.length; i++) {
    if (TCHAR[method.charCodeAt(i)] !== 1) throw routerError('ERR_ROUTE_INVALID_METHOD', method);
  }
  return method.toUpperCase();
}

function checkFunctions(name: string, fns: unknown[]): void {
  if (fns.length === 0) throw keelError('ERR_INVALID_ARG_TYPE', name, 'of type function', 'none');
  for (const fn of fns) {
    if (typeof fn !== 'function') throw keelError('ERR_INVALID_ARG_TYPE', name, 'of type function', typeof fn);
  }
}

function optionalBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw keelError('ERR_INVALID_ARG_TYPE', `options.${name}`, 'of type boolean', typeof value);
  return value;
}

function optionalFunction<F>(name: string, value: F | undefined): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw keelError('ERR_INVALID_ARG_TYPE', `options.${name}`, 'of type function', typeof value);
  return value;
}
