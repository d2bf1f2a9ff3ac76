// keel/trust-proxy's address matching: a list of trusted proxies (IPs, CIDR ranges, presets) is
// compiled once (cached per array) into a predicate over node:net BlockLists, one per family.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, as a dual-stack socket reports IPv4 peers) match
// the IPv4 rules, and mapped rules are IPv4 rules; zone ids (fe80::1%eth0) are ignored.

import net from 'node:net';
import { keelError } from '../../keel.js';

/** Decides whether an address (IPv4 or IPv6 text) is a trusted proxy. */
export type TrustPredicate = (address: string) => boolean;

/**
 * Trusted proxies: IP addresses ('10.0.0.1', '::1'), CIDR ranges ('10.0.0.0/8', 'fd00::/8'), the
 * presets 'loopback', 'linklocal' and 'uniquelocal' — or a predicate of your own.
 */
export type TrustList = readonly string[] | TrustPredicate;

/** The presets (proxy-addr's names): RFC 1122 / RFC 4291 loopback, RFC 3927 / 4291 link-local, RFC 1918 / RFC 4193. */
export const TRUST_PRESETS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
});

const compiled = new WeakMap<readonly string[], TrustPredicate>();
const MAPPED = new net.BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/** The predicate for `list` (a list is compiled on first use and cached until it is collected). */
export function trustOf(list: TrustList): TrustPredicate {
  if (typeof list === 'function') return list;
  let predicate = compiled.get(list);
  if (predicate === undefined) {
    predicate = compileTrust(list);
    compiled.set(list, predicate);
  }
  return predicate;
}

/**
 * Compile a list of trusted addresses, CIDR ranges and presets into a predicate. Throws a
 * TypeError with code ERR_INVALID_ARG_VALUE for an entry that is none of them (a prefix must be
 * decimal, 0..32 for IPv4 and 0..128 for IPv6). Host bits in a range are ignored.
 */
export function compileTrust(list: readonly string[]): TrustPredicate {
  if (!Array.isArray(list)) throw keelError('ERR_INVALID_ARG_TYPE', 'options.trusted', 'an array of strings or a function', typeof list);
  const v4 = new net.BlockList();
  const v6 = new net.BlockList();
  const add = (entry: unknown): void => {
    if (typeof entry !== 'string') throw keelError('ERR_INVALID_ARG_VALUE', 'options.trusted', String(entry));
    const preset = TRUST_PRESETS[entry];
    if (preset !== undefined && Object.hasOwn(TRUST_PRESETS, entry)) {
      for (const range of preset) add(range);
      return;
    }
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = net.isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = slash === -1 ? max : prefixLength(entry.slice(slash + 1), max);
    if (family === 0 || address.includes('%') || prefix === -1) throw keelError('ERR_INVALID_ARG_VALUE', 'options.trusted', entry);
    if (family === 4) v4.addSubnet(address, prefix, 'ipv4');
    else if (prefix >= 96 && MAPPED.check(address, 'ipv6')) v4.addSubnet(mappedIPv4(address), prefix - 96, 'ipv4');
    else v6.addSubnet(address, prefix, 'ipv6');
  };
  for (const entry of list) add(entry);
  return (address: string): boolean => {
    const zone = address.indexOf('%');
    const bare = zone === -1 ? address : address.slice(0, zone);
    const family = net.isIP(bare);
    if (family === 4) return v4.check(bare, 'ipv4');
    if (family !== 6) return false;
    return MAPPED.check(bare, 'ipv6') ? v4.check(bare, 'ipv6') : v6.check(bare, 'ipv6');
  };
}

function prefixLength(text: string, max: number): number {
  if (text.length === 0 || text.length > 3 || (text.length > 1 && text[0] === '0')) return -1;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= max ? n : -1;
}

/** The IPv4 address inside a mapped IPv6 address (dotted or hex tail). */
function mappedIPv4(address: string): string {
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (tail.includes('.')) return tail;
  const lo = parseInt(tail, 16);
  const rest = address.slice(0, address.lastIndexOf(':'));
  const hi = parseInt(rest.slice(rest.lastIndexOf(':') + 1), 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The address in one X-Forwarded-For entry: an IP as is, "[v6]" or "[v6]:port" unbracketed,
 * "a.b.c.d:port" without the port; null when it is not an address ("unknown", a name, garbage).
 */
export function entryAddress(entry: string): string | null {
  if (net.isIP(entry) !== 0) return entry;
  if (entry.charCodeAt(0) === 0x5b) {
    const close = entry.indexOf(']');
    if (close === -1) return null;
    const inner = entry.slice(1, close);
    const after = entry.slice(close + 1);
    if (net.isIP(inner) !== 6 || (after !== '' && !isPort(after))) return null;
    return inner;
  }
  const colon = entry.indexOf(':');
  if (colon !== -1 && entry.indexOf(':', colon + 1) === -1) {
    const host = entry.slice(0, colon);
    if (net.isIP(host) === 4 && isPort(entry.slice(colon))) return host;
  }
  return null;
}

/** ":" 1*5DIGIT */
function isPort(text: string): boolean {
  if (text.length < 2 || text.length > 6 || text.charCodeAt(0) !== 0x3a) return false;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
