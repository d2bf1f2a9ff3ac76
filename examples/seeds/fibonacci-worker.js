// Companion file for 000-worker-threads.cjs (seed 000_0488e465a6b49f79.txt,
// "Solution: Worker Threads"), which the seed references as './fibonacci-worker.js'
// but never shows. ESM, because this package is "type": "module".
// Computes fibonacci(workerData.n) and posts the result back.
import { parentPort, workerData } from 'node:worker_threads';

let a = 0;
let b = 1;
for (let i = 0; i < workerData.n; i++) [a, b] = [b, a + b];
parentPort.postMessage(a);
