// A real HAProxy (mode tcp, `send-proxy` / `send-proxy-v2` on the server line) in front of a Keel
// server with proxyProtocol enabled: the handler sees the real client — 127.0.0.1 and the client
// socket's own port, not HAProxy's — keep-alive goes through (one backend connection for a
// client's requests), v2 TLVs are skipped, HAProxy's LOCAL health checks are served, and a version
// mismatch is refused. Skipped when haproxy is missing only if KEEL_REQUIRE_HAPROXY=0.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import { hasHaproxy, startHaproxy } from '../support/haproxy.js';
import { start, waitUntil } from './raw.js';

// haproxy is required (.ci/run installs it); KEEL_REQUIRE_HAPROXY=0 lets a machine without it skip.
const required = process.env.KEEL_REQUIRE_HAPROXY !== '0';
const skip = !hasHaproxy() && !required ? 'haproxy is not installed (apt-get install -y haproxy)' : false;
const T = { timeout: 20_000, skip };

function whoAmI(req, res) {
  const s = req.socket;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ address: s.remoteAddress, port: s.remotePort, family: s.remoteFamily, proxy: s.proxyAddress, url: req.url }));
}

/** GET through node:http; resolves to { status, body (parsed JSON), localPort }. */
function get(url, agent) {
  return new Promise((resolve, reject) => {
    const req = nodeHttp.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()), localPort: req.socket.localPort }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`timeout: GET ${url}`)));
  });
}

/** A Keel server with `keelOptions` behind an HAProxy with `haproxyOptions`; fn(keel, hap); both always stopped. */
async function behindHaproxy(keelOptions, haproxyOptions, fn) {
  const keel = await start(whoAmI, keelOptions);
  let hap = null;
  try {
    hap = await startHaproxy({ backendPort: keel.port, ...haproxyOptions });
    return await fn(keel, hap);
  } finally {
    await hap?.stop();
    await keel.close();
  }
}

for (const [name, keelOption, haproxyOptions] of [
  ['v1 (send-proxy)', 'v1', { sendProxy: 'v1' }],
  ['v2 (send-proxy-v2)', 'v2', { sendProxy: 'v2' }],
  ['v2 with a CRC32C and an authority TLV, server accepting either version', true, { sendProxy: 'v2', proxyV2Options: 'crc32c,authority' }],
]) {
  test(`HAProxy ${name}: the real client address and port, keep-alive through`, T, async () => {
    await behindHaproxy({ proxyProtocol: keelOption }, haproxyOptions, async (keel, hap) => {
      const errors = [];
      keel.server.on('proxyProtocolError', (err) => errors.push(err));
      const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await get(`${hap.url}/one`, agent);
        const second = await get(`${hap.url}/two`, agent);
        assert.equal(first.localPort, second.localPort, 'the client reused its connection');
        for (const [r, url] of [[first, '/one'], [second, '/two']]) {
          assert.equal(r.status, 200);
          assert.deepEqual(r.body, {
            address: '127.0.0.1', port: r.localPort, family: 'IPv4', url,
            proxy: { address: '127.0.0.1', port: r.localPort, family: 'IPv4' },
          });
        }
        // One client connection → one backend connection, serving both requests.
        assert.equal(new Set(keel.requests.map((req) => req.socket)).size, 1);
        assert.notEqual(keel.requests[0].socket.localPort, hap.port);
        // A second client connection: its own port.
        const other = await get(`${hap.url}/three`, false);
        assert.notEqual(other.localPort, first.localPort);
        assert.equal(other.body.port, other.localPort);
        assert.deepEqual(errors, []);
      } finally {
        agent.destroy();
      }
    });
  });
}

test('HAProxy health checks with send-proxy-v2 (LOCAL header): served, with the real peer', T, async () => {
  await behindHaproxy({ proxyProtocol: 'v2' }, { sendProxy: 'v2', healthCheck: '/health' }, async (keel, hap) => {
    await waitUntil(() => keel.requests.some((req) => req.url === '/health'), 5000, 'a health check');
    const check = keel.requests.find((req) => req.url === '/health');
    assert.equal(check.socket.proxyAddress, null, 'LOCAL: no address');
    assert.equal(check.socket.remoteAddress, '127.0.0.1');
    // Traffic still carries the client's address.
    const r = await get(`${hap.url}/after-checks`, false);
    assert.equal(r.body.port, r.localPort);
  });
});

test('HAProxy sends v1 to a v2-only server: refused (ERR_PROXY_PROTOCOL), the client gets no response', T, async () => {
  await behindHaproxy({ proxyProtocol: 'v2' }, { sendProxy: 'v1' }, async (keel, hap) => {
    const errors = [];
    keel.server.on('proxyProtocolError', (err) => errors.push(err));
    await assert.rejects(get(`${hap.url}/`, false));
    await waitUntil(() => errors.length >= 1, 3000, 'a proxyProtocolError');
    assert.equal(errors[0].code, 'ERR_PROXY_PROTOCOL');
    assert.equal(keel.calls, 0);
  });
});

test('HAProxy without send-proxy to a server that requires it: refused', T, async () => {
  await behindHaproxy({ proxyProtocol: true }, { sendProxy: false }, async (keel, hap) => {
    const errors = [];
    keel.server.on('proxyProtocolError', (err) => errors.push(err));
    await assert.rejects(get(`${hap.url}/`, false));
    await waitUntil(() => errors.length >= 1, 3000, 'a proxyProtocolError');
    assert.equal(errors[0].offset, 0);
    assert.equal(keel.calls, 0);
  });
});
