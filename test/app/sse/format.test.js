// keel/sse wire format: exact bytes of events, comments and retry hints, the validation errors,
// and a round trip through a spec-written event-stream parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEvent, formatComment, formatRetry } from 'keel/sse';
import { EventStreamParser, parseAll } from './helpers.js';

test('formatEvent: fields in the order event, id, retry, data, then the blank line', () => {
  assert.equal(formatEvent({ data: 'hello' }), 'data: hello\n\n');
  assert.equal(formatEvent({ event: 'tick', id: '7', retry: 2500, data: 'x' }), 'event: tick\nid: 7\nretry: 2500\ndata: x\n\n');
  assert.equal(formatEvent({ id: 42 }), 'id: 42\n\n');
  assert.equal(formatEvent({ id: '' }), 'id: \n\n');
  assert.equal(formatEvent({ data: '' }), 'data: \n\n');
});

test('formatEvent: multi-line data becomes one data: line per line, whatever the line end', () => {
  assert.equal(formatEvent({ data: 'a\nb' }), 'data: a\ndata: b\n\n');
  assert.equal(formatEvent({ data: 'a\r\nb\rc\n' }), 'data: a\ndata: b\ndata: c\ndata: \n\n');
  assert.equal(formatEvent({ data: ' leading space' }), 'data:  leading space\n\n');
  assert.equal(formatEvent({ data: 'a: b' }), 'data: a: b\n\n');
});

test('formatEvent: a non-string data is JSON on one line', () => {
  assert.equal(formatEvent({ data: { a: 1, s: 'x\ny' } }), 'data: {"a":1,"s":"x\\ny"}\n\n');
  assert.equal(formatEvent({ data: [1, 2] }), 'data: [1,2]\n\n');
  assert.equal(formatEvent({ data: null }), 'data: null\n\n');
  assert.equal(formatEvent({ data: 3 }), 'data: 3\n\n');
  assert.throws(() => formatEvent({ data: () => 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('formatEvent: CR or LF in event or id, NUL in id: ERR_INVALID_CHAR', () => {
  for (const event of ['a\nb', 'a\rb', 'a\r\n']) assert.throws(() => formatEvent({ event, data: 'x' }), { code: 'ERR_INVALID_CHAR', name: 'TypeError' });
  for (const id of ['1\n2', '1\r', 'a\0b']) assert.throws(() => formatEvent({ id, data: 'x' }), { code: 'ERR_INVALID_CHAR', name: 'TypeError' });
});

test('formatEvent: retry must be a non-negative integer; an event needs a field', () => {
  assert.throws(() => formatEvent({ retry: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => formatEvent({ retry: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => formatEvent({ retry: '100' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => formatEvent({}), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => formatEvent(null), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(formatRetry(0), 'retry: 0\n\n');
  assert.throws(() => formatRetry(-5), { code: 'ERR_OUT_OF_RANGE' });
});

test('formatComment: one ":" line per line, then a blank line', () => {
  assert.equal(formatComment('hi'), ': hi\n\n');
  assert.equal(formatComment(), ':\n\n');
  assert.equal(formatComment('a\nb'), ': a\n: b\n\n');
  const parsed = parseAll(formatComment('a\r\nb') + formatEvent({ data: 'after' }));
  assert.deepEqual(parsed.comments, ['a', 'b']);
  assert.deepEqual(parsed.events.map((e) => e.data), ['after']);
});

test('round trip: what formatEvent writes, a spec parser reads back (line ends normalised to LF)', () => {
  const samples = ['', 'plain', 'two\nlines', 'crlf\r\nand\rcr', '\n\n', 'tail\n', 'ünïcødé ✓ 🚀', ': not a comment', 'data: nested', ' x ', '\u2028sep'];
  let text = '';
  for (const [i, data] of samples.entries()) text += formatEvent({ event: `e${i}`, id: `id-${i}`, data });
  const parsed = parseAll(text);
  assert.equal(parsed.events.length, samples.length);
  for (const [i, data] of samples.entries()) {
    assert.deepEqual(parsed.events[i], { type: `e${i}`, data: data.replace(/\r\n|\r/g, '\n'), lastEventId: `id-${i}` });
  }
});

test('round trip through the parser byte by byte: CRLF split across chunks, BOM skipped', () => {
  const text = '\ufeffevent: a\r\ndata: 1\r\n\r\ndata: 2\rdata: 3\r\r: c\n\n';
  const whole = parseAll(text);
  const bytewise = new EventStreamParser();
  for (const byte of Buffer.from(text)) bytewise.push(Buffer.from([byte]));
  bytewise.end();
  assert.deepEqual(whole.events, [{ type: 'a', data: '1', lastEventId: '' }, { type: 'message', data: '2\n3', lastEventId: '' }]);
  assert.deepEqual(bytewise.events, whole.events);
  assert.deepEqual(bytewise.comments, ['c']);
});
