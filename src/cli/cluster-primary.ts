// The cluster primary of `keel --workers N`: forks N workers (node:cluster; they share the listening
// socket, connections spread round-robin), prints the banner once all listen, replaces a worker
// that dies (backoff 100 ms doubling per crash in the last 30 s, at most 5 s), restarts them one at
// a time on SIGHUP (the new one listening before the old one retires), and on SIGTERM/SIGINT
// forwards SIGTERM to every worker and exits 0 once all exited gracefully (1 otherwise).

import cluster, { type Worker } from 'node:cluster';
import type { Config } from './args.js';
import { bannerLine, originOf } from './banner.js';
import { isKeelMessage, type RetireMessage } from './ipc.js';

const RESPAWN_BASE_MS = 100;
const RESPAWN_MAX_MS = 5000;
const CRASH_WINDOW_MS = 30_000;
/** A new worker that does not listen within this time is killed and the rolling restart stops, ms. */
const START_TIMEOUT_MS = 30_000;
/** Slack given to workers beyond their own --drain + --grace before they are killed, ms. */
const EXIT_MARGIN_MS = 2000;

function say(line: string): void {
  process.stderr.write(`keel: ${line}\n`);
}

export class ClusterPrimary {
  readonly #config: Config;
  readonly #count: number;
  readonly #isTls: boolean;
  /** Workers that serve (or are starting to), retiring ones excluded. */
  readonly #serving = new Set<Worker>();
  readonly #retiring = new Set<Worker>();
  readonly #listening = new WeakSet<Worker>();
  /** New workers of a rolling restart, not replaced if they die before listening. */
  readonly #probation = new WeakSet<Worker>();
  readonly #respawnTimers = new Set<NodeJS.Timeout>();
  #crashTimes: number[] = [];
  #hasStarted = false;
  #stopping: { code: number } | null = null;
  #isRolling = false;
  #rollAgain = false;

  /** A primary for `config` with `count` workers (`isTls` only changes the banner's scheme). */
  constructor(config: Config, count: number, isTls: boolean) {
    this.#config = config;
    this.#count = count;
    this.#isTls = isTls;
  }

