// The server a `keel` process listens with: Keel's createServer, or keel/https's createServer for
// --tls-cert/--tls-key when this build of keel/https has one (looked up at run time, so the CLI
// builds and runs with either). `connectionEvent` names the event that hands over a socket that
// will carry requests ('secureConnection' over TLS: req.socket is the TLS socket).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from '../keel.js';
import * as https from '../keel-https.js';
import type { TlsMaterial } from './preflight.js';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;
type TlsFactory = (options: { cert: Buffer; key: Buffer }, listener: Listener) => Server;

/** keel/https's createServer, or null when this build does not have it. */
export function tlsServerFactory(): TlsFactory | null {
  const candidate = (https as unknown as Record<string, unknown>).createServer;
  return typeof candidate === 'function' ? (candidate as TlsFactory) : null;
}

/** A server (plain, or TLS with `tls`) and the event that announces each request-carrying socket. */
export function createKeelServer(tls: TlsMaterial | null, listener: Listener): { server: Server; connectionEvent: 'connection' | 'secureConnection' } {
  if (tls === null) return { server: createServer(listener), connectionEvent: 'connection' };
  const factory = tlsServerFactory();
  if (factory === null) throw new Error('keel/https has no createServer');
  return { server: factory({ cert: tls.cert, key: tls.key }, listener), connectionEvent: 'secureConnection' };
}
