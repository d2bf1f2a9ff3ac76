// The route tree of one method: a radix tree over static text with parameter and wildcard edges,
// built at registration. Fully static paths also sit in a Map, which answers them with one hash
// lookup. A match prefers, at every branch, static text over a parameter over the wildcard, and
// backtracks when the preferred branch fails further down.

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

/** Where a pattern ends in the tree: read or set its value with get() / set(). */
export class Slot<T> {
  readonly #node: Node<T>;
  readonly #wildcard: boolean;
  readonly #statics: Map<string, T> | null;
  readonly #key: string;

  constructor(node: Node<T>, wildcard: boolean, statics: Map<string, T> | null, key: string) {
    this.#node = node;
    this.#wildcard = wildcard;
    this.#statics = statics;
    this.#key = key;
  }

  get(): T | null {
    return this.#wildcard ? this.#node.wildcard : this.#node.value;
  }

  set(value: T): void {
    if (this.#wildcard) this.#node.wildcard = value;
    else this.#node.value = value;
    this.#statics?.set(this.#key, value);
  }
}

export class Tree<T> {
  readonly #root = new Node<T>('');
  readonly #statics = new Map<string, T>();

  /** The slot of `parts` (static texts already case-folded), creating the nodes on the way. */
  slot(parts: readonly Part[]): Slot<T> {
    let node = this.#root;
    let staticKey: string | null = '';
    for (const part of parts) {
      if (part.kind === 'static') {
        node = insertStatic(node, part.text);
        if (staticKey !== null) staticKey += part.text;
      } else if (part.kind === 'param') {
        staticKey = null;
        let edge = node.params.find((e) => e.source === part.source);
        if (edge === undefined) {
          edge = new ParamEdge<T>(part.source, part.constraint);
          // Constrained edges are tried in registration order, before the unconstrained one.
          const last = node.params.length - 1;
          if (part.constraint !== null && last >= 0 && node.params[last].constraint === null) node.params.splice(last, 0, edge);
          else node.params.push(edge);
        }
        node = edge.next;
      } else {
        return new Slot(node, true, null, '');
      }
    }
    return new Slot(node, false, staticKey === null ? null : this.#statics, staticKey ?? '');
  }

  /**
   * The value matching `path` (case-folded like the static texts), or null. The parameter values'
   * [start, end) offsets, in pattern order, are written to `spans`; constraints are tested on the
   * values sliced from `original` (same offsets as `path`, the request's case).
   */
  match(path: string, original: string, spans: number[]): T | null {
    const value = this.#statics.get(path);
    if (value !== undefined) return value;
    return walk(this.#root, path, original, 0, 0, spans);
  }

  /** True when nothing is registered. */
  get isEmpty(): boolean {
    const root = this.#root;
    return root.value === null && root.wildcard === null && root.codes.length === 0 && root.params.length === 0;
  }
}

function walk<T>(node: Node<T>, path: string, original: string, i: number, n: number, spans: number[]): T | null {
  const length = path.length;
  if (i === length) {
    if (node.value !== null) return node.value;
    if (node.wildcard !== null) {
      spans[2 * n] = spans[2 * n + 1] = i;
      return node.wildcard;
    }
    return null;
  }
  const codes = node.codes;
  if (codes.length !== 0) {
    const c = path.charCodeAt(i);
    for (let k = 0; k < codes.length; k++) {
      if (codes[k] !== c) continue;
      const child = node.children[k];
      const prefix = child.prefix;
      if (prefix.length === 1 || path.startsWith(prefix, i)) {
        const found = walk(child, path, original, i + prefix.length, n, spans);
        if (found !== null) return found;
      }
      break;
    }
  }
  const params = node.params;
  if (params.length !== 0) {
    let end = path.indexOf('/', i);
    if (end === -1) end = length;
    if (end !== i) {
      for (let k = 0; k < params.length; k++) {
        const edge = params[k];
        if (edge.constraint !== null && !edge.constraint.test(decodeParam(original.slice(i, end)))) continue;
        const found = walk(edge.next, path, original, end, n + 1, spans);
        if (found !== null) {
          spans[2 * n] = i;
          spans[2 * n + 1] = end;
          return found;
        }
      }
    }
  }
  if (node.wildcard !== null) {
    spans[2 * n] = i;
    spans[2 * n + 1] = length;
    return node.wildcard;
  }
  return null;
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