  start(): void {
    cluster.on('listening', this.#onListening);
    cluster.on('message', this.#onMessage);
    cluster.on('exit', this.#onExit);
    for (let i = 0; i < this.#count; i++) this.#fork();
    process.on('SIGHUP', () => void this.#rollingRestart());
    process.on('SIGTERM', () => this.#stop('SIGTERM', 0));
    process.on('SIGINT', () => this.#stop('SIGINT', 0));
  }

  #fork(): Worker {
    const worker = cluster.fork();
    this.#serving.add(worker);
    return worker;
  }

  #onListening = (worker: Worker, address: { address: string | null; port: number }): void => {
    this.#listening.add(worker);
    if (this.#hasStarted || this.#stopping !== null) return;
    for (const w of this.#serving) if (!this.#listening.has(w)) return;
    this.#hasStarted = true;
    const origin = originOf(address.address ?? this.#config.host, address.port, this.#isTls);
    process.stdout.write(`${bannerLine(this.#config, origin, this.#count)}\n`);
  };

  /** A worker that cannot serve reports why and waits: at startup all stop, later it is replaced. */
  #onMessage = (worker: Worker, message: unknown): void => {
    if (!isKeelMessage(message) || message.keel !== 'fatal') return;
    if (this.#stopping !== null) return; // the first failure was reported already
    process.stderr.write(`${message.message}\n`);
    if (!this.#hasStarted) this.#stop(null, message.exitCode);
    else worker.process.kill('SIGKILL');
  };

  #onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    this.#serving.delete(worker);
    const wasRetiring = this.#retiring.delete(worker);
    if (this.#stopping !== null) {
      if (code !== 0 && code !== null) this.#stopping.code = Math.max(this.#stopping.code, 1);
      this.#finishIfDone();
      return;
    }
    if (wasRetiring || this.#probation.has(worker)) return;
    if (!this.#hasStarted) {
      say(`worker ${worker.process.pid} died before listening (${signal ?? `exit status ${code}`})`);
      this.#stop(null, 1);
      return;
    }
    const delay = this.#respawnDelay();
    const how = signal !== null ? `signal ${signal}` : `exit status ${code}`;
    say(`worker ${worker.process.pid} died (${how}); starting another in ${delay} ms`);
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      if (this.#stopping === null) this.#fork();
    }, delay);
    this.#respawnTimers.add(timer);
  };

  #respawnDelay(): number {
    const now = Date.now();
    this.#crashTimes = this.#crashTimes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.#crashTimes.push(now);
    return Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (this.#crashTimes.length - 1));
  }

  /** Replace every worker, one at a time; a SIGHUP during a restart runs another after it. */
  async #rollingRestart(): Promise<void> {
    if (this.#stopping !== null) return;
    if (this.#isRolling) {
      this.#rollAgain = true;
      return;
    }
    this.#isRolling = true;
    try {
      do {
        this.#rollAgain = false;
        const old = [...this.#serving];
        say(`SIGHUP: restarting ${old.length} worker${old.length === 1 ? '' : 's'} one at a time`);
        for (const worker of old) {
          if (this.#stopping !== null) return;
          if (!this.#serving.has(worker)) continue; // it died meanwhile; its replacement is new already
          if (!(await this.#replace(worker))) return;
        }
        const pids = [...this.#serving].map((w) => w.process.pid).join(', ');
        say(`rolling restart done (workers ${pids})`);
      } while (this.#rollAgain && this.#stopping === null);
    } finally {
      this.#isRolling = false;
    }
  }

  /** Start a worker, wait until it listens, then retire `old` and wait for it to exit. */
  async #replace(old: Worker): Promise<boolean> {
    const fresh = this.#fork();
    this.#probation.add(fresh);
    if (!(await this.#whenListening(fresh))) {
      this.#serving.delete(fresh); // stays on probation: its exit is not a crash to make up for
      if (!fresh.isDead()) fresh.process.kill('SIGKILL');
      if (this.#stopping === null) say('rolling restart stopped: a new worker did not start listening');
      return false;
    }
    this.#probation.delete(fresh);
    if (old.isDead()) return true;
    this.#serving.delete(old);
    this.#retiring.add(old);
    const retire: RetireMessage = { keel: 'retire' };
    old.send(retire);
    await this.#whenExited(old, this.#config.graceMs + EXIT_MARGIN_MS);
    return true;
  }

  #whenListening(worker: Worker): Promise<boolean> {
    return new Promise((resolve) => {
      const settle = (value: boolean): void => {
        clearTimeout(timer);
        worker.off('listening', onListening);
        worker.off('exit', onExit);
        resolve(value);
      };
      const onListening = (): void => settle(true);
      const onExit = (): void => settle(false);
      const timer = setTimeout(() => settle(false), START_TIMEOUT_MS);
      worker.once('listening', onListening);
      worker.once('exit', onExit);
    });
  }

  #whenExited(worker: Worker, ms: number): Promise<void> {
    if (worker.isDead()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), ms);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stop every worker (SIGTERM: each shuts down gracefully); a second signal kills them. */
  #stop(signal: NodeJS.Signals | null, code: number): void {
    const workers = [...this.#serving, ...this.#retiring];
    if (this.#stopping !== null) {
      if (signal === null) return;
      say(`${signal} again: killing ${workers.length} worker${workers.length === 1 ? '' : 's'}`);
      for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    this.#stopping = { code };
    for (const timer of this.#respawnTimers) clearTimeout(timer);
    this.#respawnTimers.clear();
    if (signal !== null) say(`${signal}: shutting down ${workers.length} worker${workers.length === 1 ? '' : 's'}`);
    for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGTERM');
    const deadline = this.#config.drainMs + this.#config.graceMs + EXIT_MARGIN_MS;
    setTimeout(() => {
      say(`workers still running after ${deadline} ms: killing them`);
      for (const worker of [...this.#serving, ...this.#retiring]) if (!worker.isDead()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, deadline).unref();
    this.#finishIfDone();
  }

  #finishIfDone(): void {
    if (this.#stopping === null || this.#serving.size > 0 || this.#retiring.size > 0) return;
    process.exit(this.#stopping.code);
  }
}
