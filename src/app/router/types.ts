// The public types of keel/router: handler and middleware shapes, the request as the router
// leaves it (req.params, req.query), the options, and RouteParams<Path>, which reads the
// parameter names out of a route path literal so that handlers get typed params.

import type { IncomingMessage, ServerResponse } from '../../keel.js';

/** Parameter values by name, percent-decoded; a wildcard's value is under "*". */
export type Params = Record<string, string>;

/** Continue with the next middleware or handler; next(err) takes the error path instead. */
export type Next = (err?: unknown) => void;

/** The request as routed: Keel's IncomingMessage plus `params` and `query`. */
export interface RouterRequest<P extends Params = Params> extends IncomingMessage {
  /** The matched route's parameters (a shared empty object until a route has matched). */
  params: P;
  /** The query string, parsed on first read (WHATWG URLSearchParams); assignable. */
  query: URLSearchParams;
}

/** Middleware: `router.use(...)` and every function of a route but its last. May be async. */
export type Middleware = (req: RouterRequest, res: ServerResponse, next: Next) => unknown;

/** A route's handler (its last function): gets the typed params third. May be async. */
export type Handler<P extends Params = Params> = (req: RouterRequest<P>, res: ServerResponse, params: P, next: Next) => unknown;

/**
 * The answer when no route matches the path (default: 404 text/plain "Not Found"). Middleware-
 * shaped: its next() gives the default 404, next(err) the error path (a static-file handler that
 * falls through fits).
 */
export type NotFoundHandler = (req: RouterRequest, res: ServerResponse, next: Next) => unknown;

/**
 * The answer when routes match the path but not the method (default: 405 text/plain). The `Allow`
 * field is already set on `res`; `allowed` holds the same methods, sorted.
 */
export type MethodNotAllowedHandler = (req: RouterRequest, res: ServerResponse, allowed: readonly string[]) => unknown;

/**
 * Called with every error of the error path before the router answers it; if it starts a response
 * itself (res.headersSent), the router sends nothing. May be async.
 */
export type ErrorHandler = (err: unknown, req: RouterRequest, res: ServerResponse) => unknown;

/** Options of createRouter(). */
export interface RouterOptions {
  /** Match static text case-sensitively (default true, RFC 3986 §6.2.2.1). Params keep their case. */
  caseSensitive?: boolean;
  /** Treat "/a/" and "/a" as the same route (default false: they are different paths). */
  ignoreTrailingSlash?: boolean;
  /** Replaces the 404 answer. */
  notFound?: NotFoundHandler;
  /** Replaces the 405 answer. */
  methodNotAllowed?: MethodNotAllowedHandler;
  /** Error reporter (default: console.error for errors answered with a 5xx, silence for 4xx). */
  onError?: ErrorHandler;
}

// ---- RouteParams<Path> ------------------------------------------------------------------------

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type NameOf<Segment extends string> = Segment extends `${infer Name}(${string}` ? Name : Segment;
type SegmentParams<Rest extends string> = Rest extends `${infer Segment}/${infer Tail}` ? NameOf<Segment> | ParamNames<Tail> : NameOf<Rest>;

/** The parameter names of a route path: ":name" up to "/" or "(", "::" being a literal colon. */
export type ParamNames<Path extends string> = Path extends `${string}:${infer Rest}`
  ? Rest extends `:${infer After}`
    ? ParamNames<After>
    : SegmentParams<Rest>
  : never;

/**
 * The params object of a route path: `RouteParams<'/users/:id/files/*'>` is
 * `{ id: string; '*': string }`; a path that is not a literal gives Record<string, string>.
 */
export type RouteParams<Path extends string> = string extends Path
  ? Params
  : Simplify<{ [K in ParamNames<Path>]: string } & (Path extends `${string}*` ? { '*': string } : {})>;
