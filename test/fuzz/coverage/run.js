#!/usr/bin/env node
// Coverage-guided fuzzing of Keel's request parser, response parser and chunked decoder with
// Jazzer.js (libFuzzer), bounded in time:
//
//   npm run fuzz -- [--target request|response|chunked|proxy|all] [--time SECONDS] [--runs N]
//                   [--max-len BYTES] [--strict] [--coverage]
//
// Defaults: every target, 60 s each, one after the other (one core each). --runs stops a target
// after N executions instead (or as well). --strict also checks the known bugs of
// invariants.js KNOWN_BUGS (KEEL_FUZZ_STRICT=1). --coverage does not fuzz: it replays each
// target's corpus, seeds and regressions once and prints istanbul line / branch coverage of the
// parser sources (report in .work/coverage/<target>/).
//
// For each target: seeds are regenerated into test/fuzz/coverage/.work/seeds/<target>/ (gitignored)
// and, with the committed regressions/<target>/, fed to Jazzer along with the corpus it grows in
// .work/corpus/<target>/ (kept between runs); http.dict is the dictionary; only dist/http1/ and
// dist/common/ are instrumented. A finding (crash = invariant violation or non-ParseError throw,
// timeout = hang, oom = unbounded memory) is copied to regressions/<target>/ for the regression
// test (test/fuzz/coverage-regressions.test.js) and the run exits with status 1.
// Jazzer's prebuilt addon needs glibc 2.38: jazzer-glibc.js patches a copy when it must.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ORIGINAL_ADDON, WORK_DIR, ensureJazzerAddon } from './jazzer-glibc.js';
import { writeSeeds } from './seeds.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TARGETS = ['request', 'response', 'chunked', 'proxy'];
const JAZZER_CLI = createRequire(import.meta.url).resolve('@jazzer.js/core/dist/cli.js');
/** Per-input time limit: an input that takes longer is a hang (libFuzzer "timeout"). */
const INPUT_TIMEOUT_MS = 10_000;
/** libFuzzer's memory limit for the whole process: above it is an "oom" finding. */
const RSS_LIMIT_MB = 2048;

const { values: args } = parseArgs({
  options: {
    target: { type: 'string', default: 'all' },
    time: { type: 'string', default: '60' },
    runs: { type: 'string' },
    'max-len': { type: 'string', default: '4096' },
    strict: { type: 'boolean', default: false },
    coverage: { type: 'boolean', default: false },
  },
});
const targets = args.target === 'all' ? TARGETS : [args.target];
if (!targets.every((t) => TARGETS.includes(t))) {
  console.error(`--target must be one of ${TARGETS.join(', ')} or all`);
  process.exit(2);
}
if (!existsSync(join(REPO, 'dist/http1/request-parser.js'))) {
  console.error('dist/ is missing: run `npm run build` (npm run fuzz does)');
  process.exit(2);
}

/** The libFuzzer statistics of a run's output: last status line and -print_final_stats. */
function stats(log) {
  const status = [...log.matchAll(/^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)\/(\S+).*?exec\/s: (\d+) rss: (\d+)Mb/gm)].at(-1);
  const stat = (name) => Number((log.match(new RegExp(`^stat::${name}:\\s+(\\d+)`, 'm')) ?? [])[1]);
  return {
    runs: stat('number_of_executed_units') || (status ? Number(status[1]) : NaN),
    execsPerSecond: stat('average_exec_per_sec') || (status ? Number(status[6]) : NaN),
    edges: status ? Number(status[2]) : NaN,
    features: status ? Number(status[3]) : NaN,
    corpus: status ? `${status[4]} inputs / ${status[5]}` : '?',
    newUnits: stat('new_units_added'),
    peakRssMb: stat('peak_rss_mb') || (status ? Number(status[7]) : NaN),
  };
}

/** Copy libFuzzer artifacts (crash-*, timeout-*, oom-*, slow-unit-*) to regressions/<target>/. */
function keepFindings(target, artifacts) {
  const kept = [];
  if (!existsSync(artifacts)) return kept;
  const dir = join(HERE, 'regressions', target);
  for (const name of readdirSync(artifacts)) {
    const kind = name.match(/^(crash|timeout|oom|leak|slow-unit)-/)?.[1];
    if (!kind) continue;
    const data = readFileSync(join(artifacts, name));
    const file = join(dir, `${kind}-${createHash('sha1').update(data).digest('hex').slice(0, 12)}`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(artifacts, name), file);
    kept.push({ kind, file, bytes: data.length });
  }
  return kept;
}

/**
 * Run Jazzer with `argv` (after node's own options), echo the interesting lines, keep the whole
 * output in .work/logs/<name>.log; resolves to { status, output, logFile }.
 */
