// Access log lines, one per response: the record the access log collects, and its two renderings —
// the Combined Log Format (Apache's `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`) and
// one JSON object per line. Pure functions; log-sink.ts writes the lines.

/** One finished (or abandoned) response, as the access log saw it. */
export interface AccessRecord {
  /** When the request was received (its handler started). */
  readonly start: Date;
  /** Time from the start until the response finished or the connection closed, ms. */
  readonly durationMs: number;
  readonly pid: number;
  /** The peer's IP address ('-' if unknown). */
  readonly remote: string;
  readonly method: string;
  /** The request-target as received. */
  readonly url: string;
  /** '1.1' or '1.0'. */
  readonly httpVersion: string;
  readonly status: number;
  /** Body bytes handed to the connection (after compression), headers excluded. */
  readonly bytes: number;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
  /** True when the connection closed before the response was complete. */
  readonly aborted: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `10/Oct/2000:13:55:36 -0700`: Apache's %t, in local time with its UTC offset. */
export function clfTimestamp(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `${pad(date.getDate())}/${MONTHS[date.getMonth()]}/${date.getFullYear()}:${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

/** Escape for a quoted log field as Apache does: `"` and `\` backslashed, other bytes outside 0x20–0x7e as \xhh. */
export function escapeLogField(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
}

/** One Combined Log Format line (no newline); `-` for a missing field or a body of 0 bytes. */
export function formatCombined(record: AccessRecord): string {
  const requestLine = escapeLogField(`${record.method} ${record.url} HTTP/${record.httpVersion}`);
  const referer = record.referer === undefined ? '-' : escapeLogField(record.referer);
  const agent = record.userAgent === undefined ? '-' : escapeLogField(record.userAgent);
  const bytes = record.bytes > 0 ? String(record.bytes) : '-';
  return `${record.remote} - - [${clfTimestamp(record.start)}] "${requestLine}" ${record.status} ${bytes} "${referer}" "${agent}"`;
}

/**
 * One JSON object (no newline): time (ISO 8601, UTC), pid, remote, method, url, httpVersion,
 * status, bytes, ms (duration, to the microsecond), referer and userAgent when present, and
 * aborted: true when the connection closed first.
 */
export function formatJson(record: AccessRecord): string {
  return JSON.stringify({
    time: record.start.toISOString(),
    pid: record.pid,
    remote: record.remote,
    method: record.method,
    url: record.url,
    httpVersion: record.httpVersion,
    status: record.status,
    bytes: record.bytes,
    ms: Math.round(record.durationMs * 1000) / 1000,
    referer: record.referer,
    userAgent: record.userAgent,
    aborted: record.aborted || undefined,
  });
}
