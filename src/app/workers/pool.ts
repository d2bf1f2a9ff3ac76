// WorkerPool: CPU-heavy functions on worker threads (piscina), shaped for servers: a bounded
// queue that rejects at once with ERR_WORKER_QUEUE_FULL, tasks aborted by an AbortSignal (queued:
// removed; running: the worker is terminated and replaced), and every failure turned into an
// error with a stable code.

import { Piscina } from 'piscina';
import { keelError } from '../../keel.js';
import { abortError, poolClosedError, queueFullError, taskFailedError } from './errors.js';

type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/**
 * Options of createWorkerPool(). Piscina's other options (`idleTimeout`, `resourceLimits`,
 * `env`, `argv`, `execArgv`, `workerData`, `name`, `niceIncrement`, `closeTimeout`, ...) are
 * passed to it unchanged.
 */
export interface WorkerPoolOptions extends Omit<PiscinaOptions, 'filename' | 'maxQueue'> {
  /**
   * The worker module: an absolute path or a file: URL (e.g. `new URL('./task.js',
   * import.meta.url)`). Its default export (or the export named by `name`) is called with each
   * task's input; what it returns (or resolves to) is the result. Required.
   */
  filename: string | URL;
  /** Most threads, each running one task at a time (default piscina's: 1.5 × available CPUs). */
  maxThreads?: number;
  /** Threads kept alive when idle (default piscina's: half the available CPUs, at least 1). */
  minThreads?: number;
  /**
   * Most tasks waiting for a thread, beyond the ones running (default 'auto' = maxThreads²).
   * Past it, run() rejects at once with ERR_WORKER_QUEUE_FULL. Piscina's own default, Infinity,
   * is not a server's: a burst would queue without bound.
   */
  maxQueue?: number | 'auto';
}

/** Options of pool.run(). */
export interface RunOptions {
  /** Abort the task: removed from the queue, or its worker terminated (and replaced) if running. */
  signal?: AbortSignal;
  /** Export of the worker module to call (default: the pool's `name`, else the default export). */
  name?: string;
  /** Objects moved to the worker instead of copied (ArrayBuffers, MessagePorts). */
  transferList?: PiscinaRunTransferList;
}

type PiscinaRunTransferList = NonNullable<NonNullable<Parameters<Piscina['run']>[1]>['transferList']>;

const QUEUE_FULL_MESSAGES = new Set(['Task queue is at limit', 'No task queue available and all Workers are busy']);

/**
 * A pool of worker threads for CPU-bound tasks (on piscina). Every task counts against a
 * capacity of `maxThreads × concurrentTasksPerWorker + maxQueue` from run() until it settles;
 * Keel keeps this count itself because piscina does not apply `maxQueue` to tasks that carry an
 * AbortSignal (piscinajs/piscina#899).
 *
 * run() rejects with: ERR_WORKER_QUEUE_FULL (at capacity), ABORT_ERR (name AbortError, `cause`
 * the signal's reason), ERR_WORKER_FAILED (the task threw or its worker died; `cause` is that
 * error), ERR_WORKER_POOL_CLOSED (after close() or destroy()).
 */
export class WorkerPool<Input = unknown, Result = unknown> {
  readonly #piscina: Piscina<Input, Result>;
  readonly #capacity: number;
  #pending = 0;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    if (options === null || typeof options !== 'object') throw keelError('ERR_INVALID_ARG_TYPE', 'options', 'of type object', typeof options);
    const { filename, maxQueue = 'auto', ...rest } = options;
    if (typeof filename !== 'string' && !(filename instanceof URL)) {
      throw keelError('ERR_INVALID_ARG_TYPE', 'options.filename', 'of type string or an instance of URL', typeof filename);
    }
    this.#piscina = new Piscina<Input, Result>({ ...rest, filename: filename instanceof URL ? filename.href : filename, maxQueue });
    const filled = this.#piscina.options;
    this.#capacity = filled.maxThreads * filled.concurrentTasksPerWorker + filled.maxQueue;
  }

  /** Most threads. */
  get maxThreads(): number {
    return this.#piscina.maxThreads;
  }

  /** Most tasks waiting beyond the running ones ('auto' resolved). */
  get maxQueue(): number {
    return this.#piscina.options.maxQueue;
  }

  /** Most tasks accepted at once, running or queued. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tasks accepted and not yet settled (running or queued). */
  get pending(): number {
    return this.#pending;
  }

  /** Tasks completed by the workers (piscina's count, failures included). */
  get completed(): number {
    return this.#piscina.completed;
  }

  /** Worker threads alive now. */
  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** True after close() or destroy(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The underlying piscina instance (histograms, events, utilization). */
  get piscina(): Piscina<Input, Result> {
    return this.#piscina;
  }

  /** Run the worker function on `input` (structured-cloned to the thread) and resolve with its result. */
  async run(input: Input, options: RunOptions = {}): Promise<Result> {
    const { signal, name, transferList } = options;
    if (this.#closed) throw poolClosedError();
    if (signal?.aborted) throw abortError(signal.reason);
    if (this.#pending >= this.#capacity) throw queueFullError(this.#capacity);
    this.#pending++;
    try {
      return await this.#piscina.run(input, { signal: signal ?? null, name, transferList });
    } catch (error) {
      throw this.#translate(error, signal);
    } finally {
      this.#pending--;
    }
  }

  /**
   * Stop accepting tasks and resolve once the running and queued ones have finished and the
   * threads have exited. With `force: true`, queued tasks are rejected (ERR_WORKER_POOL_CLOSED)
   * instead of run.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.#closed = true;
    await this.#piscina.close({ force: options.force === true });
  }

  /** Stop at once: every task is rejected (ERR_WORKER_POOL_CLOSED) and the threads terminated. */
  async destroy(): Promise<void> {
    this.#closed = true;
    await this.#piscina.destroy();
  }

  #translate(error: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return abortError(signal.reason);
    const message = error instanceof Error ? error.message : '';
    if (QUEUE_FULL_MESSAGES.has(message)) return queueFullError(this.#capacity);
    // close({ force }) rejects queued tasks with an AbortError, destroy() with 'Terminating worker thread'.
    const name = error instanceof Error ? error.name : '';
    if (this.#closed && (name === 'AbortError' || message === 'Terminating worker thread')) return poolClosedError(error);
    return taskFailedError(error);
  }
}

/**
 * A new WorkerPool.
 *
 * @example
 * const pool = createWorkerPool({ filename: new URL('./fib.js', import.meta.url), maxThreads: 2, maxQueue: 8 });
 * const value = await pool.run(35, { signal });
 * await pool.close();
 */
export function createWorkerPool<Input = unknown, Result = unknown>(options: WorkerPoolOptions): WorkerPool<Input, Result> {
  return new WorkerPool<Input, Result>(options);
}
