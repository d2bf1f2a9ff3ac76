// The one-line startup banner on stdout, which tests and scripts parse for the real port:
//   keel serve: http://127.0.0.1:3000 (dir /abs/path)
//   keel proxy: http://127.0.0.1:8080 → http://127.0.0.1:3001, http://127.0.0.1:3002

import type { Config } from './args.js';

/** `http://host:port` for a listening address (IPv6 in brackets; https: with TLS). */
export function originOf(address: string, port: number, isTls: boolean): string {
  return `${isTls ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** The banner line (no newline); `workers` is the process count under node:cluster, null without. */
export function bannerLine(config: Config, origin: string, workers: number | null): string {
  const cluster = workers === null ? '' : `${workers} worker${workers === 1 ? '' : 's'}`;
  if (config.command === 'serve') return `keel serve: ${origin} (dir ${config.dir}${cluster ? `, ${cluster}` : ''})`;
  return `keel proxy: ${origin} → ${config.upstreams.join(', ')}${cluster ? ` (${cluster})` : ''}`;
}
