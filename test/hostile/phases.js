// Abrupt resets at every phase of an exchange, shared by resets.test.js and leaks.test.js
// (deliberately not named *.test.js).
//
// phaseServer(impl) starts a server (Keel or node:http) whose routes hold an exchange in a given
// phase, logging what happens to every request and response; runPhase(h, phase, mode) opens a
// client, drives it into `phase`, then leaves abruptly: mode 'rst' is socket.resetAndDestroy()
// (a TCP RST), mode 'fin' is socket.destroy() (a FIN, nothing unread).

import { serve, sleep, waitUntil } from './hostile.js';

/** Request and response events worth checking after a reset. */
const REQ_EVENTS = ['aborted', 'end', 'close', 'error'];
const RES_EVENTS = ['finish', 'close', 'error'];

/**
 * The routes: /ok answers at once; /wait never answers (until the connection closes, when it
 * tries a late res.end()); /body reads the body, then answers; /stream streams a 1 TiB body,
 * honouring backpressure; /pipe/0, /pipe/1 and /pipe/2 answer after 10, 20 and 30 ms, the later ones
 * not before a minute. 'upgrade' switches protocols and keeps the socket until the client leaves.
 */
export async function phaseServer(impl, options = {}) {
  const log = [];
  const upgrades = [];
  const h = await serve((req, res) => {
    const record = { url: req.url, events: [], lateEndThrew: null };
    log.push(record);
    for (const e of REQ_EVENTS) req.on(e, (err) => record.events.push(e === 'error' ? `req error ${err?.code}` : `req ${e}`));
    for (const e of RES_EVENTS) res.on(e, (err) => record.events.push(e === 'error' ? `res error ${err?.code}` : `res ${e}`));
    const url = req.url;
    if (url === '/ok') {
      res.end('ok');
    } else if (url === '/wait') {
      res.on('close', () => {
        try {
          res.end('late'); // the client has gone: must neither throw nor crash
          record.lateEndThrew = false;
        } catch (err) {
          record.lateEndThrew = err;
        }
      });
    } else if (url === '/body') {
      req.on('data', () => {
        if (!record.events.includes('req data')) record.events.push('req data');
      });
      req.on('end', () => res.end('got it'));
    } else if (url === '/stream') {
      res.setHeader('Content-Length', 2 ** 40); // chunked pumping: slow-reader.test.js
      const chunk = Buffer.alloc(16 * 1024, 's');
      const pump = () => {
        while (!res.destroyed && !res.writableEnded) {
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    } else if (url.startsWith('/pipe/')) {
      const i = Number(url.slice(6));
      const timer = setTimeout(() => res.end(`answer ${url}`), i < 3 ? (i + 1) * 10 : 60_000);
      res.on('close', () => clearTimeout(timer));
      req.on('aborted', () => clearTimeout(timer)); // node:http: no res 'close' for queued responses
    }
  }, { keepAliveTimeout: 10_000, headersTimeout: 10_000, requestTimeout: 20_000, ...options }, impl);
  h.server.on('upgrade', (req, socket) => {
    const record = { url: req.url, events: [] };
    upgrades.push(record);
    socket.on('error', (err) => record.events.push(`socket error ${err.code}`));
    socket.on('close', () => record.events.push('socket close'));
    socket.on('end', () => socket.end());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: hostile\r\nConnection: Upgrade\r\n\r\n');
  });
  h.log = log;
  h.upgrades = upgrades;
  return h;
}

/** The server-side socket of client `c`. */
export function serverSocketOf(h, c) {
  const port = c.socket.localPort;
  for (const socket of h.sockets) if (socket.remotePort === port) return socket;
  return null;
}

/** Wait until the server has read `n` bytes from client `c`. */
function serverRead(h, c, n) {
  return waitUntil(() => (serverSocketOf(h, c)?.bytesRead ?? 0) >= n, 3000, `the server to read ${n} bytes`);
}

/** Request bytes the phases send (exported for leaks.test.js's batches). */
export const CL_BODY_HEAD = 'POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n';
export const CHUNKED_HEAD = 'POST /body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n';
export const CONTINUE_HEAD = 'POST /body HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n';
export const UPGRADE_HEAD = 'GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: hostile\r\n\r\n';

/**
 * Each phase: `name`, `requests` (how many requests reach the handler), and `drive(c, h)`, which
 * writes and waits until the exchange is in that phase.
 */
export const PHASES = [
  {
    name: 'right after the accept (nothing sent)',
    requests: 0,
    drive: async (c, h) => waitUntil(() => serverSocketOf(h, c), 3000, 'the accept'),
  },
  {
    name: 'mid request-line',
    requests: 0,
    drive: async (c, h) => {
      await c.write('GET /wai');
      await serverRead(h, c, 8);
    },
  },
  {
    name: 'mid headers',
    requests: 0,
    drive: async (c, h) => {
      const bytes = 'GET /wait HTTP/1.1\r\nHost: a\r\nX-Partial: yes';
      await c.write(bytes);
      await serverRead(h, c, bytes.length);
    },
  },
  {
    name: 'mid Content-Length body',
    requests: 1,
    drive: async (c, h) => {
      await c.write(CL_BODY_HEAD + 'b'.repeat(1000));
      await waitUntil(() => h.log.at(-1)?.events.includes('req data'), 3000, 'some body');
    },
  },
  {
    name: 'mid chunked body',
    requests: 1,
    drive: async (c, h) => {
      await c.write(`${CHUNKED_HEAD}3e8\r\n${'c'.repeat(1000)}\r\n400\r\nccc`);
      await waitUntil(() => h.log.at(-1)?.events.includes('req data'), 3000, 'some body');
    },
  },
  {
    name: 'while the handler is waiting (request complete, no response yet)',
    requests: 1,
    drive: async (c, h) => {
      const before = h.calls;
      await c.write('GET /wait HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitUntil(() => h.calls > before, 3000, 'the handler');
    },
  },
  {
    name: 'during a large streamed response',
    requests: 1,
    drive: async (c) => {
      await c.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
      await waitUntil(() => c.length >= 256 * 1024, 3000, '256 KiB of the response');
    },
  },
  {
    name: 'during a pipelined batch (3 of 10 answered)',
    requests: 10,
    drive: async (c) => {
      let batch = '';
      for (let i = 0; i < 10; i++) batch += `GET /pipe/${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
      await c.write(batch);
      await waitUntil(() => c.responses().length >= 3, 3000, '3 responses');
    },
  },
  {
    name: 'after 100 Continue, before the body',
    requests: 1,
    drive: async (c) => {
      await c.write(CONTINUE_HEAD);
      await waitUntil(() => c.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 3000, '100 Continue');
    },
  },
  {
    name: 'after an upgrade (101 received)',
    requests: 0,
    upgrade: true,
    drive: async (c) => {
      await c.write(UPGRADE_HEAD);
      await waitUntil(() => c.text.includes('\r\n\r\n'), 3000, '101 Switching Protocols');
    },
  },
  {
    name: 'idle between keep-alive requests',
    requests: 1,
    drive: async (c) => {
      await c.write('GET /ok HTTP/1.1\r\nHost: a\r\n\r\n');
      await c.waitForResponses(1, 3000);
    },
  },
];

/**
 * Open a client to `h`, drive it into `phase`, leave abruptly (mode 'rst' or 'fin'), and wait
 * until the server closed its side. Returns the request records and upgrade records of this run.
 */
export async function runPhase(h, phase, mode) {
  const logStart = h.log.length;
  const upgradeStart = h.upgrades.length;
  const c = await h.connect();
  await phase.drive(c, h);
  const serverSocket = serverSocketOf(h, c);
  if (mode === 'rst') c.socket.resetAndDestroy();
  else c.destroy();
  await waitUntil(() => serverSocket.destroyed && h.sockets.size === 0, 3000, 'the server side to close');
  await sleep(5); // let 'close' events scheduled after the socket's own settle
  return { records: h.log.slice(logStart), upgrades: h.upgrades.slice(upgradeStart) };
}
