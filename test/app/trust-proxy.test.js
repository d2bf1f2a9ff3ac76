// keel/trust-proxy: clientAddress() walks X-Forwarded-For from the right past trusted hops only
// (chains, spoofed left entries, ports and brackets, garbage), CIDR matching for IPv4 and IPv6
// with IPv4-mapped addresses and presets, forwardedProto() / forwardedHost() honoured only from a
// trusted peer; then over real servers: Keel behind a PROXY header, and node:http.
//
//   npm run build && node --test test/app/trust-proxy.test.js

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import nodeHttp from 'node:http';
import http from 'keel';
// Not in package.json's exports yet (recommended subpath: keel/trust-proxy).
import { clientAddress, compileTrust, forwardedHost, forwardedProto, TRUST_PRESETS } from 'keel/trust-proxy';

const TRUSTED = ['127.0.0.1', '10.0.0.0/8', '::1'];
const req = (remoteAddress, headers = {}, extra = {}) => ({ headers, socket: { remoteAddress, ...extra } });
const xff = (peer, value, trusted = TRUSTED) => clientAddress(req(peer, { 'x-forwarded-for': value }), { trusted });

describe('clientAddress', () => {
  test('an untrusted peer is the client, whatever it forwards', () => {
    assert.equal(xff('203.0.113.1', '1.2.3.4'), '203.0.113.1');
    assert.equal(xff('11.0.0.1', '10.0.0.9'), '11.0.0.1');
  });

  test('a trusted peer without X-Forwarded-For is the client', () => {
    assert.equal(clientAddress(req('127.0.0.1'), { trusted: TRUSTED }), '127.0.0.1');
  });

  test('chains: the first untrusted address from the right', () => {
    assert.equal(xff('127.0.0.1', '198.51.100.7'), '198.51.100.7');
    assert.equal(xff('127.0.0.1', '198.51.100.7, 10.0.0.2, 10.0.0.3'), '198.51.100.7');
    assert.equal(xff('10.1.1.1', '198.51.100.7,10.0.0.2'), '198.51.100.7');
    // The client forged entries on the left: they are past the first untrusted hop, never reached.
    assert.equal(xff('127.0.0.1', '10.0.0.66, 1.1.1.1, 198.51.100.7, 10.0.0.2'), '198.51.100.7');
    // An untrusted hop in the middle stops the walk there.
    assert.equal(xff('127.0.0.1', '198.51.100.7, 192.0.2.50, 10.0.0.2'), '192.0.2.50');
  });

  test('every hop trusted: the leftmost address', () => {
    assert.equal(xff('127.0.0.1', '10.0.0.1, 10.0.0.2'), '10.0.0.1');
  });

  test('empty entries are skipped; repeated fields (an array) count as one list', () => {
    assert.equal(xff('127.0.0.1', ' , 198.51.100.7 ,, '), '198.51.100.7');
    assert.equal(xff('127.0.0.1', ''), '127.0.0.1');
    assert.equal(xff('127.0.0.1', ['198.51.100.7', '10.0.0.2']), '198.51.100.7');
    assert.equal(xff('127.0.0.1', ['10.0.0.3', '198.51.100.7']), '198.51.100.7');
  });

  test('entries with ports and brackets give their address', () => {
    assert.equal(xff('127.0.0.1', '192.0.2.1:8080'), '192.0.2.1');
    assert.equal(xff('127.0.0.1', '[2001:db8::1]:1234'), '2001:db8::1');
    assert.equal(xff('127.0.0.1', '[2001:db8::1]'), '2001:db8::1');
    assert.equal(xff('127.0.0.1', '192.0.2.1, [::1]:99'), '192.0.2.1', 'a bracketed trusted hop is walked past');
  });

  test('an entry that is no address ends the walk and is returned as written', () => {
    assert.equal(xff('127.0.0.1', 'unknown'), 'unknown');
    assert.equal(xff('127.0.0.1', '198.51.100.7, _hidden, 10.0.0.2'), '_hidden');
    assert.equal(xff('127.0.0.1', '[2001:db8::1'), '[2001:db8::1');
    assert.equal(xff('127.0.0.1', '192.0.2.1:port'), '192.0.2.1:port');
  });

  test('IPv6 peers, hops and CIDR ranges', () => {
    const trusted = ['fd00::/8', '2001:db8:aaaa::/48'];
    assert.equal(xff('fd12::1', '2001:db8::5', trusted), '2001:db8::5');
    assert.equal(xff('fe00::1', '2001:db8::5', trusted), 'fe00::1');
    assert.equal(xff('fd12::1', '2001:db8::5, 2001:db8:aaaa:ffff::9', trusted), '2001:db8::5');
    assert.equal(xff('fd12::1', '2001:db8::5, 2001:db8:aaab::9', trusted), '2001:db8:aaab::9');
  });

  test('IPv4-mapped IPv6 peers match IPv4 rules, and mapped rules match IPv4', () => {
    assert.equal(xff('::ffff:127.0.0.1', '198.51.100.7'), '198.51.100.7');
    assert.equal(xff('::ffff:10.20.30.40', '198.51.100.7'), '198.51.100.7');
    assert.equal(xff('::ffff:a00:1', '198.51.100.7'), '198.51.100.7', 'hex form');
    assert.equal(xff('::ffff:11.0.0.1', '198.51.100.7'), '::ffff:11.0.0.1');
    assert.equal(xff('10.1.2.3', '198.51.100.7', ['::ffff:10.0.0.0/104']), '198.51.100.7');
    assert.equal(xff('11.1.2.3', '198.51.100.7', ['::ffff:10.0.0.0/104']), '11.1.2.3');
    assert.equal(xff('127.0.0.1', '198.51.100.7', ['::ffff:127.0.0.1']), '198.51.100.7');
    assert.equal(xff('127.0.0.1', '198.51.100.7, ::ffff:10.0.0.2'), '198.51.100.7', 'a mapped hop');
  });

  test('zone ids are ignored for matching', () => {
    assert.equal(xff('fe80::1%eth0', '198.51.100.7', ['linklocal']), '198.51.100.7');
  });

  test('no peer address (a destroyed socket, no socket): undefined', () => {
    assert.equal(clientAddress(req(undefined, { 'x-forwarded-for': '1.2.3.4' }), { trusted: TRUSTED }), undefined);
    assert.equal(clientAddress({ headers: {}, socket: null }, { trusted: TRUSTED }), undefined);
  });

  test('a predicate as the trust list', () => {
    const trusted = (address) => address.startsWith('10.');
    assert.equal(xff('10.9.9.9', '198.51.100.7, 10.1.1.1', trusted), '198.51.100.7');
    assert.equal(xff('11.9.9.9', '198.51.100.7', trusted), '11.9.9.9');
  });
});

