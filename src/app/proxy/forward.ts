// The HTTP path of the proxy: one request in, one upstream exchange, and the upstream response
// streamed back with backpressure (status, fields minus hop-by-hop, body, trailers). Failures
// before the response started are answered (502, 504, 500); after it started, the client
// connection is destroyed so that a truncated body is never taken as complete.

import { STATUS_CODES, type IncomingMessage, type ServerResponse } from '../../keel.js';
import { planBody, type BodyPlan } from './body.js';
import { ProxyError } from './errors.js';
import { UpstreamExchange, type Information } from './exchange.js';
import { responseFields } from './fields.js';
import type { ProxyContext } from './options.js';

/** Proxy `req` to an upstream and stream the answer into `res`. */
export function forward(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): void {
  let plan: BodyPlan;
  try {
    plan = planBody(req);
  } catch (err) {
    reply(ctx, req, res, err as ProxyError);
    return;
  }
  let upstreamRes: IncomingMessage | null = null;
  const exchange = new UpstreamExchange(ctx, req, plan, {
    onInformation: (info) => relayEarlyHints(ctx, req, res, info),
    onResponse: (ures) => {
      upstreamRes = ures;
      relay(ctx, req, res, ures);
    },
    onFail: (error) => reply(ctx, req, res, error),
  });
  // The client went away before the response was complete: abort the upstream request.
  res.once('close', () => {
    if (res.writableFinished) return;
    exchange.abort();
    const ures = upstreamRes as IncomingMessage | null;
    if (ures !== null && !ures.destroyed) ures.destroy();
  });
  exchange.start();
}

/** Stream the upstream response `ures` into `res`. */
function relay(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, ures: IncomingMessage): void {
  if (res.destroyed) {
    ures.destroy();
    return;
  }
  const fields = responseFields(ctx, ures.rawHeaders, ures.httpVersion, false);
  // An answer before the whole request body arrived (e.g. 413): the rest of the body will never
  // be read, so the connection cannot carry another request.
  if (!req.complete) fields.push('Connection', 'close');
  try {
    res.writeHead(ures.statusCode!, ures.statusMessage, fields);
  } catch (err) {
    ures.destroy();
    reply(ctx, req, res, new ProxyError('ERR_PROXY_UPSTREAM', `Cannot relay the upstream response head: ${(err as Error).message}`, undefined, err));
    return;
  }
  ures.on('error', () => {}); // reported through 'close' below (Keel emits 'error' only to listeners)
  ures.pipe(res, { end: false });
  ures.once('end', () => {
    if (res.destroyed) return;
    if (ures.rawTrailers.length > 0 && res.chunkedEncoding) {
      const trailers: [string, string][] = [];
      for (let i = 0; i < ures.rawTrailers.length; i += 2) trailers.push([ures.rawTrailers[i], ures.rawTrailers[i + 1]]);
      try {
        res.addTrailers(trailers);
      } catch {
        // a trailer Keel's server refuses is dropped; the body is complete
      }
    }
    res.end();
  });
  ures.once('close', () => {
    if (ures.complete || res.destroyed) return;
    // The upstream failed mid-response: the client must not take what it got as complete.
    ures.unpipe(res);
    reply(ctx, req, res, new ProxyError('ERR_PROXY_UPSTREAM', 'The upstream connection failed before the response was complete'));
  });
  // Send the head without waiting for a first body chunk (server-sent events, long polls); a
  // no-op when a body chunk already took it.
  setImmediate(() => {
    if (!res.writableEnded && !res.destroyed) res.flushHeaders();
  });
}

/** Relay a 103 Early Hints to HTTP/1.1 clients (a 1xx must not go to HTTP/1.0, RFC 9110 §15.2). */
function relayEarlyHints(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, info: Information): void {
  if (info.statusCode !== 103 || req.httpVersionMinor < 1 || res.headersSent || res.destroyed) return;
  const fields = responseFields({ ...ctx, via: null }, info.rawHeaders, info.httpVersion, false);
  const hints: Record<string, string | string[]> = {};
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    const existing = hints[name];
    hints[name] = existing === undefined ? fields[i + 1] : ([] as string[]).concat(existing, fields[i + 1]);
  }
  try {
    res.writeEarlyHints(hints);
  } catch {
    // hints are advisory
  }
}

/**
 * Report `error`: when the response had started, destroy the client connection (then tell
 * onError); else let onError answer, or answer `error.status` with a short text body (and
 * `Connection: close` when the request body was not read to its end).
 */
export function reply(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, error: ProxyError): void {
  if (res.destroyed && !res.headersSent) return; // the client is gone: nobody to answer
  if (res.headersSent) {
    if (!res.destroyed) res.destroy();
    ctx.onError?.(error, req, res);
    return;
  }
  if (ctx.onError !== null) {
    ctx.onError(error, req, res);
    return;
  }
  const body = `${STATUS_CODES[error.status] ?? 'Error'}\n`;
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) };
  if (!req.complete) headers.Connection = 'close';
  res.writeHead(error.status, headers);
  res.end(body);
}
