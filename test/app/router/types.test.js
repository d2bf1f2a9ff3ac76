// keel/router's typed params: test/app/router/typed-params.ts must type-check under strict
// NodeNext with tsc (the project's own), its `@ts-expect-error` lines included.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('typed-params.ts compiles with tsc --strict (params typed from the path literal)', { timeout: 60_000 }, async () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'test/app/router/typed-params.ts'];
  const result = await new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, timeout: 55_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, output: `${stdout}${stderr}` }));
  });
  assert.equal(result.output, '');
  assert.equal(result.code, 0);
});
