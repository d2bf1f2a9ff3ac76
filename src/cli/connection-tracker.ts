// ConnectionTracker: the server's open connections and, for each, how many requests are in flight
// and since when it has been idle. A retiring worker uses it to wait until every connection has
// either made its last request (answered with Connection: close) or sat idle long enough that
// closing it cannot race a request the client is sending. Upgraded sockets (WebSocket tunnels) are
// not waited for: they are ended when the server closes.

import type { Socket } from 'node:net';

interface SocketState {
  inFlight: number;
  /** performance.now() when inFlight last dropped to 0 (or the connection arrived). */
  idleSince: number;
  isUpgraded: boolean;
}

export class ConnectionTracker {
  readonly #sockets = new Map<Socket, SocketState>();

  /** The number of open connections. */
  get size(): number {
    return this.#sockets.size;
  }

  /** A connection was accepted (for TLS: its handshake finished). */
  add(socket: Socket): void {
    this.#stateOf(socket);
  }

  /** A request started on `socket`; call `requestEnded` once its response has closed. */
  requestStarted(socket: Socket): void {
    this.#stateOf(socket).inFlight++;
  }

  requestEnded(socket: Socket): void {
    const state = this.#sockets.get(socket);
    if (state === undefined) return;
    state.inFlight = Math.max(0, state.inFlight - 1);
    if (state.inFlight === 0) state.idleSince = performance.now();
  }

  /** The socket now carries another protocol (a WebSocket tunnel): left out of allIdleFor(). */
  upgraded(socket: Socket): void {
    this.#stateOf(socket).isUpgraded = true;
  }

  /** True when every HTTP connection (if any) has had no request in flight for `ms` ms. */
  allIdleFor(ms: number): boolean {
    const now = performance.now();
    for (const state of this.#sockets.values()) {
      if (!state.isUpgraded && (state.inFlight > 0 || now - state.idleSince < ms)) return false;
    }
    return true;
  }

  /** End (FIN) every upgraded socket; a tunnel passes the end on to its other side. */
  endUpgraded(): void {
    for (const [socket, state] of this.#sockets) if (state.isUpgraded) socket.end();
  }

  #stateOf(socket: Socket): SocketState {
    let state = this.#sockets.get(socket);
    if (state === undefined) {
      state = { inFlight: 0, idleSince: performance.now(), isUpgraded: false };
      this.#sockets.set(socket, state);
      socket.once('close', () => this.#sockets.delete(socket));
    }
    return state;
  }
}
