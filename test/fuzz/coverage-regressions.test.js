// Replays the coverage-guided fuzzing's findings and a sample of its seeds through the same
// invariant checks the Jazzer targets run (test/fuzz/coverage/: targets/*.js, invariants.js), under
// plain `node --test`, no Jazzer needed.
//
// - regressions/<target>/<file>: every input a fuzz run found (run.js copies them there). Checked
//   strictly (known bugs included). A file named `known-<bug>-*` reproduces an entry of KNOWN_BUGS
//   that is not fixed yet: its strict check is a todo, and it must pass every other invariant.
// - seeds: every seed of each target (seeds.js), with known bugs not checked (several seeds close
//   the connection, which the known offset-after-close bug trips).
// - the glibc patch of Jazzer's addon (jazzer-glibc.js) on the installed addon: idempotent, and
//   leaves no import the patch is meant to remove.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KNOWN_BUGS } from './coverage/invariants.js';
import { seedsFor } from './coverage/seeds.js';
import { ORIGINAL_ADDON, patchAddon } from './coverage/jazzer-glibc.js';
import * as request from './coverage/targets/request.js';
import * as response from './coverage/targets/response.js';
import * as chunked from './coverage/targets/chunked.js';
import * as proxy from './coverage/targets/proxy.js';

const TARGETS = { request, response, chunked, proxy };
const REGRESSIONS = fileURLToPath(new URL('./coverage/regressions/', import.meta.url));

for (const [name, target] of Object.entries(TARGETS)) {
  const dir = join(REGRESSIONS, name);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).sort() : [];
  for (const file of files) {
    const data = readFileSync(join(dir, file));
    const bug = Object.keys(KNOWN_BUGS).find((id) => file.startsWith(`known-${id}-`));
    if (bug) {
      test(`${name} regression ${file}: every invariant but the known bug`, () => target.check(data, { strict: false }));
      test(`${name} regression ${file}`, { todo: `KNOWN BUG: ${KNOWN_BUGS[bug]}` }, () => target.check(data, { strict: true }));
    } else {
      test(`${name} regression ${file}`, () => target.check(data, { strict: true }));
    }
  }

  test(`${name} seeds keep the invariants`, () => {
    const seeds = seedsFor(name);
    assert.ok(seeds.length > 10);
    for (const [seed, data] of seeds) {
      try {
        target.check(data, { strict: false });
      } catch (err) {
        err.message = `seed ${seed}: ${err.message}`;
        throw err;
      }
    }
  });
}

test('the response target encodes request methods in its first byte', () => {
  for (const methods of [['GET'], ['HEAD', 'GET'], ['CONNECT', 'POST', 'HEAD']]) {
    const full = [0, 1, 2].map((i) => methods[Math.min(i, methods.length - 1)]);
    assert.deepEqual(response.methodsOf(response.selectorOf(methods)), full);
  }
});

test('the glibc patch of the Jazzer addon is idempotent', { skip: !existsSync(ORIGINAL_ADDON) && 'no prebuilt addon for this platform' }, () => {
  const original = readFileSync(ORIGINAL_ADDON);
  const once = patchAddon(original);
  assert.equal(once.buf.length, original.length);
  for (const symbol of ['__isoc23_strtol', '__isoc23_strtoul']) {
    if (original.includes(Buffer.from(`\0${symbol}\0`))) assert.ok(once.changes.some((c) => c.startsWith(`${symbol} `)), symbol);
  }
  const twice = patchAddon(once.buf);
  assert.deepEqual(twice.changes, [], 'patching a patched addon changes nothing');
  assert.ok(twice.buf.equals(once.buf));
});
