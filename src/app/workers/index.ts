// keel/workers: CPU-heavy work on worker threads (piscina) for Keel handlers: a bounded pool with
// abortable tasks and coded errors, and offload(), which turns a pool into a (req, res) handler
// that answers 503 when full and aborts a task whose client went away.

export { WorkerPool, createWorkerPool } from './pool.js';
export type { WorkerPoolOptions, RunOptions } from './pool.js';
export { offload } from './offload.js';
export type { OffloadOptions, OffloadOutcome, OffloadHandler } from './offload.js';
export type { WorkerError, WorkerErrorCode } from './errors.js';
