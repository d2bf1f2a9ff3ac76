// IP addresses for the PROXY protocol, sans-I/O: strict parsing of the textual forms a v1 header
// carries (dotted-quad IPv4, RFC 4291 §2.2 IPv6) and formatting of the binary forms a v2 header
// carries, both into the canonical text Node gives `socket.remoteAddress` (libuv's inet_ntop:
// RFC 5952 compression, embedded IPv4 for ::ffff:a.b.c.d), so equal addresses compare equal.

/**
 * Parse a dotted-quad IPv4 address ("192.0.2.1": four decimal octets 0..255, no leading zeros, as
 * inet_pton). Returns its canonical text (the input itself) or null when it is not one.
 */
export function parseIPv4(text: string): string | null {
  return ipv4Bytes(text) === null ? null : text;
}

/**
 * Parse an IPv6 address in any RFC 4291 §2.2 text form (hex groups, one "::", an optional trailing
 * dotted quad; no zone id). Returns the canonical text (see formatIPv6) or null when it is not one.
 */
export function parseIPv6(text: string): string | null {
  const words = ipv6Words(text);
  return words === null ? null : formatIPv6(words);
}

/** Text of the 4-byte IPv4 address at `buf[offset]`. */
export function formatIPv4(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Text of the 16-byte IPv6 address at `buf[offset]` (see formatIPv6). */
export function formatIPv6Bytes(buf: Uint8Array, offset: number): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (buf[offset + 2 * i] << 8) | buf[offset + 2 * i + 1];
  return formatIPv6(words);
}

/**
 * Canonical IPv6 text, exactly as libuv's inet_ntop6 (what Node reports): lower-case hex without
 * leading zeros; the longest run of two or more zero groups (the first on a tie) as "::"; the
 * last 32 bits as a dotted quad for ::a.b.c.d and ::ffff:a.b.c.d.
 */
export function formatIPv6(words: readonly number[]): string {
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return `${out}${words[6] >> 8}.${words[6] & 0xff}.${words[7] >> 8}.${words[7] & 0xff}`;
    }
    out += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

function ipv4Bytes(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const part of parts) {
    const n = decimal(part, 3);
    if (n === -1 || n > 255) return null;
    out.push(n);
  }
  return out;
}

/** A decimal without sign or leading zeros, at most `maxDigits` digits; -1 when it is not one. */
export function decimal(text: string, maxDigits: number): number {
  const len = text.length;
  if (len === 0 || len > maxDigits || (len > 1 && text.charCodeAt(0) === 0x30)) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function hexGroup(text: string): number {
  const len = text.length;
  if (len === 0 || len > 4) return -1;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d === -1) return -1;
    n = n * 16 + d;
  }
  return n;
}

/** The 8 groups of an IPv6 address, or null. */
function ipv6Words(text: string): number[] | null {
  if (text.length < 2 || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const words: number[] = [];
  const rest: number[] = [];
  const groups = [head, tail];
  for (let g = 0; g < 2; g++) {
    const list = groups[g];
    const into = g === 0 ? words : rest;
    for (let i = 0; i < list.length; i++) {
      const part = list[i];
      const last = i === list.length - 1 && (g === 1 || halves.length === 1);
      if (last && part.includes('.')) {
        const v4 = ipv4Bytes(part);
        if (v4 === null) return null;
        into.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      const n = hexGroup(part);
      if (n === -1) return null;
      into.push(n);
    }
  }
  const count = words.length + rest.length;
  if (halves.length === 1) return count === 8 ? words : null;
  if (count > 7) return null;
  while (words.length + rest.length < 8) words.push(0);
  return words.concat(rest);
}
