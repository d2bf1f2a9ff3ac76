// The JavaScript cost of one keep-alive request, without the kernel: a server (Keel or node:http)
// gets a `Duplex` as its connection ('connection' event, as both allow), fed with keep-alive
// `GET /` requests, one per chunk, 100 per event-loop turn; the responses are counted and dropped.
// It prints the median and the minimum over 7 runs of 300,000 requests, in ns per request. Socket
// syscalls, which are most of a real request's cost, are left out: this shows what the server's own
// code costs, with far less noise than wrk on a shared machine. (node:http reads a real socket
// through its native parser, which this loop cannot show: compare Keel with Keel.)
//
//   npm run bench:js [-- <keel|node> [hello|bare|set]]
//
// handler: hello  writeHead(200, { 'Content-Type': 'text/plain' }) + end('Hello World') (the bench's)
//          bare   end('Hello World')
//          set    setHeader('Content-Type', 'text/plain') + end('Hello World')

import { Duplex } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';

const impl = process.argv[2] ?? 'keel';
const handlerName = process.argv[3] ?? 'hello';
const http = impl === 'node' ? (await import('node:http')).default : (await import('keel')).default;
let served = 0;
const handlers = {
  hello(req, res) {
    served++;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('Hello World');
  },
  bare(req, res) {
    served++;
    res.end('Hello World');
  },
  set(req, res) {
    served++;
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello World');
  },
};
if (!handlers[handlerName] || (impl !== 'keel' && impl !== 'node')) {
  process.stderr.write('usage: node bench/js-cost.js [keel|node] [hello|bare|set]\n');
  process.exit(1);
}

let responseBytes = 0;
class LoopSocket extends Duplex {
  constructor() {
    super({ decodeStrings: false });
    this.remoteAddress = '127.0.0.1';
    this.remotePort = 40000;
    this.remoteFamily = 'IPv4';
    this.localAddress = '127.0.0.1';
    this.localPort = 3000;
  }
  _read() {}
  _write(chunk, encoding, callback) {
    responseBytes += chunk.length;
    callback();
  }
  setNoDelay() {}
  setKeepAlive() {}
  setTimeout() {
    return this;
  }
  ref() {}
  unref() {}
}

const server = http.createServer(handlers[handlerName]);
const socket = new LoopSocket();
server.emit('connection', socket);

const BATCH = 100;
const request = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n', 'latin1');
const chunks = Array.from({ length: BATCH }, () => Buffer.from(request));

async function serve(count) {
  for (let i = 0; i < count; i += BATCH) {
    for (let j = 0; j < BATCH; j++) socket.push(chunks[j]);
    await turn();
  }
}

const RUN = 300_000;
await serve(200_000); // warm-up: optimised code, grown heap
const perRequest = [];
for (let run = 0; run < 7; run++) {
  const started = process.hrtime.bigint();
  await serve(RUN);
  perRequest.push(Number(process.hrtime.bigint() - started) / RUN);
}
perRequest.sort((a, b) => a - b);
const sent = 200_000 + 7 * RUN;
process.stdout.write(
  `${impl === 'node' ? 'node:http' : 'keel'} ${handlerName}: median ${perRequest[3].toFixed(0)} ns per request, ` +
    `min ${perRequest[0].toFixed(0)} ns (7 runs of ${RUN.toLocaleString('en-US')}; ${responseBytes.toLocaleString('en-US')} response bytes)\n`,
);
if (served !== sent || responseBytes === 0) {
  process.stderr.write(`bench/js-cost.js: ${served} of ${sent} requests answered, ${responseBytes} response bytes\n`);
  process.exit(2);
}
process.exit(0);
