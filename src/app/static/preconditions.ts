// Validators and conditional requests for files (RFC 9110 §8.8, §13): the weak ETag made from size
// and mtime, and the evaluation of If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in §13.2.2's order, and of If-Range (§13.1.5). Entity-tag lists are scanned by
// hand (no regex); dates are compared at the one-second resolution of HTTP-date.

import type { IncomingHttpHeaders } from '../../keel.js';

/** What the preconditions say: serve normally (200), 304 Not Modified, or 412 Precondition Failed. */
export type PreconditionOutcome = 200 | 304 | 412;

/** The validators of one representation. */
export interface Validators {
  /** The entity-tag with its quotes and W/ prefix, or undefined when ETags are off. */
  readonly etag: string | undefined;
  /** Last modification, whole seconds since the epoch (ms / 1000, floored); -1 when off. */
  readonly lastModifiedSeconds: number;
}

/** A weak entity-tag from the size and the modification time: W/"<size hex>-<mtime ms hex>". */
export function weakETag(size: number, mtimeMs: number): string {
  return `W/"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

function isWeak(tag: string): boolean {
  return tag.charCodeAt(0) === 0x57 /* W */;
}

function opaqueOf(tag: string): string {
  return isWeak(tag) ? tag.slice(2) : tag;
}

function isListSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x2c;
}

/**
 * Whether the If-Match / If-None-Match value `list` ("*" or #entity-tag) matches `etag`, with the
 * weak comparison (§8.8.3.2: opaque-tags equal) or the strong one (both tags strong and equal).
 */
export function matchesETagList(list: string, etag: string, isWeakComparison: boolean): boolean {
  const opaque = opaqueOf(etag);
  const isOursWeak = isWeak(etag);
  let i = 0;
  while (i < list.length) {
    const c = list.charCodeAt(i);
    if (isListSpace(c)) { i++; continue; }
    if (c === 0x2a /* * */) return true;
    let start = i;
    let isTagWeak = false;
    if (c === 0x57 /* W */ && list.charCodeAt(i + 1) === 0x2f /* / */) {
      isTagWeak = true;
      start = i + 2;
    }
    if (list.charCodeAt(start) !== 0x22 /* " */) {
      // not an entity-tag: skip to the next member
      const comma = list.indexOf(',', i);
      if (comma === -1) return false;
      i = comma + 1;
      continue;
    }
    const close = list.indexOf('"', start + 1);
    if (close === -1) return false;
    const candidate = list.slice(start, close + 1);
    if (candidate === opaque && (isWeakComparison || (!isTagWeak && !isOursWeak))) return true;
    i = close + 1;
  }
  return false;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * An HTTP-date's seconds since the epoch (RFC 9110 §5.6.7: IMF-fixdate, rfc850-date, both ending
 * in "GMT", or the 24-character asctime-date), or NaN when it is not one. Date.parse alone would
 * also take "1" or "2024" as dates.
 */
function parseHttpDateSeconds(value: string | string[] | undefined): number {
  if (typeof value !== 'string') return NaN; // absent, or more than one member (§13.1.3)
  const date = value.trim();
  if (date.endsWith(' GMT')) return Math.floor(Date.parse(date) / 1000);
  // asctime-date is GMT too, but says so nowhere: Date.parse would read it as local time.
  return date.length === 24 ? Math.floor(Date.parse(`${date} GMT`) / 1000) : NaN;
}

/**
 * Evaluate the preconditions of a GET or HEAD (RFC 9110 §13.2.2): If-Match (strong comparison;
 * weak tags never match) else If-Unmodified-Since → 412; then If-None-Match (weak comparison)
 * else If-Modified-Since → 304. If-None-Match wins over If-Modified-Since; invalid dates are ignored.
 */
export function evaluatePreconditions(headers: IncomingHttpHeaders, validators: Validators): PreconditionOutcome {
  const { etag, lastModifiedSeconds } = validators;
  const ifMatch = headerString(headers['if-match']);
  if (ifMatch !== undefined) {
    const isStar = ifMatch.trim() === '*';
    if (!isStar && (etag === undefined || !matchesETagList(ifMatch, etag, false))) return 412;
  } else if (lastModifiedSeconds >= 0) {
    const since = parseHttpDateSeconds(headers['if-unmodified-since']);
    if (!Number.isNaN(since) && lastModifiedSeconds > since) return 412;
  }
  const ifNoneMatch = headerString(headers['if-none-match']);
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*' || (etag !== undefined && matchesETagList(ifNoneMatch, etag, true))) return 304;
    return 200;
  }
  if (lastModifiedSeconds >= 0) {
    const since = parseHttpDateSeconds(headers['if-modified-since']);
    if (!Number.isNaN(since) && lastModifiedSeconds <= since) return 304;
  }
  return 200;
}

/**
 * Whether a Range may be honoured under If-Range (RFC 9110 §13.1.5): true without If-Range; with
 * an entity-tag, only on a strong match (so never for Keel's weak ETags); with a date, only when it
 * equals Last-Modified exactly. Otherwise the whole representation is sent (200).
 */
export function isRangeFresh(ifRange: string | string[] | undefined, validators: Validators): boolean {
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  const value = ifRange.trim();
  const c = value.charCodeAt(0);
  if (c === 0x22 /* " */ || (c === 0x57 /* W */ && value.charCodeAt(1) === 0x2f)) {
    const etag = validators.etag;
    return etag !== undefined && !isWeak(etag) && !isWeak(value) && value === etag;
  }
  const date = parseHttpDateSeconds(value);
  return validators.lastModifiedSeconds >= 0 && date === validators.lastModifiedSeconds;
}
