// LogSink: lines to stdout, batched. Lines written in one turn of the event loop go out in one write
// (fewer syscalls under load); flush() writes what is pending at once (before process.exit). Each
// batch is one write of whole lines of at most PIPE_BUF bytes, which a pipe keeps atomic, so workers
// sharing stdout never interleave inside a line.
// A closed stdout (EPIPE: `keel serve | head`) turns the sink off instead of crashing the server.

/** Largest batch, in bytes: POSIX PIPE_BUF on Linux, the size up to which a pipe write is atomic. */
const MAX_BATCH_BYTES = 4096;

export class LogSink {
  readonly #stream: NodeJS.WritableStream;
  #pending: string[] = [];
  #pendingBytes = 0;
  #scheduled = false;
  #isBroken = false;

  constructor(stream: NodeJS.WritableStream = process.stdout) {
    this.#stream = stream;
    stream.on('error', () => {
      this.#isBroken = true;
      this.#pending = [];
    });
  }

  /** Queue one line (without its newline). */
  line(text: string): void {
    if (this.#isBroken) return;
    const bytes = Buffer.byteLength(text) + 1;
    if (this.#pendingBytes + bytes > MAX_BATCH_BYTES) this.flush();
    this.#pending.push(text);
    this.#pendingBytes += bytes;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onTurn);
    }
  }

  /** Write every pending line now. */
  flush(): void {
    if (this.#pending.length === 0 || this.#isBroken) return;
    const text = this.#pending.join('\n') + '\n';
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#stream.write(text);
  }

  #onTurn = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
