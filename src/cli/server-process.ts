// A process that serves: the single `keel` process, or one worker under the cluster primary. It
// builds the handler (serve or proxy), wraps it with the access log, the health endpoints and the
// connection accounting, listens, prints the banner (single) or lets the primary do it (worker),
// and wires SIGTERM/SIGINT (shutdown), the primary's 'retire' message (rolling restart) and listen
// failures (exit 1 with one line on stderr).

import type { IncomingMessage, ServerResponse } from '../keel.js';
import type { Config } from './args.js';
import { AccessLog } from './access-log.js';
import { bannerLine, originOf } from './banner.js';
import { ConnectionTracker } from './connection-tracker.js';
import { createKeelServer } from './create-server.js';
import { answerHealth, Readiness } from './health.js';
import { isKeelMessage, type FatalMessage } from './ipc.js';
import { listenErrorMessage } from './listen-error.js';
import { LogSink } from './log-sink.js';
import type { TlsMaterial } from './preflight.js';
import { createProxyHandler } from './proxy-app.js';
import { createServeHandler } from './serve-app.js';
import { Stopper } from './stopper.js';

/** 'single': the only process (prints the banner); 'worker': one of the cluster's workers. */
export type Role = 'single' | 'worker';

/** Time a worker that reported a failure waits for the primary to stop it before exiting itself, ms. */
const FATAL_EXIT_MS = 5000;

/** Report a failure to serve: a worker tells the primary (which prints it once) and waits to be stopped. */
function fail(role: Role, message: string, exitCode: number): void {
  if (role === 'worker' && process.send) {
    const fatal: FatalMessage = { keel: 'fatal', message, exitCode };
    process.send(fatal);
    setTimeout(() => process.exit(exitCode), FATAL_EXIT_MS).unref();
    return;
  }
  process.stderr.write(`${message}\n`);
  process.exit(exitCode);
}

/** Serve `config` in this process until a signal (or the primary) stops it. */
export function runServerProcess(config: Config, tls: TlsMaterial | null, role: Role): void {
  const readiness = new Readiness();
  const tracker = new ConnectionTracker();
  const sink = new LogSink();
  // Built on the keel:server:response:* diagnostics channels: it sees every response of this process.
  if (config.log !== 'off') new AccessLog(config.log, sink);
  const workerHeader = process.env.KEEL_DEBUG_WORKER === '1' ? String(process.pid) : null;
  const proxy = config.command === 'proxy' ? createProxyHandler(config) : null;
  const app = config.command === 'serve' ? createServeHandler(config) : proxy!;

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    tracker.requestStarted(socket);
    res.once('close', () => tracker.requestEnded(socket));
    if (workerHeader !== null) res.setHeader('X-Keel-Worker', workerHeader);
    if (!readiness.isReady) res.setHeader('Connection', 'close');
    if (answerHealth(req, res, readiness)) return;
    app(req, res);
  };

  const { server, connectionEvent } = createKeelServer(tls, listener);
  server.on(connectionEvent, (socket) => tracker.add(socket));
  if (proxy !== null) {
    server.on('upgrade', (req, socket, head) => {
      tracker.upgraded(socket);
      proxy.upgrade(req, socket, head);
    });
  }
  const stopper = new Stopper(server, tracker, readiness, sink, {
    drainMs: config.drainMs,
    graceMs: config.graceMs,
    isVerbose: role === 'single',
    secondSignalForces: role === 'single',
  });

  server.on('error', (error: NodeJS.ErrnoException) => {
    if (!server.listening) return fail(role, listenErrorMessage(error, config.host, config.port), 1);
    process.stderr.write(`keel: server error (pid ${process.pid}): ${error.message}\n`);
  });
  server.listen(config.port, config.host, () => {
    if (role !== 'single') return;
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = typeof address === 'object' && address !== null ? address.address : config.host;
    process.stdout.write(`${bannerLine(config, originOf(host, port, tls !== null), null)}\n`);
  });

  process.on('SIGTERM', () => stopper.shutdown('SIGTERM'));
  process.on('SIGINT', () => stopper.shutdown('SIGINT'));
  if (role === 'worker') {
    process.on('SIGHUP', () => {}); // a terminal hang-up reaches the whole group: the primary decides
    process.on('message', (message: unknown) => {
      if (isKeelMessage(message) && message.keel === 'retire') stopper.retire();
    });
  }
}
