// Byte-class lookup tables for HTTP/1.1 syntax: one Uint8Array of 256 entries per class, 1 where the
// octet belongs to the class. Each table quotes the ABNF it encodes; parsers index them per byte
// instead of using regular expressions.

function table(accepts: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accepts(b) ? 1 : 0;
  return t;
}

const isAlpha = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/**
 * RFC 9110 §5.6.2:
 *   token = 1*tchar
 *   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
 *         / DIGIT / ALPHA
 */
export const TCHAR = table((b) => isAlpha(b) || isDigit(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)));

/**
 * RFC 9110 §5.5:
 *   field-value = *field-content
 *   field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
 *   field-vchar = VCHAR / obs-text        ; VCHAR = %x21-7E, obs-text = %x80-FF
 * Bytes allowed anywhere in a (trimmed) field value: HTAB, SP, VCHAR, obs-text. Never CR, LF, NUL,
 * other CTLs or DEL (RFC 9110 §5.5: a recipient MUST reject or replace CR, LF and NUL).
 */
export const FIELD_VALUE = table((b) => b === 0x09 || (b >= 0x20 && b <= 0x7e) || b >= 0x80);

/**
 * RFC 9112 §3.2, RFC 3986 §2: the octets a request-target may contain. Keel accepts every VCHAR
 * (%x21-7E), as llhttp does, so that the `"`, `|`, `{`, `}` and `^` that real clients send unencoded
 * pass; SP, CTLs, DEL and raw non-ASCII (which must be percent-encoded) are rejected.
 */
export const TARGET_CHAR = table((b) => b >= 0x21 && b <= 0x7e);

/**
 * RFC 3986 §3.2.2 reg-name = *( unreserved / pct-encoded / sub-delims ), the octets of a Host
 * field's uri-host outside an IP-literal:
 *   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
 * ("%" is accepted here and its two HEXDIGs checked by the caller.)
 */
export const REG_NAME_CHAR = table((b) => isAlpha(b) || isDigit(b) || "-._~!$&'()*+,;=%".includes(String.fromCharCode(b)));

/** RFC 3986 §3.2.2 IP-literal contents: IPv6address / IPvFuture (HEXDIG, ":", ".", and unreserved / sub-delims). */
export const IP_LITERAL_CHAR = table((b) => isAlpha(b) || isDigit(b) || ":.-_~!$&'()*+,;=".includes(String.fromCharCode(b)));

/** RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (for absolute-form targets). */
export const SCHEME_CHAR = table((b) => isAlpha(b) || isDigit(b) || b === 0x2b || b === 0x2d || b === 0x2e);

/**
 * RFC 9110 §5.6.4 qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
 * (inside a quoted-string of a chunk extension value).
 */
export const QDTEXT = table((b) => b === 0x09 || b === 0x20 || b === 0x21 || (b >= 0x23 && b <= 0x5b) || (b >= 0x5d && b <= 0x7e) || b >= 0x80);

/** HEXDIG → its value, or -1 (RFC 5234 HEXDIG, either case as RFC 9112 §7.1 allows). */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d++) t[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    t[0x41 + d] = 10 + d;
    t[0x61 + d] = 10 + d;
  }
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const COMMA = 0x2c;
