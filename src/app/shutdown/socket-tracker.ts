// Every socket the server accepts from the moment shutdown() is wired until it closes — HTTP
// connections and the sockets handed to 'upgrade' / 'connect' listeners alike, which the server
// itself forgets once handed over — so that the deadline can destroy whatever is still open.

import type { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';

export class SocketTracker {
  readonly #server: NetServer;
  readonly #sockets = new Set<Duplex>();
  #onChange: () => void = () => {};

  constructor(server: NetServer) {
    this.#server = server;
    server.on('connection', this.#add);
  }

  /** Sockets accepted since the tracker was created that have not closed. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Call `listener` each time a tracked socket closes. */
  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  /** Destroy every tracked socket still open; returns how many were destroyed. */
  destroyAll(): number {
    let destroyed = 0;
    for (const socket of this.#sockets) {
      if (socket.destroyed) continue;
      socket.destroy();
      destroyed++;
    }
    return destroyed;
  }

  /** Stop tracking new sockets (the ones tracked still report their close). */
  detach(): void {
    this.#server.removeListener('connection', this.#add);
  }

  #add = (socket: Duplex): void => {
    if (socket.destroyed) return;
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#onChange();
    });
  };
}
