/**
 * Runs async sections one at a time, in call order: a promise chain, no timers, no polling. For
 * in-process exclusion only (another process or connection is excluded by advisory locks).
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  /** Callers waiting for or holding the mutex. */
  private queued = 0;

  get pending(): number {
    return this.queued;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise((r) => {
      release = r;
    });
    this.queued += 1;
    await prev;
    try {
      return await fn();
    } finally {
      this.queued -= 1;
      release();
    }
  }

  /** Resolves once every section started so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
