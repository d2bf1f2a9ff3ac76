// Process bookkeeping shared by the test launchers of real servers (nginx.js, haproxy.js): the
// set of running instances ({ child, dir }), killed and their temp dirs removed when the test
// process exits or is stopped by SIGINT / SIGTERM / SIGHUP; a free loopback port; sleep.

import { rmSync } from 'node:fs';
import net from 'node:net';

const HOST = '127.0.0.1';

export const running = new Set(); // instances whose process may still be alive or whose dir still exists
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

export function killNow(inst) {
  const { child } = inst;
  if (child.exitCode === null && child.signalCode === null) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    rmSync(inst.dir, { recursive: true, force: true });
  } catch {
    // best effort
  }
  running.delete(inst);
}

function onExit() {
  for (const inst of [...running]) killNow(inst);
}

function onSignal(sig) {
  for (const inst of [...running]) killNow(inst);
  removeHooks();
  // If nobody else handles this signal, let it have its default effect (terminate).
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

const signalHandlers = Object.fromEntries(SIGNALS.map((s) => [s, () => onSignal(s)]));

export function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, signalHandlers[s]);
}

export function removeHooks() {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', onExit);
  for (const s of SIGNALS) process.off(s, signalHandlers[s]);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
