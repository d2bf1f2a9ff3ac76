// The route tree of one method: a radix tree over static text with parameter and wildcard edges,
// built at registration. Fully static paths are also kept in buckets by length, which answer them
// with a few integer compares and one string compare (no hashing of the fresh request string). A
// match prefers, at every branch, static text over a parameter over the wildcard, and backtracks
// when the preferred branch fails further down.

import type { Part } from './pattern.js';
import { decodeParam } from './request-path.js';

/** A parameter edge: one constraint (or none) at one position, and the subtree after the value. */
class ParamEdge<T> {
  readonly source: string;
  readonly constraint: RegExp | null;
  readonly next: Node<T> = new Node<T>('');

  constructor(source: string, constraint: RegExp | null) {
    this.source = source;
    this.constraint = constraint;
  }
}

/** A radix node: `prefix` is the static text consumed on entering it. One shape for all nodes. */
class Node<T> {
  prefix: string;
  /** First char codes of the static children, parallel to `children` (a scan beats a hash here). */
  codes: number[] = [];
  children: Node<T>[] = [];
  /** Constrained edges first (registration order), the unconstrained one last. */
  params: ParamEdge<T>[] = [];
  /** The value of a path ending here, and of a wildcard starting here. */
  value: T | null = null;
  wildcard: T | null = null;

  constructor(prefix: string) {
    this.prefix = prefix;
  }
}

/** The fully static paths of one length: the key, its last char code (a cheap pre-check), value. */
class StaticBucket<T> {
  keys: string[] = [];
  lasts: number[] = [];
  values: T[] = [];
}

/** walk() alternatives at a node: its static child, then param edge `alt - 1`, then the wildcard. */
const STATIC = 0;
const FIRST_PARAM = 1;

export class Tree<T> {
  readonly #root = new Node<T>('');
  readonly #statics: (StaticBucket<T> | undefined)[] = [];
  /**
   * walk()'s backtracking stack, kept between matches (matching is synchronous, never re-entered):
   * per entry the node, and [path index, params so far, next alternative] in `#stackNumbers`.
   */
  readonly #stackNodes: Node<T>[] = [];
  readonly #stackNumbers: number[] = [];

  /** The value registered for `parts` (static texts already case-folded), or null. */
  get(parts: readonly Part[]): T | null {
    const end = this.#locate(parts, false);
    if (end === null) return null;
    return end.wildcard ? end.node.wildcard : end.node.value;
  }

