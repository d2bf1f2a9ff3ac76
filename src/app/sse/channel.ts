// Channel: a set of event streams that receive the same events, for broadcast. Each event is
// formatted once and written to every stream; a stream leaves the channel when it closes, so a
// client that goes away or falls behind stops costing anything.

import { formatComment, formatEvent, type SseEvent } from './format.js';
import type { EventStream } from './event-stream.js';

/**
 * A broadcast group of EventStreams. Streams are removed automatically when they close. Iterable
 * (the streams in insertion order).
 */
export class Channel {
  #streams = new Map<EventStream, () => void>();

  /** How many streams are in the channel. */
  get size(): number {
    return this.#streams.size;
  }

  /** Add `stream` (ignored if already in, or closed). Returns the channel. */
  add(stream: EventStream): this {
    if (stream.closed || this.#streams.has(stream)) return this;
    const leave = (): void => {
      this.#streams.delete(stream);
    };
    this.#streams.set(stream, leave);
    stream.once('close', leave);
    return this;
  }

  /** Remove `stream` without closing it. Returns whether it was in the channel. */
  delete(stream: EventStream): boolean {
    const leave = this.#streams.get(stream);
    if (leave === undefined) return false;
    stream.removeListener('close', leave);
    return this.#streams.delete(stream);
  }

  /** Whether `stream` is in the channel. */
  has(stream: EventStream): boolean {
    return this.#streams.has(stream);
  }

  /**
   * Send one event to every stream (formatted once; a string is shorthand for `{ data }`).
   * Returns how many streams it was written to. Malformed events throw before any write (codes in
   * formatEvent()). A stream more than its `maxBufferedBytes` behind is dropped and leaves.
   */
  send(event: SseEvent | string): number {
    return this.#writeAll(formatEvent(typeof event === 'string' ? { data: event } : event));
  }

  /** Send a comment to every stream; returns how many streams it was written to. */
  comment(text?: string): number {
    return this.#writeAll(formatComment(text));
  }

  /** Close every stream (each emits 'close' with a null reason) and empty the channel. */
  close(): void {
    for (const stream of [...this.#streams.keys()]) stream.close();
    this.#streams.clear();
  }

  [Symbol.iterator](): IterableIterator<EventStream> {
    return this.#streams.keys();
  }

  #writeAll(text: string): number {
    let written = 0;
    for (const stream of this.#streams.keys()) {
      if (stream.closed) continue;
      stream.write(text);
      if (!stream.res.destroyed) written++;
    }
    return written;
  }
}

/** A new, empty Channel. */
export function createChannel(): Channel {
  return new Channel();
}
