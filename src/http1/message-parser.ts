// The engine shared by the request and response parsers, sans-I/O and pulled: the connection calls
// push(chunk) with whatever the socket gave it, then next() until NeedData. Each line of a head is
// parsed once it is complete (ends in CRLF), so every split of the input yields the same events by
// construction. Pausing a connection is simply not calling next(). Throws only ParseError; after
// one, the parser is dead and nothing after the error is ever returned.
// Subclasses parse the start line and decide framing; this class owns the bytes.

import { ParseError } from '../common/errors.js';
import { MAX_CHUNK_EXTENSIONS_BYTES, MAX_HEADERS_COUNT, MAX_HEADER_SIZE_BYTES } from '../common/defaults.js';
import { parseChunkSizeLine } from './chunk-line.js';
import { FieldKind, parseFieldLine } from './field-line.js';
import { BodyKind, addContentLength, connectionOptions, type FramingFields } from './framing.js';
import { CR, LF } from './tables.js';

/** What next() found. */
export const ParserEvent = {
  /** Nothing more can be parsed until push() (or finish()) brings more. */
  NeedData: 0,
  /** A head is complete: read `parser.head`. */
  Head: 1,
  /** A piece of the message body: read `parser.body` (a view into the pushed bytes). */
  Body: 2,
  /** The message is complete: read `parser.trailers` for a chunked body's trailer section. */
  End: 3,
} as const;
export type ParserEvent = (typeof ParserEvent)[keyof typeof ParserEvent];

/** What every parsed head says, request or response. */
export interface MessageHead {
  versionMajor: number;
  versionMinor: number;
  /** Field lines as a flat [name, value, name, value, ...] list, names as received (Node's rawHeaders). */
  rawHeaders: string[];
  /** Whether the connection persists after this message (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** Whether the connection changes protocol after this head (upgrade, CONNECT). */
  upgrade: boolean;
  /** How the message body is framed. */
  bodyKind: BodyKind;
  /** The body length when bodyKind is Length. */
  contentLength: number;
}

/** Limits shared by both parsers, in bytes and counts; each defaults to common/defaults.ts. */
export interface MessageParserOptions {
  /** Header section size limit in bytes, start line and CRLFs included (default 16384): 431. */
  maxHeaderSize?: number;
  /** Field line count limit (default 2000): 431. */
  maxHeadersCount?: number;
  /** Chunk extension size limit per chunk line in bytes (default 16384): 413. */
  maxChunkExtensionsSize?: number;
}

const State = {
  Head: 0,
  Length: 1,
  ChunkSize: 2,
  ChunkData: 3,
  ChunkDataEnd: 4,
  Trailers: 5,
  UntilClose: 6,
  Closed: 7,
  Failed: 8,
} as const;
type State = (typeof State)[keyof typeof State];

const EMPTY = Buffer.alloc(0);
/**
 * Largest header section (bytes) whose field lines an idle connection keeps for its next message to
 * reuse: a peer that sends the same small head on every request of a keep-alive connection costs no
 * validation or decoding, and an idle connection never holds a large section's strings.
 */
const KEEP_FIELDS_MAX_BYTES = 4096;
/** Bytes searched for an LF in JavaScript before handing over to Buffer#indexOf (a native call). */
const LF_SCAN_INLINE_BYTES = 64;

export abstract class MessageParser<H extends MessageHead> {
  /** The head returned by the last Head event. */
  head: H | null = null;
  /** The bytes returned by the last Body event. */
  body: Buffer = EMPTY;
  /** The trailer section of the last End event, flat like rawHeaders (empty when there was none). */
  trailers: string[] = [];

  protected readonly maxHeaderSize: number;
  readonly #maxHeadersCount: number;
  readonly #maxExtensionSize: number;

