// How a serving process ends without failing a request. shutdown (SIGTERM/SIGINT): /readyz 503 and
// Connection: close at once, the listener open for --drain ms, then server.close() +
// closeIdleConnections(); requests in flight finish, exit 0; at --grace ms what is left is cut, exit 1.
// retire (rolling restart, the new worker listening): stop accepting at once and let each live
// connection make its next request (answered with Connection: close) or idle for RETIRE_IDLE_MS
// before closing it — closing a connection a client is reusing is the keep-alive race.

import { Server as NetServer } from 'node:net';
import type { Server } from '../keel.js';
import type { ConnectionTracker } from './connection-tracker.js';
import type { Readiness } from './health.js';
import type { LogSink } from './log-sink.js';

/** A connection idle this long is not in the middle of being reused: a retiring worker may close it, ms. */
export const RETIRE_IDLE_MS = 1000;
/** How often a retiring worker looks at its connections, ms. */
const RETIRE_POLL_MS = 20;

export interface StopperOptions {
  readonly drainMs: number;
  readonly graceMs: number;
  /** Print progress on stderr (a single process does; workers leave that to the primary). */
  readonly isVerbose: boolean;
  /** A second signal forces the exit (Ctrl-C twice); workers ignore repeats (the primary forwards signals). */
  readonly secondSignalForces: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Stopper {
  readonly #server: Server;
  readonly #tracker: ConnectionTracker;
  readonly #readiness: Readiness;
  readonly #sink: LogSink;
  readonly #options: StopperOptions;
  #isStopping = false;
  #startedAt = 0;

  constructor(server: Server, tracker: ConnectionTracker, readiness: Readiness, sink: LogSink, options: StopperOptions) {
    this.#server = server;
    this.#tracker = tracker;
    this.#readiness = readiness;
    this.#sink = sink;
    this.#options = options;
  }

  /** Graceful shutdown after `signal` (see the file comment); a repeat may force it. */
  shutdown(signal: NodeJS.Signals): void {
    if (this.#isStopping) {
      if (this.#options.secondSignalForces) this.#force(`${signal} again`);
      return;
    }
    const { drainMs, graceMs } = this.#begin();
    if (this.#options.isVerbose) {
      process.stderr.write(`keel: ${signal}: shutting down (${drainMs > 0 ? `draining ${drainMs} ms, ` : ''}grace ${graceMs} ms)\n`);
    }
    void (async () => {
      if (drainMs > 0) await sleep(drainMs);
      this.#close();
    })();
  }

  /** Leave the cluster gracefully: a replacement is listening (see the file comment). */
  retire(): void {
    if (this.#isStopping) return;
    this.#begin();
    // Stop accepting without Keel's close(), which would end idle keep-alive connections at once.
    NetServer.prototype.close.call(this.#server);
    void (async () => {
      while (!this.#tracker.allIdleFor(RETIRE_IDLE_MS)) await sleep(RETIRE_POLL_MS);
      this.#close();
    })();
  }

  #begin(): StopperOptions {
    this.#isStopping = true;
    this.#startedAt = performance.now();
    this.#readiness.stop();
    setTimeout(() => this.#force(`grace period (${this.#options.graceMs} ms) over`), this.#options.graceMs);
    return this.#options;
  }

  /** No new connections; idle ones end now, busy ones after their response; upgraded ones are ended. */
  #close(): void {
    this.#server.close(() => this.#exit(0));
    this.#server.closeIdleConnections();
    this.#tracker.endUpgraded();
  }

  #force(reason: string): void {
    const open = this.#tracker.size;
    process.stderr.write(`keel: ${reason}: closing ${open} connection${open === 1 ? '' : 's'} still open (pid ${process.pid})\n`);
    this.#server.closeAllConnections();
    this.#exit(1);
  }

  #exit(code: number): void {
    this.#sink.flush();
    if (this.#options.isVerbose && code === 0) {
      process.stderr.write(`keel: stopped after ${Math.round(performance.now() - this.#startedAt)} ms\n`);
    }
    process.exit(code);
  }
}
