// SerialLoop: run a step until it stops asking for another pass, never re-entrantly. A call made
// while the step runs (a handler answering synchronously, a stream asking for more) only asks for
// one more pass after the current one: connections use it to pull their parser.

export class SerialLoop {
  readonly #step: () => void;
  #running = false;
  #again = false;

  constructor(step: () => void) {
    this.#step = step;
  }

  /** Run the step now, or once more after the running pass if called from inside it. */
  run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        this.#step();
      } while (this.#again);
    } finally {
      this.#running = false;
    }
  }
}
