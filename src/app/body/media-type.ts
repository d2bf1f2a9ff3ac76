// Media types (RFC 9110 §8.3.1): parse a Content-Type into a lower-cased `type/subtype` and its
// parameters, and match it against the `type` option of a parser (a string, a list, or a function).
// Matching ignores parameters and case; a missing Content-Type is application/octet-stream (§8.3).

import mime from 'mime-types';
import type { IncomingMessage } from '../../keel.js';

/** A parsed Content-Type: `essence` is 'type/subtype' lower-cased; parameter names lower-cased. */
export interface MediaType {
  essence: string;
  parameters: Record<string, string>;
}

/** What a parser accepts: media types ('application/json', 'text/*', '*\/*', 'application/*+json', or an extension such as 'json'), or a predicate. */
export type TypeOption = string | readonly string[] | ((req: IncomingMessage) => boolean);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parse a Content-Type value. Returns null when it is not `token/token *( ; name=value )`.
 * Quoted-string values are unescaped; a parameter without '=' makes the whole value invalid.
 */
export function parseMediaType(value: string): MediaType | null {
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0 || !TOKEN.test(essence.slice(0, slash)) || !TOKEN.test(essence.slice(slash + 1))) return null;
  const parameters: Record<string, string> = Object.create(null);
  let i = semi === -1 ? value.length : semi + 1;
  while (i < value.length) {
    while (i < value.length && (value[i] === ' ' || value[i] === '\t' || value[i] === ';')) i++;
    if (i >= value.length) break;
    const eq = value.indexOf('=', i);
    if (eq === -1) return null;
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) return null;
    i = eq + 1;
    let paramValue = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length && value[i] !== '"') {
        if (value[i] === '\\' && i + 1 < value.length) i++;
        paramValue += value[i++];
      }
      if (value[i] !== '"') return null;
      i++;
    } else {
      const end = value.indexOf(';', i);
      paramValue = value.slice(i, end === -1 ? value.length : end).trim();
      i = end === -1 ? value.length : end;
    }
    if (!(name in parameters)) parameters[name] = paramValue;
  }
  return { essence, parameters };
}

/** The request's media type; a missing Content-Type counts as application/octet-stream (RFC 9110 §8.3). */
export function requestMediaType(req: IncomingMessage): MediaType | null {
  const value = req.headers['content-type'];
  if (value === undefined) return { essence: 'application/octet-stream', parameters: Object.create(null) };
  return parseMediaType(value);
}

/** Normalize one entry of the `type` option: an extension ('json') becomes its media type. */
function normalizePattern(pattern: string): string {
  const lower = pattern.trim().toLowerCase();
  if (lower.includes('/')) return lower;
  const looked = mime.lookup(lower);
  if (looked === false) throw new TypeError(`Unknown media type or extension in the 'type' option: ${pattern}`);
  return looked;
}

function matchesPattern(essence: string, pattern: string): boolean {
  if (pattern === essence || pattern === '*/*') return true;
  const [type, subtype] = pattern.split('/') as [string, string];
  const slash = essence.indexOf('/');
  if (type !== '*' && type !== essence.slice(0, slash)) return false;
  if (subtype === '*') return true;
  // 'application/*+json' matches any subtype with the +json structured suffix (RFC 6838 §4.2.8).
  if (subtype.startsWith('*+')) return essence.endsWith(subtype.slice(1));
  return subtype === essence.slice(slash + 1);
}

/**
 * Compile the `type` option into a predicate over (request, media type). Throws a TypeError for an
 * unknown extension (at option time).
 */
export function typeMatcher(option: TypeOption): (req: IncomingMessage, mediaType: MediaType) => boolean {
  if (typeof option === 'function') return (req) => option(req) === true;
  const patterns = (typeof option === 'string' ? [option] : [...option]).map(normalizePattern);
  return (_req, mediaType) => patterns.some((pattern) => matchesPattern(mediaType.essence, pattern));
}
