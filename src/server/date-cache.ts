// The Date field value (RFC 9110 §6.6.1, IMF-fixdate), formatted at most once per second and shared by
// every response of the process: no timer, just a comparison on the hot path.

let cachedSecond = -1;
let cachedValue = '';

/** The current time as an IMF-fixdate string ("Sun, 06 Nov 1994 08:49:37 GMT"), cached per second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedValue = new Date(now).toUTCString();
  }
  return cachedValue;
}
