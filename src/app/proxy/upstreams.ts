// UpstreamSet: the upstreams of one proxy, chosen round-robin with passive health checks. An
// upstream that failed to connect or timed out is marked down for a cooldown and skipped; when
// every upstream is down, the next one in turn is tried anyway (a mark is only a guess).

/** One upstream origin and its health. */
export interface Upstream {
  /** The upstream's URL as configured (its path, if any, prefixes every request path). */
  readonly url: URL;
  /** "http://host:port" — used in errors and logs. */
  readonly origin: string;
  /** Until when (ms since the epoch) the upstream is skipped; 0 = healthy. */
  downUntil: number;
}

export class UpstreamSet {
  readonly #list: Upstream[];
  readonly #cooldownMs: number;
  #next = 0;

  /** `urls`: parsed http: / https: URLs (at least one); `cooldownMs`: time a failed upstream is skipped. */
  constructor(urls: readonly URL[], cooldownMs: number) {
    this.#list = urls.map((url) => ({ url, origin: url.origin, downUntil: 0 }));
    this.#cooldownMs = cooldownMs;
  }

  /** Every upstream, in configuration order. */
  get all(): readonly Upstream[] {
    return this.#list;
  }

  /**
   * The next healthy upstream in turn that is not in `tried`. On a first attempt (`tried` empty)
   * with every upstream down, the next one in turn; on a retry, null when none is left.
   */
  pick(tried: ReadonlySet<Upstream>, now = Date.now()): Upstream | null {
    const list = this.#list;
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const index = (this.#next + i) % n;
      const upstream = list[index];
      if (tried.has(upstream)) continue;
      if (upstream.downUntil !== 0 && now >= upstream.downUntil) upstream.downUntil = 0;
      if (upstream.downUntil !== 0) continue;
      this.#next = (index + 1) % n;
      return upstream;
    }
    if (tried.size > 0) return null;
    const upstream = list[this.#next];
    this.#next = (this.#next + 1) % n;
    return upstream;
  }

  /** The upstream failed to connect or timed out: skip it for the cooldown. */
  markDown(upstream: Upstream, now = Date.now()): void {
    if (this.#cooldownMs > 0) upstream.downUntil = now + this.#cooldownMs;
  }

  /** The upstream answered: it is healthy again. */
  markUp(upstream: Upstream): void {
    upstream.downUntil = 0;
  }
}
