// keel/static: what a request path may reach. Traversal attempts are sent as raw bytes (fetch
// would normalise them) and must never return a byte of a file outside the root; symlinks leading
// out of the root (one to /etc) are refused; dotfiles follow the policy; fallthrough, 405, HEAD.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from 'keel/static';
import { makeTree, request, serving, SECRET } from './fixtures.js';

let tree;
before(() => {
  tree = makeTree({
    'a.txt': 'hello\n',
    'sub/b.txt': 'bee\n',
    'sub/index.html': '<p>sub index</p>\n',
    'empty/': '',
    'name with space.txt': 'spaced\n',
    'weird.unknownext': 'bytes',
    '%2e%2e': 'a file literally named %2e%2e\n',
    '.env': 'SECRET_ENV=1\n',
    '.git/config': '[core]\n',
    'inside-target.txt': 'linked inside\n',
  });
  symlinkSync('/etc', join(tree.root, 'etc-link'));
  symlinkSync('/etc/passwd', join(tree.root, 'passwd-link'));
  symlinkSync(tree.secret, join(tree.root, 'secret-link.txt'));
  symlinkSync(tree.dir, join(tree.root, 'parent-link'));
  symlinkSync(join(tree.root, 'inside-target.txt'), join(tree.root, 'inside-link.txt'));
  symlinkSync(join(tree.root, 'sub'), join(tree.root, 'sub-link'));
});
after(() => tree.cleanup());

const PASSWD = readFileSync('/etc/passwd', 'latin1');

function assertNoLeak(res) {
  const body = res.body.toString('latin1');
  assert.ok(!body.includes(SECRET), 'the secret outside the root leaked');
  assert.ok(!body.includes('root:'), '/etc/passwd leaked');
  if (PASSWD.length > 0) assert.notEqual(body, PASSWD);
}

describe('traversal attempts (raw request-targets)', () => {
  const cases = [
    ['/../secret.txt', 403],
    ['/sub/../../secret.txt', 403],
    ['/%2e%2e/secret.txt', 403],
    ['/%2E%2E/secret.txt', 403],
    ['/.%2e/secret.txt', 403],
    ['/%2e./secret.txt', 403],
    ['/sub/%2e%2e/%2e%2e/secret.txt', 403],
    ['/..%2fsecret.txt', 404],
    ['/..%2Fsecret.txt', 404],
    ['/sub%2f..%2f..%2fsecret.txt', 404],
    ['/%2fetc%2fpasswd', 404],
    ['/..%5csecret.txt', 404],
    ['/..%5C..%5Csecret.txt', 404],
    ['/..\\secret.txt', 404],
    ['/sub\\..\\..\\secret.txt', 404],
    ['//etc/passwd', 404],
    ['/%252e%252e/secret.txt', 404],
    ['/a.txt%00', 400],
    ['/a.txt%00.html', 400],
    ['/%00/../secret.txt', 400],
    ['/%zz', 400],
    ['/%2', 400],
    ['/abc%', 400],
    ['/%c0%ae%c0%ae/secret.txt', 400],
    ['/%e0%a4%a/secret.txt', 400],
    ['/%ff', 400],
    ['http://test/../secret.txt', 403],
    ['http://test/%2e%2e/secret.txt', 403],
    ['/etc-link/passwd', 404],
    ['/passwd-link', 404],
    ['/secret-link.txt', 404],
    ['/parent-link/secret.txt', 404],
  ];
  for (const [target, status] of cases) {
    test(`GET ${target} → ${status}, nothing from outside the root`, async () => {
      await serving(serveStatic(tree.root), async (port) => {
        const res = await request(port, target);
        assert.equal(res.status, status, res.raw.toString('latin1'));
        assertNoLeak(res);
      });
    });
  }

  test('the same attempts as middleware never fall through to a handler that would leak', async () => {
    const handler = serveStatic(tree.root);
    let nextCalls = 0;
    await serving((req, res) => handler(req, res, () => {
      nextCalls++;
      res.statusCode = 404;
      res.end('next\n');
    }), async (port) => {
      for (const [target, status] of cases) {
        const res = await request(port, target);
        assert.equal(res.status, status, target);
        assertNoLeak(res);
      }
    });
    // Only the "names no file" refusals (404) fall through; 400 and 403 are answered.
    assert.equal(nextCalls, cases.filter(([, status]) => status === 404).length);
  });

  test('a file named literally "%2e%2e" is reached with %252e%252e, never as ".."', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const res = await request(port, '/%252e%252e');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'a file literally named %2e%2e\n');
    });
  });
});

