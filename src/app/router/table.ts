// RouteTable: the routes of one router. A tree per method plus one for `all` routes; the
// trailing-slash and case policies applied once, at registration; HEAD answered by GET routes;
// params objects built from the matched offsets; and the methods a path allows (405, OPTIONS).

import { routerError } from './errors.js';
import { parsePattern, type Part } from './pattern.js';
import { decodeParam, foldCase, type RequestPath } from './request-path.js';
import { Tree } from './tree.js';
import type { Handler, Middleware, Params } from './types.js';

/** The params of a route without parameters: one shared, frozen, empty object. */
export const EMPTY_PARAMS: Params = Object.freeze({});

/** The method of `all` routes in Route.method and routes(). */
export const ANY_METHOD = '*';

/** A registered route. */
export class Route {
  /** The method, upper-case, or "*" for an `all` route. */
  readonly method: string;
  /** The path as registered. */
  readonly path: string;
  /** Parameter names in path order ("*" for the wildcard). */
  readonly names: readonly string[];
  /** Middleware then the handler (last). */
  readonly handlers: readonly (Middleware | Handler)[];
  /** @internal The params object from the matched path and its [start, end) offsets. */
  readonly makeParams: ParamsFactory;

  constructor(method: string, path: string, names: string[], handlers: (Middleware | Handler)[]) {
    this.method = method;
    this.path = path;
    this.names = names;
    this.handlers = handlers;
    this.makeParams = paramsFactory(names);
  }
}

type ParamsFactory = (path: string, spans: readonly number[]) => Params;

/**
 * The params builder of a route, compiled once at registration: an object literal with the route's
 * names, so every params object of a route has one shape, built without keyed stores. The names
 * are "*" or letters, digits and "_" (pattern.ts), quoted with JSON.stringify. Where code
 * generation is disabled (--disallow-code-generation-from-strings), a loop builds the same object.
 */
function paramsFactory(names: readonly string[]): ParamsFactory {
  if (names.length === 0) return () => EMPTY_PARAMS;
  const fields = names.map((name, k) => `${JSON.stringify(name)}: path.slice(spans[${2 * k}], spans[${2 * k + 1}])`);
  try {
    return new Function('path', 'spans', `return { ${fields.join(', ')} };`) as ParamsFactory;
  } catch {
    return (path, spans) => {
      const params: Params = {};
      for (let k = 0; k < names.length; k++) params[names[k]] = path.slice(spans[2 * k], spans[2 * k + 1]);
      return params;
    };
  }
}

export class RouteTable {
  readonly #caseSensitive: boolean;
  readonly #ignoreTrailingSlash: boolean;
  readonly #trees = new Map<string, Tree<Route>>();
  #get: Tree<Route> | null = null;
  #all: Tree<Route> | null = null;
  /** Parameter offsets of the last match: [start0, end0, start1, end1, ...]. */
  readonly #spans: number[] = [];
  readonly #routes: Route[] = [];

  constructor(caseSensitive: boolean, ignoreTrailingSlash: boolean) {
    this.#caseSensitive = caseSensitive;
    this.#ignoreTrailingSlash = ignoreTrailingSlash;
  }

  /**
   * Register `handlers` at `path` for each of `methods` (upper-case; ANY_METHOD for `all`), all or
   * none: throws ERR_ROUTE_INVALID_PATH, or ERR_ROUTE_DUPLICATE when a method already has a route
   * of the same shape (same static text, parameters at the same places with the same constraints,
   * whatever their names), the trailing-slash policy applied, or appears twice in `methods`.
   */
  add(methods: readonly string[], path: string, handlers: (Middleware | Handler)[]): void {
    const parts = parsePattern(path).map((part) => (part.kind === 'static' && !this.#caseSensitive ? { kind: 'static' as const, text: foldCase(part.text) } : part));
    const names = parts.flatMap((part) => (part.kind === 'param' ? [part.name] : part.kind === 'wildcard' ? ['*'] : []));
    const variant = this.#ignoreTrailingSlash ? trailingSlashVariant(parts) : null;
    const shapes = variant === null ? [parts] : [parts, variant];
    methods.forEach((method, k) => {
      const tree = method === ANY_METHOD ? this.#all : this.#trees.get(method);
      if (methods.indexOf(method) !== k || (tree != null && shapes.some((shape) => tree.get(shape) !== null))) {
        throw routerError('ERR_ROUTE_DUPLICATE', method === ANY_METHOD ? 'ALL' : method, path);
      }
    });
    for (const method of methods) {
      const route = new Route(method, path, names, handlers);
      const tree = this.#tree(method);
      for (const shape of shapes) tree.set(shape, route);
      this.#routes.push(route);
    }
  }

  /** The tree of `method`, created on first use. */
  #tree(method: string): Tree<Route> {
    let tree = method === ANY_METHOD ? this.#all : this.#trees.get(method);
    if (tree == null) {
      tree = new Tree<Route>();
      if (method === ANY_METHOD) this.#all = tree;
      else this.#trees.set(method, tree);
      if (method === 'GET') this.#get = tree;
    }
    return tree;
  }

  /**
   * The route for `method` at `target`: the method's own routes first, then (for HEAD) the GET
   * routes, then the `all` routes; null when none matches. Leaves the offsets for params().
   */
  find(method: string, target: RequestPath): Route | null {
    const tree = method === 'GET' ? this.#get : this.#trees.get(method);
    const path = target.path;
    if (tree != null) {
      const route = tree.match(path, target.original, this.#spans);
      if (route !== null) return route;
    }
    if (method === 'HEAD' && this.#get !== null) {
      const route = this.#get.match(path, target.original, this.#spans);
      if (route !== null) return route;
    }
    return this.#all === null ? null : this.#all.match(path, target.original, this.#spans);
  }

  /** The params of `route` as find() just matched it at `target`, percent-decoded. */
  params(route: Route, target: RequestPath): Params {
    const params = route.makeParams(target.original, this.#spans);
    if (target.encoded && params !== EMPTY_PARAMS) {
      for (const name of route.names) params[name] = decodeParam(params[name]);
    }
    return params;
  }

  /**
   * The methods with a route matching `target`, sorted, with HEAD when GET has one and OPTIONS
   * when any has (the router answers both itself); empty when none matches.
   */
  allowed(target: RequestPath): string[] {
    const methods: string[] = [];
    for (const [method, tree] of this.#trees) {
      if (tree.match(target.path, target.original, this.#spans) !== null) methods.push(method);
    }
    return withImplicit(methods);
  }

  /** Every method with a route, sorted, HEAD and OPTIONS included (for "OPTIONS *"). */
  methods(): string[] {
    return withImplicit([...this.#trees.keys()]);
  }

  /** The routes in registration order. */
  get routes(): readonly Route[] {
    return this.#routes;
  }
}

function withImplicit(methods: string[]): string[] {
  if (methods.length === 0) return methods;
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
  if (!methods.includes('OPTIONS')) methods.push('OPTIONS');
  return methods.sort();
}

/** `parts` with its trailing "/" removed or added; null for "/" and wildcard tails. */
function trailingSlashVariant(parts: Part[]): Part[] | null {
  const last = parts[parts.length - 1];
  if (last.kind === 'wildcard') return null;
  const head = parts.slice(0, -1);
  if (last.kind === 'param') return [...parts, { kind: 'static', text: '/' }];
  if (!last.text.endsWith('/')) return [...head, { kind: 'static', text: `${last.text}/` }];
  if (parts.length === 1 && last.text === '/') return null;
  const text = last.text.slice(0, -1);
  return text === '' ? head : [...head, { kind: 'static', text }];
}
