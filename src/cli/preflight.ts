// Checks that need the disk, run before anything listens (in the primary, so a cluster reports them
// once): the served directory exists, keel/https can serve TLS, the certificate and key are
// readable. Each failure is a UsageError (exit status 2).

import { readFileSync, statSync } from 'node:fs';
import { UsageError, type Config } from './args.js';
import { tlsServerFactory } from './create-server.js';

/** PEM certificate and key, read from --tls-cert / --tls-key. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`keel: cannot read ${option} ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Check `config` against the disk; returns the TLS material (null without --tls-*). Throws UsageError. */
export function preflight(config: Config): TlsMaterial | null {
  if (config.command === 'serve') {
    let isDirectory = false;
    try {
      isDirectory = statSync(config.dir).isDirectory();
    } catch {
      throw new UsageError(`keel: no such directory: ${config.dir}`);
    }
    if (!isDirectory) throw new UsageError(`keel: not a directory: ${config.dir}`);
  }
  if (config.tls === null) return null;
  if (tlsServerFactory() === null) throw new UsageError('keel: TLS serving needs keel/https createServer (this build of keel has none)');
  return { cert: readPem(config.tls.certFile, '--tls-cert'), key: readPem(config.tls.keyFile, '--tls-key') };
}
