// CPU work for the demo's /slow route: the default export runs on a keel/workers (piscina) thread,
// so the event loop stays free for everything else.

function fibonacci(n) {
  return n < 2 ? n : fibonacci(n - 1) + fibonacci(n - 2);
}

export default function ({ n, started }) {
  return { n, started, value: fibonacci(n) };
}
