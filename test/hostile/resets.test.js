// Abrupt resets at every phase of an exchange (phases.js): the client leaves with a TCP RST
// (socket.resetAndDestroy()) or a FIN (socket.destroy()) mid request-line, mid headers, mid body
// (Content-Length and chunked), while the handler waits, during a large streamed response, during a
// pipelined batch, after 100 Continue, after an upgrade, and between keep-alive requests. After
// each: every request and response the handler saw got 'close' (an unfinished one 'aborted' and an
// ECONNRESET error, as node:http), a late res.end() does not throw, the server has no connection
// left, process.getActiveResourcesInfo() is back to its baseline and the server's listeners have
// not grown. The same runs against node:http give the same events.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { keel, nodeHttp, listenerCounts, resourceCounts, settleResources, waitForNoConnections } from './hostile.js';
import { PHASES, phaseServer, runPhase } from './phases.js';

const T = { timeout: 10_000 };
const MODES = ['rst', 'fin'];

/** What every request the handler saw must have gone through once its client left. */
function assertClosedCleanly(record) {
  const events = new Set(record.events);
  const what = `${record.url}: ${record.events.join(', ')}`;
  assert.ok(events.has('req close'), `req 'close' — ${what}`);
  assert.ok(events.has('res close'), `res 'close' — ${what}`);
  assert.ok(!events.has('res error'), `no res 'error' — ${what}`);
  if (events.has('res finish')) {
    // Answered before the client left.
    assert.ok(events.has('req end') && !events.has('req aborted'), what);
  } else {
    assert.ok(events.has('req aborted'), `req 'aborted' — ${what}`);
    assert.ok(events.has('req error ECONNRESET'), `req 'error' ECONNRESET — ${what}`);
  }
  if (record.url === '/wait') assert.equal(record.lateEndThrew, false, 'res.end() after the client left');
}

describe('Keel: abrupt resets at every phase', () => {
  let h;
  let baseline;
  let listeners;
  before(async () => {
    h = await phaseServer(keel);
    baseline = resourceCounts();
    listeners = listenerCounts(h.server);
  });
  after(() => h.close());

  for (const phase of PHASES) {
    for (const mode of MODES) {
      test(`${mode.toUpperCase()} ${phase.name}`, T, async () => {
        const { records, upgrades } = await runPhase(h, phase, mode);
        assert.equal(records.length, phase.requests, 'requests that reached the handler');
        for (const record of records) assertClosedCleanly(record);
        if (phase.upgrade) {
          assert.equal(upgrades.length, 1);
          assert.ok(upgrades[0].events.includes('socket close'), upgrades[0].events.join());
        }
        await waitForNoConnections(h.server);
        await settleResources(baseline);
        assert.deepEqual(listenerCounts(h.server), listeners, "the server's listeners");
      });
    }
  }
});

test('parity: node:http sees the same request and response events at every phase', { timeout: 20_000 }, async () => {
  const seen = {};
  for (const impl of [nodeHttp, keel]) {
    const name = impl === keel ? 'keel' : 'node:http';
    const h = await phaseServer(impl);
    try {
      for (const phase of PHASES) {
        for (const mode of MODES) {
          const { records, upgrades } = await runPhase(h, phase, mode);
          const summary = records.map((r) => `${r.url}: ${[...new Set(r.events)].sort().join(', ')}`);
          summary.push(...upgrades.map((u) => `${u.url}: ${u.events.join(', ')}`));
          (seen[`${mode.toUpperCase()} ${phase.name}`] ??= {})[name] = summary;
        }
      }
    } finally {
      await h.close();
    }
  }
  for (const [run, { keel: k, 'node:http': n }] of Object.entries(seen)) {
    // node:http emits no 'close' on responses queued behind the one being written when the
    // connection goes (only on socket._httpMessage); Keel closes every response it created.
    const expected = run.includes('pipelined')
      ? n.map((line) => (line.includes('res close') ? line : line.replace(/req error ECONNRESET$/, 'req error ECONNRESET, res close')))
      : n;
    assert.deepEqual(k, expected, run);
  }
});
