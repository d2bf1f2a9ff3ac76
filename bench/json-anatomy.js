// Where the time of the `json` scenario (1 KiB JSON POST echo) goes: the same POST served by Keel
// and node:http with two handlers,
//
//   read  reads the body ('data' / 'end') and answers a fixed, pre-serialised copy of the JSON
//   json  the benchmark's handler: reads the body, JSON.parse, JSON.stringify, answers that
//
// so that 1/json − 1/read is what the handler's JSON round trip costs per request in a server
// (microseconds), the same for every Node server, and 1/read is the HTTP server's own share.
// Server pinned to CPU 0, wrk to CPU 1, the four runs alternating, medians of `--rounds` (3) runs
// of `--duration` (5) seconds.
//
//   npm run bench:json-anatomy [-- --rounds 3 --duration 5]
//
// (`node bench/json-anatomy.js --serve <keel|node> <read|json> <port>` is the server it starts.)

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const BODY_FILE = path.join(BENCH_DIR, 'lua', 'body-1k.json');
const SCRIPT = path.join(BENCH_DIR, 'lua', 'post-json.lua');
const HOST = '127.0.0.1';

if (process.argv[2] === '--serve') {
  const [impl, handlerName, port] = process.argv.slice(3);
  const http = impl === 'keel' ? (await import('keel')).default : (await import('node:http')).default;
  const fixed = JSON.stringify(JSON.parse(readFileSync(BODY_FILE, 'utf8')));
  const handlers = {
    read(req, res) {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(fixed);
      });
    },
    json(req, res) {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(value));
      });
    },
  };
  const server = http.createServer(handlers[handlerName]);
  server.listen(Number(port), HOST, () => process.stdout.write('ready\n'));
  process.stdin.on('end', () => process.exit(0)); // the runner went away
  process.stdin.resume();
} else {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '5' } } });
  const rounds = Number(values.rounds);
  const duration = Number(values.duration);
  const runs = [['keel', 'read'], ['node', 'read'], ['keel', 'json'], ['node', 'json']];
  const results = new Map(runs.map((run) => [run.join(' '), []]));
  let port = 19000;
  for (let round = 0; round < rounds; round++) {
    for (const [impl, handler] of runs) {
      port++;
      const server = spawn('taskset', ['-c', '0', process.execPath, fileURLToPath(import.meta.url), '--serve', impl, handler, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
      await new Promise((resolve, reject) => {
        server.stdout.once('data', resolve);
        server.once('exit', (code) => reject(new Error(`${impl} ${handler} server exited (${code})`)));
      });
      const url = `http://${HOST}:${port}/`;
      spawnSync('taskset', ['-c', '1', 'wrk', '-t1', '-c50', '-d1s', '-s', SCRIPT, url]); // warm-up
      const wrk = spawnSync('taskset', ['-c', '1', 'wrk', '-t1', '-c50', `-d${duration}s`, '-s', SCRIPT, url], { encoding: 'utf8' });
      server.removeAllListeners('exit');
      server.stdin.end();
      server.kill();
      const match = /Requests\/sec:\s+([\d.]+)/.exec(wrk.stdout ?? '');
      if (match === null) throw new Error(`wrk failed against ${impl} ${handler}: ${wrk.stderr || wrk.stdout}`);
      const rps = Number(match[1]);
      results.get(`${impl} ${handler}`).push(rps);
      process.stdout.write(`round ${round + 1}/${rounds} ${impl} ${handler}: ${Math.round(rps).toLocaleString('en-US')} req/s\n`);
    }
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const us = (rps) => 1e6 / rps;
  process.stdout.write('\n| server | read + fixed reply | read + JSON round trip | µs per request: HTTP | µs: JSON round trip |\n|---|---:|---:|---:|---:|\n');
  const rows = {};
  for (const impl of ['keel', 'node']) {
    const read = median(results.get(`${impl} read`));
    const json = median(results.get(`${impl} json`));
    rows[impl] = { read, json };
    process.stdout.write(`| ${impl === 'node' ? 'node:http' : impl} | ${Math.round(read).toLocaleString('en-US')} req/s | ${Math.round(json).toLocaleString('en-US')} req/s | ${us(read).toFixed(1)} | ${(us(json) - us(read)).toFixed(1)} |\n`);
  }
  const jsonCost = us(rows.keel.json) - us(rows.keel.read);
  const ceiling = 1e6 / jsonCost;
  process.stdout.write(`\nKeel / node:http: ${(rows.keel.read / rows.node.read).toFixed(2)}x with the fixed reply, ${(rows.keel.json / rows.node.json).toFixed(2)}x with the JSON round trip.\n`);
  process.stdout.write(`A server whose own share cost nothing would still spend ${jsonCost.toFixed(1)} µs per request on the handler's JSON: at most ${Math.round(ceiling).toLocaleString('en-US')} req/s = ${(ceiling / rows.node.json).toFixed(2)}x node:http's JSON POST.\n`);
}
