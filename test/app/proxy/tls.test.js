// keel/proxy to https: upstreams, over keel/https's client: a self-signed certificate made with
// openssl at test time, trusted through `httpsAgent: new Agent({ ca })`; refused (502) without it.
//
//   npm run build && node --test test/app/proxy/tls.test.js

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Agent as HttpsAgent } from 'keel/https';

import { send, startProxy } from './helpers.js';

const T = { timeout: 15_000 };

function makeCertificate() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keel-proxy-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'pipe' });
    return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pem = makeCertificate();

test('an https: upstream with a private CA: 200 with httpsAgent({ ca }), 502 without it', { ...T, skip: pem === null && 'openssl is not available' }, async () => {
  const upstream = https.createServer({ key: pem.key, cert: pem.cert }, (req, res) => {
    res.end(JSON.stringify({ url: req.url, host: req.headers.host, proto: req.headers['x-forwarded-proto'], encrypted: req.socket.encrypted === true }));
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${upstream.address().port}/base`;
  const httpsAgent = new HttpsAgent({ keepAlive: true, ca: pem.cert });
  const trusted = await startProxy({ target: url, httpsAgent, changeOrigin: true });
  const untrusted = await startProxy({ target: url });
  try {
    const ok = await send(trusted.port, { path: '/x' });
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { url: '/base/x', host: `127.0.0.1:${upstream.address().port}`, proto: 'http', encrypted: true });
    const refused = await send(untrusted.port, { path: '/x' });
    assert.equal(refused.status, 502);
  } finally {
    await trusted.close();
    await untrusted.close();
    httpsAgent.destroy();
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  }
});
