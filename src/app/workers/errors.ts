// The errors of keel/workers, each with a stable `code`: a full queue, a failed task, a closed
// pool, and an aborted task (Node's ABORT_ERR / AbortError shape). Messages are not part of the
// API; codes are.

import { keelError } from '../../keel.js';

/** The codes a WorkerPool rejects with. */
export type WorkerErrorCode = 'ERR_WORKER_QUEUE_FULL' | 'ERR_WORKER_FAILED' | 'ERR_WORKER_POOL_CLOSED' | 'ABORT_ERR';

/** An error of keel/workers; `cause` holds the underlying error where there is one. */
export interface WorkerError extends Error {
  code: WorkerErrorCode;
}

function withCode(message: string, code: WorkerErrorCode, cause?: unknown): WorkerError {
  const err = (cause === undefined ? new Error(message) : new Error(message, { cause })) as WorkerError;
  err.code = code;
  return err;
}

/** Every thread is busy and the queue holds `maxQueue` tasks already. */
export function queueFullError(capacity: number): WorkerError {
  return withCode(`Worker pool is full: ${capacity} tasks running or queued`, 'ERR_WORKER_QUEUE_FULL');
}

/** The task threw in its worker, or the worker died: `cause` is the worker's error. */
export function taskFailedError(cause: unknown): WorkerError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return withCode(`Worker task failed: ${detail}`, 'ERR_WORKER_FAILED', cause);
}

/** The pool was closed or destroyed before the task could run. */
export function poolClosedError(cause?: unknown): WorkerError {
  return withCode('Worker pool is closed', 'ERR_WORKER_POOL_CLOSED', cause);
}

/** The caller's signal aborted the task: `cause` is the signal's reason (as Node's AbortError). */
export function abortError(reason: unknown): WorkerError {
  const err = keelError('ABORT_ERR') as unknown as WorkerError;
  err.name = 'AbortError';
  if (reason !== undefined) err.cause = reason;
  return err;
}
