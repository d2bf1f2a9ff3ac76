// Checks that need the disk, run before anything listens (in the primary, so a cluster reports them
// once): the served directory exists, the TLS certificate and key are readable and make a usable
// pair (node:tls accepts them). Each failure is a UsageError (exit status 2).

import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { UsageError, type Config } from './args.js';

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
  const material = { cert: readPem(config.tls.certFile, '--tls-cert'), key: readPem(config.tls.keyFile, '--tls-key') };
  try {
    createSecureContext(material);
  } catch (error) {
    throw new UsageError(`keel: --tls-cert/--tls-key: ${(error as Error).message}`);
  }
  return material;
}
