// Benchmark report: bench/RESULTS.md and bench/chart.svg, written from the committed result files
// (bench/results.json, bench/client-results.json) without measuring anything.
//
//   node bench/report.js            (or: npm run bench -- --report)
//
// bench/run.js imports writeReport() for `--report`; after a measured run (`--report` together with
// --server / --client / ...) it is called once the sections are done, so it uses the fresh results.
// Either file may be missing (that section is then left out); a partial run (one --scenario,
// some --clients) reports what it measured. The chart is a hand-written SVG, no dependencies.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const SERVER_RESULTS = path.join(BENCH_DIR, 'results.json');
const CLIENT_RESULTS = path.join(BENCH_DIR, 'client-results.json');
const RESULTS_MD = path.join(BENCH_DIR, 'RESULTS.md');
const CHART_SVG = path.join(BENCH_DIR, 'chart.svg');

// The client section's order in the report (Keel's first, then the references).
const CLIENT_ORDER = ['keel-promise', 'keel-request', 'undici-request', 'undici-pipelining', 'node-agent', 'fetch'];
const CLIENT_SHORT = {
  'keel-promise': 'keel/client Pool',
  'keel-request': 'keel http.request',
  'undici-request': 'undici request',
  'undici-pipelining': 'undici pipelining',
  'node-agent': 'node:http Agent',
  fetch: 'fetch',
};
// The chart's group titles, two lines each (a two-bar group is narrow).
const SCENARIO_SHORT = {
  keepalive: ['keep-alive', 'GET'],
  pipeline: ['pipelined', 'GET x16'],
  json: ['1 KiB JSON', 'POST echo'],
  close: ['Connection:', 'close'],
  api: ['router + JSON API', '(20 routes)'],
};

// ---------------------------------------------------------------- loading

