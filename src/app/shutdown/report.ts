// What a shutdown tells its caller and the server's listeners: the report it resolves with, and
// the 'shutdown' event's argument.

/** What `stop()` resolves with once the server and every connection are closed. */
export interface ShutdownReport {
  /** True when everything finished by itself before the deadline; false when anything was forced. */
  graceful: boolean;
  /** Connections still open at the deadline (or at a second signal / `force()`) and destroyed then. */
  destroyed: number;
  /** Time from the start of the shutdown to the last connection closing, ms. */
  durationMs: number;
  /** The process signal that started it; null when `stop()` was called. */
  signal: NodeJS.Signals | null;
  /** What `onShutdown` threw, when it did. */
  error?: unknown;
}

/** The argument of the server's `'shutdown'` event. */
export interface ShutdownEvent {
  /** The process signal that started the shutdown; null when `stop()` was called. */
  signal: NodeJS.Signals | null;
  /** When what is still open gets destroyed, ms since the epoch; Infinity when never. */
  deadline: number;
  /** The shutdown's AbortSignal (already aborted): the same as `stop.signal`. */
  abortSignal: AbortSignal;
}
