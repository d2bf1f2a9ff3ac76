// Route lookup micro-benchmark: keel/router's find() against find-my-way's (the router inside
// Fastify), on the same 100-route API table and the same request paths. `npm run build` first.
//
//   node bench/router.js [--duration MS] [--rounds N] [--compiled]
//
// Each measurement runs in a fresh worker thread (no shared JIT state between the routers), for
// `--duration` ms (default 400) after a warm-up, `--rounds` times (default 5), alternating the
// implementations; a run's figure is the 10th percentile of its 1000-lookup batches (robust to
// other processes on the machine), the cell's the median of the rounds. Every lookup gets a new string object sliced from a
// Buffer (made outside the timed loop), as a server gets a new req.url per request: a reused
// literal would let V8 keep its hash and flattened form cached. Both routers answer every
// path identically (checked first). --compiled adds find-my-way after its router.compile().

import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const SELF = fileURLToPath(import.meta.url);
const BATCH = 1000; // fresh path strings per timed batch (small enough to stay in cache)

// ---- the route table: 100 routes of a REST API + assets -------------------------------------

function routeTable() {
  const routes = [];
  const resources = ['users', 'posts', 'comments', 'orders', 'products', 'invoices', 'teams', 'projects', 'tickets', 'files'];
  for (const r of resources) {
    routes.push(
      ['GET', `/api/v1/${r}`],
      ['POST', `/api/v1/${r}`],
      ['GET', `/api/v1/${r}/:id`],
      ['PUT', `/api/v1/${r}/:id`],
      ['PATCH', `/api/v1/${r}/:id`],
      ['DELETE', `/api/v1/${r}/:id`],
      ['GET', `/api/v1/${r}/:id/history`],
      ['GET', `/api/v1/${r}/search`],
    );
  }
  routes.push(
    ['GET', '/api/v1/users/:id/posts/:postId'],
    ['GET', '/api/v1/users/:id/posts/:postId/comments'],
    ['GET', '/api/v1/users/me'],
    ['GET', '/api/v1/teams/:teamId/members/:userId'],
    ['PUT', '/api/v1/teams/:teamId/members/:userId'],
    ['DELETE', '/api/v1/teams/:teamId/members/:userId'],
    ['GET', '/api/v1/projects/:id/tickets/:ticketId'],
    ['GET', '/api/v2/users/:id'],
    ['GET', '/api/v2/users'],
    ['GET', '/health'],
    ['GET', '/metrics'],
    ['GET', '/'],
    ['GET', '/login'],
    ['POST', '/login'],
    ['POST', '/logout'],
    ['GET', '/static/*'],
    ['GET', '/docs/*'],
    ['GET', '/blog/:year/:month/:slug'],
    ['GET', '/@:handle'],
    ['GET', '/favicon.ico'],
  );
  return routes;
}

/** Request paths by category: [method, path, expected route or null]. */
const CATEGORIES = {
  static: [
    ['GET', '/', '/'],
    ['GET', '/health', '/health'],
    ['GET', '/api/v1/invoices', '/api/v1/invoices'],
    ['POST', '/api/v1/orders', '/api/v1/orders'],
    ['GET', '/api/v1/users/me', '/api/v1/users/me'],
    ['GET', '/api/v1/tickets/search', '/api/v1/tickets/search'],
  ],
  'one param': [
    ['GET', '/api/v1/users/42', '/api/v1/users/:id'],
    ['PUT', '/api/v1/projects/7', '/api/v1/projects/:id'],
    ['DELETE', '/api/v1/comments/9b2e4c1a-5f3d-4e8b-9a7c-1d2e3f4a5b6c', '/api/v1/comments/:id'],
    ['GET', '/api/v1/orders/1001/history', '/api/v1/orders/:id/history'],
    ['GET', '/@keel', '/@:handle'],
  ],
  'two+ params': [
    ['GET', '/api/v1/users/42/posts/1001', '/api/v1/users/:id/posts/:postId'],
    ['GET', '/api/v1/teams/core/members/17', '/api/v1/teams/:teamId/members/:userId'],
    ['GET', '/blog/2026/11/a-fast-router', '/blog/:year/:month/:slug'],
  ],
  wildcard: [
    ['GET', '/static/js/app.min.js', '/static/*'],
    ['GET', '/docs/guide/routing/params.html', '/docs/*'],
  ],
  'query string': [
    ['GET', '/api/v1/users/42?fields=name,email&page=2', '/api/v1/users/:id'],
    ['GET', '/api/v1/products?sort=price&limit=50', '/api/v1/products'],
  ],
  'miss (404)': [
    ['GET', '/api/v3/nothing/here', null],
    ['GET', '/wp-login.php', null],
    ['POST', '/api/v1/users/42/history', null],
  ],
};
CATEGORIES.mixed = Object.values(CATEGORIES).flat();

// ---- worker: one implementation, one category, one timed run ----------------------------------

