// The text/event-stream wire format (WHATWG HTML, "Server-sent events", §9.2.5–9.2.6): turns one
// event, comment or retry hint into the exact text an EventSource parses, and rejects what would
// break a client's framing. No I/O: the stream and the channel write what these return.

import { keelError } from '../../keel.js';

/** One event, as `send()` takes it. At least one field must be given. */
export interface SseEvent {
  /** Event type (`event:` field); the client's default is "message". No CR or LF: ERR_INVALID_CHAR. */
  event?: string;
  /**
   * Event id (`id:` field); the client keeps it and sends it back as `Last-Event-ID` when it
   * reconnects. "" resets it. No CR, LF or NUL (a NUL makes clients ignore it): ERR_INVALID_CHAR.
   */
  id?: string | number;
  /**
   * Payload. A string is sent as is, one `data:` line per line (CRLF, LF and CR all split, as
   * the client splits them; it joins them back with LF). Any other value is sent as
   * JSON.stringify(value), one line. Omitted: no `data:` line (the client dispatches no event,
   * but still takes `id` and `retry`).
   */
  data?: unknown;
  /** Reconnection delay for the client, ms: a non-negative integer (`retry:` field). */
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

function checkRetry(ms: unknown): number {
  if (typeof ms !== 'number') throw keelError('ERR_INVALID_ARG_TYPE', 'retry', 'of type number', typeof ms);
  if (!Number.isSafeInteger(ms) || ms < 0) throw keelError('ERR_OUT_OF_RANGE', 'retry', 'a non-negative integer', String(ms));
  return ms;
}

function dataText(data: unknown): string {
  if (typeof data === 'string') return data;
  const json = JSON.stringify(data);
  if (json === undefined) throw keelError('ERR_INVALID_ARG_TYPE', 'data', 'a string or a JSON-serialisable value', typeof data);
  return json;
}

/**
 * The text of one event, ending with the blank line that dispatches it, fields in the order
 * event, id, retry, data. For example `formatEvent({ event: 'tick', id: 7, data: 'a\nb' })` is
 * `"event: tick\nid: 7\ndata: a\ndata: b\n\n"`.
 *
 * Throws ERR_INVALID_CHAR (CR/LF in `event`; CR, LF or NUL in `id`), ERR_INVALID_ARG_TYPE (a
 * `data` JSON cannot represent, such as a function; a non-number `retry`), ERR_OUT_OF_RANGE (a
 * negative or fractional `retry`), ERR_INVALID_ARG_VALUE (no field at all).
 */
export function formatEvent(message: SseEvent): string {
  if (message === null || typeof message !== 'object') {
    throw keelError('ERR_INVALID_ARG_TYPE', 'event', 'of type object', message === null ? 'null' : typeof message);
  }
  const { event, id, data, retry } = message;
  let text = '';
  if (event !== undefined) {
    const type = String(event);
    if (/[\r\n]/.test(type)) throw keelError('ERR_INVALID_CHAR', 'event type', type);
    text += `event: ${type}\n`;
  }
  if (id !== undefined) {
    const value = String(id);
    if (/[\r\n\0]/.test(value)) throw keelError('ERR_INVALID_CHAR', 'event id', value);
    text += `id: ${value}\n`;
  }
  if (retry !== undefined) text += `retry: ${checkRetry(retry)}\n`;
  if (data !== undefined) {
    for (const line of dataText(data).split(LINE_BREAK)) text += `data: ${line}\n`;
  }
  if (text === '') throw keelError('ERR_INVALID_ARG_VALUE', 'event', 'with none of event, id, data, retry');
  return `${text}\n`;
}

/**
 * The text of a comment: one `:` line per line of `text`, then a blank line. Clients ignore
 * comments; they keep proxies and idle timers from closing a quiet stream. `formatComment('hi')`
 * is `": hi\n\n"`, `formatComment()` is `":\n\n"`.
 */
export function formatComment(text = ''): string {
  let out = '';
  for (const line of String(text).split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  return `${out}\n`;
}

/** The text of a lone retry hint: `"retry: <ms>\n\n"`. ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE as formatEvent. */
export function formatRetry(ms: number): string {
  return `retry: ${checkRetry(ms)}\n\n`;
}
