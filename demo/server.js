// The Keel demo: a small site and a JSON API built from Keel's batteries, on its public API only.
//   keel/router   the API routes (404 / 405 with Allow / HEAD / OPTIONS answered by the router)
//   keel/body     JSON bodies with a 16 KiB cap (413), 415 for other types, 400 for bad JSON
//   keel/static   the site in demo/public (MIME types, traversal protection, ETag/304, ranges)
//   keel/sse      /events, broadcast to every page through a channel
//   keel/workers  /slow computes on a worker thread while /fast stays responsive
//   keel/compress gzip / brotli for text responses (never for the event stream)
//   ws            /chat, a WebSocket chat on the server's 'upgrade' event (ws in noServer mode)
// SIGINT / SIGTERM shut the server down gracefully.
//
//   PORT=3000 HOST=127.0.0.1 node demo/server.js      (npm start builds first)

import http from 'keel';
import { createRouter } from 'keel/router';
import { json, sendError } from 'keel/body';
import { serveStatic } from 'keel/static';
import { sse, createChannel } from 'keel/sse';
import { createWorkerPool, offload } from 'keel/workers';
import { compress } from 'keel/compress';
import { WebSocketServer } from 'ws';

const PORT = Number(process.env.PORT ?? 3000);
const HOST = process.env.HOST || undefined; // all interfaces unless HOST is set
const MAX_BODY_BYTES = 16 * 1024;
const SHUTDOWN_GRACE_MS = 5000;
const CHAT_MAX_PAYLOAD = 4 * 1024; // a bigger message closes its sender with 1009
const CHAT_MAX_NAME = 40;
const CHAT_MAX_TEXT = 1000;

const users = [
  { id: 1, name: 'Alice' },
  { id: 2, name: 'Bob' },
];
let nextUserId = 3;
const events = createChannel(); // every open /events stream

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// /slow: Fibonacci on a worker thread; a full pool answers 503, a client that leaves cancels it.
const fibonacci = createWorkerPool({ filename: new URL('./fib-worker.js', import.meta.url), maxThreads: 1, maxQueue: 8 });
const slow = offload(
  fibonacci,
  (req) => {
    const n = Number(new URL(req.url, 'http://localhost').searchParams.get('n') ?? 40) || 40;
    return { n: Math.min(Math.max(n, 1), 42), started: Date.now() };
  },
  (res, result, req) => sendJson(res, 200, { n: result.n, result: result.value, ms: Date.now() - result.started }),
);

// The site's files are small: held in memory (cache), every request still checks them by a stat.
const site = serveStatic(new URL('./public/', import.meta.url).pathname, { fallthrough: false, cache: true });
const router = createRouter({ notFound: site }); // anything that is not an API route is a file (or 404)
router.use(compress());

router.get('/api/users', (req, res) => sendJson(res, 200, users));
router.post('/api/users', async (req, res) => {
  let input;
  try {
    input = await json(req, { limit: MAX_BODY_BYTES });
  } catch (err) {
    return sendError(res, err); // 413 (with Connection: close when the rest is not read), 415, 400
  }
  const name = typeof input?.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > 100) return sendJson(res, 400, { error: { status: 400, code: 'ERR_INVALID_NAME', message: 'name must be a non-empty string (at most 100 characters)' } });
  const user = { id: nextUserId++, name };
  users.push(user);
  sendJson(res, 201, user, { Location: `/api/users/${user.id}` });
  events.send({ event: 'user', data: user });
});
router.get('/events', (req, res) => {
  const stream = sse(req, res);
  stream.send({ event: 'hello', data: { users: users.length } });
  events.add(stream);
});
router.get('/slow', slow);
router.get('/fast', (req, res) => sendJson(res, 200, { fast: true, time: new Date().toISOString() }));

setInterval(() => events.send({ event: 'tick', data: { time: new Date().toISOString() } }), 1000).unref();

const server = http.createServer(router);

// /chat: every text message {name, text} goes to every connected client as {name, text, time}.
// The page renders it with textContent, never as HTML. Other upgrade paths get a 404.
const chat = new WebSocketServer({ noServer: true, maxPayload: CHAT_MAX_PAYLOAD });
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => {});
  const { pathname } = new URL(req.url, 'http://localhost');
  if (pathname !== '/chat') return refuse(socket, '404 Not Found');
  // A page on another site must not talk to the chat with the visitor's browser (CSWSH).
  const origin = req.headers.origin;
  if (origin !== undefined && !sameHost(origin, req.headers.host)) return refuse(socket, '403 Forbidden');
  chat.handleUpgrade(req, socket, head, (ws) => chat.emit('connection', ws, req));
});
chat.on('connection', (ws) => {
  ws.on('error', () => {}); // e.g. 1009 for an oversized message: ws closes the socket itself
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let input;
    try {
      input = JSON.parse(data.toString());
    } catch {
      return;
    }
    const text = typeof input?.text === 'string' ? input.text.trim().slice(0, CHAT_MAX_TEXT) : '';
    if (text === '') return;
    const name = (typeof input.name === 'string' ? input.name.trim().slice(0, CHAT_MAX_NAME) : '') || 'anonymous';
    const message = JSON.stringify({ name, text, time: new Date().toISOString() });
    for (const client of chat.clients) if (client.readyState === 1) client.send(message);
  });
});
function refuse(socket, status) {
  socket.once('finish', () => socket.destroy()); // once the reply is flushed
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
}
function sameHost(origin, host) {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

server.on('error', (err) => {
  console.error(err.code === 'EADDRINUSE' ? `port ${PORT} is already in use` : err.message);
  process.exit(1);
});
server.listen(PORT, HOST, () => {
  console.log(`Keel demo listening on http://${HOST ?? 'localhost'}:${server.address().port}`);
});

function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  events.close();
  for (const ws of chat.clients) ws.close(1001, 'server shutting down');
  chat.close();
  void fibonacci.close({ force: true });
  server.closeIdleConnections();
  setTimeout(() => {
    for (const ws of chat.clients) ws.terminate();
    server.closeAllConnections();
    process.exit(0);
  }, SHUTDOWN_GRACE_MS).unref();
}
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
