// OutgoingMessage: the Writable base of messages Keel sends, with node:http's header store
// (setHeader, getHeader, ... keyed by lower-cased name, original case kept for the wire).
// Names and values are validated when stored, so nothing invalid can reach the serializer.

import { Writable, type WritableOptions } from 'node:stream';
import { keelError } from '../common/errors.js';
import { validateHeaderName, validateHeaderValue } from './headers.js';
import { defineLazyStreamState } from './lazy-stream-state.js';

/** A header value as node:http accepts it. */
export type OutgoingHttpHeader = number | string | readonly string[];
/** Outgoing headers by lower-cased name. */
export type OutgoingHttpHeaders = Record<string, OutgoingHttpHeader | undefined>;

type Chunk = string | Buffer | Uint8Array;

/** Writable.end's overloads, resolved: end(cb), end(chunk, cb), end(chunk, encoding, cb). */
export function endArguments(
  chunk: Chunk | (() => void) | null | undefined,
  encoding: BufferEncoding | (() => void) | undefined,
  callback: (() => void) | undefined,
): [Chunk | null | undefined, BufferEncoding | undefined, (() => void) | undefined] {
  if (typeof chunk === 'function') return [undefined, undefined, chunk];
  if (typeof encoding === 'function') return [chunk, undefined, encoding];
  return [chunk, encoding, callback];
}

const NO_FIELDS: readonly (string | OutgoingHttpHeader)[] = Object.freeze([]);

/** Header names already validated, with their lower-cased key (a process-wide, bounded cache). */
const VALID_NAMES = new Map<string, string>();
const VALID_NAMES_MAX = 1024;

type WritableStateClass = new (options: WritableOptions | undefined, stream: Writable, isDuplex: boolean) => object;
const { WritableState } = Writable as unknown as { WritableState: WritableStateClass };

/**
 * Writable's prototype chain without its constructor: OutgoingMessage creates the stream state
 * (and the EventEmitter fields) on first use instead of at construction (see `_writableState`
 * below), so a response that is ended in one call and that nobody listens to costs no stream
 * machinery. `instanceof Writable` still holds.
 */
const LazyWritable = function LazyWritable() {} as unknown as typeof Writable;
Object.setPrototypeOf(LazyWritable.prototype, Writable.prototype);
Object.setPrototypeOf(LazyWritable, Writable);

export class OutgoingMessage extends LazyWritable {
  /** Send a `Date` field when the message does not set one (RFC 9110 §6.6.1). Default true. */
  sendDate = true;

  /**
   * The stored headers, flat and in the order first set: [lower-cased key, name as set, value, ...]
   * (null until the first one). A response has a handful, so a scan beats a Map and its entries.
   */
  #fields: (string | OutgoingHttpHeader)[] | null = null;
  #nonAscii = false;
  /** @internal True once the head is committed: headers can no longer change. */
  protected _headerCommitted = false;

  readonly #streamOptions: WritableOptions | undefined;
  /** @internal Whether the Writable state exists (it is created on first use). */
  protected _hasStreamState = false;
  /** @internal The Writable state once created (read through `_writableState`). */
  _streamState: object | null = null;
  /** @internal The message was ended (its bytes all handed over) before the stream state existed. */
  protected _endedBeforeState = false;

  constructor(options?: WritableOptions) {
    super();
    this.#streamOptions = options;
  }

  /** @internal Create the Writable state (on the first access of `_writableState`). */
  _createStreamState(): object {
    const state = new WritableState(this.#streamOptions, this, false);
    this._streamState = state;
    this._hasStreamState = true;
    if (this._endedBeforeState) {
      this._endedBeforeState = false;
      (Writable.prototype.end as () => void).call(this); // the stream catches up: 'finish' and 'close' follow
    }
    return state;
  }

  // A listener added after a deferred end() (e.g. `res.end(); res.once('finish', ...)`) must still
  // hear 'finish' and 'close', as on a Writable: the stream state catches up first.
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    if (this._endedBeforeState) this._createStreamState();
    return super.on(event, listener);
  }
  override addListener(event: string | symbol, listener: (...args: any[]) => void): this {
    return this.on(event, listener);
  }
  override prependListener(event: string | symbol, listener: (...args: any[]) => void): this {
    if (this._endedBeforeState) this._createStreamState();
    return super.prependListener(event, listener);
  }
  override prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this {
    if (this._endedBeforeState) this._createStreamState();
    return super.prependOnceListener(event, listener);
  }

  /** True once the head is committed (after writeHead(), the first write() or end()). */
  get headersSent(): boolean {
    return this._headerCommitted;
  }

