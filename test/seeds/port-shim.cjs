'use strict';
// Preload shim for the seed-example tests (test/seeds/seeds.test.js).
//
//   node --require ./test/seeds/port-shim.cjs examples/seeds/<example>
//
// The examples in examples/seeds/ are kept exactly as the seed documents wrote
// them, so they listen on fixed ports (80, 3000). This shim lets the test run
// them side by side without root and without port clashes. It is test
// infrastructure only: nothing in examples/ or src/ depends on it.
//
// 1. Ports: net.Server.prototype.listen is patched so that whatever the example
//    asks for (listen(3000), listen(80, '0.0.0.0', cb), listen({ port }), ...)
//    the server listens on an ephemeral port on 127.0.0.1. The user's callback
//    is kept. Once listening, `SEED_PORT=<n>` is written to stderr for the
//    parent. Keel's server is built on node:net, so whether it extends
//    net.Server (as node:http's Server does) or wraps one, its listen() ends up
//    here.
//
// 2. Event tracing (opt-in): with SEED_TRACE_EVENTS=upgrade,request,... the
//    listening server's emit() is wrapped to write `SEED_EVENT <name> ...` to
//    stderr for those events, so the test can see that e.g. the 'upgrade'
//    event fired even when the example's listener body is empty. It does not
//    add listeners, so it does not change behaviour.
//
// 3. Host mapping (opt-in): the proxy example hardcodes its upstream as
//    `internal-service:8080`. With SEED_HOST_MAP='internal-service:8080=127.0.0.1:<port>'
//    outgoing TCP connects (net.Socket.prototype.connect, which every node:net
//    client, including node:http's agent, goes through) to that host:port are
//    redirected to the test's upstream. No DNS entry or code change needed.
//    The client examples use it the same way (SEED_HOST_MAP='localhost:80=127.0.0.1:<port>',
//    'api.example.com:80=127.0.0.1:<port>'); several entries are separated by commas.
//
// 4. Connect tracing (opt-in): with SEED_TRACE_CONNECT=1, every outgoing TCP connect writes
//    `SEED_CONNECT <host>:<port> -> <host>:<port>` (redirected by SEED_HOST_MAP) or
//    `SEED_CONNECT <host>:<port> (not mapped)` to stderr, so a test can check that an example
//    reached the host it names, and that nothing escaped the map (e.g. to a real port 80).

const net = require('node:net');

const report = (line) => process.stderr.write(line + '\n');

// ---- 1. listen on an ephemeral port and report it --------------------------
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function seedShimListen(...args) {
  const callback = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  this.once('listening', () => {
    const address = this.address();
    report(`SEED_PORT=${address && typeof address === 'object' ? address.port : address}`);
  });
  if (process.env.SEED_TRACE_EVENTS) traceEvents(this, process.env.SEED_TRACE_EVENTS.split(','));
  const options = { port: 0, host: '127.0.0.1' };
  return callback ? originalListen.call(this, options, callback) : originalListen.call(this, options);
};

// ---- 2. optional event tracing ---------------------------------------------
const traced = new WeakSet();
function traceEvents(server, names) {
  if (traced.has(server)) return;
  traced.add(server);
  const wanted = new Set(names.map((n) => n.trim()).filter(Boolean));
  const originalEmit = server.emit;
  server.emit = function seedShimEmit(name, ...rest) {
    if (wanted.has(name)) {
      const first = rest[0];
      const detail = first && typeof first === 'object' && 'method' in first && 'url' in first
        ? ` ${first.method} ${first.url}`
        : '';
      report(`SEED_EVENT ${String(name)}${detail}`);
    }
    return originalEmit.call(this, name, ...rest);
  };
}

// ---- 3. optional host:port mapping for outgoing connections -----------------
// ---- 4. optional connect tracing ---------------------------------------------
const traceConnect = process.env.SEED_TRACE_CONNECT === '1';
if (process.env.SEED_HOST_MAP || traceConnect) {
  const map = new Map();
  for (const entry of (process.env.SEED_HOST_MAP || '').split(',')) {
    if (!entry.trim()) continue;
    const [from, to] = entry.trim().split('=');
    const toSep = to.lastIndexOf(':');
    map.set(from, { host: to.slice(0, toSep), port: Number(to.slice(toSep + 1)) });
  }
  const traceTarget = (from, target) => {
    if (!traceConnect) return;
    report(target ? `SEED_CONNECT ${from} -> ${target.host}:${target.port}` : `SEED_CONNECT ${from} (not mapped)`);
  };
  const originalConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function seedShimConnect(...args) {
    // node:net normalizes connect() arguments into [options, cb] (sometimes
    // passed as a single array); handle that and the plain forms.
    let options = null;
    if (Array.isArray(args[0])) options = args[0][0];
    else if (args[0] && typeof args[0] === 'object') options = args[0];
    if (options && typeof options === 'object' && (options.host !== undefined || options.port !== undefined)) {
      // node:net defaults a missing host to 'localhost'.
      const from = `${options.host ?? 'localhost'}:${options.port}`;
      const target = map.get(from);
      traceTarget(from, target);
      if (target) {
        options.host = target.host;
        options.port = target.port;
      }
    } else if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
      const host = typeof args[1] === 'string' ? args[1] : 'localhost';
      const target = map.get(`${host}:${args[0]}`);
      traceTarget(`${host}:${args[0]}`, target);
      if (target) {
        args[0] = target.port;
        if (typeof args[1] === 'string') args[1] = target.host;
        else args.splice(1, 0, target.host);
      }
    }
    return originalConnect.apply(this, args);
  };
}
