// Readiness and the health endpoints: /healthz answers 200 "ok" while the process runs (liveness);
// /readyz answers 200 "ok" while the process serves and 503 once a shutdown or a rolling-restart
// retirement has started, so a load balancer stops sending before the listener closes.

import type { IncomingMessage, ServerResponse } from '../keel.js';

/** Whether this process still wants traffic; flipped once, never back. */
export class Readiness {
  #isReady = true;

  get isReady(): boolean {
    return this.#isReady;
  }

  /** From now on /readyz answers 503 and every response closes its connection. */
  stop(): void {
    this.#isReady = false;
  }
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Answer GET/HEAD /healthz and /readyz (query ignored); returns false for every other request,
 * which then goes to the application.
 */
export function answerHealth(req: IncomingMessage, res: ServerResponse, readiness: Readiness): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = pathOf(req.url);
  if (path === '/healthz') {
    answer(req, res, 200, 'ok\n');
    return true;
  }
  if (path === '/readyz') {
    if (readiness.isReady) answer(req, res, 200, 'ok\n');
    else answer(req, res, 503, 'shutting down\n');
    return true;
  }
  return false;
}
