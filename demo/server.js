// The Keel demo: a small site and a JSON API written in plain node:http style, on Keel's public API
// only. Static files are streamed from demo/public with MIME types and traversal protection;
// /api/users takes JSON bodies with a size cap; /events streams server-sent events; /slow computes
// on a worker thread while /fast stays responsive; SIGINT/SIGTERM shut the server down gracefully.
//
//   PORT=3000 HOST=127.0.0.1 node demo/server.js      (npm start builds first)

import http from 'keel';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST || undefined; // all interfaces unless HOST is set
const PUBLIC_ROOT = fs.realpathSync(fileURLToPath(new URL('./public/', import.meta.url)));
const MAX_BODY_BYTES = 16 * 1024;
const SHUTDOWN_GRACE_MS = 5000;

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

const users = [
  { id: 1, name: 'Alice' },
  { id: 2, name: 'Bob' },
];
let nextUserId = 3;
const subscribers = new Set(); // open /events responses

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendText(res, status, text, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

function broadcast(event, data) {
  const message = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  for (const res of subscribers) res.write(message);
}

// ---- static files ------------------------------------------------------------------------

async function serveStatic(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  }
  // Work on the raw path: new URL() would resolve "..", hiding the attempt instead of refusing it.
  let pathname;
  try {
    pathname = decodeURIComponent(req.url.split('?')[0]);
  } catch {
    return sendText(res, 400, 'Bad Request');
  }
  if (pathname.includes('\0')) return sendText(res, 400, 'Bad Request');
  if (pathname.includes('\\')) return sendText(res, 403, 'Forbidden');
  if (pathname.endsWith('/')) pathname += 'index.html';
  const filePath = path.resolve(PUBLIC_ROOT, `.${pathname}`);
  if (!filePath.startsWith(PUBLIC_ROOT + path.sep)) return sendText(res, 403, 'Forbidden');

  let realPath;
  let stat;
  try {
    realPath = await fs.promises.realpath(filePath);
    stat = await fs.promises.stat(realPath);
  } catch {
    return sendText(res, 404, 'Not Found');
  }
  // A symlink inside public/ must not lead outside it.
  if (!realPath.startsWith(PUBLIC_ROOT + path.sep)) return sendText(res, 403, 'Forbidden');
  if (!stat.isFile()) return sendText(res, 404, 'Not Found');

  const type = MIME_TYPES[path.extname(realPath).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': stat.size, 'Cache-Control': 'no-cache' });
  if (req.method === 'HEAD') return res.end();
  const stream = fs.createReadStream(realPath);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

// ---- /api/users --------------------------------------------------------------------------

function tooLarge(res) {
  sendJson(res, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` }, { Connection: 'close' });
}

function handleUsers(req, res) {
  if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, 200, users);
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD, POST' });
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) return sendJson(res, 415, { error: 'send application/json' });
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return tooLarge(res);

  const chunks = [];
  let size = 0;
  let answered = false;
  req.on('data', (chunk) => {
    if (answered) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      answered = true;
      return tooLarge(res);
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (answered) return;
    let input;
    try {
      input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return sendJson(res, 400, { error: `invalid JSON: ${err.message}` });
    }
    const name = typeof input?.name === 'string' ? input.name.trim() : '';
    if (name === '' || name.length > 100) return sendJson(res, 400, { error: 'name must be a non-empty string (at most 100 characters)' });
    const user = { id: nextUserId++, name };
    users.push(user);
    sendJson(res, 201, user, { Location: `/api/users/${user.id}` });
    broadcast('user', user);
  });
  req.on('error', () => {}); // the client went away: nothing to answer
}

// ---- /events -----------------------------------------------------------------------------

function handleEvents(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  res.write(`event: hello\ndata: ${JSON.stringify({ users: users.length })}\n\n`);
  subscribers.add(res);
  const ticker = setInterval(() => {
    res.write(`event: tick\ndata: ${JSON.stringify({ time: new Date().toISOString() })}\n\n`);
  }, 1000);
  res.on('close', () => {
    clearInterval(ticker);
    subscribers.delete(res);
  });
}

// ---- /slow and /fast ---------------------------------------------------------------------

function handleSlow(req, res, url) {
  const n = Math.min(Math.max(Number(url.searchParams.get('n') ?? 40) || 40, 1), 42);
  const started = Date.now();
  const worker = new Worker(new URL('./fib-worker.js', import.meta.url), { workerData: { n } });
  worker.once('message', (result) => sendJson(res, 200, { n, result, ms: Date.now() - started }));
  worker.once('error', (err) => sendJson(res, 500, { error: err.message }));
  res.on('close', () => worker.terminate());
}

// ---- the server --------------------------------------------------------------------------

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  switch (url.pathname) {
    case '/api/users':
      return handleUsers(req, res);
    case '/events':
      return handleEvents(req, res);
    case '/slow':
      return handleSlow(req, res, url);
    case '/fast':
      return sendJson(res, 200, { fast: true, time: new Date().toISOString() });
    default:
      return serveStatic(req, res).catch(() => res.destroy());
  }
});

server.on('error', (err) => {
  console.error(err.code === 'EADDRINUSE' ? `port ${PORT} is already in use` : err.message);
  process.exit(1);
});

server.listen(PORT, HOST, () => {
  const { port } = server.address();
  console.log(`Keel demo listening on http://${HOST ?? 'localhost'}:${port}`);
});

function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  for (const res of subscribers) res.end();
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, SHUTDOWN_GRACE_MS).unref();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
