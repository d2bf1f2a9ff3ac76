// Benchmark report: bench/RESULTS.md and bench/chart.svg, written from the committed result files
// (bench/results.json, bench/client-results.json, and bench/conns-results.json when present)
// without measuring anything.
//
//   node bench/report.js            (or: npm run bench -- --report)
//
// bench/run.js imports writeReport() for `--report`; after a measured run (`--report` together with
// --server / --client / ...) it is called once the sections are done, so it uses the fresh results.
// Any file may be missing (that section is then left out); a partial run (one --scenario, some
// --impls or --clients) reports what it measured. Reference ceilings (nginx `return 200`,
// Bun.serve, bare node:net) get a section of their own and are never judged as targets. The
// memory row comes from `npm run bench:conns` (bench/conns.js). The chart is a hand-written SVG,
// no dependencies.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const SERVER_RESULTS = path.join(BENCH_DIR, 'results.json');
const CLIENT_RESULTS = path.join(BENCH_DIR, 'client-results.json');
const CONNS_RESULTS = path.join(BENCH_DIR, 'conns-results.json');
const RESULTS_MD = path.join(BENCH_DIR, 'RESULTS.md');
const CHART_SVG = path.join(BENCH_DIR, 'chart.svg');

// The client section's order in the report (Keel's first, then the references).
const CLIENT_ORDER = ['keel-promise', 'keel-request', 'undici-request', 'undici-pipelining', 'node-agent', 'fetch'];
// The GET / JSON scenarios (Keel vs node:http and Fastify), in table order.
const BASIC_SCENARIOS = ['keepalive', 'pipeline', 'json', 'close'];
// The reference ceilings, in table order (bench/launch.js).
const CEILINGS = ['nginx', 'bun', 'bare-net'];
const CEILING_LABEL = { nginx: 'nginx (`return 200`)', bun: 'Bun.serve', 'bare-net': 'bare node:net' };
// The chart's group titles, two lines each (a two-bar group is narrow).
const SCENARIO_SHORT = {
  keepalive: ['keep-alive', 'GET'],
  pipeline: ['pipelined', 'GET x16'],
  json: ['1 KiB JSON', 'POST echo'],
  close: ['Connection:', 'close'],
  api: ['router + JSON API', '(20 routes)'],
  static: ['static', '1 MiB file'],
};
// A ceiling using less of its core than this was held back by something else (wrk, the machine).
const SATURATED_CPU = 0.9;

// ---------------------------------------------------------------- loading

function readJson(file) {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * One shape for every server scenario: { id, name, connections, impls, labels, roles, keelImpl,
 * baseline, results, ratios, ... }. Results files written before the ceilings and Fastify were
 * added had `keel` / `node` / `ratio` for the GET / JSON scenarios, and no roles: converted here.
 */
function normalizeScenario(s) {
  if (!s.impls) {
    const impls = ['keel', 'node'].filter((impl) => s[impl]);
    return {
      ...s,
      impls,
      labels: { keel: 'keel', node: 'node:http' },
      roles: { keel: 'keel', node: 'peer' },
      keelImpl: 'keel',
      baseline: 'node',
      results: Object.fromEntries(impls.map((impl) => [impl, s[impl]])),
    };
  }
  const roles = s.roles ?? Object.fromEntries(s.impls.map((impl) => [impl, impl === s.keelImpl ? 'keel' : 'peer']));
  return { ...s, roles, baseline: s.baseline ?? (s.id === 'api' ? 'fastify' : 'node') };
}

export function loadResults() {
  const server = readJson(SERVER_RESULTS);
  if (server?.scenarios) server.scenarios = server.scenarios.map(normalizeScenario);
  return { server, client: readJson(CLIENT_RESULTS), conns: readJson(CONNS_RESULTS) };
}

// ---------------------------------------------------------------- helpers

const fmtRps = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const fmtRatio = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);
const fmtPct = (x) => (x == null ? 'n/a' : `${Math.round(x * 100)} %`);
const fmtBytes = (x) => (x == null ? 'n/a' : `${Math.round(x).toLocaleString('en-US')} B`);
const fmtMiBps = (x) => (x == null ? 'n/a' : `${Math.round(x).toLocaleString('en-US')} MiB/s`);
const ratioOf = (a, b) => (a != null && b ? a / b : null);
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const cell = (s) => String(s).replace(/\|/g, '\\|');

// Errors of a server summary (the same criteria as bench/run.js).
function serverProblems(s) {
  if (!s) return ['not measured'];
  const p = [];
  if (s.non2xx) p.push(`${s.non2xx} non-2xx`);
  const se = Object.values(s.socketErrors ?? {}).reduce((a, b) => a + b, 0);
  if (se) p.push(`${se} socket error(s)`);
  if (s.failedChecks) p.push(`${s.failedChecks} failed check(s)`);
  if (s.failedRounds) p.push(`${s.failedRounds} failed round(s)`);
  return p;
}

function clientProblems(c) {
  if (!c) return ['not measured'];
  if (c.unavailable) return [`not available: ${c.unavailable}`];
  const p = [];
  if (c.errors) p.push(`${c.errors} error(s)`);
  if (c.failedRounds) p.push(`${c.failedRounds} failed round(s)`);
  return p;
}

