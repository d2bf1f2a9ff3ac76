// shutdown(server, options) / gracefulShutdown(): the public entry. It checks the arguments, wires
// a GracefulShutdown to the server (socket tracking and process signals at once) and returns the
// `stop` function with its signal, its `done` promise, force() and dispose().

import { keelError } from '../../keel.js';
import { GracefulShutdown, type ShutdownServer, type ShutdownState } from './graceful-shutdown.js';
import { resolveOptions, type ShutdownOptions } from './options.js';
import type { ShutdownReport } from './report.js';

/** The function shutdown() returns. Calling it starts the graceful shutdown. */
export interface Shutdown {
  /** Start the shutdown (idempotent): resolves with the report, never rejects. */
  (): Promise<ShutdownReport>;
  /** Aborts when the shutdown starts (reason: code ERR_SERVER_SHUTDOWN); see shutdownSignal(). */
  readonly signal: AbortSignal;
  /** Resolves with the report however the shutdown was started (`stop()`, a signal, force()). */
  readonly done: Promise<ShutdownReport>;
  /** 'running' (not started), 'stopping' (waiting for connections), 'stopped' (finished). */
  readonly state: ShutdownState;
  /** Destroy what is still open now, as the deadline would (starts the shutdown if needed). */
  force(): Promise<ShutdownReport>;
  /** Remove the signal listeners and stop tracking new sockets, without shutting down. */
  dispose(): void;
}

/**
 * Wire a graceful shutdown to `server` and return `stop`. Call it once at startup, before the
 * server accepts connections: sockets are tracked from this moment (those accepted earlier are
 * still closed and forced, but not counted in `destroyed`).
 *
 * `stop()` (or the first of `options.signals`):
 * 1. `server.close()`: no new connections (clients get ECONNREFUSED); idle keep-alive
 *    connections end at once (after any response bytes still being flushed); requests in flight
 *    finish and their responses carry `Connection: close`; nothing more is read on their connections.
 * 2. `stop.signal` aborts, and the server emits `'shutdown'` (a ShutdownEvent): SSE streams,
 *    WebSockets and other upgraded sockets listen to it to finish on their own.
 * 3. When the server and every connection have closed, resolves `{ graceful: true, destroyed: 0,
 *    durationMs, signal }`. At the deadline (`options.timeout`, default 10000 ms), or on a second
 *    signal, or `stop.force()`, every connection still open — upgraded sockets included — is
 *    destroyed, and it resolves `{ graceful: false, destroyed: n, ... }`.
 * 4. Then `options.onShutdown(report)`, then `process.exit(0 | 1)` if `options.exit`.
 *
 * Throws ERR_INVALID_ARG_TYPE for a `server` without close()/on()/emit(), and the option errors
 * of ShutdownOptions (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_INVALID_ARG_VALUE).
 */
export function shutdown(server: ShutdownServer, options?: ShutdownOptions): Shutdown {
  if (server === null || typeof server !== 'object' || typeof server.close !== 'function' || typeof server.on !== 'function' || typeof server.emit !== 'function') {
    throw keelError('ERR_INVALID_ARG_TYPE', 'server', 'a Server', server === null ? 'null' : typeof server);
  }
  const core = new GracefulShutdown(server, resolveOptions(options));
  const stop = (() => core.start(null)) as Shutdown;
  Object.defineProperties(stop, {
    signal: { get: () => core.signal, enumerable: true },
    done: { get: () => core.done, enumerable: true },
    state: { get: () => core.state, enumerable: true },
    force: { value: () => core.force(), enumerable: true },
    dispose: { value: () => core.dispose(), enumerable: true },
  });
  return stop;
}

/** Another name for shutdown(). */
export const gracefulShutdown = shutdown;
