// "keel (no batteries)": the node:http app of node.js (hand-written route table, body collected
// by hand, JSON.parse) run on Keel's createServer, without keel/router or keel/body. bench/run.js
// uses it for the `keel` row only when keel/router or keel/body cannot be loaded, and labels that
// row `keel (no batteries)`; it can also be asked for with --impls keel-bare.

import http from 'keel';
import { start as startNodeApp } from './node.js';

export function start(port, host = '127.0.0.1') {
  return startNodeApp(port, host, http);
}