const errCell = (p) => (p.length ? `⚠️ ${cell(p.join('; '))}` : '—');

function scenarioOf(server, id) {
  return server?.scenarios?.find((s) => s.id === id) ?? null;
}

/** The summary of `impl` in scenario `s`, or null when it was not measured. */
const resultOf = (s, impl) => s?.results?.[impl] ?? null;
const keelResult = (s) => (s?.keelImpl ? resultOf(s, s.keelImpl) : null);

function clientOf(client, id) {
  return client?.clients?.find((c) => c.id === id) ?? null;
}

const usableClient = (c) => c && !c.unavailable && c.medianRps != null;

// ---------------------------------------------------------------- targets (issue 7)

/** The memory per idle keep-alive connection, from bench/conns-results.json: Keel / node:http. */
function memoryTarget(conns) {
  const k = conns?.results?.keel;
  const n = conns?.results?.node;
  if (!k || !n) return { measured: null };
  // Judged on RSS (what the process costs the machine); heap shown beside it. Older or partial
  // files without RSS fall back to the heap.
  const metric = k.rssPerConn != null && n.rssPerConn != null ? 'rss' : 'heap';
  const kv = metric === 'rss' ? k.rssPerConn : k.heapPerConn;
  const nv = metric === 'rss' ? n.rssPerConn : n.heapPerConn;
  const ratio = ratioOf(kv, nv);
  if (ratio == null) return { measured: null };
  const heap = metric === 'rss' && k.heapPerConn != null && n.heapPerConn != null ? `; heap ${fmtBytes(k.heapPerConn)} vs ${fmtBytes(n.heapPerConn)}` : '';
  return {
    measured: { ratio, text: `${fmtRatio(ratio)} (${metric === 'rss' ? 'RSS' : 'heap'} ${fmtBytes(kv)} vs ${fmtBytes(nv)} per connection${heap}; ${conns.conns?.toLocaleString('en-US') ?? '?'} connections)` },
    max: 1,
    keelProblems: k.problems ?? [],
  };
}

// One row per target. measured: { ratio, text } or null (not measured yet); ok is judged on the
// unrounded ratio (>= min, or <= max for memory), and only when Keel had no errors.
export function targets({ server, client, conns }) {
  const rows = [];
  // Keel vs `impl` in scenario `id` (a peer: the ceilings are never targets).
  const vs = (id, impl, min) => {
    const s = scenarioOf(server, id);
    const k = keelResult(s);
    const other = resultOf(s, impl);
    if (!k || !other) return { measured: null };
    const ratio = ratioOf(k.medianRps, other.medianRps);
    const note = s.keelImpl === 'keel' ? '' : ` — ${s.labels?.[s.keelImpl] ?? s.keelImpl}`;
    const amount = s.bytesPerResponse
      ? `${fmtMiBps(k.medianMiBps)} vs ${fmtMiBps(other.medianMiBps)}`
      : `${fmtRps(k.medianRps)} vs ${fmtRps(other.medianRps)} req/s`;
    return {
      measured: ratio == null ? null : { ratio, text: `${fmtRatio(ratio)} (${amount})${note}` },
      min,
      keelProblems: serverProblems(k),
    };
  };
  // Keel has two clients; the target is judged on the faster one, both are shown.
  const cli = (baseId, min) => {
    const base = clientOf(client, baseId);
    const keels = ['keel-promise', 'keel-request'].map((id) => clientOf(client, id)).filter(usableClient);
    if (!usableClient(base) || !keels.length) return { measured: null };
    const withRatio = keels.map((k) => ({ k, ratio: ratioOf(k.medianRps, base.medianRps) })).sort((a, b) => b.ratio - a.ratio);
    const best = withRatio[0];
    const others = withRatio.slice(1).map((x) => `${x.k.id} ${fmtRatio(x.ratio)}`);
    return {
      measured: {
        ratio: best.ratio,
        text: `${fmtRatio(best.ratio)} ${best.k.id} (${fmtRps(best.k.medianRps)} vs ${fmtRps(base.medianRps)} req/s)` + (others.length ? `; ${others.join(', ')}` : ''),
      },
      min,
      keelProblems: clientProblems(best.k),
    };
  };
  rows.push({ scenario: 'keep-alive GET "Hello World"', target: '≥ 1.5x node:http', ...vs('keepalive', 'node', 1.5) });
  rows.push({ scenario: 'keep-alive GET "Hello World"', target: '≥ 1.5x Fastify', ...vs('keepalive', 'fastify', 1.5) });
  rows.push({ scenario: '16-deep pipelined GET', target: '≥ 5x node:http', ...vs('pipeline', 'node', 5) });
  rows.push({ scenario: '1 KiB JSON POST echo', target: '≥ 2x node:http', ...vs('json', 'node', 2) });
  rows.push({ scenario: 'Connection: close', target: '≥ 1.3x node:http', ...vs('close', 'node', 1.3) });
  rows.push({ scenario: 'router + JSON API (20 routes)', target: '≥ 1.5x Fastify', ...vs('api', 'fastify', 1.5) });
  rows.push({ scenario: 'router + JSON API (20 routes)', target: '≥ 5x Express', ...vs('api', 'express', 5) });
  rows.push({ scenario: 'static 1 MiB file', target: "≥ 0.7x nginx's throughput", ...vs('static', 'nginx', 0.7) });
  rows.push({ scenario: 'client: 50 in flight against nginx', target: '≥ 1.3x undici request (Pool)', ...cli('undici-request', 1.3) });
  rows.push({ scenario: 'client: 50 in flight against nginx', target: '≥ 2.5x node:http Agent', ...cli('node-agent', 2.5) });
  rows.push({ scenario: 'client: 50 in flight against nginx', target: '≥ 5x global fetch', ...cli('fetch', 5) });
  rows.push({ scenario: 'memory per idle keep-alive connection', target: "≤ node:http's", ...memoryTarget(conns) });
  for (const r of rows) {
    if (!r.measured) r.mark = 'not measured yet';
    else if (r.keelProblems?.length) r.mark = `⚠️ (Keel errors: ${r.keelProblems.join('; ')})`;
    else r.mark = (r.max != null ? r.measured.ratio <= r.max : r.measured.ratio >= r.min) ? '✓' : '✗';
  }
  return rows;
}

