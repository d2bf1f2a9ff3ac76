// The socket side of the PROXY protocol: read a fresh connection until its PROXY header is
// complete (parsing is src/http1/proxy-protocol.ts), within a deadline; put back the bytes that
// follow it (`socket.unshift`), record the original client on the socket (`socket.proxyAddress`,
// and the remoteAddress / remotePort / remoteFamily getters), then hand the socket on.

import type { Socket } from 'node:net';
import { keelError } from '../common/errors.js';
import {
  ProxyProtocolError,
  parseProxyHeader,
  type ProxyAddress,
  type ProxyHeader,
  type ProxyProtocolVersions,
} from '../http1/proxy-protocol.js';

export { ProxyProtocolError, type ProxyAddress, type ProxyHeader, type ProxyProtocolVersions };

/** The server option: false (default), true (v1 or v2), 'v1' or 'v2'. */
export type ProxyProtocolOption = boolean | 'v1' | 'v2';

/** A socket after its PROXY header: `proxyAddress` is the header's source, null without one. */
export type ProxiedSocket = Socket & { readonly proxyAddress: ProxyAddress | null };

/** The versions an option value accepts; null when disabled. Throws ERR_INVALID_ARG_VALUE. */
export function proxyProtocolVersions(option: unknown): ProxyProtocolVersions | null {
  if (option === undefined || option === false) return null;
  if (option === true) return 'any';
  if (option === 'v1' || option === 'v2') return option;
  throw keelError('ERR_INVALID_ARG_VALUE', 'options.proxyProtocol', String(option));
}

/**
 * Record the header's source on `socket`: `socket.proxyAddress` (a Keel extension; null for v1
 * UNKNOWN / v2 LOCAL / v2 UNSPEC), and, for an IPv4 or IPv6 source, own `remoteAddress`,
 * `remotePort` and `remoteFamily` getters on the instance, so that logs and frameworks see the
 * original client. A unix-socket source only sets `proxyAddress`.
 */
export function applyProxyHeader(socket: Socket, header: ProxyHeader): void {
  setProxyAddress(socket, header.source);
}

/**
 * Give `wrapper` (e.g. the tls.TLSSocket built over `socket` after its PROXY header) the same
 * `proxyAddress` and peer getters as `socket`; nothing when `socket` had no PROXY header.
 */
export function inheritProxyAddress(socket: Socket, wrapper: Socket): void {
  if (Object.hasOwn(socket, 'proxyAddress')) setProxyAddress(wrapper, (socket as ProxiedSocket).proxyAddress);
}

function setProxyAddress(socket: Socket, source: ProxyAddress | null): void {
  Object.defineProperty(socket, 'proxyAddress', { value: source, enumerable: true, configurable: true });
  if (source === null || source.family === 'unix') return;
  Object.defineProperties(socket, {
    remoteAddress: { get: () => source.address, configurable: true },
    remotePort: { get: () => source.port, configurable: true },
    remoteFamily: { get: () => source.family, configurable: true },
  });
}

/** What the reader reports: the header, or why the connection was dropped (null: the peer left). */
export interface ProxyHeaderCallbacks {
  onHeader(socket: Socket, header: ProxyHeader): void;
  onDropped(socket: Socket, error: ProxyProtocolError | null): void;
}

/**
 * Reads one connection's PROXY header. On success the socket is handed over as a fresh one: not
 * flowing until someone listens for 'data', the bytes after the header unshifted into its buffer,
 * `applyProxyHeader` done and no listener of the reader's left. On failure the socket is
 * destroyed (no response is written): a malformed header, or none complete within `timeoutMs`
 * (0 = no limit), is an ERR_PROXY_PROTOCOL error; a peer that closes or resets before sending a
 * byte is not.
 */
export class ProxyHeaderReader {
  readonly socket: Socket;
  readonly #versions: ProxyProtocolVersions;
  readonly #callbacks: ProxyHeaderCallbacks;
  #received: Buffer | null = null;
  #timer: NodeJS.Timeout | null = null;
  #done = false;

  constructor(socket: Socket, versions: ProxyProtocolVersions, timeoutMs: number, callbacks: ProxyHeaderCallbacks) {
    this.socket = socket;
    this.#versions = versions;
    this.#callbacks = callbacks;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('timeout', this.#onTimeout);
    if (timeoutMs > 0) {
      this.#timer = setTimeout(this.#onDeadline, timeoutMs, timeoutMs);
      this.#timer.unref();
    }
  }

  /** Drop the connection (the server is closing). */
  abort(): void {
    this.#drop(null);
  }

  #onData = (chunk: Buffer): void => {
    const received = this.#received === null ? chunk : Buffer.concat([this.#received, chunk]);
    let result;
    try {
      result = parseProxyHeader(received, this.#versions);
    } catch (err) {
      this.#drop(err as ProxyProtocolError);
      return;
    }
    if (result.needMore) {
      this.#received = received;
      return;
    }
    const socket = this.socket;
    socket.pause();
    this.#finish();
    if (received.length > result.length) socket.unshift(received.subarray(result.length));
    // Back to the state of a fresh socket: the next 'data' listener starts the flow, and a
    // wrapper that takes the handle (tls.TLSSocket) reads the unshifted bytes from the buffer.
    (socket as unknown as { readableFlowing: boolean | null }).readableFlowing = null;
    applyProxyHeader(socket, result);
    this.#callbacks.onHeader(socket, result);
  };

  #onEnd = (): void => {
    const got = this.#received === null ? 0 : this.#received.length;
    this.#drop(got === 0 ? null : new ProxyProtocolError('the peer closed the connection within the header', got));
  };

  #onError = (): void => {
    this.#drop(null);
  };

  #onClose = (): void => {
    this.#drop(null);
  };

  #onTimeout = (): void => {
    this.#drop(new ProxyProtocolError('no data for the socket timeout', this.#received?.length ?? 0));
  };

  #onDeadline = (ms: number): void => {
    this.#timer = null;
    this.#drop(new ProxyProtocolError(`no complete header within ${ms} ms`, this.#received?.length ?? 0));
  };

  #drop(error: ProxyProtocolError | null): void {
    if (this.#done) return;
    this.#finish();
    const socket = this.socket;
    socket.on('error', noop);
    socket.destroy();
    this.#callbacks.onDropped(socket, error);
  }

  #finish(): void {
    this.#done = true;
    this.#received = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const socket = this.socket;
    socket.removeListener('data', this.#onData);
    socket.removeListener('end', this.#onEnd);
    socket.removeListener('error', this.#onError);
    socket.removeListener('close', this.#onClose);
    socket.removeListener('timeout', this.#onTimeout);
  }
}

function noop(): void {}