async function runJazzer(name, argv, env) {
  const logFile = join(WORK_DIR, 'logs', `${name}.log`);
  mkdirSync(join(WORK_DIR, 'logs'), { recursive: true });
  const log = createWriteStream(logFile);
  let output = '';
  const status = await new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onData = (chunk) => {
      output += chunk;
      log.write(chunk);
      // Echo libFuzzer's progress lines, coverage tables and anything that looks like a finding.
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      for (const line of lines) {
        if (/^#\d+\s+(INITED|DONE|pulse)|==\d+==|Error|Violation|SUMMARY|crash|timeout|oom|artifact|\|/i.test(line)) console.log(`  ${line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code, signal) => resolve(signal ? 128 : code));
  });
  await new Promise((resolve) => log.end(resolve));
  return { status, output, logFile };
}

/** Arguments for Jazzer on one target, before its `--` libFuzzer flags. */
function jazzerArgs(preload, target, corpora, extra) {
  return [
    ...preload, JAZZER_CLI, join(HERE, 'targets', `${target}.js`), ...corpora,
    '--sync', '-i', 'dist/http1/', '-i', 'dist/common/', '--timeout', String(INPUT_TIMEOUT_MS), ...extra,
  ];
}

/** Replay one target's inputs with istanbul coverage; resolves to { target, status }. */
async function coverTarget(target, addonEnv, preload) {
  const seeds = join(WORK_DIR, 'seeds', target);
  writeSeeds(target, seeds);
  const corpora = [join(WORK_DIR, 'corpus', target), seeds, join(HERE, 'regressions', target)].filter(existsSync);
  const dir = join(WORK_DIR, 'coverage', target);
  console.log(`\n== ${target}: coverage of ${corpora.join(', ')}`);
  const { status } = await runJazzer(`${target}-coverage`, jazzerArgs(preload, target, corpora, [
    '-m', 'regression', '--coverage', '--cov_dir', dir, '--cov_reporters', 'text', '--cov_reporters', 'json-summary',
  ]), addonEnv);
  return { target, status };
}

/** Fuzz one target; resolves to { target, status, stats, findings }. */
async function fuzzTarget(target, addonEnv, preload) {
  const seeds = join(WORK_DIR, 'seeds', target);
  const corpus = join(WORK_DIR, 'corpus', target);
  const artifacts = join(WORK_DIR, 'artifacts', target);
  const regressions = join(HERE, 'regressions', target);
  const seedCount = writeSeeds(target, seeds);
  rmSync(artifacts, { recursive: true, force: true });
  for (const dir of [corpus, artifacts, regressions]) mkdirSync(dir, { recursive: true });

  const libFuzzerFlags = [
    `-max_total_time=${Number(args.time)}`,
    `-max_len=${Number(args['max-len'])}`,
    `-dict=${join(HERE, 'http.dict')}`,
    `-artifact_prefix=${artifacts}/`,
    `-rss_limit_mb=${RSS_LIMIT_MB}`,
    '-print_final_stats=1',
    ...(args.runs ? [`-runs=${Number(args.runs)}`] : []),
  ];
  const argv = jazzerArgs(preload, target, [corpus, seeds, regressions], ['--', ...libFuzzerFlags]);
  console.log(`\n== ${target}: ${seedCount} seeds, ${args.runs ? `${args.runs} runs / ` : ''}${args.time} s max`);
  const { status, output, logFile } = await runJazzer(target, argv, { ...addonEnv, KEEL_FUZZ_STRICT: args.strict ? '1' : '0' });
  const findings = keepFindings(target, artifacts);
  return { target, status, stats: stats(output), findings, logFile };
}

const addon = ensureJazzerAddon();
const addonEnv = addon.patched
  ? { KEEL_JAZZER_ADDON_ORIGINAL: ORIGINAL_ADDON, KEEL_JAZZER_ADDON_PATCHED: addon.path }
  : {};
const preload = addon.patched ? ['--import', join(HERE, 'jazzer-addon-redirect.js')] : [];
if (addon.patched) console.log(`Jazzer addon: patched copy for this glibc (${addon.path})`);

if (args.coverage) {
  let status = 0;
  for (const target of targets) status |= (await coverTarget(target, addonEnv, preload)).status;
  process.exit(status === 0 ? 0 : 1);
}

const results = [];
for (const target of targets) results.push(await fuzzTarget(target, addonEnv, preload));

console.log('\n== summary');
let failed = false;
for (const r of results) {
  const s = r.stats;
  console.log(`${r.target}: exit ${r.status}, ${s.runs} runs, ${s.execsPerSecond} exec/s, ${s.edges} edges (cov), ` +
    `${s.features} features, corpus ${s.corpus}, ${s.newUnits} new, peak RSS ${s.peakRssMb} MB; log ${r.logFile}`);
  for (const f of r.findings) console.log(`  FINDING ${f.kind}: ${f.file} (${f.bytes} bytes)`);
  if (r.status !== 0 || r.findings.length > 0) failed = true;
}
process.exit(failed ? 1 : 0);
