// The header fields a proxy rewrites: hop-by-hop fields removed in both directions (RFC 9110
// §7.6.1), X-Forwarded-* and Forwarded (RFC 7239) added to requests, Via appended both ways
// (RFC 9110 §7.6.3), and Host preserved or replaced. Lists are flat [name, value, ...] arrays,
// in the order received.

import type { IncomingMessage } from '../../keel.js';
import type { ProxyContext } from './options.js';
import type { Upstream } from './upstreams.js';

/**
 * Fields that apply to one connection only and are never forwarded: RFC 9110 §7.6.1's list
 * (Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade), plus
 * Proxy-Authenticate and Proxy-Authorization, which a gateway consumes (§11.7.1, §11.7.2: they
 * concern the next hop, i.e. this proxy). Every field named in Connection goes too.
 */
const HOP_BY_HOP = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'proxy-authorization',
]);

/** Lower-cased names listed in the Connection fields of `raw` (its connection options). */
function connectionOptions(raw: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length !== 10 || raw[i].toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1].split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') names.add(name);
    }
  }
  return names;
}

/** A predicate for the fields of `raw` that must not be forwarded; `keepUpgrade` for a protocol switch. */
function hopByHop(raw: readonly string[], keepUpgrade: boolean): (lower: string) => boolean {
  const named = connectionOptions(raw);
  return (lower) => {
    if (keepUpgrade && lower === 'upgrade') return false;
    return HOP_BY_HOP.has(lower) || named.has(lower);
  };
}

/** RFC 7239 §4: a value is a token or a quoted-string. */
function token7239(value: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** RFC 7239 §6: node = IPv4 / "[" IPv6 "]" (quoted) / "unknown". */
function forwardedNode(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  return address.includes(':') ? `"[${address}]"` : address;
}

/** The Via entry for a message received over `httpVersion` (RFC 9110 §7.6.3: "1.1 keel"). */
function viaEntry(httpVersion: string, via: string): string {
  return `${httpVersion} ${via}`;
}

/** Append `value` to the (comma-separated) list held by `existing`. */
function appendList(existing: string | undefined, value: string): string {
  return existing === undefined || existing === '' ? value : `${existing}, ${value}`;
}

/** Options of requestFields(). */
export interface RequestFieldOptions {
  /** Keep Upgrade and send `Connection: Upgrade` (a protocol switch). */
  upgrade: boolean;
  /** A replacement body of this many bytes (a parsed body sent again): Content-Length set, Content-Encoding dropped. */
  bodyLength: number | null;
  /** Content-Type for a replacement body when the request had none. */
  contentType: string | null;
}

/**
 * The field lines sent upstream for `req`: hop-by-hop fields removed; Host kept (or the upstream's
 * with changeOrigin); X-Forwarded-For appended with the client's address, X-Forwarded-Proto and
 * X-Forwarded-Host set to what this hop saw (incoming values replaced: a client cannot forge
 * them); a Forwarded element appended; Via appended. Repeated list fields are joined into one line.
 */
export function requestFields(ctx: ProxyContext, req: IncomingMessage, upstream: Upstream, options: RequestFieldOptions): string[] {
  const raw = req.rawHeaders;
  const drop = hopByHop(raw, options.upgrade);
  const out: string[] = [];
  let xff: string | undefined;
  let forwarded: string | undefined;
  let via: string | undefined;
  let host: string | undefined;
  let hasContentType = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    const lower = name.toLowerCase();
    if (drop(lower)) continue;
    switch (lower) {
      case 'host':
        if (host !== undefined) continue; // (the parser allows one)
        host = value;
        out.push(name, ctx.changeOrigin ? upstream.url.host : value);
        continue;
      case 'x-forwarded-for':
        if (!ctx.xForwarded) break;
        xff = appendList(xff, value);
        continue;
      case 'x-forwarded-proto':
      case 'x-forwarded-host':
        if (ctx.xForwarded) continue;
        break;
      case 'forwarded':
        if (!ctx.forwarded) break;
        forwarded = appendList(forwarded, value);
        continue;
      case 'via':
        if (ctx.via === null) break;
        via = appendList(via, value);
        continue;
      case 'content-length':
      case 'content-encoding':
        if (options.bodyLength !== null) continue;
        break;
      case 'content-type':
        hasContentType = true;
        break;
    }
    out.push(name, value);
  }
  if (host === undefined && ctx.changeOrigin) out.unshift('Host', upstream.url.host);
  const proto = (req.socket as { encrypted?: boolean } | null)?.encrypted === true ? 'https' : 'http';
  const address = req.socket?.remoteAddress;
  if (ctx.xForwarded) {
    out.push('X-Forwarded-For', appendList(xff, address ?? 'unknown'));
    out.push('X-Forwarded-Proto', proto);
    if (host !== undefined) out.push('X-Forwarded-Host', host);
  }
  if (ctx.forwarded) {
    let element = `for=${forwardedNode(address)}`;
    if (host !== undefined) element += `;host=${token7239(host)}`;
    element += `;proto=${proto}`;
    out.push('Forwarded', appendList(forwarded, element));
  }
  if (ctx.via !== null) out.push('Via', appendList(via, viaEntry(req.httpVersion, ctx.via)));
  if (options.bodyLength !== null) {
    out.push('Content-Length', String(options.bodyLength));
    if (!hasContentType && options.contentType !== null) out.push('Content-Type', options.contentType);
  }
  if (options.upgrade) out.push('Connection', 'Upgrade');
  return out;
}

/**
 * The field lines sent downstream for an upstream response (`raw`, received over `httpVersion`):
 * hop-by-hop fields removed (Upgrade kept for a 101), Via appended.
 */
export function responseFields(ctx: ProxyContext, raw: readonly string[], httpVersion: string, upgrade: boolean): string[] {
  const drop = hopByHop(raw, upgrade);
  const out: string[] = [];
  let via: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (drop(lower)) continue;
    if (lower === 'via' && ctx.via !== null) {
      via = appendList(via, raw[i + 1]);
      continue;
    }
    out.push(raw[i], raw[i + 1]);
  }
  if (ctx.via !== null) out.push('Via', appendList(via, viaEntry(httpVersion, ctx.via)));
  if (upgrade) out.push('Connection', 'Upgrade');
  return out;
}
