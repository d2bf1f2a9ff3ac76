// The HTTP/1.1 response parser (client side): the shared pulled engine (message-parser.ts) with the
// status-line and response framing (RFC 9112 §6.3), which depends on the method of the request
// each response answers: set `requestMethod` before the next head is parsed (pipelining: in order).
// A 1xx response is a head with no body followed by the final response (RFC 9110 §15.2).

import { FieldKind } from './field-line.js';
import { BodyKind, isPersistent, responseBodyKind } from './framing.js';
import { MessageParser, type MessageHead, type MessageParserOptions } from './message-parser.js';
import { parseStatusLine, type StatusLine } from './status-line.js';

export { ParserEvent } from './message-parser.js';

/** A parsed response head. */
export interface ResponseHead extends StatusLine, MessageHead {}

export type ResponseParserOptions = MessageParserOptions;

export class ResponseParser extends MessageParser<ResponseHead> {
  /** Method of the request the next response answers (HEAD and CONNECT change the framing). */
  requestMethod = 'GET';

  protected parseStartLine(buf: Buffer, start: number, end: number, base: number): ResponseHead {
    const head: ResponseHead = {
      versionMajor: 1,
      versionMinor: 1,
      statusCode: 0,
      statusMessage: '',
      rawHeaders: [],
      keepAlive: true,
      upgrade: false,
      bodyKind: BodyKind.None,
      contentLength: 0,
    };
    parseStatusLine(buf, start, end, base, head);
    return head;
  }

  protected noteField(_head: ResponseHead, _kind: FieldKind): void {
    // Host and Expect mean nothing in a response.
  }

  /** Framing (RFC 9112 §6.3) for the request's method, persistence (§9.3), protocol switch. */
  protected completeHead(head: ResponseHead, offset: number): void {
    const status = head.statusCode;
    const bodyKind = responseBodyKind(this.framing, status, this.requestMethod, offset);
    head.bodyKind = bodyKind;
    head.contentLength = bodyKind === BodyKind.Length ? this.framing.contentLength : 0;
    head.upgrade = status === 101 || (this.requestMethod === 'CONNECT' && status >= 200 && status < 300);
    // An interim (1xx) response never ends the connection; a body until close always does, and so
    // does Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1: faulty framing, close after it).
    head.keepAlive = (status >= 100 && status < 200 && status !== 101) ||
      (bodyKind !== BodyKind.UntilClose && isPersistent(head.versionMinor, this.connectionOptions) &&
        !(head.versionMinor === 0 && this.framing.transferEncoding !== undefined));
  }
}