// ---------------------------------------------------------------- RESULTS.md

function gitNote(g) {
  if (!g) return 'unknown commit';
  return `commit \`${g.commit}\`${g.srcDirty ? ' (src/ dirty)' : ''}`;
}

const p99 = (x) => (x?.medianLatencyP99Ms == null ? '—' : x.medianLatencyP99Ms.toFixed(2));

// The ceiling's req/s and Keel's share of it; "≥" when the ceiling did not saturate its core.
function ceilingCell(s, impl) {
  const c = resultOf(s, impl);
  if (!c) return '—';
  const bound = c.medianServerCpu != null && c.medianServerCpu < SATURATED_CPU ? '≥ ' : '';
  const share = ratioOf(keelResult(s)?.medianRps, c.medianRps);
  const p = serverProblems(c);
  return `${bound}${fmtRps(c.medianRps)}${share == null ? '' : ` (keel ${fmtPct(share)})`}${p.length ? ` ⚠️ ${cell(p.join('; '))}` : ''}`;
}

export function renderMarkdown(data) {
  const { server, client, conns } = data;
  const out = [];
  out.push('# Benchmark results');
  out.push('');
  const sources = ['`bench/results.json`', '`bench/client-results.json`', ...(conns ? ['`bench/conns-results.json`'] : [])];
  out.push(
    `_Generated by \`npm run bench -- --report\` (\`bench/report.js\`) from ${sources.slice(0, -1).join(', ')} and ${sources.at(-1)}; ` +
      'do not edit by hand. How the numbers are measured: [bench/README.md](README.md)._',
  );
  out.push('');
  out.push('![req/s per scenario and implementation](chart.svg)');
  out.push('');

  // ---- where
  out.push('## Machine and versions');
  out.push('');
  const cols = [
    { title: 'server section', d: server },
    { title: 'client section', d: client },
    ...(conns ? [{ title: 'memory (`npm run bench:conns`)', d: conns }] : []),
  ];
  out.push(`| | ${cols.map((c) => c.title).join(' | ')} |`);
  out.push(`|---|${cols.map(() => '---').join('|')}|`);
  const m = (x) => (x ? `${x.cpu}, ${x.cpus} CPU(s), ${x.platform}` : '—');
  const pin = (p) => (p ? Object.entries(p).map(([k, v]) => `${k} on ${v}`).join(', ') : '—');
  const gitOf = (d) => (d === conns ? (d.commit ? { commit: d.commit, srcDirty: d.srcDirty } : null) : d.git);
  const row = (name, f) => out.push(`| ${name} | ${cols.map((c) => (c.d ? f(c.d) : '—')).join(' | ')} |`);
  row('date', (d) => d.date ?? '—');
  row('keel', (d) => gitNote(gitOf(d)));
  row('Node.js', (d) => d.node ?? '—');
  row('machine', (d) => m(d.machine));
  row('pinning', (d) => pin(d.machine?.pinning));
  row('runs', (d) => {
    const o = d.options;
    if (d === server) return `median of ${o.rounds} round(s), ${o.duration} s each (+${o.warmup} s warm-up), wrk -t${o.wrkThreads}`;
    if (d === client) return `median of ${o.rounds} round(s), ${o.duration} s each (+${o.warmupMs / 1000} s warm-up), ${o.inflight} in flight`;
    return `median of ${d.rounds} round(s), ${d.conns?.toLocaleString('en-US') ?? '?'} idle connections`;
  });
  row('tools', (d) => {
    if (d === server) return [d.wrk?.split(' Copyright')[0], ...Object.entries(d.versions ?? {}).map(([k, v]) => `${k} ${v}`)].filter(Boolean).join(', ') || '—';
    if (d === client) return [d.undici && `undici ${d.undici}`, d.fetchUndici && `fetch: Node's undici ${d.fetchUndici}`, d.nginx?.replace('nginx version: ', '')].filter(Boolean).join(', ') || '—';
    return '—';
  });
  out.push('');
  const present = cols.filter((c) => c.d);
  if (present.length > 1 && (new Set(present.map((c) => gitOf(c.d)?.commit)).size > 1 || new Set(present.map((c) => c.d.node)).size > 1)) {
    out.push('⚠️ The sections were measured at different commits or on different Node.js versions.');
    out.push('');
  }

  // ---- targets
  out.push('## Targets (issue 7)');
  out.push('');
  out.push(
    "Ratios are Keel's median req/s divided by the other's, from the same run (memory: Keel's bytes per connection " +
      "divided by node:http's); ✓ = target met, ✗ = not yet.",
  );
  out.push('');
  out.push('| scenario | target | measured | met |');
  out.push('|---|---|---|:---:|');
  for (const r of targets(data)) {
    out.push(`| ${cell(r.scenario)} | ${cell(r.target)} | ${r.measured ? cell(r.measured.text) : '—'} | ${cell(r.mark)} |`);
  }
  out.push('');
  out.push(
    "Client targets are judged on the faster of Keel's two clients (`keel/client` Pool, `keel` http.request + Agent); " +
      'both ratios are shown. The static file is judged on throughput (MiB/s of file data, the same ratio as req/s). ' +
      'Memory comes from `npm run bench:conns` (bench/conns.js), judged on RSS per idle connection. ' +
      'The reference ceilings below are not targets.',
  );
  out.push('');

  // ---- server: GET / JSON scenarios vs node:http and Fastify
  const basic = BASIC_SCENARIOS.map((id) => scenarioOf(server, id)).filter(Boolean);
  if (basic.length) {
    const hasFastify = basic.some((s) => resultOf(s, 'fastify'));
    out.push(hasFastify ? '## Server: Keel vs node:http and Fastify' : '## Server: Keel vs node:http');
    out.push('');
    out.push(`The same handlers on each (\`bench/server.js\`${hasFastify ? ', `bench/apps/fastify-basic.js`' : ''}).`);
    out.push('');
    const fh = hasFastify ? ' fastify req/s |' : '';
    const fr = hasFastify ? ' keel / fastify |' : '';
    out.push(`| scenario | connections | keel req/s | node:http req/s |${fh} keel / node:http |${fr} keel p99 ms | node:http p99 ms | errors |`);
    out.push(`|---|---:|---:|---:|${hasFastify ? '---:|' : ''}---:|${hasFastify ? '---:|' : ''}---:|---:|---|`);
    for (const s of basic) {
      const k = keelResult(s);
      const n = resultOf(s, 'node');
      const f = resultOf(s, 'fastify');
      const p = [...s.impls]
        .filter((impl) => s.roles[impl] !== 'ceiling')
        .flatMap((impl) => serverProblems(resultOf(s, impl)).map((x) => `${s.labels?.[impl] ?? impl}: ${x}`));
      out.push(
        `| ${s.name} | ${s.connections} | ${fmtRps(k?.medianRps)} | ${fmtRps(n?.medianRps)} |${hasFastify ? ` ${fmtRps(f?.medianRps)} |` : ''} ` +
          `${fmtRatio(ratioOf(k?.medianRps, n?.medianRps))} |${hasFastify ? ` ${fmtRatio(ratioOf(k?.medianRps, f?.medianRps))} |` : ''} ${p99(k)} | ${p99(n)} | ${errCell(p)} |`,
      );
    }
    out.push('');
  }

  // ---- server: reference ceilings
  const withCeilings = (server?.scenarios ?? []).filter((s) => s.impls.some((impl) => s.roles[impl] === 'ceiling'));
  if (withCeilings.length) {
    const present = CEILINGS.filter((impl) => withCeilings.some((s) => resultOf(s, impl)));
    out.push('## Reference ceilings (not targets)');
    out.push('');
    out.push(
      'The same load on servers Keel is not expected to beat, pinned to the same core, to show how close Keel is to ' +
        "the machine's limit: nginx (one worker, `return 200 \"Hello World\"`), Bun's `Bun.serve` (Zig + uWebSockets) and " +
        'a bare `node:net` server that answers every request head with fixed bytes and parses no HTTP at all ' +
        '(`bench/apps/bare-net.js`: the most any HTTP server written in JavaScript on node:net could do here). ' +
        "Each cell gives the ceiling's median req/s and Keel's as a share of it.",
    );
    out.push('');
    out.push(`| scenario | keel req/s | ${present.map((impl) => CEILING_LABEL[impl]).join(' | ')} |`);
    out.push(`|---|---:|${present.map(() => '---:').join('|')}|`);
    for (const s of withCeilings) {
      out.push(`| ${s.name} | ${fmtRps(keelResult(s)?.medianRps)} | ${present.map((impl) => ceilingCell(s, impl)).join(' | ')} |`);
    }
    out.push('');
    out.push(
      `≥: the ceiling used less than ${SATURATED_CPU * 100} % of its core (median server CPU): the limit was elsewhere ` +
        '(wrk, one thread on the other core, or other work on the machine), so it can do more than that. ' +
        '— : not measured in that scenario (nginx and the bare server answer GETs only).',
    );
    out.push('');
  }

  // ---- server: static file
  const stat = scenarioOf(server, 'static');
  if (stat) {
    out.push('## Server: static 1 MiB file');
    out.push('');
    out.push(`${stat.request ?? 'GET of one 1 MiB file'}, ${stat.connections} connections.`);
    out.push('');
    out.push('| impl | req/s | MiB/s | Keel / impl | server CPU | req/s per CPU | p99 ms | errors |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const impl of stat.impls) {
      const s = resultOf(stat, impl);
      const name = impl === stat.keelImpl ? `**${stat.labels?.[impl] ?? impl}**` : stat.labels?.[impl] ?? impl;
      out.push(
        `| ${name} | ${fmtRps(s.medianRps)} | ${s.medianMiBps == null ? 'n/a' : Math.round(s.medianMiBps).toLocaleString('en-US')} | ` +
          `${fmtRatio(ratioOf(keelResult(stat)?.medianRps, s.medianRps))} | ${s.medianServerCpu == null ? '—' : fmtPct(s.medianServerCpu)} | ` +
          `${fmtRps(s.medianRpsPerCpu)} | ${p99(s)} | ${errCell(serverProblems(s))} |`,
      );
    }
    out.push('');
    out.push(
      'When a server leaves its core partly idle (nginx with `sendfile` does), wrk receiving the bytes on one core is the limit: ' +
        'req/s per CPU then tells the servers apart better than req/s.',
    );
    out.push('');
  }

  // ---- server: api
  const api = scenarioOf(server, 'api');
  if (api) {
    out.push('## Server: router + JSON API (20 routes), frameworks');
    out.push('');
    out.push(`${api.request ?? 'POST /api/items/<id>, 1 KiB JSON body'}, ${api.connections} connections; each framework's own router and body parsing.`);
    out.push('');
    out.push('| impl | req/s | Keel / impl | server CPU | req/s per CPU | p99 ms | errors |');
    out.push('|---|---:|---:|---:|---:|---:|---|');
    for (const impl of api.impls) {
      const s = api.results[impl];
      const label = api.labels?.[impl] ?? impl;
      const ratio = api.keelImpl ? ratioOf(api.results[api.keelImpl].medianRps, s.medianRps) : null;
      const cpu = s.medianServerCpu == null ? '—' : `${Math.round(s.medianServerCpu * 100)} %`;
      const name = impl === api.keelImpl ? `**${label}**` : label;
      out.push(`| ${name} | ${fmtRps(s.medianRps)} | ${fmtRatio(ratio)} | ${cpu} | ${fmtRps(s.medianRpsPerCpu)} | ${p99(s)} | ${errCell(serverProblems(s))} |`);
    }
    out.push('');
    if (api.keelFallback) {
      out.push(`⚠️ keel/router or keel/body was not usable (${cell(api.keelFallback)}): the Keel row is "keel (no batteries)".`);
      out.push('');
    }
  }

  // ---- memory (bench:conns)
  if (conns?.results?.keel || conns?.results?.node) {
    out.push('## Memory per idle keep-alive connection');
    out.push('');
    out.push(
      `\`npm run bench:conns\` (bench/conns.js): ${conns.conns?.toLocaleString('en-US') ?? '?'} keep-alive connections that each completed one request and wait for the next; ` +
        'bytes per connection measured inside the server after gc(), (with the connections open − before) / connections. Lower is better.',
    );
    out.push('');
    out.push('| impl | RSS / conn | heap / conn | external / conn | Keel / impl (RSS) | problems |');
    out.push('|---|---:|---:|---:|---:|---|');
    const k = conns.results.keel;
    for (const [impl, name] of [['keel', '**keel**'], ['node', 'node:http']]) {
      const s = conns.results[impl];
      if (!s) continue;
      const p = s.problems ?? [];
      out.push(
        `| ${name} | ${fmtBytes(s.rssPerConn)} | ${fmtBytes(s.heapPerConn)} | ${fmtBytes(s.externalPerConn)} | ` +
          `${fmtRatio(ratioOf(k?.rssPerConn, s.rssPerConn))} | ${p.length ? `⚠️ ${cell(p.join('; '))}` : '—'} |`,
      );
    }
    out.push('');
  }

  // ---- client
  if (client?.clients?.length) {
    out.push('## Client: 50 requests in flight against nginx');
    out.push('');
    out.push(`${client.options?.target ?? 'GET /hello'} from one nginx process (${client.nginx ?? 'nginx'}).`);
    out.push('');
    out.push('| client | req/s | vs undici request | vs node:http Agent | vs fetch | errors |');
    out.push('|---|---:|---:|---:|---:|---|');
    const base = (id) => {
      const c = clientOf(client, id);
      return usableClient(c) ? c.medianRps : null;
    };
    const ids = [...CLIENT_ORDER.filter((id) => clientOf(client, id)), ...client.clients.map((c) => c.id).filter((id) => !CLIENT_ORDER.includes(id))];
    for (const id of ids) {
      const c = clientOf(client, id);
      const name = `${id.startsWith('keel') ? `**${id}**` : id} — ${cell(c.label)}`;
      if (!usableClient(c)) {
        out.push(`| ${name} | not available yet | — | — | — | ${errCell(clientProblems(c))} |`);
        continue;
      }
      const r = (b) => fmtRatio(ratioOf(c.medianRps, base(b)));
      out.push(`| ${name} | ${fmtRps(c.medianRps)} | ${r('undici-request')} | ${r('node-agent')} | ${r('fetch')} | ${errCell(clientProblems(c))} |`);
    }
    out.push('');
  }

  // ---- reproduce
  out.push('## Reproduce');
  out.push('');
  out.push('Linux with at least 2 CPUs, `wrk`, `taskset` (util-linux) and nginx (`apt-get install -y wrk nginx-light`), then:');
  out.push('');
  out.push('```sh');
  out.push('npm ci                                        # also installs Bun (npm package `bun`), a reference ceiling');
  out.push('npm run bench -- --server --client --report   # builds, measures both sections (~12 min), then rewrites this file and chart.svg');
  out.push('npm run bench:conns                           # memory per idle keep-alive connection (bench/conns-results.json)');
  out.push('npm run bench -- --report                     # builds, then only rewrites RESULTS.md and chart.svg from the result files');
  out.push('node bench/report.js                          # the same without the build (also: node bench/run.js --report)');
  out.push('```');
  out.push('');
  out.push(
    'The machine matters: the reference VM is a small shared one, where differences under ~15 % are noise ' +
      '(see the caveats in [bench/README.md](README.md#caveats)). Full per-round data: ' +
      '[results.json](results.json), [client-results.json](client-results.json)' +
      (conns ? ', [conns-results.json](conns-results.json)' : '') +
      '.',
  );
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------- chart.svg

// Colours per implementation; the same colour for the same thing across sections (Keel blue,
// node:http grey). Reference ceilings are drawn hatched in their colour.
const SERIES = [
  { key: 'keel', label: 'Keel (server; client: keel/client Pool)', color: '#1f5fd6' },
  { key: 'keel-request', label: 'Keel http.request + Agent', color: '#7fa8ee' },
  { key: 'keel-stream', label: 'keel/static without its cache', color: '#a9c4f2' },
  { key: 'node', label: 'node:http (server; client: Agent)', color: '#7a7a7a' },
  { key: 'fastify', label: 'Fastify', color: '#2e9e4f' },
  { key: 'hono', label: 'Hono', color: '#e08a00' },
  { key: 'express', label: 'Express', color: '#c9372c' },
  { key: 'nginx', label: 'nginx', color: '#5b7f1a' },
  { key: 'bun', label: 'Bun.serve', color: '#c2417f' },
  { key: 'bare-net', label: 'bare node:net', color: '#333333' },
  { key: 'undici-request', label: 'undici request', color: '#8e44ad' },
  { key: 'undici-pipelining', label: 'undici pipelining', color: '#c39bd3' },
  { key: 'fetch', label: 'fetch', color: '#17a2a2' },
];
const SERIES_OF = { 'keel-promise': 'keel', 'keel-bare': 'keel', 'node-agent': 'node' };
const seriesOf = (key) => SERIES.find((z) => z.key === key);

/**
 * The chart's groups: { main: [...], side: group | null }, each group { title, subtitle: [lines],
 * bars: [{ series, value, ceiling }], client? }. main is in req/s (server scenarios, then the
 * clients); side is the static file in MiB/s, on an axis of its own (a few thousand req/s would be
 * invisible beside the others).
 */
export function chartGroups({ server, client }) {
  const main = [];
  let side = null;
  for (const s of server?.scenarios ?? []) {
    const k = keelResult(s)?.medianRps;
    const vsLine = (impl, name) => {
      const r = ratioOf(k, resultOf(s, impl)?.medianRps);
      return r == null ? null : `${fmtRatio(r)} ${name}`;
    };
    if (s.id === 'static') {
      side = {
        title: SCENARIO_SHORT.static,
        subtitle: [vsLine('nginx', 'nginx'), vsLine('node', 'node:http')].filter(Boolean),
        bars: s.impls.map((impl) => ({ series: SERIES_OF[impl] ?? impl, value: resultOf(s, impl)?.medianMiBps ?? null, ceiling: s.roles[impl] === 'ceiling' })),
      };
      continue;
    }
    const subtitle =
      s.id === 'api'
        ? [vsLine('fastify', 'Fastify'), vsLine('express', 'Express')]
        : [vsLine('node', 'node:http'), vsLine('fastify', 'Fastify')];
    main.push({
      title: SCENARIO_SHORT[s.id] ?? [s.name],
      subtitle: subtitle.filter(Boolean),
      bars: s.impls.map((impl) => ({ series: SERIES_OF[impl] ?? impl, value: resultOf(s, impl)?.medianRps ?? null, ceiling: s.roles[impl] === 'ceiling' })),
    });
  }
  if (client?.clients?.length) {
    const ids = CLIENT_ORDER.filter((id) => clientOf(client, id));
    const bars = ids.map((id) => {
      const c = clientOf(client, id);
      return { series: SERIES_OF[id] ?? id, value: usableClient(c) ? c.medianRps : null, ceiling: false };
    });
    const kp = clientOf(client, 'keel-promise');
    const u = clientOf(client, 'undici-request');
    const sub = usableClient(kp) && usableClient(u) ? [`keel/client ${fmtRatio(kp.medianRps / u.medianRps)} undici`] : [];
    main.push({ title: ['HTTP client,', '50 in flight'], subtitle: sub, bars, client: true });
  }
  return { main, side };
}

function niceMax(x) {
  if (!(x > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * pow >= x * 1.08) return m * pow;
  return 10 * pow;
}

const kFmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M` : x >= 1000 ? `${Math.round(x / 1000)}k` : String(Math.round(x)));

// Every group gets at least MIN_SLOTS bar slots, so that a two-bar group has room for its labels.
const MIN_SLOTS = 3.4;
const GROUP_GAP = 18;
const BAR_GAP = 3;
const slotsOf = (g) => Math.max(g.bars.length, MIN_SLOTS);

/**
 * Draws one panel of groups into `s`: y axis (ticks formatted by fmt), bars, group titles. The axis
 * goes up to the highest non-ceiling bar; a ceiling above it is cut at the top (two white slashes)
 * with its value written above. Returns nothing; x / width in pixels.
 */
function drawPanel(s, { groups, x: px, width, top, plotH, slotW, fmt, unit }) {
  const max = niceMax(Math.max(1, ...groups.flatMap((g) => g.bars.filter((b) => !b.ceiling).map((b) => b.value ?? 0))));
  const y = (v) => top + plotH - (Math.min(v, max) / max) * plotH;
  const barW = slotW - BAR_GAP;
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    const yy = y(v).toFixed(1);
    s.push(`<line x1="${px}" y1="${yy}" x2="${px + width}" y2="${yy}" stroke="${i ? '#e4e4e4' : '#888'}" stroke-width="1"/>`);
    s.push(`<text x="${px - 6}" y="${(+yy + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#444">${fmt(v)}</text>`);
  }
  s.push(`<text transform="translate(${px - 46} ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#444">${esc(unit)}</text>`);

  let x = px + GROUP_GAP;
  for (const g of groups) {
    const gw = slotsOf(g) * slotW - BAR_GAP;
    const x0 = x + (gw - (g.bars.length * slotW - BAR_GAP)) / 2;
    if (g.client) {
      const sx = (x - GROUP_GAP / 2).toFixed(1);
      s.push(`<line x1="${sx}" y1="${top - 6}" x2="${sx}" y2="${top + plotH + 72}" stroke="#999" stroke-dasharray="4 3"/>`);
      s.push(`<text x="${(+sx + 4).toFixed(1)}" y="${top + 8}" font-size="10.5" fill="#777">client section (against nginx)</text>`);
    }
    g.bars.forEach((b, i) => {
      const bx = x0 + i * slotW;
      const cx = (bx + barW / 2).toFixed(1);
      const series = seriesOf(b.series);
      const color = series?.color ?? '#333';
      if (b.value == null) {
        s.push(`<text x="${cx}" y="${top + plotH - 6}" text-anchor="middle" font-size="9" fill="#999" transform="rotate(-90 ${cx} ${top + plotH - 6})">n/a</text>`);
        return;
      }
      const h = Math.max(1, top + plotH - y(b.value));
      const by = top + plotH - h;
      const fill = b.ceiling ? `url(#hatch-${b.series})` : color;
      const stroke = b.ceiling ? ` stroke="${color}" stroke-width="1"` : '';
      const what = `${g.title.join(' ')} — ${series?.label ?? b.series}${b.ceiling ? ' (reference ceiling)' : ''}: ${fmtRps(b.value)} ${unit}`;
      s.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${fill}"${stroke}><title>${esc(what)}</title></rect>`);
      if (b.value > max) {
        // cut: a slanted white gap with dark edges near the top, the value above
        const [x1, x2] = [(bx - 2).toFixed(1), (bx + barW + 2).toFixed(1)];
        const [a, c] = [by + 18, by + 10]; // left / right end of the gap's upper edge
        s.push(`<polygon points="${x1},${a} ${x2},${c} ${x2},${c + 6} ${x1},${a + 6}" fill="#ffffff"/>`);
        s.push(`<line x1="${x1}" y1="${a}" x2="${x2}" y2="${c}" stroke="#555" stroke-width="1"/>`);
        s.push(`<line x1="${x1}" y1="${a + 6}" x2="${x2}" y2="${c + 6}" stroke="#555" stroke-width="1"/>`);
      }
      s.push(`<text x="${cx}" y="${(by - 4).toFixed(1)}" text-anchor="middle" font-size="${barW < 24 ? 9 : 10.5}" fill="#222">${fmt(b.value)}</text>`);
    });
    const gx = (x + gw / 2).toFixed(1);
    g.title.forEach((line, i) => {
      s.push(`<text x="${gx}" y="${top + plotH + 16 + i * 14}" text-anchor="middle" font-size="11.5" font-weight="bold" fill="#222">${esc(line)}</text>`);
    });
    g.subtitle.forEach((line, i) => {
      s.push(`<text x="${gx}" y="${top + plotH + 18 + (g.title.length + i) * 13}" text-anchor="middle" font-size="10.5" fill="#1f5fd6">${esc(line)}</text>`);
    });
    x += gw + GROUP_GAP;
  }
}