describe('symbolic links', () => {
  test('a link inside the root to a file inside the root is followed by default', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const file = await request(port, '/inside-link.txt');
      assert.equal(file.status, 200);
      assert.equal(file.body.toString(), 'linked inside\n');
      const dir = await request(port, '/sub-link/b.txt');
      assert.equal(dir.status, 200);
      assert.equal(dir.body.toString(), 'bee\n');
    });
  });

  test('a link out of the root and back in resolves inside the root: served', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const res = await request(port, '/parent-link/root/a.txt');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello\n');
    });
  });

  test('followSymlinks: false refuses every link, inside or out (404)', async () => {
    await serving(serveStatic(tree.root, { followSymlinks: false, fallthrough: false }), async (port) => {
      for (const target of ['/inside-link.txt', '/sub-link/b.txt', '/etc-link/passwd', '/secret-link.txt', '/parent-link/root/a.txt']) {
        const res = await request(port, target);
        assert.equal(res.status, 404, target);
        assertNoLeak(res);
      }
      assert.equal((await request(port, '/a.txt')).status, 200);
    });
  });

  test('followSymlinks: true still never follows a link out of the root', async () => {
    await serving(serveStatic(tree.root, { followSymlinks: true }), async (port) => {
      for (const target of ['/etc-link/passwd', '/etc-link/hostname', '/passwd-link', '/secret-link.txt', '/parent-link/secret.txt']) {
        const res = await request(port, target);
        assert.equal(res.status, 404, target);
        assertNoLeak(res);
      }
    });
  });
});

describe('dotfiles', () => {
  const targets = ['/.env', '/.git/config', '/%2eenv', '/.git/', '/sub/../.env'];
  test("default ('ignore'): answered as if absent, 404", async () => {
    await serving(serveStatic(tree.root), async (port) => {
      for (const target of ['/.env', '/.git/config', '/%2eenv', '/.git/']) {
        const res = await request(port, target);
        assert.equal(res.status, 404, target);
        assert.ok(!res.body.toString().includes('SECRET_ENV'));
      }
    });
  });

  test("'deny': 403", async () => {
    await serving(serveStatic(tree.root, { dotfiles: 'deny' }), async (port) => {
      for (const target of ['/.env', '/.git/config', '/%2eenv', '/.git/']) {
        const res = await request(port, target);
        assert.equal(res.status, 403, target);
        assert.ok(!res.body.toString().includes('SECRET_ENV'));
      }
    });
  });

  test("'allow': served", async () => {
    await serving(serveStatic(tree.root, { dotfiles: 'allow' }), async (port) => {
      const env = await request(port, '/.env');
      assert.equal(env.status, 200);
      assert.equal(env.body.toString(), 'SECRET_ENV=1\n');
      assert.equal((await request(port, '/.git/config')).status, 200);
      assert.equal((await request(port, targets[4])).status, 403); // ".." is refused whatever the policy
    });
  });
});

