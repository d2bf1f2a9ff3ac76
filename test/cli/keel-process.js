// Runs the built `keel` command (node dist/cli/keel.js: tsc does not set the exec bit) for the CLI
// tests: one-shot runs that collect the exit status and output, long-running servers whose port is
// read from the startup banner, and a small HTTP helper over node:http (no connection reuse).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const KEEL = fileURLToPath(new URL('../../dist/cli/keel.js', import.meta.url));

/** Run keel to completion: resolves to { code, signal, stdout, stderr }. */
export function runKeel(args, { env = {}, timeoutMs = 10_000 } = {}) {
  const child = spawn(process.execPath, [KEEL, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Start keel and wait for its banner; resolves to { port, origin, child, stdout(), stderr(),
 * waitFor(regex, stream, ms), exited, stop() }. `exited` resolves to { code, signal }.
 */
export function startKeel(args, { env = {}, startMs = 10_000 } = {}) {
  const child = spawn(process.execPath, [KEEL, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set();
  const check = () => {
    for (const w of waiters) {
      const match = w.regex.exec(out[w.stream]);
      if (match) {
        waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(match);
      }
    }
  };
  child.stdout.on('data', (d) => { out.stdout += d; check(); });
  child.stderr.on('data', (d) => { out.stderr += d; check(); });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (regex, stream = 'stdout', ms = 10_000) => new Promise((resolve, reject) => {
    const w = { regex, stream, resolve };
    w.timer = setTimeout(() => {
      waiters.delete(w);
      reject(new Error(`no ${regex} on ${stream} within ${ms} ms\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`));
    }, ms);
    waiters.add(w);
    check();
  });
  const handle = {
    child,
    exited,
    waitFor,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return Promise.race([
    waitFor(/^keel (?:serve|proxy): (https?:\/\/(?:\[[^\]]+\]|[^:/ ]+):(\d+))/m, 'stdout', startMs),
    exited.then(({ code }) => { throw new Error(`keel exited (${code}) before its banner\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`); }),
  ]).then((match) => Object.assign(handle, { origin: match[1], port: Number(match[2]) }), async (error) => {
    await handle.stop();
    throw error;
  });
}

/** One request on a fresh connection: resolves to { status, headers, body (Buffer) }. */
export function fetchRaw(port, path, { method = 'GET', headers = {}, agent = false, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Lines of `text` (trailing newline dropped). */
export function linesOf(text) {
  return text.split('\n').filter((line) => line !== '');
}

/** A Combined Log Format line: host, time, request line, status, bytes, referer, user agent. */
export const COMBINED = /^(\S+) - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"\\]*(?:\\.[^"\\]*)*)" (\d{3}) (\d+|-) "([^"\\]*(?:\\.[^"\\]*)*)" "([^"\\]*(?:\\.[^"\\]*)*)"$/;
