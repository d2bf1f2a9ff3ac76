// The Range field (RFC 9110 §14.1.2) against a representation of known length: the byte ranges to
// send, "unsatisfiable" (416), or null when the field is to be ignored (the whole body, 200).
// Parsed by hand; a syntax error anywhere, an unknown unit, too many ranges or overlapping ranges
// make the field ignored, as §14.2 and §14.3 allow.

/** One byte range: offsets of its first and last byte, inclusive. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Most ranges honoured in one request; more and the Range field is ignored (§14.3: denial of service). */
export const MAX_BYTE_RANGES = 64;

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** 1*DIGIT in s[start, end) as a number (huge values become large floats, which is fine here); -1 if not digits. */
function digits(s: string, start: number, end: number): number {
  if (start >= end) return -1;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  return Number(s.slice(start, end));
}

/**
 * Ranges of `value` (ranges-specifier = "bytes" "=" 1#range-spec) for a body of `size` bytes:
 *   int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length.
 * Satisfiable ranges are clipped to the body, in the order asked. Returns "unsatisfiable" when no
 * range is (a first-pos at or past the end, a zero suffix, any range of an empty body), and null
 * to ignore the field: unit other than bytes, bad syntax, last-pos < first-pos, more than
 * `maxRanges` ranges, or ranges that overlap.
 */
export function parseByteRanges(value: string, size: number, maxRanges: number = MAX_BYTE_RANGES): ByteRange[] | 'unsatisfiable' | null {
  const equals = value.indexOf('=');
  if (equals === -1 || value.slice(0, equals).trim().toLowerCase() !== 'bytes') return null;
  const ranges: ByteRange[] = [];
  let specs = 0;
  let i = equals + 1;
  while (i <= value.length) {
    let end = value.indexOf(',', i);
    if (end === -1) end = value.length;
    let start = i;
    let stop = end;
    while (start < stop && isOws(value.charCodeAt(start))) start++;
    while (stop > start && isOws(value.charCodeAt(stop - 1))) stop--;
    i = end + 1;
    if (start === stop) continue; // empty list element (RFC 9110 §5.6.1.2)
    if (++specs > maxRanges) return null;
    const dash = value.indexOf('-', start);
    if (dash === -1 || dash >= stop) return null;
    if (dash === start) {
      const suffix = digits(value, dash + 1, stop);
      if (suffix < 0) return null;
      if (suffix > 0 && size > 0) ranges.push({ start: Math.max(0, size - suffix), end: size - 1 });
      continue;
    }
    const first = digits(value, start, dash);
    const last = dash + 1 === stop ? Infinity : digits(value, dash + 1, stop);
    if (first < 0 || last < 0 || last < first) return null;
    if (first < size) ranges.push({ start: first, end: Math.min(last, size - 1) });
  }
  if (specs === 0) return null;
  if (ranges.length === 0) return 'unsatisfiable';
  if (ranges.length > 1) {
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    for (let k = 1; k < sorted.length; k++) if (sorted[k].start <= sorted[k - 1].end) return null;
  }
  return ranges;
}
