// offload(): a (req, res) handler that computes on a WorkerPool. It derives the task's input from
// the request, runs it with an AbortSignal tied to the response (a client that goes away aborts
// its task and the result is discarded), and answers a full pool with 503 + Retry-After and a
// failed task with 500.

import { STATUS_CODES, keelError, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from '../../keel.js';
import type { WorkerPool } from './pool.js';

/** How one offloaded request ended (what the handler's promise resolves to). */
export type OffloadOutcome =
  /** The result was handed to `respond`. */
  | 'done'
  /** The client went away first: the task was aborted (or its result discarded); nothing was sent. */
  | 'aborted'
  /** The pool was at capacity (ERR_WORKER_QUEUE_FULL): answered 503 with Retry-After. */
  | 'queue-full'
  /** The task, `toInput` or `respond` failed: answered 500 (or the response destroyed if its head was out). */
  | 'failed';

/** Options of offload(). */
export interface OffloadOptions {
  /** `Retry-After` of a 503 when the pool is full, seconds (default 1). */
  retryAfter?: number;
  /** Worker export to call (default: the pool's). */
  name?: string;
  /**
   * Answer errors yourself (everything except the client going away): called with the error
   * (`code` ERR_WORKER_QUEUE_FULL, ERR_WORKER_FAILED, ERR_WORKER_POOL_CLOSED, or whatever
   * `toInput` / `respond` threw) instead of the default 503 / 500. The outcome is still reported.
   */
  onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

/** The handler offload() returns: resolves (never rejects) with the outcome. */
export type OffloadHandler = (req: IncomingMessage, res: ServerResponse) => Promise<OffloadOutcome>;

function codeOf(error: unknown): unknown {
  return error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
}

/** A short text/plain error response; when the head is already out, the response is destroyed instead. */
function answer(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${STATUS_CODES[status]}\n`;
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A request handler that runs `toInput(req)`, then `pool.run(input)` on a worker thread, then
 * `respond(res, result, req)`, so the event loop stays free for other requests meanwhile.
 *
 * - Pool at capacity: `503 Service Unavailable`, `Retry-After: <retryAfter>` (outcome 'queue-full').
 * - The task threw, or its worker died, or `toInput`/`respond` threw: `500` (outcome 'failed').
 * - The response closes before the result (the client disconnected): the task is aborted —
 *   dropped from the queue, or its worker terminated and replaced — and nothing is written
 *   (outcome 'aborted').
 *
 * The returned handler never rejects: use its outcome, or `onError`, to log.
 *
 * @example
 * const slow = offload(pool, (req) => Number(new URL(req.url, 'http://x').searchParams.get('n')),
 *   (res, value) => res.end(JSON.stringify({ value })));
 * createServer((req, res) => req.url.startsWith('/slow') ? slow(req, res) : res.end('fast'));
 */
export function offload<Input, Result>(
  pool: WorkerPool<Input, Result>,
  toInput: (req: IncomingMessage) => Input | Promise<Input>,
  respond: (res: ServerResponse, result: Result, req: IncomingMessage) => void | Promise<void>,
  options: OffloadOptions = {},
): OffloadHandler {
  const retryAfter = options.retryAfter ?? 1;
  if (!Number.isSafeInteger(retryAfter) || retryAfter < 0) throw keelError('ERR_OUT_OF_RANGE', 'options.retryAfter', 'a non-negative integer (seconds)', String(retryAfter));
  const { name, onError } = options;

  return async (req, res) => {
    const controller = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort(keelError('ECONNRESET', 'The client went away'));
    };
    res.on('close', onClose);
    if (res.destroyed) onClose();
    const gone = (): boolean => controller.signal.aborted || res.destroyed;
    try {
      const input = await toInput(req);
      if (gone()) return 'aborted';
      const result = await pool.run(input, { signal: controller.signal, name });
      if (gone()) return 'aborted'; // the client left while the result came back: discard it
      await respond(res, result, req);
      return 'done';
    } catch (error) {
      if (gone()) return 'aborted';
      const outcome: OffloadOutcome = codeOf(error) === 'ERR_WORKER_QUEUE_FULL' ? 'queue-full' : 'failed';
      try {
        if (onError) await onError(error, req, res);
        else if (outcome === 'queue-full') answer(res, 503, { 'Retry-After': String(retryAfter) });
        else answer(res, 500);
      } catch {
        if (!res.destroyed) res.destroy();
      }
      return outcome;
    } finally {
      res.removeListener('close', onClose);
    }
  };
}
