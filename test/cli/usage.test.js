// `keel` as a command: --help and --version, usage errors (exit 2), a port in use (exit 1 with one
// line on stderr), a missing directory, and --tls-cert/--tls-key (HTTPS through keel/https).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKeel, startKeel } from './keel-process.js';

test('--help: usage, both commands, every option with its default, on stdout, exit 0', async () => {
  const { code, stdout, stderr } = await runKeel(['--help']);
  assert.equal(code, 0);
  assert.equal(stderr, '');
  assert.match(stdout, /^Usage: keel <command> \[options\]/);
  for (const word of ['serve [dir]', 'proxy --to URL[,URL]', '--gzip', '--cors', '--spa', '--listing', '--cache', '--workers [N]', '--log FORMAT',
    '--grace MS', '--drain MS', '--tls-cert FILE', '--tls-key FILE', '/healthz', '/readyz', 'SIGHUP', '-h, --help', '--version']) {
    assert.ok(stdout.includes(word), word);
  }
  assert.match(stdout, /default: \$PORT, else 3000/);
  assert.match(stdout, /default: 0\.0\.0\.0/);
  assert.match(stdout, /default: combined/);
  assert.match(stdout, /default: 10000/);
  assert.equal((await runKeel(['serve', '-h'])).stdout, stdout);
});

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const { code, stdout } = await runKeel(['--version']);
  assert.equal(code, 0);
  assert.equal(stdout, `keel ${version}\n`);
});

test('an unknown flag, a bad value, no command: a clear message on stderr, exit 2, nothing on stdout', async () => {
  for (const [args, message] of [
    [['serve', '--bogus'], "keel: unknown option '--bogus' for 'keel serve'\nRun 'keel --help' for usage.\n"],
    [['serve', '--port', 'abc'], "keel: --port must be an integer from 0 to 65535, not 'abc'\nRun 'keel --help' for usage.\n"],
    [['proxy'], "keel: 'keel proxy' needs --to URL[,URL] (the upstream origins)\nRun 'keel --help' for usage.\n"],
    [[], "keel: a command is needed: serve or proxy\nRun 'keel --help' for usage.\n"],
  ]) {
    const { code, stdout, stderr } = await runKeel(args);
    assert.equal(code, 2, args.join(' '));
    assert.equal(stdout, '');
    assert.equal(stderr, message);
  }
});

test('a directory that does not exist: exit 2', async () => {
  const { code, stderr } = await runKeel(['serve', '/nonexistent/keel-test-dir']);
  assert.equal(code, 2);
  assert.equal(stderr, 'keel: no such directory: /nonexistent/keel-test-dir\n');
});

test('port in use: "keel: port N is already in use (EADDRINUSE)" on stderr, exit 1 (also with --workers)', async () => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address();
  try {
    for (const extra of [[], ['--workers', '2']]) {
      const { code, stdout, stderr } = await runKeel(['serve', '--port', String(port), '--host', '127.0.0.1', ...extra]);
      assert.equal(code, 1, extra.join(' '));
      assert.equal(stdout, '');
      assert.equal(stderr, `keel: port ${port} is already in use (EADDRINUSE)\n`);
    }
  } finally {
    blocker.close();
  }
});

test('--tls-cert/--tls-key: HTTPS through keel/https createServer; an unreadable or invalid file is exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-cli-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'index.html'), 'secure\n');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const keel = await startKeel(['serve', dir, '--port', '0', '--host', '127.0.0.1', '--tls-cert', cert, '--tls-key', key, '--log', 'off']);
  t.after(() => keel.stop());
  assert.match(keel.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
  const body = await new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: keel.port, path: '/', rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    }).on('error', reject);
  });
  assert.equal(body, '200 secure\n');
  const missing = await runKeel(['serve', dir, '--tls-cert', join(dir, 'nope.pem'), '--tls-key', key]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^keel: cannot read --tls-cert .*nope\.pem \(ENOENT\)/);
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate');
  const junk = await runKeel(['serve', dir, '--tls-cert', join(dir, 'junk.pem'), '--tls-key', key]);
  assert.equal(junk.code, 2);
  assert.match(junk.stderr, /^keel: --tls-cert\/--tls-key: /);
});
