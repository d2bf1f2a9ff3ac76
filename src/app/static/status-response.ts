// The short responses keel/static answers with when it does not send a file: 301, 400, 403, 404,
// 405, 412, 416, 500. A one-line text/plain body (none for HEAD), an exact Content-Length, and any
// extra fields the status needs (Location, Allow, Content-Range).

import { STATUS_CODES, type ServerResponse } from '../../keel.js';

/**
 * Answer `status` with "<reason phrase>\n" as text/plain and the fields in `headers`. If the head
 * is already sent, the response cannot change any more: it is destroyed instead.
 */
export function sendStatus(res: ServerResponse, status: number, headers?: Readonly<Record<string, string>>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (headers !== undefined) for (const name of Object.keys(headers)) res.setHeader(name, headers[name]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
