// The server a `keel` process listens with: Keel's createServer, or keel/https's createServer with
// the PEM certificate and key of --tls-cert/--tls-key. `connectionEvent` names the event that hands
// over a socket that will carry requests ('secureConnection' over TLS: req.socket is the TLS socket).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from '../keel.js';
import { createServer as createHttpsServer } from '../keel-https.js';
import type { TlsMaterial } from './preflight.js';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A server (plain, or TLS with `tls`) and the event that announces each request-carrying socket. */
export function createKeelServer(tls: TlsMaterial | null, listener: Listener): { server: Server; connectionEvent: 'connection' | 'secureConnection' } {
  if (tls === null) return { server: createServer(listener), connectionEvent: 'connection' };
  return { server: createHttpsServer({ cert: tls.cert, key: tls.key }, listener), connectionEvent: 'secureConnection' };
}
