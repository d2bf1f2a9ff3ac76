// BodyReadable: a response body as a node:stream Readable with the consumers undici's `request`
// made familiar: text(), json(), arrayBuffer(), bytes(), dump(). Reading pulls from the connection
// (backpressure): a body nobody reads keeps its connection out of the pool.

import { Readable } from 'node:stream';

/** The side that feeds the body: reading resumes it. */
export interface BodySource {
  resume(): void;
}

export class BodyReadable extends Readable {
  #source: BodySource | null;
  /** push(null) happened: every byte of the body is buffered or was read. */
  #complete = false;

  constructor(source: BodySource | null) {
    super();
    this.#source = source;
  }

  override _read(): void {
    this.#source?.resume();
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) this.#complete = true;
    return super.push(chunk, encoding);
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
    // The whole body already arrived and nobody reads it yet (the common small response): take it
    // in one read(); 'end' and 'close' follow as usual.
    if (this.#complete && !this.readableEnded && this.readableFlowing !== true && this.listenerCount('data') === 0 && !this.destroyed) {
      const data = this.read() as Buffer | null;
      return Promise.resolve(data ?? Buffer.alloc(0));
    }
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
