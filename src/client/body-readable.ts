// BodyReadable: a response body as a node:stream Readable with the consumers undici's `request`
// made familiar: text(), json(), arrayBuffer(), bytes(), dump(). Reading pulls from the connection
// (backpressure): a body nobody reads keeps its connection out of the pool.

import { Readable } from 'node:stream';

export class BodyReadable extends Readable {
  #onRead: (() => void) | null;

  constructor(onRead: (() => void) | null) {
    super();
    this.#onRead = onRead;
  }

  override _read(): void {
    this.#onRead?.();
  }

  /** The whole body as bytes. Rejects with the stream's error. */
  async bytes(): Promise<Uint8Array> {
    return this.#collect();
  }

  /** The whole body decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.#collect()).toString('utf8');
  }

  /** The whole body parsed as JSON (a SyntaxError for invalid JSON). */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  /** The whole body as an ArrayBuffer. */
  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = await this.#collect();
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  }

  /** Read and discard the body, so that the connection can be reused. */
  async dump(): Promise<void> {
    if (this.readableEnded) return;
    await new Promise<void>((resolve, reject) => {
      this.on('end', resolve);
      this.on('error', reject);
      this.on('close', resolve);
      this.resume();
    });
  }

  #collect(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.readableEnded) {
        resolve(Buffer.alloc(0));
        return;
      }
      const chunks: Buffer[] = [];
      this.on('data', (chunk: Buffer) => chunks.push(chunk));
      this.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      this.once('error', reject);
    });
  }
}
