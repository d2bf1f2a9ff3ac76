// One AbortSignal per server that aborts when its shutdown starts, so handlers that never see the
// `stop` function (a router in another module) can still stop long work: shutdownSignal(server).
// The abort reason is an Error with code ERR_SERVER_SHUTDOWN.

/** The reason `stop.signal` / shutdownSignal(server) aborts with. */
export interface ShutdownError extends Error {
  code: 'ERR_SERVER_SHUTDOWN';
}

const controllers = new WeakMap<object, AbortController>();

/** The AbortController shared by every shutdown() of `server` and by shutdownSignal(server). */
export function controllerOf(server: object): AbortController {
  let controller = controllers.get(server);
  if (controller === undefined) {
    controller = new AbortController();
    controllers.set(server, controller);
  }
  return controller;
}

/**
 * The AbortSignal that aborts when `server`'s graceful shutdown starts (the same object as
 * `stop.signal`), with a ShutdownError (code ERR_SERVER_SHUTDOWN) as its reason. Available before
 * shutdown() is called; it never aborts if no shutdown() ever runs. A response that begins after
 * the start missed the 'shutdown' event: check `signal.aborted` first.
 */
export function shutdownSignal(server: object): AbortSignal {
  return controllerOf(server).signal;
}

/** The abort reason, created when the shutdown starts. */
export function shutdownError(signal: NodeJS.Signals | null): ShutdownError {
  const err = new Error(signal === null ? 'The server is shutting down' : `The server is shutting down (${signal})`) as ShutdownError;
  err.code = 'ERR_SERVER_SHUTDOWN';
  return err;
}
