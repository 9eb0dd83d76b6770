/**
 * Cuts a stream of table records into checkpoint batches of `batchSize` records, numbered by
 * input position (rejected records count), so a re-run numbers them the same and a resumed load
 * skips exactly the batches the ledger holds: their records are only counted, never built.
 */
import type { BatchOrSkip } from '../load/record-source.js';
import type { PreparedBatch } from '../load/write/batch.js';

export class CheckpointBatcher<B extends PreparedBatch & { recordsIn: number }> {
  private batchNo = 0;
  /** The batch being filled; undefined while the current batch is one the ledger holds. */
  current: B | undefined;
  /** Records counted towards the current (committed, skipped) batch. */
  private skippedCount = 0;
  private readonly ready: BatchOrSkip[] = [];

  constructor(
    readonly batchSize: number,
    private readonly isCommitted: (batchNo: number) => boolean,
    private readonly create: (batchNo: number) => B,
  ) {
    this.start();
  }

  /** Counts one record of a batch the ledger holds. */
  skipOne(): void {
    if (++this.skippedCount >= this.batchSize) this.cut();
  }

  /** After records went into `current`: hands it out once it holds batchSize records. */
  cutIfFull(): void {
    if (this.current && this.current.recordsIn >= this.batchSize) this.cut();
  }

  /** At the end of the input: hands out the last, partial batch. */
  finish(): void {
    if ((this.current && this.current.recordsIn > 0) || (!this.current && this.skippedCount > 0)) this.cut();
  }

  /** The batches completed so far, in order. */
  *drain(): Generator<BatchOrSkip> {
    while (this.ready.length > 0) yield this.ready.shift()!;
  }

  private start(): void {
    this.skippedCount = 0;
    this.current = this.isCommitted(this.batchNo) ? undefined : this.create(this.batchNo);
  }

  private cut(): void {
    this.ready.push(this.current ?? { skipped: true, batchNo: this.batchNo, recordsIn: this.skippedCount });
    this.batchNo += 1;
    this.start();
  }
}
