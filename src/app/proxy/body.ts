// What request body goes upstream: the request stream itself, piped with backpressure; nothing;
// or — when a body parser mounted before the proxy already read the stream and set `req.body` —
// that value serialised again (the classic hang of a proxy behind a JSON parser, avoided).

import type { IncomingMessage } from '../../keel.js';
import { ProxyError } from './errors.js';

/** How the body is sent: 'stream' (pipe req), 'none', or a replacement body with its Content-Type default. */
export type BodyPlan =
  | { readonly kind: 'stream' }
  | { readonly kind: 'none' }
  | { readonly kind: 'buffer'; readonly body: Buffer; readonly contentType: string | null };

const STREAM: BodyPlan = { kind: 'stream' };
const NONE: BodyPlan = { kind: 'none' };

/** Whether the request declares a body: Transfer-Encoding, or a Content-Length other than 0. */
export function declaresBody(req: IncomingMessage): boolean {
  const headers = req.headers;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** The charset parameter of a Content-Type, as a Buffer encoding (utf8 when absent or unknown). */
function charsetOf(contentType: string | undefined): BufferEncoding {
  const match = contentType === undefined ? null : /;\s*charset\s*=\s*"?([\w-]+)"?/i.exec(contentType);
  const charset = match?.[1].toLowerCase();
  if (charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii') return 'latin1';
  if (charset === 'utf-16le') return 'utf16le';
  return 'utf8';
}

/** An object as application/x-www-form-urlencoded (arrays as repeated names). */
function urlencoded(value: object): string {
  const params = new URLSearchParams();
  for (const [name, item] of Object.entries(value)) {
    for (const v of Array.isArray(item) ? item : [item]) params.append(name, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  }
  return params.toString();
}

/**
 * Decide the body of the upstream request. A stream still unread is piped. A stream already
 * read to its end with `req.body` set is replaced by `req.body`: a Buffer / Uint8Array as is, a
 * string in the Content-Type's charset (utf8 by default), an object as JSON — or form-encoded when
 * the Content-Type is application/x-www-form-urlencoded — sent with a new Content-Length (and
 * without Content-Encoding: parsers decode). A stream read to its end without `req.body` throws
 * ProxyError ERR_PROXY_BODY_CONSUMED (500) when the request declared a body.
 */
export function planBody(req: IncomingMessage): BodyPlan {
  if (!declaresBody(req)) return NONE;
  if (!req.readableEnded) return STREAM;
  const body = (req as IncomingMessage & { body?: unknown }).body;
  const contentType = req.headers['content-type'];
  if (body === undefined || body === null) {
    throw new ProxyError('ERR_PROXY_BODY_CONSUMED', 'The request body was read before the proxy and req.body is not set');
  }
  if (Buffer.isBuffer(body)) return { kind: 'buffer', body, contentType: null };
  if (body instanceof Uint8Array) return { kind: 'buffer', body: Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType: null };
  if (typeof body === 'string') return { kind: 'buffer', body: Buffer.from(body, charsetOf(contentType)), contentType: 'text/plain; charset=utf-8' };
  if (typeof body === 'object' && contentType !== undefined && /^application\/x-www-form-urlencoded\b/i.test(contentType)) {
    return { kind: 'buffer', body: Buffer.from(urlencoded(body)), contentType: null };
  }
  return { kind: 'buffer', body: Buffer.from(JSON.stringify(body) ?? ''), contentType: 'application/json' };
}