export function renderSvg(data) {
  const { main, side } = chartGroups(data);
  const W = 1200;
  const H = 540;
  const left = 62;
  const right = 16;
  const top = 70;
  const sideAxis = side ? 72 : 0; // room for the side panel's own axis labels
  const used = SERIES.filter((z) => [...main, ...(side ? [side] : [])].some((g) => g.bars.some((b) => b.series === z.key)));
  const hasCeilings = main.some((g) => g.bars.some((b) => b.ceiling));
  const cols = 4;
  const legendRows = Math.ceil((used.length + (hasCeilings ? 1 : 0)) / cols);
  const legendH = 16 * legendRows + 10;
  const bottom = 84 + legendH; // group titles (2 lines) + subtitles (2 lines) + legend
  const plotH = H - top - bottom;
  const slots = [...main, ...(side ? [side] : [])].reduce((a, g) => a + slotsOf(g), 0);
  const gaps = GROUP_GAP * (main.length + 1 + (side ? 2 : 0));
  const slotW = slots ? Math.min(44, (W - left - right - sideAxis - gaps) / slots) : 0;
  const mainW = main.reduce((a, g) => a + slotsOf(g) * slotW - BAR_GAP + GROUP_GAP, GROUP_GAP);

  const s = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`);
  s.push('<defs>');
  for (const z of SERIES) {
    s.push(
      `<pattern id="hatch-${z.key}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
        `<rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="${z.color}"/></pattern>`,
    );
  }
  s.push('</defs>');
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const commit = data.server?.git?.commit ?? data.client?.git?.commit;
  const node = data.server?.node ?? data.client?.node;
  s.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold" fill="#222">Keel benchmark: requests per second${side ? ' (static file: MiB/s)' : ''}, median, higher is better</text>`);
  s.push(
    `<text x="${W / 2}" y="42" text-anchor="middle" font-size="11.5" fill="#555">${esc(
      [
        commit && `commit ${commit}`,
        node && `Node.js ${node}`,
        data.server?.machine && `${data.server.machine.cpus} CPUs, server/client and load on separate cores`,
        hasCeilings && 'hatched: reference ceilings, not targets; a cut bar is taller than the axis',
      ]
        .filter(Boolean)
        .join(' · '),
    )}</text>`,
  );

  drawPanel(s, { groups: main, x: left, width: mainW, top, plotH, slotW, fmt: kFmt, unit: 'req/s' });
  if (side) {
    const sx = left + mainW + sideAxis;
    const sw = W - right - sx;
    const lx = (sx - sideAxis + 6).toFixed(1);
    s.push(`<line x1="${lx}" y1="${top - 6}" x2="${lx}" y2="${top + plotH + 72}" stroke="#999" stroke-dasharray="4 3"/>`);
    const fmtMiB = (v) => Math.round(v).toLocaleString('en-US');
    drawPanel(s, { groups: [side], x: sx, width: sw, top, plotH, slotW, fmt: fmtMiB, unit: 'MiB/s' });
  }

  // legend (only the series that appear), in rows
  const ly0 = H - legendH + 8;
  const colW = (W - left - right) / cols;
  const entries = used.map((z) => ({ label: z.label, fill: z.color }));
  if (hasCeilings) entries.push({ label: 'hatched: reference ceiling (nginx return 200, Bun, bare node:net)', fill: 'url(#hatch-node)' });
  entries.forEach((e, i) => {
    const lx = left + (i % cols) * colW;
    const ly = ly0 + Math.floor(i / cols) * 16;
    s.push(`<rect x="${lx.toFixed(1)}" y="${ly - 9}" width="12" height="12" fill="${e.fill}"/>`);
    s.push(`<text x="${(lx + 17).toFixed(1)}" y="${ly + 1}" font-size="11.5" fill="#222">${esc(e.label)}</text>`);
  });
  s.push('</svg>');
  return s.join('\n') + '\n';
}

// ---------------------------------------------------------------- main

/** Writes bench/RESULTS.md and bench/chart.svg from the result files; returns their paths. */
export function writeReport(log = (m) => process.stderr.write(m)) {
  const data = loadResults();
  if (!data.server && !data.client) {
    throw new Error('no results to report: bench/results.json and bench/client-results.json are both missing (run `npm run bench` first)');
  }
  writeFileSync(RESULTS_MD, renderMarkdown(data));
  writeFileSync(CHART_SVG, renderSvg(data));
  const rel = (p) => path.relative(process.cwd(), p) || p;
  log(`report: wrote ${rel(RESULTS_MD)} and ${rel(CHART_SVG)}\n`);
  return [RESULTS_MD, CHART_SVG];
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    writeReport();
  } catch (err) {
    process.stderr.write(`bench/report.js: ${err.message}\n`);
    process.exit(1);
  }
}