function readJson(file) {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function loadResults() {
  return { server: readJson(SERVER_RESULTS), client: readJson(CLIENT_RESULTS) };
}

// ---------------------------------------------------------------- helpers

const fmtRps = (x) => (x == null ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const fmtRatio = (x) => (x == null ? 'n/a' : `${x.toFixed(2)}x`);
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

function clientOf(client, id) {
  return client?.clients?.find((c) => c.id === id) ?? null;
}

const usableClient = (c) => c && !c.unavailable && c.medianRps != null;

// ---------------------------------------------------------------- targets (issue 7)

// One row per target. measured: { ratio, text } or null (not measured yet); ok is judged on the
// unrounded ratio, and only when Keel had no errors.
export function targets({ server, client }) {
  const rows = [];
  const classic = (id, min) => {
    const s = scenarioOf(server, id);
    if (!s || !s.keel) return { measured: null };
    const ratio = ratioOf(s.keel.medianRps, s.node?.medianRps);
    return {
      measured: ratio == null ? null : { ratio, text: `${fmtRatio(ratio)} (${fmtRps(s.keel.medianRps)} vs ${fmtRps(s.node.medianRps)} req/s)` },
      min,
      keelProblems: serverProblems(s.keel),
    };
  };
  const api = (impl, min) => {
    const s = scenarioOf(server, 'api');
    if (!s || !s.keelImpl || !s.results?.[impl]) return { measured: null };
    const k = s.results[s.keelImpl];
    const ratio = ratioOf(k.medianRps, s.results[impl].medianRps);
    const note = s.keelImpl === 'keel' ? '' : ` — ${s.labels?.[s.keelImpl] ?? s.keelImpl}`;
    return {
      measured: ratio == null ? null : { ratio, text: `${fmtRatio(ratio)} (${fmtRps(k.medianRps)} vs ${fmtRps(s.results[impl].medianRps)} req/s)${note}` },
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
  const none = { measured: null };
  rows.push({ scenario: 'keep-alive GET "Hello World"', target: '≥ 1.5x node:http', ...classic('keepalive', 1.5) });
  rows.push({ scenario: 'keep-alive GET "Hello World"', target: '≥ 1.5x Fastify', ...none });
  rows.push({ scenario: '16-deep pipelined GET', target: '≥ 5x node:http', ...classic('pipeline', 5) });
  rows.push({ scenario: '1 KiB JSON POST echo', target: '≥ 2x node:http', ...classic('json', 2) });
  rows.push({ scenario: 'Connection: close', target: '≥ 1.3x node:http', ...classic('close', 1.3) });
  rows.push({ scenario: 'router + JSON API (20 routes)', target: '≥ 1.5x Fastify', ...api('fastify', 1.5) });
  rows.push({ scenario: 'router + JSON API (20 routes)', target: '≥ 5x Express', ...api('express', 5) });
  rows.push({ scenario: 'static 1 MiB file', target: "≥ 0.7x nginx's throughput", ...none });
  rows.push({ scenario: 'client: 50 in flight against nginx', target: '≥ 1.3x undici request (Pool)', ...cli('undici-request', 1.3) });
  rows.push({ scenario: 'client: 50 in flight against nginx', target: '≥ 2.5x node:http Agent', ...cli('node-agent', 2.5) });
  rows.push({ scenario: 'client: 50 in flight against nginx', target: '≥ 5x global fetch', ...cli('fetch', 5) });
  rows.push({ scenario: 'memory per idle keep-alive connection', target: "≤ node:http's", ...none });
  for (const r of rows) {
    if (!r.measured) r.mark = 'not measured yet';
    else if (r.keelProblems?.length) r.mark = `⚠️ (Keel errors: ${r.keelProblems.join('; ')})`;
    else r.mark = r.measured.ratio >= r.min ? '✓' : '✗';
  }
  return rows;
}

// ---------------------------------------------------------------- RESULTS.md

function gitNote(g) {
  if (!g) return 'unknown commit';
  return `commit \`${g.commit}\`${g.srcDirty ? ' (src/ dirty)' : ''}`;
}

export function renderMarkdown(data) {
  const { server, client } = data;
  const out = [];
  out.push('# Benchmark results');
  out.push('');
  out.push(
    '_Generated by `npm run bench -- --report` (`bench/report.js`) from `bench/results.json` and ' +
      '`bench/client-results.json`; do not edit by hand. How the numbers are measured: [bench/README.md](README.md)._',
  );
  out.push('');
  out.push('![req/s per scenario and implementation](chart.svg)');
  out.push('');

  // ---- where
  out.push('## Machine and versions');
  out.push('');
  out.push('| | server section | client section |');
  out.push('|---|---|---|');
  const m = (x) => (x ? `${x.cpu}, ${x.cpus} CPU(s), ${x.platform}` : '—');
  const pin = (p) => (p ? Object.entries(p).map(([k, v]) => `${k} on ${v}`).join(', ') : '—');
  out.push(`| date | ${server?.date ?? '—'} | ${client?.date ?? '—'} |`);
  out.push(`| keel | ${server ? gitNote(server.git) : '—'} | ${client ? gitNote(client.git) : '—'} |`);
  out.push(`| Node.js | ${server?.node ?? '—'} | ${client?.node ?? '—'} |`);
  out.push(`| machine | ${m(server?.machine)} | ${m(client?.machine)} |`);
  out.push(`| pinning | ${pin(server?.machine?.pinning)} | ${pin(client?.machine?.pinning)} |`);
  const so = server?.options;
  const co = client?.options;
  out.push(
    `| runs | ${so ? `median of ${so.rounds} round(s), ${so.duration} s each (+${so.warmup} s warm-up), wrk -t${so.wrkThreads}` : '—'} | ` +
      `${co ? `median of ${co.rounds} round(s), ${co.duration} s each (+${co.warmupMs / 1000} s warm-up), ${co.inflight} in flight` : '—'} |`,
  );
  const sv = server ? [server.wrk?.split(' Copyright')[0], ...Object.entries(server.versions ?? {}).map(([k, v]) => `${k} ${v}`)].filter(Boolean).join(', ') : '—';
  const cv = client ? [client.undici && `undici ${client.undici}`, client.fetchUndici && `fetch: Node's undici ${client.fetchUndici}`, client.nginx?.replace('nginx version: ', '')].filter(Boolean).join(', ') : '—';
  out.push(`| tools | ${sv} | ${cv} |`);
  out.push('');
  if (server && client && (server.git?.commit !== client.git?.commit || server.node !== client.node)) {
    out.push('⚠️ The two sections were measured at different commits or on different Node.js versions.');
    out.push('');
  }

  // ---- targets
  out.push('## Targets (issue 7)');
  out.push('');
  out.push('Ratios are Keel\'s median req/s divided by the other\'s, from the same run; ✓ = target met, ✗ = not yet.');
  out.push('');
  out.push('| scenario | target | measured | met |');
  out.push('|---|---|---|:---:|');
  for (const r of targets(data)) {
    out.push(`| ${cell(r.scenario)} | ${cell(r.target)} | ${r.measured ? cell(r.measured.text) : '—'} | ${cell(r.mark)} |`);
  }
  out.push('');
  out.push(
    'Client targets are judged on the faster of Keel\'s two clients (`keel/client` Pool, `keel` http.request + Agent); ' +
      'both ratios are shown. Static file and memory scenarios are not in the benchmark yet.',
  );
  out.push('');

  // ---- server: classic
  const classic = server?.scenarios?.filter((s) => !s.impls) ?? [];
  if (classic.length) {
    out.push('## Server: Keel vs node:http');
    out.push('');
    out.push('| scenario | connections | keel req/s | node:http req/s | keel / node:http | keel p99 ms | node:http p99 ms | errors |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const s of classic) {
      const p = [...serverProblems(s.keel).map((x) => `keel: ${x}`), ...serverProblems(s.node).map((x) => `node: ${x}`)];
      const p99 = (x) => (x?.medianLatencyP99Ms == null ? '—' : x.medianLatencyP99Ms.toFixed(2));
      out.push(
        `| ${s.name} | ${s.connections} | ${fmtRps(s.keel?.medianRps)} | ${fmtRps(s.node?.medianRps)} | ` +
          `${fmtRatio(ratioOf(s.keel?.medianRps, s.node?.medianRps))} | ${p99(s.keel)} | ${p99(s.node)} | ${errCell(p)} |`,
      );
    }
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
      const p99 = s.medianLatencyP99Ms == null ? '—' : s.medianLatencyP99Ms.toFixed(2);
      const name = impl === api.keelImpl ? `**${label}**` : label;
      out.push(`| ${name} | ${fmtRps(s.medianRps)} | ${fmtRatio(ratio)} | ${cpu} | ${fmtRps(s.medianRpsPerCpu)} | ${p99} | ${errCell(serverProblems(s))} |`);
    }
    out.push('');
    if (api.keelFallback) {
      out.push(`⚠️ keel/router or keel/body was not usable (${cell(api.keelFallback)}): the Keel row is "keel (no batteries)".`);
      out.push('');
    }
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
  out.push('npm ci');
  out.push('npm run bench -- --server --client --report   # builds, measures both sections (~7 min), then rewrites this file and chart.svg');
  out.push('npm run bench -- --report                     # builds, then only rewrites RESULTS.md and chart.svg from the result files');
  out.push('node bench/report.js                          # the same without the build (also: node bench/run.js --report)');
  out.push('```');
  out.push('');
  out.push(
    'The machine matters: the reference VM is a small shared one, where differences under ~15 % are noise ' +
      '(see the caveats in [bench/README.md](README.md#caveats)). Full per-round data: ' +
      '[results.json](results.json), [client-results.json](client-results.json).',
  );
  out.push('');
  return out.join('\n');
}

// ---------------------------------------------------------------- chart.svg

// Colours per implementation; the same colour for the same thing across sections
// (Keel blue, node:http grey).
const SERIES = [
  { key: 'keel', label: 'Keel (server; client: keel/client Pool)', color: '#1f5fd6' },
  { key: 'keel-request', label: 'Keel http.request + Agent', color: '#7fa8ee' },
  { key: 'node', label: 'node:http (server; client: Agent)', color: '#7a7a7a' },
  { key: 'fastify', label: 'Fastify', color: '#2e9e4f' },
  { key: 'hono', label: 'Hono', color: '#e08a00' },
  { key: 'express', label: 'Express', color: '#c9372c' },
  { key: 'undici-request', label: 'undici request', color: '#8e44ad' },
  { key: 'undici-pipelining', label: 'undici pipelining', color: '#c39bd3' },
  { key: 'fetch', label: 'fetch', color: '#17a2a2' },
];
const SERIES_OF = { 'keel-promise': 'keel', 'keel-bare': 'keel', 'node-agent': 'node' };

// The chart's groups: [{ title, subtitle, bars: [{ series, rps, note }] }]
export function chartGroups({ server, client }) {
  const groups = [];
  for (const s of server?.scenarios ?? []) {
    if (s.impls) {
      const bars = s.impls.map((impl) => ({ series: SERIES_OF[impl] ?? impl, rps: s.results[impl]?.medianRps ?? null }));
      const k = s.keelImpl ? s.results[s.keelImpl].medianRps : null;
      const f = s.results.fastify?.medianRps;
      const e = s.results.express?.medianRps;
      const sub = [f && k ? `${fmtRatio(k / f)} Fastify` : null, e && k ? `${fmtRatio(k / e)} Express` : null].filter(Boolean).join(', ');
      groups.push({ title: SCENARIO_SHORT[s.id] ?? [s.name], subtitle: sub, bars });
    } else {
      const r = ratioOf(s.keel?.medianRps, s.node?.medianRps);
      groups.push({
        title: SCENARIO_SHORT[s.id] ?? [s.name],
        subtitle: r == null ? '' : `${fmtRatio(r)} node:http`,
        bars: [
          { series: 'keel', rps: s.keel?.medianRps ?? null },
          { series: 'node', rps: s.node?.medianRps ?? null },
        ],
      });
    }
  }
  if (client?.clients?.length) {
    const ids = CLIENT_ORDER.filter((id) => clientOf(client, id));
    const bars = ids.map((id) => {
      const c = clientOf(client, id);
      return { series: SERIES_OF[id] ?? id, rps: usableClient(c) ? c.medianRps : null };
    });
    const kp = clientOf(client, 'keel-promise');
    const u = clientOf(client, 'undici-request');
    const sub = usableClient(kp) && usableClient(u) ? `keel/client ${fmtRatio(kp.medianRps / u.medianRps)} undici` : '';
    groups.push({ title: ['HTTP client,', '50 in flight'], subtitle: sub, bars, client: true });
  }
  return groups;
}

function niceMax(x) {
  if (!(x > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * pow >= x * 1.08) return m * pow;
  return 10 * pow;
}

const kFmt = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M` : x >= 1000 ? `${Math.round(x / 1000)}k` : String(Math.round(x)));

export function renderSvg(data) {
  const groups = chartGroups(data);
  const W = 900;
  const H = 500;
  const left = 62;
  const right = 16;
  const top = 58;
  const legendH = 52;
  const bottom = 62 + legendH; // group titles (2 lines) + subtitles + legend
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.rps ?? 0))));
  const y = (v) => top + plotH - (v / max) * plotH;

  // Every group gets at least MIN_SLOTS bar slots, so that a two-bar group has room for its labels;
  // its bars are centred in it.
  const groupGap = 18;
  const barGap = 3;
  const MIN_SLOTS = 3.4;
  const slotsOf = (g) => Math.max(g.bars.length, MIN_SLOTS);
  const nSlots = groups.reduce((a, g) => a + slotsOf(g), 0);
  const slotW = nSlots ? Math.min(44, (plotW - groupGap * (groups.length + 1)) / nSlots) : 0;
  const barW = slotW - barGap;

  const s = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`);
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const commit = data.server?.git?.commit ?? data.client?.git?.commit;
  const node = data.server?.node ?? data.client?.node;
  s.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold" fill="#222">Keel benchmark: requests per second (median, higher is better)</text>`);
  s.push(
    `<text x="${W / 2}" y="42" text-anchor="middle" font-size="11.5" fill="#555">${esc(
      [commit && `commit ${commit}`, node && `Node.js ${node}`, data.server?.machine && `${data.server.machine.cpus} CPUs, server/client and load on separate cores`]
        .filter(Boolean)
        .join(' · '),
    )}</text>`,
  );

  // grid + y axis
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (max / ticks) * i;
    const yy = y(v).toFixed(1);
    s.push(`<line x1="${left}" y1="${yy}" x2="${W - right}" y2="${yy}" stroke="${i ? '#e4e4e4' : '#888'}" stroke-width="1"/>`);
    s.push(`<text x="${left - 6}" y="${(+yy + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#444">${kFmt(v)}</text>`);
  }
  s.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#444">req/s</text>`);

  // bars
  let x = left + groupGap;
  for (const g of groups) {
    const gw = slotsOf(g) * slotW - barGap;
    const x0 = x + (gw - (g.bars.length * slotW - barGap)) / 2;
    if (g.client) {
      const sx = (x - groupGap / 2).toFixed(1);
      s.push(`<line x1="${sx}" y1="${top - 6}" x2="${sx}" y2="${top + plotH + 58}" stroke="#999" stroke-dasharray="4 3"/>`);
      s.push(`<text x="${(+sx + 4).toFixed(1)}" y="${top + 4}" font-size="10.5" fill="#777">client section (against nginx)</text>`);
    }
    g.bars.forEach((b, i) => {
      const bx = x0 + i * slotW;
      const series = SERIES.find((z) => z.key === b.series);
      const color = series?.color ?? '#333';
      if (b.rps == null) {
        s.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${top + plotH - 6}" text-anchor="middle" font-size="9" fill="#999" transform="rotate(-90 ${(bx + barW / 2).toFixed(1)} ${top + plotH - 6})">n/a</text>`);
        return;
      }
      const by = y(b.rps);
      const h = Math.max(1, top + plotH - by);
      s.push(
        `<rect x="${bx.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}">` +
          `<title>${esc(`${g.title.join(' ')} — ${series?.label ?? b.series}: ${fmtRps(b.rps)} req/s`)}</title></rect>`,
      );
      s.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${(top + plotH - h - 4).toFixed(1)}" text-anchor="middle" font-size="${barW < 26 ? 9.5 : 10.5}" fill="#222">${kFmt(b.rps)}</text>`);
    });
    const cx = (x + gw / 2).toFixed(1);
    g.title.forEach((line, i) => {
      s.push(`<text x="${cx}" y="${top + plotH + 16 + i * 14}" text-anchor="middle" font-size="11.5" font-weight="bold" fill="#222">${esc(line)}</text>`);
    });
    if (g.subtitle) s.push(`<text x="${cx}" y="${top + plotH + 16 + g.title.length * 14 + 2}" text-anchor="middle" font-size="10.5" fill="#1f5fd6">${esc(g.subtitle)}</text>`);
    x += gw + groupGap;
  }

  // legend (only the series that appear), in rows
  const used = SERIES.filter((z) => groups.some((g) => g.bars.some((b) => b.series === z.key)));
  const ly0 = H - legendH + 8;
  const cols = 3;
  const colW = plotW / cols;
  used.forEach((z, i) => {
    const lx = left + (i % cols) * colW;
    const ly = ly0 + Math.floor(i / cols) * 16;
    s.push(`<rect x="${lx.toFixed(1)}" y="${ly - 9}" width="12" height="12" fill="${z.color}"/>`);
    s.push(`<text x="${(lx + 17).toFixed(1)}" y="${ly + 1}" font-size="11.5" fill="#222">${esc(z.label)}</text>`);
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
