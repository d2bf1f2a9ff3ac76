// CPU work for the demo's /slow route, run on a worker thread so the event loop stays free.
import { parentPort, workerData } from 'node:worker_threads';

function fibonacci(n) {
  return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2);
}

parentPort.postMessage(fibonacci(workerData.n));