async function makeFinder(impl, routes) {
  if (impl === 'keel') {
    const { createRouter } = await import('keel/router');
    const router = createRouter();
    for (const [method, path] of routes) router.on(method, path, () => {});
    return (method, url) => {
      const match = router.find(method, url);
      return match === null ? null : [match.route.path, match.params];
    };
  }
  const FindMyWay = createRequire(import.meta.url)('find-my-way');
  const router = FindMyWay();
  for (const [method, path] of routes) router.on(method, path, () => {}, { path });
  if (impl === 'find-my-way compiled') router.compile();
  return (method, url) => {
    const match = router.find(method, url);
    return match === null ? null : [match.store.path, match.params];
  };
}

async function workerMain({ impl, category, duration }) {
  const cases = CATEGORIES[category];
  const find = await makeFinder(impl, routeTable());
  for (const [method, url, expected] of cases) {
    const got = find(method, url);
    if ((got === null ? null : got[0]) !== expected) throw new Error(`${impl}: ${method} ${url} -> ${got?.[0]}, expected ${expected}`);
  }
  // Fresh strings, made outside the timed loop in batches: each is looked up once, as a server
  // looks up each new req.url once (a reused string would keep its hash cached by V8).
  const buf = Buffer.from(cases.map((c) => c[1]).join(''), 'latin1');
  const count = cases.length;
  const batchRounds = Math.ceil(BATCH / count);
  const methods = [];
  const offsets = [];
  for (let r = 0, at = 0; r < batchRounds; r++, at = 0) {
    for (const [method, url] of cases) {
      methods.push(method);
      offsets.push(at, (at += url.length));
    }
  }
  const paths = new Array(methods.length);
  const refill = () => {
    for (let k = 0; k < paths.length; k++) paths[k] = buf.latin1Slice(offsets[2 * k], offsets[2 * k + 1]);
  };
  const lookups = () => {
    let sink = 0;
    for (let k = 0; k < paths.length; k++) {
      const match = find(methods[k], paths[k]);
      if (match !== null) sink += match[0].length;
    }
    return sink;
  };
  // Per-batch ns per lookup; the 10th percentile filters out batches slowed by other processes.
  const batches = [];
  const deadline = Date.now() + duration;
  for (let warm = 0; warm < 20; warm++) {
    refill();
    lookups();
  }
  while (Date.now() < deadline) {
    refill();
    const start = process.hrtime.bigint();
    lookups();
    batches.push(Number(process.hrtime.bigint() - start) / paths.length);
  }
  batches.sort((a, b) => a - b);
  const ns = batches[Math.floor(batches.length / 10)];
  parentPort.postMessage({ ns });
}

if (!isMainThread) {
  workerMain(workerData).catch((err) => {
    parentPort.postMessage({ error: err.stack });
  });
}

// ---- main: rounds, medians, table ----------------------------------------------------------------

function runWorker(data) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SELF, { workerData: data });
    worker.once('message', (msg) => (msg.error ? reject(new Error(msg.error)) : resolve(msg)));
    worker.once('error', reject);
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i === -1 ? fallback : Number(args[i + 1]);
  };
  const duration = option('--duration', 400);
  const rounds = option('--rounds', 5);
  const impls = ['keel', 'find-my-way'];
  if (args.includes('--compiled')) impls.push('find-my-way compiled');

  console.log(`# keel/router vs find-my-way: route lookup (${routeTable().length} routes)\n`);
  console.log(`Node ${process.version}, ${duration} ms x ${rounds} rounds per cell, median; a fresh path string per lookup.\n`);
  const others = impls.slice(1);
  const header = ['paths', ...impls.map((i) => `${i} lookups/s`), ...impls.map((i) => `${i} ns`), ...others.map((i) => `keel vs ${i}`)];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  const results = {};
  for (const category of Object.keys(CATEGORIES)) {
    const samples = Object.fromEntries(impls.map((i) => [i, []]));
    for (let r = 0; r < rounds; r++) {
      for (const impl of r % 2 === 0 ? impls : [...impls].reverse()) samples[impl].push((await runWorker({ impl, category, duration })).ns);
    }
    const ns = Object.fromEntries(impls.map((i) => [i, median(samples[i])]));
    results[category] = ns;
    const row = [
      `${category} (${CATEGORIES[category].length})`,
      ...impls.map((i) => `${(1e3 / ns[i]).toFixed(2)} M`),
      ...impls.map((i) => ns[i].toFixed(1)),
      ...others.map((i) => `${(ns[i] / ns.keel).toFixed(2)}x`),
    ];
    console.log(`| ${row.join(' | ')} |`);
  }
  console.log('\nns = ns per lookup; keel vs X = X ns / keel ns (above 1: keel is faster).');
  console.log("find-my-way's find() also parses the query string into searchParams; keel/router leaves it to req.query, parsed on first read.");
  return results;
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
