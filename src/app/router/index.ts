// keel/router: a request router on Keel's public API — radix trees per method built at
// registration, typed path params, middleware with next(), and the 404 / 405 / HEAD / OPTIONS /
// error answers a router owes its server. `http.createServer(createRouter())` is a complete app.

export { Router, createRouter } from './router.js';
export type { RouteHandlers, RouteMatch } from './router.js';
export type { Route } from './table.js';
export type { RouterError, RouterErrorCode } from './errors.js';
export type {
  ErrorHandler,
  Handler,
  MethodNotAllowedHandler,
  Middleware,
  Next,
  NotFoundHandler,
  ParamNames,
  Params,
  RouteParams,
  RouterOptions,
  RouterRequest,
} from './types.js';