  /** Register `value` for `parts`, replacing any value there. */
  set(parts: readonly Part[], value: T): void {
    const end = this.#locate(parts, true) as { node: Node<T>; wildcard: boolean };
    if (end.wildcard) {
      end.node.wildcard = value;
      return;
    }
    end.node.value = value;
    if (parts.every((part) => part.kind === 'static')) {
      const key = parts.map((part) => (part.kind === 'static' ? part.text : '')).join('');
      const bucket = (this.#statics[key.length] ??= new StaticBucket<T>());
      const k = bucket.keys.indexOf(key);
      if (k !== -1) {
        bucket.values[k] = value;
      } else {
        bucket.keys.push(key);
        bucket.lasts.push(key.charCodeAt(key.length - 1));
        bucket.values.push(value);
      }
    }
  }

  /**
   * The value matching `path` (case-folded like the static texts), or null. The parameter values'
   * [start, end) offsets, in pattern order, are written to `spans`; constraints are tested on the
   * values sliced from `original` (the same offsets as `path`, in the request's case).
   */
  match(path: string, original: string, spans: number[]): T | null {
    const bucket = this.#statics[path.length];
    if (bucket !== undefined) {
      const keys = bucket.keys;
      const lasts = bucket.lasts;
      const last = path.charCodeAt(path.length - 1);
      for (let k = 0; k < keys.length; k++) {
        if (lasts[k] === last && keys[k] === path) return bucket.values[k];
      }
    }
    return walk(this.#root, path, original, spans, this.#stackNodes, this.#stackNumbers);
  }

  /** The node where `parts` ends (creating the way when `create`), and whether it is a wildcard. */
  #locate(parts: readonly Part[], create: boolean): { node: Node<T>; wildcard: boolean } | null {
    let node = this.#root;
    for (const part of parts) {
      if (part.kind === 'wildcard') return { node, wildcard: true };
      if (part.kind === 'static') {
        const next = create ? insertStatic(node, part.text) : findStatic(node, part.text);
        if (next === null) return null;
        node = next;
        continue;
      }
      let edge = node.params.find((e) => e.source === part.source);
      if (edge === undefined) {
        if (!create) return null;
        edge = new ParamEdge<T>(part.source, part.constraint);
        // Constrained edges are tried in registration order, before the unconstrained one.
        const last = node.params.length - 1;
        if (part.constraint !== null && last >= 0 && node.params[last].constraint === null) node.params.splice(last, 0, edge);
        else node.params.push(edge);
      }
      node = edge.next;
    }
    return { node, wildcard: false };
  }
}

/** Depth-first match with an explicit stack; see Tree.match(). */
function walk<T>(root: Node<T>, path: string, original: string, spans: number[], stackNodes: Node<T>[], stackNumbers: number[]): T | null {
  const length = path.length;
  let sp = 0;
  let node = root;
  let i = 0;
  let n = 0;
  let alt = STATIC;
  for (;;) {
    if (alt === STATIC) {
      if (i === length) {
        if (node.value !== null) return node.value;
        if (node.wildcard !== null) {
          spans[2 * n] = spans[2 * n + 1] = i;
          return node.wildcard;
        }
      } else {
        const child = staticChild(node, path, i);
        if (child !== null) {
          if (node.params.length !== 0 || node.wildcard !== null) {
            stackNodes[sp] = node;
            stackNumbers[3 * sp] = i;
            stackNumbers[3 * sp + 1] = n;
            stackNumbers[3 * sp + 2] = FIRST_PARAM;
            sp++;
          }
          i += child.prefix.length;
          node = child;
          continue;
        }
        alt = FIRST_PARAM;
      }
    }
    if (alt !== STATIC && i < length) {
      const params = node.params;
      let edge: ParamEdge<T> | null = null;
      let end = length;
      if (alt - FIRST_PARAM < params.length) {
        end = path.indexOf('/', i);
        if (end === -1) end = length;
        if (end !== i) {
          for (let k = alt - FIRST_PARAM; k < params.length; k++) {
            const candidate = params[k];
            if (candidate.constraint !== null && !candidate.constraint.test(decodeParam(original.slice(i, end)))) continue;
            if (k + 1 < params.length || node.wildcard !== null) {
              stackNodes[sp] = node;
              stackNumbers[3 * sp] = i;
              stackNumbers[3 * sp + 1] = n;
              stackNumbers[3 * sp + 2] = k + 1 + FIRST_PARAM;
              sp++;
            }
            edge = candidate;
            break;
          }
        }
      }
      if (edge !== null) {
        spans[2 * n] = i;
        spans[2 * n + 1] = end;
        n++;
        i = end;
        node = edge.next;
        alt = STATIC;
        continue;
      }
      if (node.wildcard !== null) {
        spans[2 * n] = i;
        spans[2 * n + 1] = length;
        return node.wildcard;
      }
    }
    if (sp === 0) return null;
    sp--;
    node = stackNodes[sp];
    i = stackNumbers[3 * sp];
    n = stackNumbers[3 * sp + 1];
    alt = stackNumbers[3 * sp + 2];
  }
}

/** The static child of `node` whose prefix `path` continues with at `i`, or null. */
function staticChild<T>(node: Node<T>, path: string, i: number): Node<T> | null {
  const codes = node.codes;
  if (codes.length === 0) return null;
  const c = path.charCodeAt(i);
  for (let k = 0; k < codes.length; k++) {
    if (codes[k] !== c) continue;
    const child = node.children[k];
    const prefix = child.prefix;
    const length = prefix.length;
    if (i + length > path.length) return null;
    let j = 1;
    while (j < length && path.charCodeAt(i + j) === prefix.charCodeAt(j)) j++;
    return j === length ? child : null;
  }
  return null;
}

/** The node at the end of static `text` below `node`, or null. */
function findStatic<T>(node: Node<T>, text: string): Node<T> | null {
  while (text !== '') {
    const k = node.codes.indexOf(text.charCodeAt(0));
    if (k === -1) return null;
    const child = node.children[k];
    if (!text.startsWith(child.prefix)) return null;
    node = child;
    text = text.slice(child.prefix.length);
  }
  return node;
}

/** The node at the end of static `text` below `node`, splitting an edge where the texts diverge. */
function insertStatic<T>(node: Node<T>, text: string): Node<T> {
  while (text !== '') {
    const k = node.codes.indexOf(text.charCodeAt(0));
    if (k === -1) {
      const child = new Node<T>(text);
      node.codes.push(text.charCodeAt(0));
      node.children.push(child);
      return child;
    }
    let child = node.children[k];
    const prefix = child.prefix;
    let common = 1;
    while (common < prefix.length && common < text.length && prefix.charCodeAt(common) === text.charCodeAt(common)) common++;
    if (common < prefix.length) {
      // Split: a new node holds the shared head; the old child keeps its subtree under the tail.
      const head = new Node<T>(prefix.slice(0, common));
      child.prefix = prefix.slice(common);
      head.codes.push(child.prefix.charCodeAt(0));
      head.children.push(child);
      node.children[k] = head;
      child = head;
    }
    node = child;
    text = text.slice(common);
  }
  return node;
}
