// Helpers for test/seeds/seeds.test.js (deliberately not named *.test.js).
//
// Each seed example in examples/seeds/ runs unchanged in its own child process,
// preloaded with port-shim.cjs, which moves whatever port it listens on to an
// ephemeral port on 127.0.0.1 and reports it on stderr as SEED_PORT=<n>.

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const EXAMPLES_DIR = path.join(ROOT, 'examples', 'seeds');
export const SHIM = path.join(here, 'port-shim.cjs');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check()` until it returns a truthy value; reject after `ms`. */
export async function waitUntil(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * Start examples/seeds/<file> as a child process with the port shim.
 * Resolves once it reported its port (unless `listens: false`).
 */
export async function startExample(file, { cwd = EXAMPLES_DIR, env = {}, listens = true } = {}) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--require', SHIM, path.join(EXAMPLES_DIR, file)], {
    cwd,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });

  const ex = {
    file,
    child,
    port: undefined,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get exitInfo() { return exitInfo; },
    exited,
    url(p = '/') { return `http://127.0.0.1:${ex.port}${p}`; },
    /** Wait until stdout matches `pattern` (string or RegExp). */
    waitForStdout(pattern, ms = 5000) {
      return waitUntil(() => matches(stdout, pattern), ms, `stdout of ${file} to match ${pattern}`);
    },
    waitForStderr(pattern, ms = 5000) {
      return waitUntil(() => matches(stderr, pattern), ms, `stderr of ${file} to match ${pattern}`);
    },
    /** Wait for the process to exit on its own. */
    async waitForExit(ms = 5000) {
      await waitUntil(() => exitInfo, ms, `${file} to exit`);
      return exitInfo;
    },
    async stop() {
      if (!exitInfo) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    /** Appends the child's output to an assertion error, to make failures readable. */
    annotate(err) {
      if (err && typeof err === 'object' && !err.seedAnnotated) {
        err.seedAnnotated = true;
        err.message += `\n--- ${file} stdout ---\n${stdout}\n--- ${file} stderr ---\n${stderr}` +
          `\n--- ${file} exit: ${JSON.stringify(exitInfo)} ---`;
      }
      return err;
    },
  };

  if (listens) {
    try {
      const port = await waitUntil(
        () => exitInfo ? 'exited' : /SEED_PORT=(\d+)/.exec(stderr)?.[1],
        5000,
        `${file} to listen`,
      );
      if (port === 'exited') throw new Error(`${file} exited before listening`);
      ex.port = Number(port);
    } catch (err) {
      await ex.stop();
      throw ex.annotate(err);
    }
  }
  return ex;
}

/** Run `fn(ex)` against a started example; always kill the child afterwards. */
export async function withExample(file, options, fn) {
  const ex = await startExample(file, options);
  try {
    await fn(ex);
  } catch (err) {
    throw ex.annotate(err);
  } finally {
    await ex.stop();
  }
}

function matches(text, pattern) {
  return typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
}

/** fetch() against the example with a default timeout. */
export function request(ex, p, init = {}) {
  return fetch(ex.url(p), { signal: AbortSignal.timeout(5000), ...init });
}

/**
 * Open a raw TCP connection to the example. The returned object records
 * everything received, and whether/how the socket closed.
 */
export function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const conn = {
      socket,
      chunks: [],
      closed: false,
      error: null,
      get buffer() { return Buffer.concat(conn.chunks); },
      get text() { return conn.buffer.toString('latin1'); },
      write(data) { socket.write(data); },
      /** Complete responses received so far. */
      get responses() { return parseResponses(conn.buffer); },
      waitForResponses(n, ms = 5000) {
        return waitUntil(() => conn.responses.length >= n && conn.responses, ms, `${n} response(s)`);
      },
      waitForClose(ms = 5000) {
        return waitUntil(() => conn.closed, ms, 'the connection to close');
      },
      destroy() { socket.destroy(); },
    };
    socket.on('data', (d) => conn.chunks.push(d));
    socket.on('error', (err) => { conn.error = err; });
    socket.on('close', () => { conn.closed = true; });
    socket.once('connect', () => resolve(conn));
    socket.once('error', reject);
  });
}

/**
 * Minimal HTTP/1.1 response parser for raw byte assertions: returns the
 * complete responses (status, lower-cased headers, de-chunked body) in `buf`.
 * A response without Content-Length or chunked encoding takes the rest of
 * the buffer as its body.
 */
export function parseResponses(buf) {
  const out = [];
  let i = 0;
  while (i < buf.length) {
    const headEnd = buf.indexOf('\r\n\r\n', i);
    if (headEnd < 0) break;
    const [statusLine, ...lines] = buf.subarray(i, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    const headers = {};
    const rawHeaders = [];
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      rawHeaders.push(line.slice(0, colon), value);
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let p = headEnd + 4;
    let body;
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const parts = [];
      let complete = false;
      for (;;) {
        const lineEnd = buf.indexOf('\r\n', p);
        if (lineEnd < 0) break;
        const size = parseInt(buf.subarray(p, lineEnd).toString('latin1'), 16);
        if (size === 0) {
          const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0) break;
          p = trailerEnd + 4;
          complete = true;
          break;
        }
        if (lineEnd + 2 + size + 2 > buf.length) break;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (p + len > buf.length) break;
      body = buf.subarray(p, p + len);
      p += len;
    } else {
      body = buf.subarray(p);
      p = buf.length;
    }
    out.push({
      httpVersion: m[1],
      statusCode: Number(m[2]),
      statusMessage: m[3] ?? '',
      headers,
      rawHeaders,
      body: body.toString('utf8'),
      bodyBuffer: body,
    });
    i = p;
  }
  return out;
}
