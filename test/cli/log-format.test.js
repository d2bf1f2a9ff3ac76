// Access log lines (dist/cli/log-format.js): the Combined Log Format with Apache's escaping, and
// the JSON rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clfTimestamp, escapeLogField, formatCombined, formatJson } from '../../dist/cli/log-format.js';
import { COMBINED } from './keel-process.js';

const record = {
  start: new Date(2000, 9, 10, 13, 55, 36), durationMs: 1.23456, pid: 42, remote: '127.0.0.1', method: 'GET',
  url: '/apache_pb.gif', httpVersion: '1.0', status: 200, bytes: 2326, referer: 'http://www.example.com/start.html',
  userAgent: 'Mozilla/4.08 [en] (Win98; I ;Nav)', aborted: false,
};

test('combined: Apache\'s example line, local time with its offset', () => {
  const line = formatCombined(record);
  const offset = -record.start.getTimezoneOffset();
  const zone = `${offset >= 0 ? '+' : '-'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}${String(Math.abs(offset) % 60).padStart(2, '0')}`;
  assert.equal(line, `127.0.0.1 - - [10/Oct/2000:13:55:36 ${zone}] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`);
  assert.match(line, COMBINED);
  assert.equal(clfTimestamp(new Date(2026, 0, 2, 3, 4, 5)).slice(0, 20), '02/Jan/2026:03:04:05');
});

test('combined: "-" for no body, no referer, no user agent; quotes, backslashes and control bytes escaped', () => {
  const line = formatCombined({ ...record, bytes: 0, referer: undefined, userAgent: 'a"b\\c\x01\u00e9' });
  assert.match(line, / 200 - "-" "a\\"b\\\\c\\x01\\xe9"$/);
  assert.match(line, COMBINED);
  assert.equal(escapeLogField('x\ny'), 'x\\x0ay');
});

test('json: one object with the duration in ms', () => {
  const object = JSON.parse(formatJson(record));
  assert.deepEqual(object, {
    time: record.start.toISOString(), pid: 42, remote: '127.0.0.1', method: 'GET', url: '/apache_pb.gif',
    httpVersion: '1.0', status: 200, bytes: 2326, ms: 1.235, referer: 'http://www.example.com/start.html',
    userAgent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
  });
  assert.equal(JSON.parse(formatJson({ ...record, aborted: true })).aborted, true);
  assert.ok(!formatJson(record).includes('\n'));
});
