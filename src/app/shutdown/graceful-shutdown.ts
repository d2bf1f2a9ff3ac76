// GracefulShutdown: one server's shutdown from start to report. It closes the server (no new
// connections; idle keep-alive ones end at once; in-flight responses finish with
// `Connection: close`), aborts the shutdown signal, emits 'shutdown' for long-lived responses and
// upgraded sockets, waits for every connection to close, and destroys what is left at the deadline.

import type { Server as NetServer } from 'node:net';
import type { ResolvedOptions } from './options.js';
import type { ShutdownEvent, ShutdownReport } from './report.js';
import { controllerOf, shutdownError } from './shutdown-signal.js';
import { SocketTracker } from './socket-tracker.js';
import { listenToSignals } from './process-signals.js';

/** A server shutdown() accepts: Keel's Server, or any net.Server (node:http's included). */
export type ShutdownServer = NetServer & { closeAllConnections?: () => void };

/** Where a shutdown is: not started, waiting for connections to finish, finished. */
export type ShutdownState = 'running' | 'stopping' | 'stopped';

/** After forcing, the longest wait for the destroyed sockets to report their close, ms. */
const FORCE_SETTLE_MS = 1000;

export class GracefulShutdown {
  readonly #server: ShutdownServer;
  readonly #options: ResolvedOptions;
  readonly #tracker: SocketTracker;
  readonly #controller: AbortController;
  readonly #removeSignals: () => void;
  readonly #done: Promise<ShutdownReport>;
  #resolve!: (report: ShutdownReport) => void;
  #state: ShutdownState = 'running';
  #signal: NodeJS.Signals | null = null;
  #startedAt = 0;
  #serverClosed = false;
  #forced = false;
  #destroyed = 0;
  #listenerError: unknown = undefined;
  /** The deadline while waiting; after forcing, the bound on waiting for the closes. */
  #timer: NodeJS.Timeout | null = null;

  constructor(server: ShutdownServer, options: ResolvedOptions) {
    this.#server = server;
    this.#options = options;
    this.#tracker = new SocketTracker(server);
    this.#controller = controllerOf(server);
    this.#done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#removeSignals = listenToSignals(options.signals, this.#onSignal);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get state(): ShutdownState {
    return this.#state;
  }

  get done(): Promise<ShutdownReport> {
    return this.#done;
  }

  /** Start the graceful shutdown (once; later calls return the same promise). */
  start(signal: NodeJS.Signals | null): Promise<ShutdownReport> {
    if (this.#state !== 'running') return this.#done;
    this.#state = 'stopping';
    this.#signal = signal;
    this.#startedAt = performance.now();
    const server = this.#server;
    this.#tracker.onChange(this.#check);
    server.once('close', this.#onServerClose);
    // Close first: whatever the listeners below still render goes out with `Connection: close`.
    // close() also ends idle keep-alive connections, after any response bytes still being flushed.
    // Not closeIdleConnections(): it destroys them at once, truncating a response still in flight
    // in the socket's buffer (node:http does the same).
    server.close();
    const timeout = this.#options.timeout;
    if (timeout !== null) {
      this.#timer = setTimeout(this.#onDeadline, timeout);
      this.#timer.unref();
    }
    if (!this.#controller.signal.aborted) this.#controller.abort(shutdownError(signal));
    const event: ShutdownEvent = {
      signal,
      deadline: timeout === null ? Infinity : Date.now() + timeout,
      abortSignal: this.#controller.signal,
    };
    try {
      server.emit('shutdown', event);
    } catch (err) {
      this.#listenerError = err; // a failing listener does not stop the shutdown
    }
    this.#check();
    return this.#done;
  }

  /** Destroy what is still open now (starting the shutdown first if needed). */
  force(): Promise<ShutdownReport> {
    if (this.#state === 'running') this.start(null);
    if (this.#state !== 'stopping' || this.#forced) return this.#done;
    this.#forced = true;
    this.#clearTimer();
    this.#destroyed = this.#tracker.destroyAll();
    // Connections accepted before shutdown() was wired are not tracked: the server knows them.
    this.#server.closeAllConnections?.();
    // Destroyed sockets report 'close' within a turn or two; do not wait on a straggler forever.
    this.#timer = setTimeout(() => void this.#finish(), FORCE_SETTLE_MS);
    this.#timer.unref();
    this.#check();
    return this.#done;
  }

  /** Remove the signal listeners and stop tracking new sockets (the shutdown can still start). */
  dispose(): void {
    this.#removeSignals();
    this.#tracker.detach();
  }

  #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#state === 'running') void this.start(signal);
    else void this.force();
  };

  #onDeadline = (): void => {
    this.#timer = null;
    void this.force();
  };

  #onServerClose = (): void => {
    this.#serverClosed = true;
    this.#check();
  };

  #check = (): void => {
    if (this.#state === 'stopping' && this.#serverClosed && this.#tracker.size === 0) void this.#finish();
  };

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #finish(): Promise<void> {
    if (this.#state !== 'stopping') return;
    this.#state = 'stopped';
    this.#clearTimer();
    this.#server.removeListener('close', this.#onServerClose);
    this.dispose();
    const report: ShutdownReport = {
      graceful: !this.#forced,
      destroyed: this.#destroyed,
      durationMs: Math.round(performance.now() - this.#startedAt),
      signal: this.#signal,
    };
    if (this.#listenerError !== undefined) report.error = this.#listenerError;
    const hook = this.#options.onShutdown;
    if (hook !== null) {
      try {
        await hook(report);
      } catch (err) {
        if (report.error === undefined) report.error = err;
      }
    }
    this.#resolve(report);
    if (this.#options.exit) process.exit(report.graceful && report.error === undefined ? 0 : 1);
  }
}
