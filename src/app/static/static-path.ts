// The request-target of a static request as a list of safe path segments. Each segment is split on
// the raw "/" first, then percent-decoded strictly and checked on its own, so no spelling of "..",
// "/" or "\" (raw or %-encoded) and no NUL can step outside the root: what survives can only name
// a file below it (symbolic links are checked later, on the real path).

/** A request path, decoded and checked. */
export interface StaticPath {
  /** Decoded segments: none is empty, ".", "..", or holds "/", "\" or NUL. */
  readonly segments: readonly string[];
  /** The path ends with "/" (a directory was asked for). */
  readonly hasTrailingSlash: boolean;
}

/** Why a path cannot be served: 400 malformed, 403 climbs out of the root, 404 names no file. */
export type PathRefusal = 400 | 403 | 404;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x57;
  return -1;
}

/** Percent-decode one segment (RFC 3986 §2.1) as UTF-8; null when malformed. */
function decodeSegment(raw: string): string | null {
  for (let i = raw.indexOf('%'); i !== -1; i = raw.indexOf('%', i + 3)) {
    if (i + 2 >= raw.length || hexValue(raw.charCodeAt(i + 1)) < 0 || hexValue(raw.charCodeAt(i + 2)) < 0) return null;
  }
  try {
    return decodeURIComponent(raw);
  } catch {
    return null; // percent-encoded bytes that are not UTF-8
  }
}

/** Where the path of a request-target starts and ends (origin-form or absolute-form), or null. */
export function pathBounds(target: string): [start: number, end: number] | null {
  let start = 0;
  if (target.charCodeAt(0) !== 0x2f /* / */) {
    const scheme = target.indexOf('://');
    if (scheme <= 0) return null; // asterisk-form, authority-form
    start = target.indexOf('/', scheme + 3);
    if (start === -1) return [target.length, target.length];
  }
  let end = target.length;
  const query = target.indexOf('?', start);
  if (query !== -1) end = query;
  const fragment = target.indexOf('#', start);
  if (fragment !== -1 && fragment < end) end = fragment;
  return [start, end];
}

/**
 * Decode the path of `target` (req.url: origin-form or absolute-form) into safe segments.
 * Refusals: 400 for malformed percent-encoding (a "%" not followed by two hex digits, or bytes
 * that are not UTF-8) and for NUL; 403 for a ".." segment, raw or encoded ("%2e%2e"); 404 for a
 * segment holding "/" or "\" once decoded ("%2f", "%5c", or a raw "\"), which names no file here,
 * and for targets that have no path ("*").
 */
export function parseStaticPath(target: string): StaticPath | PathRefusal {
  const bounds = pathBounds(target);
  if (bounds === null) return 404;
  const [start, end] = bounds;
  const segments: string[] = [];
  let segmentStart = start;
  while (segmentStart < end) {
    let segmentEnd = target.indexOf('/', segmentStart);
    if (segmentEnd === -1 || segmentEnd > end) segmentEnd = end;
    if (segmentEnd > segmentStart) {
      const raw = target.slice(segmentStart, segmentEnd);
      const segment = raw.includes('%') ? decodeSegment(raw) : raw;
      if (segment === null || segment.includes('\0')) return 400;
      if (segment === '..') return 403;
      if (segment.includes('/') || segment.includes('\\')) return 404;
      if (segment !== '.') segments.push(segment);
    }
    segmentStart = segmentEnd + 1;
  }
  return { segments, hasTrailingSlash: end > start && target.charCodeAt(end - 1) === 0x2f };
}

/** True when some segment is a dotfile or dot-directory name (".git", ".env"). */
export function hasDotSegment(segments: readonly string[]): boolean {
  for (const segment of segments) if (segment.charCodeAt(0) === 0x2e) return true;
  return false;
}

/**
 * The Location of the redirect from a directory to its trailing-slash form: the path as received
 * plus "/", then the query. Leading slashes are collapsed to one, so "//evil.example/dir" cannot
 * become a redirect to another host.
 */
export function directoryLocation(target: string): string {
  const bounds = pathBounds(target) ?? [0, 0];
  let start = bounds[0];
  while (start < bounds[1] && target.charCodeAt(start) === 0x2f) start++;
  const query = target.indexOf('?', bounds[1]);
  return `/${target.slice(start, bounds[1])}/${query === -1 ? '' : target.slice(query)}`;
}