  #state: State = State.Head;
  #error: ParseError | null = null;
  #buf: Buffer = EMPTY;
  #pos = 0; // bytes of #buf already consumed
  #base = 0; // stream offset of #buf[0]
  #scanned = 0; // bytes after #pos already searched for LF
  #discardedBytes = 0;
  #eof = false;
  #remaining = 0; // body bytes left in the current Content-Length body or chunk
  #sectionBytes = 0; // bytes of the header or trailer section so far
  #fieldCount = 0;
  /** rawHeaders of the last complete head: identical field lines of the next one reuse its strings. */
  #previousFields: string[] | null = null;
  /** Size in bytes of the header section #previousFields came from. */
  #previousFieldsBytes = 0;
  // The head being parsed, and what its field lines said about framing.
  #head: H | null = null;
  /** Framing fields of the head being parsed (Content-Length, Transfer-Encoding). */
  protected readonly framing: FramingFields = { contentLength: -1, transferEncoding: undefined };
  /** ConnectionOption bits of the head being parsed. */
  protected connectionOptions = 0;
  /** Whether the head being parsed has a non-empty Upgrade field. */
  protected hasUpgradeField = false;

  constructor(options: MessageParserOptions = {}) {
    this.maxHeaderSize = options.maxHeaderSize ?? MAX_HEADER_SIZE_BYTES;
    this.#maxHeadersCount = options.maxHeadersCount ?? MAX_HEADERS_COUNT;
    this.#maxExtensionSize = options.maxChunkExtensionsSize ?? MAX_CHUNK_EXTENSIONS_BYTES;
  }

  /** Parse the start line buf[start, end) into a new head (fields empty). Throws ParseError. */
  protected abstract parseStartLine(buf: Buffer, start: number, end: number, base: number): H;
  /** A Host or Expect field (the others are handled here). */
  protected abstract noteField(head: H, kind: FieldKind, value: string, offset: number): void;
  /** Decide bodyKind, contentLength, keepAlive and upgrade of a complete head. Throws ParseError. */
  protected abstract completeHead(head: H, offset: number): void;
  /** Bytes a start line may have before the header-section limit applies; and its error. */
  protected startLineTooLong(_pending: number, _headerRoom: number): ParseError | null {
    return null;
  }

  /** Bytes pushed but not yet consumed by next(). */
  get bufferedBytes(): number {
    return this.#buf.length - this.#pos;
  }

  /** Stream offset of the next unconsumed byte. */
  get offset(): number {
    return this.#base + this.#pos;
  }

  /** True once a non-persistent message has ended: later bytes are discarded, never parsed. */
  get isClosed(): boolean {
    return this.#state === State.Closed;
  }

  /** Bytes received after a closing message or an error and thrown away unparsed. */
  get discardedBytes(): number {
    return this.#discardedBytes;
  }

  /** True between messages with nothing of the next one received yet. */
  get isIdle(): boolean {
    return this.#state === State.Head && this.#head === null && this.#pos === this.#buf.length;
  }

  /** Add bytes from the connection. Bytes after a closing message or an error are discarded. */
  push(chunk: Buffer): void {
    if (this.#state >= State.Closed) {
      this.#discardedBytes += chunk.length;
      return;
    }
    this.#base += this.#pos;
    this.#buf = this.#pos === this.#buf.length ? chunk : Buffer.concat([this.#buf.subarray(this.#pos), chunk]);
    this.#pos = 0;
  }

