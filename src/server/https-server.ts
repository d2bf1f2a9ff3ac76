// HttpsServer: Keel's Server over TLS (node:https's Server). Each accepted TCP socket is wrapped in
// a tls.TLSSocket (ALPN http/1.1, SNI through SNICallback), and once the handshake is done the
// secure socket is served by the same connection engine as plain HTTP. Handshake failures are
// 'tlsClientError' events, never crashes; a handshake that does not finish in time is destroyed.

import type { Socket } from 'node:net';
import tls from 'node:tls';
import { inheritProxyAddress } from './proxy-protocol-socket.js';
import { Server, type RequestListener, type ServerOptions } from './server.js';

/** Options of https createServer(): Keel's server options plus node:tls's server options. */
export interface HttpsServerOptions extends ServerOptions, tls.TlsOptions {
  /** Time allowed for the TLS handshake, ms (default 120000, as node:tls). */
  handshakeTimeout?: number;
}

const HANDSHAKE_TIMEOUT_MS = 120_000;

/**
 * An HTTPS server (node:https's Server): `createServer({ key, cert, ... }, listener)`. Events as
 * Node's: 'connection' (raw TCP socket), 'secureConnection' (TLS socket, before any request),
 * 'tlsClientError' (err, tlsSocket), plus every HTTP event of Server. `req.socket` is the
 * TLSSocket (`encrypted`, `alpnProtocol`, `servername`, `getPeerCertificate()`).
 */
export class HttpsServer extends Server {
  readonly #tlsOptions: tls.TlsOptions;
  readonly #handshakeTimeout: number;
  #context: tls.SecureContext;

  constructor(options: HttpsServerOptions = {}, requestListener?: RequestListener) {
    super(options, requestListener);
    this.#tlsOptions = { ALPNProtocols: ['http/1.1'], ...options };
    this.#handshakeTimeout = options.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS;
    this.#context = tls.createSecureContext(options);
  }

  /** Replace the certificate and key (and other context options) for new connections (node:tls). */
  setSecureContext(options: tls.SecureContextOptions): void {
    this.#context = tls.createSecureContext(options);
  }

  protected override acceptConnection(socket: Socket): void {
    const options = this.#tlsOptions;
    const tlsSocket = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: this.#context,
      ALPNProtocols: options.ALPNProtocols,
      SNICallback: options.SNICallback,
      requestCert: options.requestCert,
      rejectUnauthorized: options.rejectUnauthorized,
    });
    inheritProxyAddress(socket, tlsSocket); // behind the PROXY protocol, the client's address
    let isSecure = false;
    const onHandshakeTimeout = () => tlsSocket.destroy();
    tlsSocket.setTimeout(this.#handshakeTimeout, onHandshakeTimeout);
    tlsSocket.once('secure', () => {
      isSecure = true;
      tlsSocket.setTimeout(0, onHandshakeTimeout);
      tlsSocket.removeListener('timeout', onHandshakeTimeout);
      this.emit('secureConnection', tlsSocket);
      super.acceptConnection(tlsSocket);
    });
    tlsSocket.on('error', (error) => {
      if (isSecure) return; // the connection engine handles errors from here on
      this.emit('tlsClientError', error, tlsSocket);
      tlsSocket.destroy();
    });
  }
}

/** Create an HttpsServer (node:https's createServer). */
export function createHttpsServer(options: HttpsServerOptions, requestListener?: RequestListener): HttpsServer {
  return new HttpsServer(options, requestListener);
}
