// Which media types are worth compressing: text, JSON, JavaScript, XML, SVG and WebAssembly —
// never server-sent events (text/event-stream: each event must reach the client at once). Decided
// on the media type alone (parameters dropped, case folded), with a small cache per type string.

const COMPRESSIBLE_TYPES = new Set([
  'application/json',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/xml',
  'application/wasm',
  'application/graphql',
  'application/x-www-form-urlencoded',
  'image/svg+xml',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/bmp',
  'font/ttf',
  'font/otf',
  'application/vnd.ms-fontobject',
]);

/** Distinct Content-Type values remembered before the cache starts over. */
const CACHE_ENTRIES = 256;
const cache = new Map<string, boolean>();

/** The media type of a Content-Type value: before any ";", without whitespace, lower-cased. */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function decide(type: string): boolean {
  if (type === 'text/event-stream') return false;
  if (type.startsWith('text/')) return true;
  if (COMPRESSIBLE_TYPES.has(type)) return true;
  // structured syntax suffixes (RFC 6839): application/ld+json, application/atom+xml, ...
  return type.endsWith('+json') || type.endsWith('+xml') || type.endsWith('/json') || type.endsWith('/xml') || type.endsWith('/javascript');
}

/**
 * The default compressibility rule, given a media type (as mediaTypeOf returns it): text/*
 * (except text/event-stream), JSON, JavaScript, XML and their +json / +xml suffixes, SVG, wasm,
 * icons and uncompressed font formats. Images, audio, video, archives and woff/woff2 are not.
 */
export function isCompressibleType(mediaType: string): boolean {
  let answer = cache.get(mediaType);
  if (answer === undefined) {
    answer = decide(mediaType);
    if (cache.size >= CACHE_ENTRIES) cache.clear();
    cache.set(mediaType, answer);
  }
  return answer;
}
