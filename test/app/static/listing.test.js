// keel/static: the opt-in directory listing. Names that look like markup are escaped, links are
// percent-encoded and relative, dotfiles are hidden unless allowed, and each link leads back to
// the file it names.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveStatic } from 'keel/static';
import { makeTree, request, serving } from './fixtures.js';

const NASTY = '<img src=x onerror=alert(1)>.txt';
const QUOTES = 'a&b "q" \'s\'.txt';
const SPACED = 'sp ace#?%.txt';
const SCHEME = 'javascript:alert(1)';

let tree;
before(() => {
  tree = makeTree({
    [`dir/${NASTY}`]: 'nasty\n',
    [`dir/${QUOTES}`]: 'quotes\n',
    [`dir/${SPACED}`]: 'spaced\n',
    [`dir/${SCHEME}`]: 'scheme\n',
    'dir/child/x.txt': 'x\n',
    'dir/.hidden': 'hidden\n',
    'dir/é.txt': 'accent\n',
    'top.txt': 'top\n',
  });
});
after(() => tree.cleanup());

test('listing: escaped names, encoded relative links, directories with "/", dotfiles hidden', async () => {
  await serving(serveStatic(tree.root, { listing: true }), async (port) => {
    const res = await request(port, '/dir/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(Number(res.headers['content-length']), res.body.length);
    const html = res.body.toString('utf8');
    assert.ok(html.includes('<title>Index of /dir/</title>'));
    assert.ok(!html.includes('<img'), 'raw markup from a file name');
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;.txt'));
    assert.ok(html.includes('a&amp;b &quot;q&quot; &#39;s&#39;.txt'));
    assert.ok(html.includes('href="./%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E.txt"'));
    assert.ok(html.includes('href="./sp%20ace%23%3F%25.txt"'));
    assert.ok(html.includes('href="./javascript%3Aalert(1)"'));
    assert.ok(html.includes('href="./child/">child/</a>'));
    assert.ok(html.includes('href="./%C3%A9.txt">é.txt</a>'));
    assert.ok(html.includes('href="../"'));
    assert.ok(!html.includes('.hidden'));
    // every link leads back to its file
    const hrefs = [...html.matchAll(/href="\.\/([^"]+)"/g)].map((m) => m[1].replaceAll('&amp;', '&').replaceAll('&#39;', "'"));
    assert.equal(hrefs.length, 6);
    for (const href of hrefs) {
      const target = await request(port, `/dir/${href}`);
      assert.ok(target.status === 200, `${href}: ${target.status}`);
    }
  });
});

test('the root listing has no parent link; HEAD gets the head only', async () => {
  await serving(serveStatic(tree.root, { listing: true }), async (port) => {
    const res = await request(port, '/');
    assert.equal(res.status, 200);
    const html = res.body.toString();
    assert.ok(!html.includes('href="../"'));
    assert.ok(html.includes('href="./top.txt"'));
    const head = await request(port, '/', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(res.body.length));
    assert.equal(head.body.length, 0);
  });
});

test("dotfiles: 'allow' lists them too", async () => {
  await serving(serveStatic(tree.root, { listing: true, dotfiles: 'allow' }), async (port) => {
    const html = (await request(port, '/dir/')).body.toString();
    assert.ok(html.includes('href="./.hidden"'));
  });
});

test('an index file wins over the listing; listing is off by default (404)', async () => {
  await serving(serveStatic(tree.root, { listing: true, index: 'top.txt' }), async (port) => {
    assert.equal((await request(port, '/')).body.toString(), 'top\n');
  });
  await serving(serveStatic(tree.root), async (port) => {
    assert.equal((await request(port, '/dir/')).status, 404);
  });
});
