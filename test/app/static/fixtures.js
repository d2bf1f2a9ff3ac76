// Helpers for the keel/static and keel/compress tests (deliberately not named *.test.js).
//
// - makeTree(files): a fresh temporary directory holding `files` ({ 'a/b.txt': 'text' | Buffer }),
//   with `secret.txt` next to (outside) the root; returns { dir, root, secret, cleanup() }.
// - request(port, target, { method, headers, raw }): one request on a fresh connection (raw bytes,
//   so targets are sent exactly as written), the parsed response (see test/server/raw.js).
// - serving(handler, fn): withServer() for a request listener, closing it afterwards.
// - fdsOpenOn(path): how many of this process's file descriptors are open on `path` (Linux).
// - settled(measure): wait until a measurement stops changing (a stalled transfer), return it.

import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync, readlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exchange, withServer } from '../../server/raw.js';

/** The mtime given to every fixture file: Tue, 02 Jan 2024 03:04:05 GMT. */
export const FIXED_MTIME = new Date('2024-01-02T03:04:05Z');
export const FIXED_HTTP_DATE = 'Tue, 02 Jan 2024 03:04:05 GMT';
export const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';

export function makeTree(files = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keel-static-'));
  const root = join(dir, 'root');
  mkdirSync(root);
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, SECRET);
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    mkdirSync(dirname(path), { recursive: true });
    if (name.endsWith('/')) continue;
    writeFileSync(path, content);
    utimesSync(path, FIXED_MTIME, FIXED_MTIME);
  }
  return { dir, root, secret, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One request on a fresh connection; resolves with the parsed response. */
export async function request(port, target, { method = 'GET', headers = {}, timeout = 3000 } = {}) {
  let head = `${method} ${target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  const result = await exchange(port, `${head}\r\n`, { responses: 1, timeout, head: method === 'HEAD' ? [0] : [] });
  if (result.responses.length !== 1) throw new Error(`no complete response to ${method} ${target}; got ${JSON.stringify(result.text)}`);
  return result.responses[0];
}

/** Run `fn(port, h)` against a Keel server with `handler`, always closing it. */
export function serving(handler, fn) {
  return withServer(handler, {}, (h) => fn(h.port, h));
}

/** File descriptors of this process open on `path` (via /proc/self/fd). */
export function fdsOpenOn(path) {
  return fdsOf(path).length;
}

/** The descriptor numbers this process has open on `path` (Linux: /proc/self/fd). */
export function fdsOf(path) {
  const fds = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) fds.push(Number(fd));
    } catch {
      // closed while we looked
    }
  }
  return fds;
}

/**
 * Wait until `measure()` stops changing: the same value twice, `quietMs` apart (at most `maxMs`,
 * then it throws). Returns the settled value. For "the transfer stalled" checks under load.
 */
export async function settled(measure, quietMs = 200, maxMs = 8000) {
  const deadline = Date.now() + maxMs;
  let last = measure();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = measure();
    if (now === last) return now;
    if (Date.now() > deadline) throw new Error(`still changing after ${maxMs} ms (${last} → ${now})`);
    last = now;
  }
}
