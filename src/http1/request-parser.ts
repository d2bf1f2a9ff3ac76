// The HTTP/1.1 request parser: the shared pulled engine (message-parser.ts) with the request-line,
// the Host rules (RFC 9112 §3.2), request framing (§6.3) and persistence (§9.3).

import { ParseError } from '../common/errors.js';
import { MAX_REQUEST_TARGET_BYTES } from '../common/defaults.js';
import { FieldKind } from './field-line.js';
import { BodyKind, ConnectionOption, isPersistent, requestBodyKind } from './framing.js';
import { MessageParser, type MessageHead, type MessageParserOptions } from './message-parser.js';
import { isHostFieldValue, parseRequestLine, type RequestLine } from './request-line.js';

export { ParserEvent } from './message-parser.js';

/** A parsed request head. */
export interface RequestHead extends RequestLine, MessageHead {
  /** The first Expect field value, if any (RFC 9110 §10.1.1). */
  expect: string | undefined;
}

/** Limits, in bytes and counts; each defaults to the value in common/defaults.ts. */
export interface RequestParserOptions extends MessageParserOptions {
  /** request-target size limit in bytes (default 8192): 414. */
  maxRequestTargetSize?: number;
}

const REQUEST_LINE_SLACK_BYTES = 64; // room for method, SPs and version around a maximal target

export class RequestParser extends MessageParser<RequestHead> {
  readonly #maxTargetSize: number;
  #hostCount = 0;
  #host = '';
  /** The last Host value found valid (checked again only when it changes). */
  #validHost = '';

  constructor(options: RequestParserOptions = {}) {
    super(options);
    this.#maxTargetSize = options.maxRequestTargetSize ?? MAX_REQUEST_TARGET_BYTES;
  }

  protected parseStartLine(buf: Buffer, start: number, end: number, base: number): RequestHead {
    const head: RequestHead = {
      method: '',
      target: '',
      versionMajor: 1,
      versionMinor: 1,
      rawHeaders: [],
      keepAlive: true,
      upgrade: false,
      expect: undefined,
      bodyKind: BodyKind.None,
      contentLength: 0,
    };
    parseRequestLine(buf, start, end, base, this.#maxTargetSize, head);
    this.#hostCount = 0;
    return head;
  }

  /** 414 for a request-line longer than the target limit allows (when that limit is the tighter one). */
  protected override startLineTooLong(pending: number, headerRoom: number): ParseError | null {
    const lineRoom = this.#maxTargetSize + REQUEST_LINE_SLACK_BYTES;
    if (pending > lineRoom && lineRoom <= headerRoom) {
      return new ParseError('HPE_URI_TOO_LONG', 'request-line longer than the limit', this.offset);
    }
    return null;
  }

  protected noteField(head: RequestHead, kind: FieldKind, value: string): void {
    if (kind === FieldKind.Host) {
      this.#hostCount++;
      this.#host = value;
    } else if (kind === FieldKind.Expect && head.expect === undefined) {
      head.expect = value;
    }
  }

  override release(): void {
    super.release();
    this.#host = '';
  }

  /** Host rules (RFC 9112 §3.2), framing (RFC 9112 §6.3) and persistence (§9.3) for a complete head. */
  protected completeHead(head: RequestHead, offset: number): void {
    if (this.#hostCount > 1) throw new ParseError('HPE_INVALID_HOST', 'more than one Host field line', offset);
    if (this.#hostCount === 0) {
      if (head.versionMinor >= 1) throw new ParseError('HPE_INVALID_HOST', 'HTTP/1.1 request without a Host field', offset);
    } else if (this.#host !== this.#validHost) {
      if (!isHostFieldValue(this.#host)) throw new ParseError('HPE_INVALID_HOST', 'invalid Host field value', offset);
      this.#validHost = this.#host; // a connection's requests nearly always repeat their Host
    }
    const bodyKind = requestBodyKind(this.framing, head.versionMinor, offset);
    head.bodyKind = bodyKind;
    head.contentLength = bodyKind === BodyKind.Length ? this.framing.contentLength : 0;
    head.keepAlive = isPersistent(head.versionMinor, this.connectionOptions);
    head.upgrade = head.method === 'CONNECT' || ((this.connectionOptions & ConnectionOption.Upgrade) !== 0 && this.hasUpgradeField);
  }
}
