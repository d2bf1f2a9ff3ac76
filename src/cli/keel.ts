#!/usr/bin/env node
// The `keel` command (package.json "bin"): `keel serve [dir]` and `keel proxy --to URL[,URL]`, built
// only on Keel's public entries. This file reads the command line, prints help/version/usage errors,
// runs the checks that need the disk, then becomes the single serving process, the cluster primary
// (--workers) or, when node:cluster started it, one worker. Exit status: 0, 1 runtime, 2 usage.

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseCommandLine, UsageError, type Invocation } from './args.js';
import { ClusterPrimary } from './cluster-primary.js';
import { preflight, type TlsMaterial } from './preflight.js';
import { runServerProcess } from './server-process.js';
import { helpText, packageVersion } from './usage.js';

function main(argv: readonly string[]): void {
  let invocation: Invocation;
  let tls: TlsMaterial | null;
  try {
    invocation = parseCommandLine(argv, process.env, process.cwd(), availableParallelism());
    if (invocation.action === 'help') return void process.stdout.write(helpText());
    if (invocation.action === 'version') return void process.stdout.write(`keel ${packageVersion()}\n`);
    tls = preflight(invocation.config);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(error.exitCode);
  }
  const { config } = invocation;
  if (cluster.isWorker) runServerProcess(config, tls, 'worker');
  else if (config.workers !== null) new ClusterPrimary(config, config.workers, tls !== null).start();
  else runServerProcess(config, tls, 'single');
}

main(process.argv.slice(2));
