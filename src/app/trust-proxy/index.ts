// keel/trust-proxy: what the client really was, behind reverse proxies you trust — the client
// address from X-Forwarded-For (walked from the right, past trusted hops only), and the scheme
// and host from X-Forwarded-Proto / X-Forwarded-Host, honoured only when the immediate peer is
// trusted. Pure functions over a request (Keel's or node:http's); nothing is changed on it.
//   clientAddress(req, { trusted: ['127.0.0.1', '10.0.0.0/8', '::1'] })

import { entryAddress, trustOf, type TrustList } from './trust-list.js';

export { compileTrust, TRUST_PRESETS, type TrustList, type TrustPredicate } from './trust-list.js';

/** What the helpers read from a request: its headers and its socket's peer. */
export interface ForwardedRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly socket: { readonly remoteAddress?: string; readonly encrypted?: boolean } | null | undefined;
}

/** Options of every helper. */
export interface TrustProxyOptions {
  /**
   * The proxies whose forwarding fields are believed: addresses, CIDR ranges ('10.0.0.0/8',
   * 'fd00::/8'), presets ('loopback', 'linklocal', 'uniquelocal'), or a predicate. An array is
   * compiled once (cached per array object: pass a new array to change it). Required.
   */
  readonly trusted: TrustList;
}

/**
 * The client's address: starting from the socket's peer (`req.socket.remoteAddress`, already the
 * original client behind a PROXY protocol header), each trusted hop is replaced by the address
 * it forwarded for — the next X-Forwarded-For entry from the right — and the first untrusted one
 * is the answer. When every hop is trusted, the leftmost entry. Entries "[v6]:port" and
 * "a.b.c.d:port" give their address; an entry that is no address at all ("unknown") ends the walk
 * and is returned as written. Undefined when the socket has no peer address (destroyed).
 */
export function clientAddress(req: ForwardedRequest, options: TrustProxyOptions): string | undefined {
  let address = req.socket?.remoteAddress;
  if (address === undefined) return undefined;
  const trusted = trustOf(options.trusted);
  if (!trusted(address)) return address;
  const list = field(req, 'x-forwarded-for');
  if (list === undefined) return address;
  let end = list.length;
  for (let i = list.length - 1; i >= -1; i--) {
    if (i !== -1 && list.charCodeAt(i) !== 0x2c) continue;
    const entry = list.slice(i + 1, end).trim();
    end = i;
    if (entry === '') continue;
    const hop = entryAddress(entry);
    if (hop === null) return entry;
    address = hop;
    if (!trusted(hop)) return hop;
  }
  return address;
}

/**
 * The scheme the client used: when the immediate peer is trusted and sends X-Forwarded-Proto, its
 * value (the rightmost if a list: what the trusted peer itself set; lower-cased; ignored unless
 * it is a URI scheme, RFC 3986 §3.1); otherwise the connection's own, 'https' for a TLS socket
 * (`socket.encrypted`), else 'http'.
 */
export function forwardedProto(req: ForwardedRequest, options: TrustProxyOptions): string {
  const own = req.socket?.encrypted === true ? 'https' : 'http';
  const value = fromTrustedPeer(req, options, 'x-forwarded-proto');
  if (value === undefined) return own;
  const proto = value.toLowerCase();
  return isScheme(proto) ? proto : own;
}

/**
 * The host (and port) the client asked for: when the immediate peer is trusted and sends
 * X-Forwarded-Host, its value (the rightmost if a list; ignored unless made of host-and-port
 * characters, RFC 3986 §3.2.2); otherwise the Host field. Undefined when there is neither.
 */
export function forwardedHost(req: ForwardedRequest, options: TrustProxyOptions): string | undefined {
  const value = fromTrustedPeer(req, options, 'x-forwarded-host');
  if (value !== undefined && isHostPort(value)) return value;
  return field(req, 'host');
}

/** One field's value; repeated lines (an array) joined with ",". */
function field(req: ForwardedRequest, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/** The rightmost non-empty element of a list field, if the immediate peer is trusted. */
function fromTrustedPeer(req: ForwardedRequest, options: TrustProxyOptions, name: string): string | undefined {
  const peer = req.socket?.remoteAddress;
  if (peer === undefined || !trustOf(options.trusted)(peer)) return undefined;
  const list = field(req, name);
  if (list === undefined) return undefined;
  let end = list.length;
  for (let i = list.length - 1; i >= -1; i--) {
    if (i !== -1 && list.charCodeAt(i) !== 0x2c) continue;
    const entry = list.slice(i + 1, end).trim();
    if (entry !== '') return entry;
    end = i;
  }
  return undefined;
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), lower-case here. */
function isScheme(text: string): boolean {
  if (text.length === 0 || text.length > 32) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alpha = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !alpha : !(alpha || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return false;
  }
  return true;
}

/** reg-name / IP-literal characters and an optional port: unreserved, sub-delims but ",", ":", "[", "]", "%". */
function isHostPort(text: string): boolean {
  if (text.length > 255) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "-._~!$&'()*+;=:[]%".includes(text[i]);
    if (!ok) return false;
  }
  return true;
}
