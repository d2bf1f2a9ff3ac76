// parseFieldLine with the previous message's field lines: a line byte-equal to the one at the same
// position before (up to its OWS) skips validation and reuses the earlier strings. Whatever the
// previous lines, the result must be exactly what parsing without them gives: the same name, value
// and kind, or the same ParseError (code and offset). Hand-picked near misses, then 30,000 seeded
// random pairs of a previous line and a mutation of it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFieldLine } from '../../dist/http1/field-line.js';

const bytes = (s) => Buffer.from(s, 'latin1');

/** Parse `line` (no CRLF) after the field lines `before`; returns the pushed pair and kind, or the error. */
function parse(line, previous) {
  const buf = bytes(`${line}\r\n`);
  const fields = [];
  try {
    const kind = parseFieldLine(buf, 0, buf.length - 2, 100, fields, previous);
    return { fields, kind };
  } catch (err) {
    return { error: err.code, offset: err.offset };
  }
}

/** The previous message's field lines for `line`, as its parse left them (null when it fails). */
function previousOf(line) {
  const result = parse(line, null);
  return result.error === undefined ? result.fields : null;
}

test('near misses of a repeated line parse exactly as without the previous message', () => {
  const cases = [
    ['Host: a', 'Host: a'],
    ['Host: a', 'Host:a'],
    ['Host: a', 'Host: \t a \t '],
    ['Host: a', 'host: a'],
    ['Host: a', 'Host: ab'],
    ['Host: a', 'Host : a'],
    ['X-A: abc', 'X-A: abc\x01'],
    ['X-A: abc', 'X-A: ab\x7f'],
    ['X-A: abc', 'X-A: abc\rd'],
    ['X-A: abc', 'X-A: abc x'],
    ['X-A: abc', 'X-A: abc\x00'],
    ['X-A: abc', 'X-AB: abc'],
    ['X-A: abc', 'X-A:'],
    ['X-A: abc', ' X-A: abc'],
    ['X-A: abc', 'X-A'],
    ['X-A:', 'X-A: z'],
    ['X-A:', 'X-A:  '],
    ['X-A: a b', 'X-A: a  b'],
    ['Content-Length: 5', 'Content-Length: 5'],
    ['Content-Length: 5', 'Content-Length: 5\t'],
    ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
    ['Connection: close', 'Connection: close'],
    ['X-Obs: caf\xe9', 'X-Obs: caf\xe9'],
  ];
  for (const [before, line] of cases) {
    const previous = previousOf(before);
    assert.notEqual(previous, null, before);
    assert.deepEqual(parse(line, previous), parse(line, null), `${JSON.stringify(before)} then ${JSON.stringify(line)}`);
  }
});

test('30,000 random mutations of a previous line parse exactly as without it', () => {
  let seed = 0x2545f491;
  const random = (n) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const alphabet = ['a', 'B', '-', ':', ' ', '\t', '\r', '\x00', '\x01', '\x7f', '\xe9', '"', '(', ',', ';', '=', '5'];
  const names = ['Host', 'X-A', 'content-length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'Expect', 'Date'];
  const values = ['a', 'chunked', 'close', '5', '', 'a b', 'caf\xe9', 'Sat, 21 Nov 2026 10:00:00 GMT'];
  let repeated = 0;
  for (let n = 0; n < 30_000; n++) {
    const before = `${names[random(names.length)]}:${' '.repeat(random(2))}${values[random(values.length)]}`;
    let line = before;
    const edits = random(4);
    for (let e = 0; e < edits; e++) {
      const at = random(line.length + 1);
      const what = random(3);
      if (what === 0) line = line.slice(0, at) + alphabet[random(alphabet.length)] + line.slice(at);
      else if (what === 1) line = line.slice(0, at) + line.slice(at + 1);
      else line = line.slice(0, at) + alphabet[random(alphabet.length)] + line.slice(at + 1);
    }
    if (line === before) repeated++;
    const previous = previousOf(before);
    assert.deepEqual(parse(line, previous), parse(line, null), `${JSON.stringify(before)} then ${JSON.stringify(line)}`);
  }
  assert.ok(repeated > 5000, `only ${repeated} unchanged lines`);
});
