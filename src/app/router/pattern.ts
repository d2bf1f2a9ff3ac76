// Route patterns: "/users/:id(\\d+)/files/*" parsed once, at registration, into the parts the
// route tree stores — static text (percent-decoded like request paths), named parameters with an
// optional regular-expression constraint, and a wildcard tail.

import { routerError } from './errors.js';
import { decodePath } from './request-path.js';

/** Static text, matched literally against the decoded request path. */
export interface StaticPart {
  readonly kind: 'static';
  readonly text: string;
}

/** A named parameter: a non-empty run of the path up to the next "/" (or its end). */
export interface ParamPart {
  readonly kind: 'param';
  readonly name: string;
  /** The constraint's source as written between the parentheses ('' when unconstrained). */
  readonly source: string;
  /** The compiled constraint, anchored at both ends; tested on the decoded value. */
  readonly constraint: RegExp | null;
}

/** The wildcard tail "*": the rest of the path, possibly empty; its value is params['*']. */
export interface WildcardPart {
  readonly kind: 'wildcard';
}

export type Part = StaticPart | ParamPart | WildcardPart;

const NAME_CHAR = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_') NAME_CHAR[c.charCodeAt(0)] = 1;

/**
 * Parse a route pattern. Syntax: it starts with "/"; `:name` is a parameter (name: letters, digits,
 * "_"), optionally constrained by `:name(regex)`, and runs to the end of its segment, so it must be
 * followed by "/" or the end; "::" is a literal ":"; `*` may only end the pattern. "?" and "#" are
 * not allowed (the query is not matched). Throws ERR_ROUTE_INVALID_PATH.
 */
export function parsePattern(pattern: string): Part[] {
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== 0x2f) {
    throw routerError('ERR_ROUTE_INVALID_PATH', String(pattern), 'a route path starts with "/"');
  }
  const parts: Part[] = [];
  const names = new Set<string>();
  let text = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '?' || c === '#') throw routerError('ERR_ROUTE_INVALID_PATH', pattern, `"${c}" is not allowed (queries are not matched)`);
    if (c === '*') {
      if (i !== pattern.length - 1) throw routerError('ERR_ROUTE_INVALID_PATH', pattern, '"*" may only end the path');
      if (text) parts.push(staticPart(pattern, text));
      parts.push({ kind: 'wildcard' });
      return parts;
    }
    if (c !== ':') {
      text += c;
      i++;
      continue;
    }
    if (pattern[i + 1] === ':') {
      text += ':';
      i += 2;
      continue;
    }
    let end = i + 1;
    while (end < pattern.length && NAME_CHAR[pattern.charCodeAt(end)] === 1) end++;
    const name = pattern.slice(i + 1, end);
    if (name === '') throw routerError('ERR_ROUTE_INVALID_PATH', pattern, 'a ":" starts a parameter name (write "::" for a literal ":")');
    if (name === '__proto__') throw routerError('ERR_ROUTE_INVALID_PATH', pattern, 'a parameter cannot be named "__proto__"');
    if (names.has(name)) throw routerError('ERR_ROUTE_INVALID_PATH', pattern, `parameter "${name}" appears twice`);
    names.add(name);
    let source = '';
    if (pattern[end] === '(') {
      const close = closingParen(pattern, end);
      source = pattern.slice(end + 1, close);
      end = close + 1;
    }
    if (end < pattern.length && pattern[end] !== '/') {
      throw routerError('ERR_ROUTE_INVALID_PATH', pattern, `parameter "${name}" must end its segment`);
    }
    if (text) parts.push(staticPart(pattern, text));
    text = '';
    parts.push({ kind: 'param', name, source, constraint: source ? compile(pattern, source) : null });
    i = end;
  }
  if (text) parts.push(staticPart(pattern, text));
  return parts;
}

function staticPart(pattern: string, text: string): StaticPart {
  try {
    return { kind: 'static', text: decodePath(text) };
  } catch {
    throw routerError('ERR_ROUTE_INVALID_PATH', pattern, 'malformed percent-encoding');
  }
}

/** Index of the ")" closing the "(" at `open`, counting nesting and skipping "\" escapes. */
function closingParen(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
    else if (c === '/') break;
  }
  throw routerError('ERR_ROUTE_INVALID_PATH', pattern, 'unbalanced "(" or a "/" inside a parameter constraint');
}

function compile(pattern: string, source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw routerError('ERR_ROUTE_INVALID_PATH', pattern, `bad constraint: ${(err as Error).message}`);
  }
}
