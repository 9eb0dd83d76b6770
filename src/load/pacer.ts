/**
 * Who may use the event loop while a load runs: the batch producer (normalizing, encoding) or
 * the workers' query round trips.
 *
 * Node runs both on one thread. A worker's statements around its COPY (BEGIN, locks, ledger row,
 * COMMIT) are short round trips during which the server waits for the client; if the producer
 * holds the thread when a reply arrives, the server idles until the producer's slice ends. Measured
 * on one worker at 10,000-row batches: ~25 ms of such waits per batch, ~15% of the load's wall
 * time. So the producer runs only while no worker is in such a phase — in practice while a COPY
 * is streaming, when the server has a batch's worth of work and the client has nothing to do — or
 * while a worker has no batch to work on (then producing is the critical path).
 */
import type { Connection } from '../engine/types.js';

export class ProducerPacer {
  /** Workers in a round-trip phase (between taking a batch and its COPY, and after the COPY until COMMIT). */
  private inRoundTrips = 0;
  /** Workers waiting for the producer's next batch. */
  private starving = 0;
  private parked: (() => void)[] = [];
  private wakeScheduled = false;

  /** Workers whose COPY is streaming: the server has work, whatever the others wait for. */
  private copying = 0;

  /**
   * Whether the producer may run now: no worker waits on a round trip, or one waits for a batch,
   * or a COPY keeps the server busy — with several workers, delaying one worker's round trip while
   * another's COPY runs costs nothing on a machine whose cores the client and server share.
   */
  get open(): boolean {
    return this.inRoundTrips === 0 || this.starving > 0 || this.copying > 0;
  }

  /** Awaited by the producer between slices of work: lets I/O callbacks run, then waits for its turn. */
  pace(): Promise<void> {
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        if (this.open) resolve();
        else this.parked.push(resolve);
      });
    });
  }

  /** Marks a round-trip phase for the duration of `fn`. */
  async roundTrips<T>(fn: () => Promise<T>): Promise<T> {
    this.inRoundTrips += 1;
    try {
      return await fn();
    } finally {
      this.inRoundTrips -= 1;
      this.wake();
    }
  }

  /** Inside roundTrips: the producer may run while `fn` (a COPY) keeps the server busy. */
  async serverBusy<T>(fn: () => Promise<T>): Promise<T> {
    this.inRoundTrips -= 1;
    this.copying += 1;
    this.wake();
    try {
      return await fn();
    } finally {
      this.copying -= 1;
      this.inRoundTrips += 1;
    }
  }

  /** Wraps a batch iterator so a worker waiting for its next batch lets the producer run. */
  async *feed<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
    const it = items[Symbol.asyncIterator]();
    try {
      for (;;) {
        // A batch already prepared arrives within microtasks: then the worker goes straight on
        // (waking the producer first would put its next slice ahead of the worker's BEGIN). Only
        // a batch still in the making opens the gate, from the next turn of the event loop.
        let starving = false;
        const mark = setImmediate(() => {
          starving = true;
          this.starving += 1;
          this.wake();
        });
        let r: IteratorResult<T>;
        try {
          r = await it.next();
        } finally {
          clearImmediate(mark);
          if (starving) this.starving -= 1;
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }

  /** A connection whose COPYs count as server-busy phases. */
  pacedConnection(conn: Connection): Connection {
    return {
      query: (sql, params) => conn.query(sql, params),
      copyInBinary: (table, columns, chunks) => this.serverBusy(() => conn.copyInBinary(table, columns, chunks)),
      copyOut: (sql) => conn.copyOut(sql),
    };
  }

  /**
   * Resumes the parked producer from the next turn of the event loop, if the gate is still open
   * then: resuming it right away would run its slice before the microtasks of the worker that
   * opened the gate (a worker finishing its COMMIT goes on to its next BEGIN first).
   */
  private wake(): void {
    if (this.wakeScheduled || this.parked.length === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (!this.open) return;
      const parked = this.parked;
      this.parked = [];
      for (const resolve of parked) resolve();
    });
  }
}

/** The pace of a producer nobody coordinates: just let I/O callbacks run between slices. */
export function yieldToIo(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