describe('files, directories, methods', () => {
  test('GET a file: 200, type with charset, length, body; HEAD: same head, no body', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const res = await request(port, '/a.txt');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['content-length'], '6');
      assert.equal(res.headers['accept-ranges'], 'bytes');
      assert.equal(res.headers['cache-control'], 'public, max-age=0');
      assert.equal(res.body.toString(), 'hello\n');
      const head = await request(port, '/a.txt', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '6');
      assert.equal(head.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(head.headers.etag, res.headers.etag);
      assert.equal(head.body.length, 0);
    });
  });

  test('percent-encoded names, unknown extensions, absolute-form targets, query strings', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const spaced = await request(port, '/name%20with%20space.txt?x=1');
      assert.equal(spaced.status, 200);
      assert.equal(spaced.body.toString(), 'spaced\n');
      const unknown = await request(port, '/weird.unknownext');
      assert.equal(unknown.headers['content-type'], 'application/octet-stream');
      const absolute = await request(port, 'http://test/sub/b.txt');
      assert.equal(absolute.status, 200);
      assert.equal(absolute.body.toString(), 'bee\n');
      const dotted = await request(port, '/./sub/./b.txt');
      assert.equal(dotted.status, 200);
    });
  });

  test('a directory without its slash: 301 to it, query kept, leading slashes collapsed', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const res = await request(port, '/sub?x=1&y=2');
      assert.equal(res.status, 301);
      assert.equal(res.headers.location, '/sub/?x=1&y=2');
      const doubled = await request(port, '//sub');
      assert.equal(doubled.status, 301);
      assert.equal(doubled.headers.location, '/sub/');
      const head = await request(port, '/sub', { method: 'HEAD' });
      assert.equal(head.status, 301);
      assert.equal(head.body.length, 0);
    });
  });

  test('redirect: false makes the slashless directory a 404', async () => {
    await serving(serveStatic(tree.root, { redirect: false }), async (port) => {
      assert.equal((await request(port, '/sub')).status, 404);
    });
  });

  test('index files: default index.html, a custom list, or none', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      const res = await request(port, '/sub/');
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.body.toString(), '<p>sub index</p>\n');
      assert.equal((await request(port, '/empty/')).status, 404);
      assert.equal((await request(port, '/')).status, 404);
    });
    await serving(serveStatic(tree.root, { index: ['missing.html', 'b.txt'] }), async (port) => {
      const res = await request(port, '/sub/');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'bee\n');
    });
    await serving(serveStatic(tree.root, { index: false }), async (port) => {
      assert.equal((await request(port, '/sub/')).status, 404);
    });
  });

  test('a file asked for as a directory ("/a.txt/") is not found', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      assert.equal((await request(port, '/a.txt/')).status, 404);
      assert.equal((await request(port, '/a.txt/x')).status, 404);
    });
  });

  test('methods other than GET/HEAD: 405 with Allow, or next() when falling through', async () => {
    await serving(serveStatic(tree.root), async (port) => {
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
        const res = await request(port, '/a.txt', { method, headers: { 'Content-Length': '0' } });
        assert.equal(res.status, 405, method);
        assert.equal(res.headers.allow, 'GET, HEAD');
      }
    });
    const handler = serveStatic(tree.root);
    await serving((req, res) => handler(req, res, () => res.end('next saw ' + req.method)), async (port) => {
      const res = await request(port, '/a.txt', { method: 'POST', headers: { 'Content-Length': '0' } });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'next saw POST');
    });
    const strict = serveStatic(tree.root, { fallthrough: false });
    await serving((req, res) => strict(req, res, () => res.end('next')), async (port) => {
      const res = await request(port, '/a.txt', { method: 'DELETE' });
      assert.equal(res.status, 405);
    });
  });

  test('not found: next() by default, 404 with fallthrough: false or without next', async () => {
    const handler = serveStatic(tree.root);
    await serving((req, res) => handler(req, res, () => res.end('fell through')), async (port) => {
      const res = await request(port, '/missing.txt');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'fell through');
    });
    const strict = serveStatic(tree.root, { fallthrough: false });
    await serving((req, res) => strict(req, res, () => res.end('fell through')), async (port) => {
      const res = await request(port, '/missing.txt');
      assert.equal(res.status, 404);
      assert.equal(res.body.toString(), 'Not Found\n');
    });
    await serving(serveStatic(tree.root), async (port) => {
      assert.equal((await request(port, '/missing.txt')).status, 404);
    });
  });

  test('a root that does not exist answers 404; bad options throw with a code', async () => {
    await serving(serveStatic(join(tree.dir, 'nope')), async (port) => {
      assert.equal((await request(port, '/a.txt')).status, 404);
    });
    assert.throws(() => serveStatic(''), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => serveStatic(tree.root, { dotfiles: 'show' }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => serveStatic(tree.root, { maxAge: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => serveStatic(tree.root, { index: ['../x'] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => serveStatic(tree.root, { precompressed: ['zstd'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  });

  test('Cache-Control from maxAge / immutable, kept when already set, off with cacheControl: false; setHeaders hook', async () => {
    await serving(serveStatic(tree.root, { maxAge: 3600.7, immutable: true }), async (port) => {
      assert.equal((await request(port, '/a.txt')).headers['cache-control'], 'public, max-age=3600, immutable');
    });
    const handler = serveStatic(tree.root, { setHeaders: (res, path, stats) => res.setHeader('X-Size', String(stats.size)) });
    await serving((req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      handler(req, res);
    }, async (port) => {
      const res = await request(port, '/a.txt');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal(res.headers['x-size'], '6');
    });
    await serving(serveStatic(tree.root, { cacheControl: false }), async (port) => {
      assert.equal((await request(port, '/a.txt')).headers['cache-control'], undefined);
    });
  });
});
