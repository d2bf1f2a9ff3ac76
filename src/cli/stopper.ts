// How a serving process ends without failing a request, on keel/shutdown. shutdown (SIGTERM/SIGINT):
// /readyz 503 and Connection: close at once, the listener open for --drain ms, then keel/shutdown
// (server.close(), idle connections ended, requests in flight finish), exit 0; --grace ms after the
// signal what is left is cut, exit 1. retire (rolling restart, the new worker listening): stop
// accepting at once, let each live connection make its next request (answered with Connection:
// close) or idle for RETIRE_IDLE_MS, then the same close — this avoids the keep-alive race.

import { Server as NetServer } from 'node:net';
import type { Server } from '../keel.js';
import { shutdown, type Shutdown } from '../app/shutdown/index.js';
import type { ConnectionTracker } from './connection-tracker.js';
import type { Readiness } from './health.js';
import type { LogSink } from './log-sink.js';

/** A connection idle this long is not in the middle of being reused: a retiring worker may close it, ms. */
export const RETIRE_IDLE_MS = 1000;
/** How often a retiring worker looks at its connections, ms. */
const RETIRE_POLL_MS = 20;

export interface StopperOptions {
  /** Time the listener stays open after a signal, ms (--drain). */
  readonly drainMs: number;
  /** Time from the signal (or the retire message) until what is open is cut, ms (--grace). */
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
  readonly #stop: Shutdown;
  #isStopping = false;

  /** Wire keel/shutdown to `server` now (before it listens), without its own signals or deadline. */
  constructor(server: Server, tracker: ConnectionTracker, readiness: Readiness, sink: LogSink, options: StopperOptions) {
    this.#server = server;
    this.#tracker = tracker;
    this.#readiness = readiness;
    this.#sink = sink;
    this.#options = options;
    this.#stop = shutdown(server, { timeout: Infinity, signals: false });
    // Tunnels (WebSockets through the proxy) cannot finish on their own: end them with the server.
    server.on('shutdown', () => tracker.endUpgraded());
  }

  /** Graceful shutdown after `signal` (see the file comment); a repeat may force it. */
  shutdown(signal: NodeJS.Signals): void {
    if (this.#isStopping) {
      if (this.#options.secondSignalForces) void this.#force(`${signal} again`);
      return;
    }
    const { drainMs, graceMs } = this.#begin();
    if (this.#options.isVerbose) {
      process.stderr.write(`keel: ${signal}: shutting down (${drainMs > 0 ? `draining ${drainMs} ms, ` : ''}grace ${graceMs} ms)\n`);
    }
    void (async () => {
      if (drainMs > 0) await sleep(drainMs);
      await this.#close();
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
      await this.#close();
    })();
  }

  #begin(): StopperOptions {
    this.#isStopping = true;
    this.#readiness.stop();
    setTimeout(() => void this.#force(`grace period (${this.#options.graceMs} ms) over`), this.#options.graceMs);
    return this.#options;
  }

  async #close(): Promise<void> {
    const report = await this.#stop();
    if (!report.graceful) return; // #force() reports and exits
    if (this.#options.isVerbose) process.stderr.write(`keel: stopped after ${report.durationMs} ms\n`);
    this.#exit(0);
  }

  async #force(reason: string): Promise<void> {
    const report = await this.#stop.force();
    const cut = report.destroyed;
    process.stderr.write(`keel: ${reason}: ${cut} connection${cut === 1 ? '' : 's'} cut (pid ${process.pid})\n`);
    this.#exit(1);
  }

  #exit(code: number): void {
    this.#sink.flush();
    process.exit(code);
  }
}
