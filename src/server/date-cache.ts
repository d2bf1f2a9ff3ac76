// The Date field line (RFC 9110 §6.6.1, IMF-fixdate), formatted at most once per second and shared
// by every response of the process. One unref'd timer per second forgets it at the next second
// boundary (as node:http does), so the hot path is a single comparison.

let cachedLine = '';

function forget(): void {
  cachedLine = '';
}

/** `Date: <IMF-fixdate>\r\n` for the current second ("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"). */
export function httpDateLine(): string {
  if (cachedLine === '') {
    const now = Date.now();
    cachedLine = `Date: ${new Date(now).toUTCString()}\r\n`;
    setTimeout(forget, 1000 - (now % 1000)).unref();
  }
  return cachedLine;
}
