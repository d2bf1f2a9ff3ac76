// DESIGN.md's layering rule, enforced: a layer imports only from the layers below it, and the
// protocol layer (src/http1/) imports no I/O module at all (no sockets, streams, timers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const RANK = { common: 0, http1: 1, message: 2, server: 3, client: 3, app: 4, cli: 5 };

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(path) {
  const top = relative(root, path).split(/[\\/]/)[0];
  return /\.(ts|js)$/.test(top) ? 'index' : top;
}

function importsOf(path) {
  const text = readFileSync(path, 'utf8');
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
  const bare = [...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]);
  const dynamic = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]);
  return [...specs, ...bare, ...dynamic];
}

const files = sourceFiles(root);

test('the source tree has the layers DESIGN.md names', () => {
  const layers = new Set(files.map(layerOf));
  for (const layer of ['common', 'http1', 'message', 'server', 'index']) assert.ok(layers.has(layer), layer);
});

test('each layer imports only from the layers below it (or itself)', () => {
  const violations = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === 'index') continue;
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const to = layerOf(resolve(dirname(file), spec));
      // Batteries are built only on the public API: the top-level entry files and src/app itself.
      if (from === 'app' || from === 'cli') {
        if (to !== 'index' && to !== 'app' && to !== from) violations.push(`${relative(root, file)} imports ${spec} (${from} -> ${to}: only the public API)`);
        continue;
      }
      if (to === 'index' || RANK[to] > RANK[from] || (RANK[to] === RANK[from] && to !== from)) {
        violations.push(`${relative(root, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('src/http1 and src/common are sans-I/O: no node:net, stream, timers, fs, http imports', () => {
  const io = /^(node:)?(net|tls|stream|timers|fs|http|https|http2|dgram|child_process|worker_threads)(\/|$)/;
  const violations = [];
  for (const file of files) {
    if (!['http1', 'common'].includes(layerOf(file))) continue;
    for (const spec of importsOf(file)) if (io.test(spec)) violations.push(`${relative(root, file)} imports ${spec}`);
    if (/\b(setTimeout|setInterval|setImmediate|Date\.now|new Date)\b/.test(readFileSync(file, 'utf8'))) {
      violations.push(`${relative(root, file)} uses timers or the clock`);
    }
  }
  assert.deepEqual(violations, []);
});
