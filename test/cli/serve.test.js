// `keel serve` over real sockets: files, index, 404, --listing, --cors (headers and preflight),
// --gzip, --spa fallback, --cache (files rewritten on disk are served fresh), the health endpoints,
// and the access log in both formats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { COMBINED, fetchRaw, linesOf, startKeel } from './keel-process.js';

let dir;
let plain; // --listing --cors --gzip, combined log
let spa; // --spa --cache, JSON log
const BIG = 'keel '.repeat(1000);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keel-cli-serve-'));
  writeFileSync(join(dir, 'index.html'), '<h1>home</h1>\n');
  writeFileSync(join(dir, 'app.js'), 'console.log(1);\n');
  writeFileSync(join(dir, 'big.txt'), BIG);
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'one.md'), '# one\n');
  writeFileSync(join(dir, 'docs', 'two.md'), '# two\n');
  [plain, spa] = await Promise.all([
    startKeel(['serve', dir, '--port', '0', '--host', '127.0.0.1', '--listing', '--cors', '--gzip']),
    startKeel(['serve', dir, '--port=0', '--host=127.0.0.1', '--spa', '--cache', '--log', 'json']),
  ]);
});

after(async () => {
  await Promise.all([plain?.stop(), spa?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

test('the banner names the real port and the absolute directory', () => {
  assert.match(plain.stdout(), new RegExp(`^keel serve: http://127\\.0\\.0\\.1:${plain.port} \\(dir ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)\n`));
  assert.notEqual(plain.port, 0);
});

test('files with their types, the index for /, 404 for a missing file, 405 for POST', async () => {
  const home = await fetchRaw(plain.port, '/');
  assert.equal(home.status, 200);
  assert.equal(home.body.toString(), '<h1>home</h1>\n');
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  const js = await fetchRaw(plain.port, '/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /^(text|application)\/javascript/);
  assert.ok(js.headers.etag);
  assert.equal((await fetchRaw(plain.port, '/missing.txt')).status, 404);
  assert.equal((await fetchRaw(plain.port, '/missing')).status, 404); // no --spa here
  const post = await fetchRaw(plain.port, '/', { method: 'POST' });
  assert.equal(post.status, 405);
});

test('--listing lists a directory without index.html', async () => {
  const res = await fetchRaw(plain.port, '/docs/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/html/);
  assert.match(res.body.toString(), /one\.md[\s\S]*two\.md/);
  assert.equal((await fetchRaw(spa.port, '/docs/')).body.toString(), '<h1>home</h1>\n'); // no listing: --spa's shell
});

test('--cors: Access-Control-Allow-Origin on responses, 204 for a preflight', async () => {
  const res = await fetchRaw(plain.port, '/app.js', { headers: { origin: 'https://example.com' } });
  assert.equal(res.headers['access-control-allow-origin'], '*');
  const missing = await fetchRaw(plain.port, '/nope.txt', { headers: { origin: 'https://example.com' } });
  assert.equal(missing.headers['access-control-allow-origin'], '*');
  const preflight = await fetchRaw(plain.port, '/app.js', {
    method: 'OPTIONS',
    headers: { origin: 'https://example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-token' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers['access-control-allow-origin'], '*');
  assert.equal(preflight.headers['access-control-allow-methods'], 'GET, HEAD, OPTIONS');
  assert.equal(preflight.headers['access-control-allow-headers'], 'x-token');
  assert.equal(preflight.headers['access-control-max-age'], '86400');
  assert.equal(preflight.body.length, 0);
  assert.equal((await fetchRaw(spa.port, '/app.js')).headers['access-control-allow-origin'], undefined);
});

test('--gzip: compressible bodies gzip-encoded when asked, identity otherwise', async () => {
  const gz = await fetchRaw(plain.port, '/big.txt', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gz.status, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.match(gz.headers.vary, /accept-encoding/i);
  assert.equal(gunzipSync(gz.body).toString(), BIG);
  assert.ok(gz.body.length < BIG.length / 10);
  const identity = await fetchRaw(plain.port, '/big.txt');
  assert.equal(identity.headers['content-encoding'], undefined);
  assert.equal(identity.body.toString(), BIG);
  assert.equal((await fetchRaw(spa.port, '/big.txt', { headers: { 'accept-encoding': 'gzip' } })).headers['content-encoding'], undefined);
});

test('--spa: unknown paths without an extension get index.html; with an extension 404; files still served', async () => {
  for (const path of ['/users/42', '/settings?tab=1', '/deep/link/']) {
    const res = await fetchRaw(spa.port, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.body.toString(), '<h1>home</h1>\n', path);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
  }
  assert.equal((await fetchRaw(spa.port, '/missing.js')).status, 404);
  assert.equal((await fetchRaw(spa.port, '/app.js')).body.toString(), 'console.log(1);\n');
  assert.equal((await fetchRaw(spa.port, '/users/42', { method: 'DELETE' })).status, 405);
});

test('--cache: a file rewritten on disk is served fresh, the app shell too', async () => {
  writeFileSync(join(dir, 'cached.txt'), 'first');
  assert.equal((await fetchRaw(spa.port, '/cached.txt')).body.toString(), 'first');
  assert.equal((await fetchRaw(spa.port, '/cached.txt')).body.toString(), 'first');
  writeFileSync(join(dir, 'cached.txt'), 'again');
  assert.equal((await fetchRaw(spa.port, '/cached.txt')).body.toString(), 'again');
  assert.equal((await fetchRaw(spa.port, '/some/route')).body.toString(), '<h1>home</h1>\n');
  writeFileSync(join(dir, 'index.html'), '<h1>new home</h1>\n');
  try {
    assert.equal((await fetchRaw(spa.port, '/some/route')).body.toString(), '<h1>new home</h1>\n');
  } finally {
    writeFileSync(join(dir, 'index.html'), '<h1>home</h1>\n');
  }
});

test('/healthz and /readyz answer 200 ok while serving', async () => {
  for (const path of ['/healthz', '/readyz', '/readyz?verbose']) {
    const res = await fetchRaw(plain.port, path);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'ok\n');
    assert.equal(res.headers['cache-control'], 'no-store');
  }
  assert.equal((await fetchRaw(plain.port, '/healthz', { method: 'HEAD' })).body.length, 0);
});

test('access log, combined: one line per response on stdout', async () => {
  await fetchRaw(plain.port, '/app.js?v=1', { headers: { referer: 'http://ref.example/', 'user-agent': 'keel-test "quoted"' } });
  await fetchRaw(plain.port, '/nothing-here.txt');
  const line = await plain.waitFor(/^.*nothing-here\.txt.*$/m);
  const lines = linesOf(plain.stdout()).slice(1); // after the banner
  for (const l of lines) assert.match(l, COMBINED, l);
  const app = lines.find((l) => l.includes('/app.js?v=1'));
  const [, host, , request, status, bytes, referer, agent] = COMBINED.exec(app);
  assert.equal(host, '127.0.0.1');
  assert.equal(request, 'GET /app.js?v=1 HTTP/1.1');
  assert.equal(status, '200');
  assert.equal(bytes, '16');
  assert.equal(referer, 'http://ref.example/');
  assert.equal(agent, 'keel-test \\"quoted\\"');
  assert.match(line[0], /"GET \/nothing-here\.txt HTTP\/1\.1" 404 \d+ "-" "-"$/);
  // compressed responses log the bytes sent
  await fetchRaw(plain.port, '/big.txt?logged', { headers: { 'accept-encoding': 'gzip' } });
  const [big] = await plain.waitFor(/^.*big\.txt\?logged.*$/m);
  assert.ok(Number(COMBINED.exec(big)[5]) < BIG.length / 10, big);
});

test('access log, json: one object per line with status, bytes and time taken', async () => {
  await fetchRaw(spa.port, '/app.js?json', { headers: { 'user-agent': 'json-test' } });
  const [line] = await spa.waitFor(/^\{.*app\.js\?json.*\}$/m);
  const entry = JSON.parse(line);
  assert.equal(entry.method, 'GET');
  assert.equal(entry.url, '/app.js?json');
  assert.equal(entry.status, 200);
  assert.equal(entry.bytes, 16);
  assert.equal(entry.httpVersion, '1.1');
  assert.equal(entry.remote, '127.0.0.1');
  assert.equal(entry.userAgent, 'json-test');
  assert.equal(entry.pid, spa.child.pid);
  assert.equal(typeof entry.ms, 'number');
  assert.ok(entry.ms >= 0 && entry.ms < 5000);
  assert.ok(!Number.isNaN(Date.parse(entry.time)));
  for (const l of linesOf(spa.stdout()).slice(1)) JSON.parse(l);
});