describe('trust lists', () => {
  const matches = (list, address) => compileTrust(list)(address);

  test('CIDR boundaries', () => {
    assert.equal(matches(['10.0.0.0/8'], '10.255.255.255'), true);
    assert.equal(matches(['10.0.0.0/8'], '11.0.0.0'), false);
    assert.equal(matches(['10.0.0.0/8'], '9.255.255.255'), false);
    assert.equal(matches(['192.168.1.0/24'], '192.168.1.255'), true);
    assert.equal(matches(['192.168.1.0/24'], '192.168.2.0'), false);
    assert.equal(matches(['192.168.1.7/24'], '192.168.1.200'), true, 'host bits ignored');
    assert.equal(matches(['203.0.113.9'], '203.0.113.9'), true);
    assert.equal(matches(['203.0.113.9'], '203.0.113.10'), false);
    assert.equal(matches(['203.0.113.9/32'], '203.0.113.9'), true);
    assert.equal(matches(['2001:db8::/32'], '2001:db8:ffff::1'), true);
    assert.equal(matches(['2001:db8::/32'], '2001:db9::1'), false);
    assert.equal(matches(['::1/128'], '::1'), true);
    assert.equal(matches(['::1'], '0:0:0:0:0:0:0:1'), true);
  });

  test('/0 trusts every address of its own family only', () => {
    assert.equal(matches(['0.0.0.0/0'], '1.2.3.4'), true);
    assert.equal(matches(['0.0.0.0/0'], '::ffff:1.2.3.4'), true);
    assert.equal(matches(['0.0.0.0/0'], '2001:db8::1'), false);
    assert.equal(matches(['::/0'], '2001:db8::1'), true);
    assert.equal(matches(['::/0'], '1.2.3.4'), false);
  });

  test('presets', () => {
    assert.deepEqual(Object.keys(TRUST_PRESETS).sort(), ['linklocal', 'loopback', 'uniquelocal']);
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) assert.equal(matches(['loopback'], a), true, a);
    for (const a of ['128.0.0.1', '::2']) assert.equal(matches(['loopback'], a), false, a);
    for (const a of ['169.254.1.1', 'fe80::1', 'febf::1']) assert.equal(matches(['linklocal'], a), true, a);
    for (const a of ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', 'fc00::1', 'fdff::1']) assert.equal(matches(['uniquelocal'], a), true, a);
    for (const a of ['172.32.0.0', '172.15.255.255', '192.169.0.0', 'fe00::1']) assert.equal(matches(['uniquelocal'], a), false, a);
    assert.equal(matches(['loopback', '203.0.113.0/24'], '203.0.113.77'), true);
  });

  test('non-addresses never match', () => {
    for (const a of ['', 'unknown', 'localhost', '1.2.3', '10.0.0.1:80']) assert.equal(matches(['0.0.0.0/0', '::/0'], a), false, a);
  });

  test('invalid entries throw ERR_INVALID_ARG_VALUE; a non-array ERR_INVALID_ARG_TYPE', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '10.0.0.0/a', '::1/129', 'foo', 'localhost', '', 'fe80::1%eth0', '10.0.0.0/8/8', 'constructor', 5, null]) {
      assert.throws(() => compileTrust([bad]), { code: 'ERR_INVALID_ARG_VALUE' }, String(bad));
    }
    assert.throws(() => compileTrust('127.0.0.1'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => clientAddress(req('127.0.0.1'), { trusted: ['nope'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('forwardedProto and forwardedHost', () => {
  const opts = { trusted: TRUSTED };

  test('from a trusted peer: its X-Forwarded-Proto (lower-cased, rightmost of a list)', () => {
    assert.equal(forwardedProto(req('127.0.0.1', { 'x-forwarded-proto': 'https' }), opts), 'https');
    assert.equal(forwardedProto(req('10.0.0.1', { 'x-forwarded-proto': 'HTTPS' }), opts), 'https');
    assert.equal(forwardedProto(req('10.0.0.1', { 'x-forwarded-proto': 'http, https' }), opts), 'https');
    assert.equal(forwardedProto(req('10.0.0.1', { 'x-forwarded-proto': 'wss' }), opts), 'wss');
  });

  test('otherwise the connection: http, or https on a TLS socket', () => {
    assert.equal(forwardedProto(req('203.0.113.1', { 'x-forwarded-proto': 'https' }), opts), 'http');
    assert.equal(forwardedProto(req('203.0.113.1', { 'x-forwarded-proto': 'http' }, { encrypted: true }), opts), 'https');
    assert.equal(forwardedProto(req('127.0.0.1', {}, { encrypted: true }), opts), 'https');
    assert.equal(forwardedProto(req('127.0.0.1'), opts), 'http');
    assert.equal(forwardedProto(req('127.0.0.1', { 'x-forwarded-proto': 'ht tp' }), opts), 'http', 'not a scheme');
    assert.equal(forwardedProto(req('127.0.0.1', { 'x-forwarded-proto': '1http' }), opts), 'http', 'not a scheme');
    assert.equal(forwardedProto(req('127.0.0.1', { 'x-forwarded-proto': ' , ' }), opts), 'http');
    assert.equal(forwardedProto({ headers: { 'x-forwarded-proto': 'https' }, socket: null }, opts), 'http');
  });

  test('from a trusted peer: its X-Forwarded-Host (rightmost of a list); otherwise Host', () => {
    const headers = { host: 'internal:3000', 'x-forwarded-host': 'example.com:8443' };
    assert.equal(forwardedHost(req('127.0.0.1', headers), opts), 'example.com:8443');
    assert.equal(forwardedHost(req('127.0.0.1', { ...headers, 'x-forwarded-host': 'evil.example, example.com' }), opts), 'example.com');
    assert.equal(forwardedHost(req('127.0.0.1', { ...headers, 'x-forwarded-host': '[2001:db8::1]:443' }), opts), '[2001:db8::1]:443');
    assert.equal(forwardedHost(req('203.0.113.1', headers), opts), 'internal:3000', 'untrusted peer');
    assert.equal(forwardedHost(req('127.0.0.1', { ...headers, 'x-forwarded-host': 'a b' }), opts), 'internal:3000', 'not a host');
    assert.equal(forwardedHost(req('127.0.0.1', { ...headers, 'x-forwarded-host': 'a/b' }), opts), 'internal:3000', 'not a host');
    assert.equal(forwardedHost(req('127.0.0.1', { host: 'internal:3000' }), opts), 'internal:3000');
    assert.equal(forwardedHost(req('127.0.0.1', {}), opts), undefined);
  });
});

/** A raw request to 127.0.0.1:port; resolves with the response body. */
function rawRequest(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      resolve(text.slice(text.indexOf('\r\n\r\n') + 4));
    });
  });
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

const describeRequest = (options) => (req, res) => {
  res.end(JSON.stringify([clientAddress(req, options), forwardedProto(req, options), forwardedHost(req, options)]));
};

test('over Keel with the PROXY protocol: the header makes the peer a trusted load balancer', { timeout: 5000 }, async () => {
  const server = http.createServer({ proxyProtocol: true }, describeRequest({ trusted: ['10.0.0.0/8'] }));
  const port = await listen(server);
  try {
    const fields = 'Host: internal\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: example.com\r\nConnection: close\r\n\r\n';
    const viaLb = await rawRequest(port, `PROXY TCP4 10.0.0.5 10.0.0.1 40000 80\r\nGET / HTTP/1.1\r\n${fields}`);
    assert.deepEqual(JSON.parse(viaLb), ['203.0.113.9', 'https', 'example.com']);
    const direct = await rawRequest(port, `PROXY TCP4 198.51.100.3 10.0.0.1 40000 80\r\nGET / HTTP/1.1\r\n${fields}`);
    assert.deepEqual(JSON.parse(direct), ['198.51.100.3', 'http', 'internal']);
  } finally {
    server.close();
  }
});

test('over node:http: the same helpers work on its requests', { timeout: 5000 }, async () => {
  const server = nodeHttp.createServer(describeRequest({ trusted: ['loopback'] }));
  const port = await listen(server);
  try {
    const body = await rawRequest(port, 'GET / HTTP/1.1\r\nHost: internal\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n');
    assert.deepEqual(JSON.parse(body), ['203.0.113.9', 'https', 'internal']);
  } finally {
    server.close();
  }
});
