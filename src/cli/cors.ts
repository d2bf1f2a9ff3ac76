// --cors: every response says `Access-Control-Allow-Origin: *`, and a CORS preflight (OPTIONS with
// Access-Control-Request-Method, Fetch standard §3.2.2) gets 204 with the methods a file server
// allows and the request headers it asked for, cached by the browser for a day.

import type { IncomingMessage, ServerResponse } from '../keel.js';

/** How long a browser may cache a preflight answer, seconds (Access-Control-Max-Age). */
const PREFLIGHT_MAX_AGE_S = 86_400;
const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';

/**
 * Add the CORS fields to `res`; answer and return true for a preflight, false otherwise (the request
 * then goes on to the files).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return false;
  res.statusCode = 204;
  res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
  const asked = req.headers['access-control-request-headers'];
  if (asked !== undefined) res.setHeader('Access-Control-Allow-Headers', Array.isArray(asked) ? asked.join(', ') : asked);
  res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_S);
  res.setHeader('Vary', 'Access-Control-Request-Headers');
  res.end();
  return true;
}