  /**
   * Set a header, replacing any value under the same name (case-insensitive).
   * Throws ERR_HTTP_HEADERS_SENT after the head is committed, ERR_INVALID_HTTP_TOKEN for a bad
   * name, ERR_HTTP_INVALID_HEADER_VALUE / ERR_INVALID_CHAR for a bad value.
   */
  setHeader(name: string, value: OutgoingHttpHeader): this {
    if (this._headerCommitted) throw keelError('ERR_HTTP_HEADERS_SENT', 'set');
    this._storeHeader(name, value);
    return this;
  }

  /** Add a value to a header, keeping earlier ones (Node's appendHeader). Same errors as setHeader. */
  appendHeader(name: string, value: OutgoingHttpHeader): this {
    if (this._headerCommitted) throw keelError('ERR_HTTP_HEADERS_SENT', 'append');
    validateHeaderName(name);
    const i = this.#indexOf(name.toLowerCase());
    if (i === -1) return this.setHeader(name, value);
    if (validateHeaderValue(name, value) === false) this.#nonAscii = true;
    const fields = this.#fields!;
    const existing = fields[i + 2] as OutgoingHttpHeader;
    const before = Array.isArray(existing) ? existing : [String(existing)];
    fields[i + 2] = before.concat(Array.isArray(value) ? value.map(String) : [String(value)]);
    return this;
  }

  /** Index of `key`'s entry in #fields, or -1. */
  #indexOf(key: string): number {
    const fields = this.#fields;
    if (fields === null) return -1;
    for (let i = 0; i < fields.length; i += 3) {
      if (fields[i] === key) return i;
    }
    return -1;
  }

  /** @internal Store without the committed check (writeHead's headers). */
  protected _storeHeader(name: string, value: OutgoingHttpHeader): void {
    let key = VALID_NAMES.get(name);
    if (key === undefined) {
      validateHeaderName(name);
      key = name.toLowerCase();
      if (VALID_NAMES.size < VALID_NAMES_MAX) VALID_NAMES.set(name, key);
    }
    if (validateHeaderValue(name, value) === false) this.#nonAscii = true;
    const i = this.#indexOf(key);
    if (i === -1) {
      if (this.#fields === null) this.#fields = [key, name, value];
      else this.#fields.push(key, name, value);
    } else {
      this.#fields![i + 1] = name;
      this.#fields![i + 2] = value;
    }
  }

  getHeader(name: string): OutgoingHttpHeader | undefined {
    if (typeof name !== 'string') throw keelError('ERR_INVALID_ARG_TYPE', 'name', 'of type string', typeof name);
    const i = this.#indexOf(name.toLowerCase());
    return i === -1 ? undefined : (this.#fields![i + 2] as OutgoingHttpHeader);
  }

  /** A shallow copy of the headers, lower-cased names as keys (a null-prototype object, as Node). */
  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = Object.create(null);
    const fields = this._headerFields;
    for (let i = 0; i < fields.length; i += 3) out[fields[i] as string] = fields[i + 2] as OutgoingHttpHeader;
    return out;
  }

  getHeaderNames(): string[] {
    return this.#names(0);
  }

  /** Header names in the case they were set. */
  getRawHeaderNames(): string[] {
    return this.#names(1);
  }

  /** The lower-cased keys (offset 0) or the names as set (offset 1), in order. */
  #names(offset: 0 | 1): string[] {
    const fields = this._headerFields;
    const names: string[] = [];
    for (let i = offset; i < fields.length; i += 3) names.push(fields[i] as string);
    return names;
  }

  hasHeader(name: string): boolean {
    return this.#indexOf(name.toLowerCase()) !== -1;
  }

  /** Throws ERR_HTTP_HEADERS_SENT after the head is committed. */
  removeHeader(name: string): void {
    if (this._headerCommitted) throw keelError('ERR_HTTP_HEADERS_SENT', 'remove');
    const i = this.#indexOf(name.toLowerCase());
    if (i !== -1) this.#fields!.splice(i, 3);
  }

  /**
   * @internal The stored headers, flat, in the order first set: [lower-cased key, name as set,
   * value, ...]. Read only.
   */
  protected get _headerFields(): readonly (string | OutgoingHttpHeader)[] {
    return this.#fields ?? NO_FIELDS;
  }

  /** @internal True when some stored value has a byte above 0x7F (head must be written as latin1). */
  protected get _hasNonAsciiHeader(): boolean {
    return this.#nonAscii;
  }
}

// The stream state, created on first access by any Writable method or getter.
defineLazyStreamState(OutgoingMessage.prototype, '_writableState', '_streamState');