  /**
   * Drop the references to the last message — `head`, the `body` view and, when every pushed byte
   * was consumed, the pushed bytes themselves — so that an idle connection keeps no buffers alive.
   * The field lines of a small head (at most KEEP_FIELDS_MAX_BYTES) stay, as strings, for the next
   * message to reuse. Call it between messages, once `head`, `body` and `trailers` have been read.
   */
  release(): void {
    this.head = null;
    if (this.#previousFieldsBytes > KEEP_FIELDS_MAX_BYTES) this.#previousFields = null;
    this.body = EMPTY;
    if (this.#pos === this.#buf.length && this.#buf !== EMPTY) {
      this.#base += this.#pos;
      this.#buf = EMPTY;
      this.#pos = 0;
    }
  }

  /**
   * Stop parsing and hand over the unconsumed bytes (after an upgrade or CONNECT head).
   * The parser is closed afterwards.
   */
  detach(): Buffer {
    const rest = this.#buf.subarray(this.#pos);
    this.#base += this.#pos; // `offset` stays at the end of the head
    this.#buf = EMPTY;
    this.#pos = 0;
    this.#state = State.Closed;
    return rest;
  }

  /** Parse as far as the buffered bytes allow and return the next event. Throws ParseError. */
  next(): ParserEvent {
    if (this.#state === State.Failed) throw this.#error as ParseError;
    try {
      return this.#next();
    } catch (err) {
      this.#state = State.Failed;
      this.#error = err as ParseError;
      throw err;
    }
  }

  /**
   * The peer closed its side (EOF). A body delimited by the close ends (next() returns End);
   * otherwise throws HPE_INVALID_EOF_STATE when a message was incomplete (RFC 9112 §8): part of
   * a head, or a body shorter than its framing says.
   */
  finish(): void {
    const s = this.#state;
    this.#eof = true;
    if (s === State.Failed || s === State.Closed || s === State.UntilClose) return;
    if (s === State.Head && this.#head === null && this.#pos === this.#buf.length) return;
    if (s === State.Length && this.#remaining === 0) return;
    this.#state = State.Failed;
    this.#error = new ParseError('HPE_INVALID_EOF_STATE', 'connection closed before the message was complete', this.offset);
    throw this.#error;
  }

  #next(): ParserEvent {
    for (;;) {
      switch (this.#state) {
        case State.Head:
          return this.#parseHead();
        case State.Length: {
          if (this.#remaining === 0) return this.#endMessage();
          const available = this.#buf.length - this.#pos;
          if (available === 0) return ParserEvent.NeedData;
          const n = available < this.#remaining ? available : this.#remaining;
          this.body = this.#buf.subarray(this.#pos, this.#pos + n);
          this.#pos += n;
          this.#remaining -= n;
          return ParserEvent.Body;
        }
        case State.UntilClose: {
          if (this.#pos < this.#buf.length) {
            this.body = this.#pos === 0 ? this.#buf : this.#buf.subarray(this.#pos);
            this.#pos = this.#buf.length;
            return ParserEvent.Body;
          }
          return this.#eof ? this.#endMessage() : ParserEvent.NeedData;
        }
        case State.ChunkSize: {
          const lf = this.#findLF();
          // The same bound whether the line is complete or not, so the verdict never depends on the split.
          if ((lf === -1 ? this.#buf.length : lf) - this.#pos > this.#maxExtensionSize + 32) {
            throw new ParseError('HPE_CHUNK_EXTENSIONS_OVERFLOW', 'chunk-size line longer than the limit', this.offset, 413);
          }
          if (lf === -1) return ParserEvent.NeedData;
          const end = this.#lineEnd(lf);
          const size = parseChunkSizeLine(this.#buf, this.#pos, end, this.#base, this.#maxExtensionSize);
          this.#pos = lf + 1;
          if (size === 0) {
            this.#state = State.Trailers;
            this.#sectionBytes = 0;
            this.#fieldCount = 0;
            this.trailers = [];
          } else {
            this.#remaining = size;
            this.#state = State.ChunkData;
          }
          continue;
        }
        case State.ChunkData: {
          const available = this.#buf.length - this.#pos;
          if (available === 0) return ParserEvent.NeedData;
          const n = available < this.#remaining ? available : this.#remaining;
          this.body = this.#buf.subarray(this.#pos, this.#pos + n);
          this.#pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          return ParserEvent.Body;
        }
        case State.ChunkDataEnd: {
          const available = this.#buf.length - this.#pos;
          if (available === 0) return ParserEvent.NeedData;
          if (this.#buf[this.#pos] !== CR) {
            if (this.#buf[this.#pos] === LF) throw new ParseError('HPE_CR_EXPECTED', 'bare LF after chunk data (CRLF required)', this.offset);
            throw new ParseError('HPE_STRICT', 'expected CRLF after chunk data', this.offset);
          }
          if (available === 1) return ParserEvent.NeedData;
          if (this.#buf[this.#pos + 1] !== LF) throw new ParseError('HPE_STRICT', 'expected LF after CR after chunk data', this.offset + 1);
          this.#pos += 2;
          this.#state = State.ChunkSize;
          continue;
        }
        case State.Trailers: {
          const lf = this.#findLF();
          if (lf === -1) {
            if (this.#sectionBytes + this.#buf.length - this.#pos > this.maxHeaderSize) {
              throw new ParseError('HPE_HEADER_OVERFLOW', 'trailer section larger than the limit', this.offset);
            }
            return ParserEvent.NeedData;
          }
          // The size limit first, as for a line still incomplete: the verdict never depends on the split.
          if (this.#sectionBytes + lf - this.#pos > this.maxHeaderSize) {
            throw new ParseError('HPE_HEADER_OVERFLOW', 'trailer section larger than the limit', this.offset);
          }
          const end = this.#lineEnd(lf);
          this.#addSectionBytes(lf + 1 - this.#pos, 'trailer section');
          const start = this.#pos;
          this.#pos = lf + 1;
          if (end === start) return this.#endMessage();
          if (++this.#fieldCount > this.#maxHeadersCount) throw new ParseError('HPE_HEADER_OVERFLOW', 'too many trailer fields', this.#base + start);
          parseFieldLine(this.#buf, start, end, this.#base, this.trailers);
          continue;
        }
        default:
          return ParserEvent.NeedData; // Closed
      }
    }
  }

  /** Parse complete lines of the head; returns Head once the empty line arrives. */
  #parseHead(): ParserEvent {
    for (;;) {
      const lf = this.#findLF();
      if (lf === -1) {
        this.#checkHeadLine(this.#buf.length - this.#pos);
        return ParserEvent.NeedData;
      }
      this.#checkHeadLine(lf - this.#pos); // as for the same line arriving in pieces
      const end = this.#lineEnd(lf);
      const start = this.#pos;
      this.#pos = lf + 1;
      this.#addSectionBytes(lf + 1 - start, 'header section');
      const head = this.#head;
      if (head === null) {
        if (end === start) continue; // RFC 9112 §2.2: empty lines before the start line are ignored
        this.#head = this.parseStartLine(this.#buf, start, end, this.#base);
        this.#fieldCount = 0;
        this.framing.contentLength = -1;
        this.framing.transferEncoding = undefined;
        this.connectionOptions = 0;
        this.hasUpgradeField = false;
        continue;
      }
      if (end === start) return this.#completeHead(head, start);
      if (++this.#fieldCount > this.#maxHeadersCount) throw new ParseError('HPE_HEADER_OVERFLOW', 'too many header fields', this.#base + start);
      if (this.#fieldCount === 1 && (this.#buf[start] === 0x20 || this.#buf[start] === 0x09)) {
        throw new ParseError('HPE_UNEXPECTED_SPACE', 'whitespace before the first field line', this.#base + start);
      }
      const fields = head.rawHeaders;
      const kind = parseFieldLine(this.#buf, start, end, this.#base, fields, this.#previousFields);
      if (kind !== FieldKind.Other) this.#noteFramingField(head, kind, fields[fields.length - 1], this.#base + start);
    }
  }

  #noteFramingField(head: H, kind: FieldKind, value: string, offset: number): void {
    switch (kind) {
      case FieldKind.ContentLength:
        addContentLength(this.framing, value, offset);
        break;
      case FieldKind.TransferEncoding: {
        const te = this.framing.transferEncoding;
        this.framing.transferEncoding = te === undefined ? value : `${te}, ${value}`;
        break;
      }
      case FieldKind.Connection:
        this.connectionOptions |= connectionOptions(value);
        break;
      case FieldKind.Upgrade:
        if (value !== '') this.hasUpgradeField = true;
        break;
      default:
        this.noteField(head, kind, value, offset);
    }
  }

  #completeHead(head: H, emptyLineStart: number): ParserEvent {
    this.completeHead(head, this.#base + emptyLineStart);
    this.head = head;
    this.#previousFields = head.rawHeaders;
    this.#previousFieldsBytes = this.#sectionBytes;
    this.#head = null;
    this.#sectionBytes = 0;
    this.trailers = [];
    if (head.bodyKind === BodyKind.Chunked) {
      this.#state = State.ChunkSize;
    } else if (head.bodyKind === BodyKind.UntilClose) {
      this.#state = State.UntilClose;
    } else {
      this.#state = State.Length;
      this.#remaining = head.bodyKind === BodyKind.Length ? head.contentLength : 0;
    }
    return ParserEvent.Head;
  }

  #endMessage(): ParserEvent {
    this.#state = this.head !== null && !this.head.keepAlive ? State.Closed : State.Head;
    if (this.#state === State.Closed) {
      this.#discardedBytes += this.#buf.length - this.#pos;
      this.#base += this.#pos; // `offset` stays at the end of the message
      this.#buf = EMPTY;
      this.#pos = 0;
    }
    this.#sectionBytes = 0;
    return ParserEvent.End;
  }

  /**
   * Index of the next LF at or after #pos, or -1; never rescans bytes already searched. Most lines
   * are short: their LF is found by a loop here, cheaper than the native call that longer ones need.
   */
  #findLF(): number {
    const buf = this.#buf;
    const from = this.#pos + this.#scanned;
    const inlineEnd = from + LF_SCAN_INLINE_BYTES < buf.length ? from + LF_SCAN_INLINE_BYTES : buf.length;
    let lf = -1;
    for (let i = from; i < inlineEnd; i++) {
      if (buf[i] === LF) {
        lf = i;
        break;
      }
    }
    if (lf === -1 && inlineEnd < buf.length) lf = buf.indexOf(LF, inlineEnd);
    if (lf === -1) {
      this.#scanned = this.#buf.length - this.#pos;
      return -1;
    }
    this.#scanned = 0;
    return lf;
  }

  /** Index of the CR that must precede the LF at `lf` (RFC 9112 §2.2: no bare LF). */
  #lineEnd(lf: number): number {
    if (lf === this.#pos || this.#buf[lf - 1] !== CR) {
      throw new ParseError('HPE_CR_EXPECTED', 'bare LF as a line terminator (CRLF required)', this.#base + lf);
    }
    return lf - 1;
  }

  #addSectionBytes(n: number, what: string): void {
    this.#sectionBytes += n;
    if (this.#sectionBytes > this.maxHeaderSize) throw new ParseError('HPE_HEADER_OVERFLOW', `${what} larger than the limit`, this.offset);
  }

  /**
   * Limits on a head line of which `pending` bytes (LF excluded) have arrived: the start line's own
   * limit (a subclass's), then the header section's (431). The limit with less room decides, so a
   * line fed in pieces gets the same verdict as the whole line.
   */
  #checkHeadLine(pending: number): void {
    const headerRoom = this.maxHeaderSize - this.#sectionBytes;
    if (this.#head === null) {
      const error = this.startLineTooLong(pending, headerRoom);
      if (error !== null) throw error;
    }
    if (pending > headerRoom) {
      throw new ParseError('HPE_HEADER_OVERFLOW', 'header section larger than the limit', this.offset);
    }
  }
}
