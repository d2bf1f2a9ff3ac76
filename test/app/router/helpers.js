// Helpers for the keel/router tests (deliberately not named *.test.js).
//
// - serve(listener, fn): a Keel server on 127.0.0.1:0 running `listener` (a router), fn(h) with
//   h.port, then everything closed (server, open sockets) whatever happened.
// - request(port, opts): one request over a fresh node:http connection (an independent client),
//   resolved with { status, headers, body } or { error } when the connection dies; bounded.
// - raw(port, text): write raw bytes, collect everything until the server closes or goes quiet.
// - quietly(fn): run fn with console.error captured (the default error reporter logs 5xx).

import http from 'keel';
import nodeHttp from 'node:http';
import net from 'node:net';

const TIMEOUT_MS = 5000;

export async function serve(listener, fn) {
  const server = http.createServer(listener);
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  try {
    return await fn({ server, port: server.address().port });
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(() => resolve()));
  }
}

export function request(port, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no response to ${method} ${path} within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    const req = nodeHttp.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, headers: res.headers, error });
      });
    });
    req.on('error', (error) => {
      clearTimeout(timer);
      resolve({ error });
    });
    req.end(body);
  });
}

export function raw(port, text, quietMs = 300) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let quiet = null;
    const finish = () => {
      clearTimeout(quiet);
      clearTimeout(deadline);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw exchange still open after ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      quiet = setTimeout(finish, quietMs);
    });
    socket.on('end', finish);
    socket.on('error', finish);
    socket.write(text);
  });
}

export async function quietly(fn) {
  const logged = [];
  const original = console.error;
  console.error = (...args) => logged.push(args);
  try {
    await fn(logged);
  } finally {
    console.error = original;
  }
  return logged;
}

/** A handler answering 200 text/plain `text`. */
export const reply = (text) => (req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(text);
};

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
