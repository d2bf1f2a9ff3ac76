// Starts demo/server.js on an ephemeral port (PORT=0) and stops it; shared by the demo tests.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DEMO = fileURLToPath(new URL('../../demo/server.js', import.meta.url));

/** Start the demo; resolves to { port, url, child, output(), stop() } once it prints its URL. */
export function startDemo() {
  const child = spawn(process.execPath, [DEMO], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo did not start within 5 s:\n${output}`));
    }, 5000);
    child.stdout.on('data', () => {
      const match = /Keel demo listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        port: Number(match[2]),
        url: match[1],
        child,
        exited,
        output: () => output,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
    child.once('exit', () => reject(new Error(`demo exited before listening:\n${output}`)));
  });
}
