// keel/shutdown: graceful shutdown for a Keel (or node:http) server: stop accepting, let requests
// in flight finish with `Connection: close`, tell long-lived responses and upgraded sockets to end
// (a 'shutdown' event and an AbortSignal), destroy what is left at a deadline, and report; with
// SIGTERM / SIGINT wiring and an optional process exit.

export { shutdown, gracefulShutdown } from './shutdown.js';
export type { Shutdown } from './shutdown.js';
export type { ShutdownServer, ShutdownState } from './graceful-shutdown.js';
export { DEFAULT_TIMEOUT_MS, DEFAULT_SIGNALS } from './options.js';
export type { ShutdownOptions } from './options.js';
export type { ShutdownReport, ShutdownEvent } from './report.js';
export { shutdownSignal } from './shutdown-signal.js';
export type { ShutdownError } from './shutdown-signal.js';
