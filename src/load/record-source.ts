/**
 * Batch sources. A loader consumes PreparedBatches; `RecordSource` makes them from JS records
 * (or arrays of records), validating each against the table description. Other sources (the DBN
 * decoder) implement `BatchSource` over their own buffers.
 */
import type { TableSpec } from '../schema/tables.js';
import { ValuesBatch, jsonOf, type PreparedBatch } from './write/batch.js';
import type { CellValue } from '../schema/types.js';
import { RecordNormalizer } from './normalize.js';
import type { SourceIdentity } from './ledger.js';
import { yieldToIo } from './pacer.js';

/** A batch the ledger already holds: only its record count is needed to keep numbering. */
export interface SkippedBatch {
  readonly skipped: true;
  readonly batchNo: number;
  readonly recordsIn: number;
}

export type BatchOrSkip = PreparedBatch | SkippedBatch;

export interface BatchSource {
  /**
   * Identity for the ledger; without one a load cannot be resumed or recognised as a re-run. A
   * promise when it is still being computed (a file's hash), awaited before the first ledger query.
   */
  readonly identity?: SourceIdentity | Promise<SourceIdentity>;
  /** Total input records if known in advance (for progress). */
  readonly totalRecords?: number;
  /**
   * `pace`, when given, is awaited between slices of the source's work: the loader uses it to keep
   * the producer off the event loop while its workers wait on short query round trips (pacer.ts).
   */
  prepare(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace?: () => Promise<void>,
  ): AsyncIterable<BatchOrSkip>;
}

export function isBatchSource(v: unknown): v is BatchSource {
  return typeof v === 'object' && v !== null && typeof (v as BatchSource).prepare === 'function';
}

export type RecordInput<R> = Iterable<R | readonly R[]> | AsyncIterable<R | readonly R[]>;

/**
 * Records validated between two returns to the event loop while a batch is prepared: under 1 ms of
 * work, so the COPY in flight keeps being fed; the pace function decides whether the producer may
 * go on (pacer.ts). A setImmediate per 256 records costs well under 1% of the normalization.
 */
const YIELD_EVERY_RECORDS = 256;

export class RecordSource<R extends object> implements BatchSource {
  constructor(
    private readonly input: RecordInput<R>,
    readonly identity?: SourceIdentity,
    readonly totalRecords?: number,
  ) {}

  /**
   * Batches of this source, produced on demand; the loader reads them ahead (prefetchGroups in
   * loader.ts), which is safe because each ValuesBatch owns its bytes and records.
   */
  prepare(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace: () => Promise<void> = yieldToIo,
  ): AsyncIterable<BatchOrSkip> {
    return this.produce(spec, batchSize, isCommitted, pace);
  }

  private async *produce(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace: () => Promise<void>,
  ): AsyncGenerator<BatchOrSkip> {
    const normalizer = new RecordNormalizer(spec);
    const timeIndex = normalizer.columns.findIndex((c) => c.name === spec.hypertable?.timeColumn);
    const instrumentIndex = normalizer.columns.findIndex((c) => c.name === 'instrument_id');
    const valuesOf = (original: unknown): readonly CellValue[] => {
      const n = normalizer.normalize(original as Record<string, unknown>);
      if (!n.ok) throw new Error(`a record accepted earlier no longer normalizes (${n.reason}); was it modified during the load?`);
      return n.values;
    };
    let batchNo = 0;
    let recordIndex = 0;
    let current: ValuesBatch | undefined;
    let skippedCount = 0;
    const start = () => {
      if (isCommitted(batchNo)) {
        current = undefined;
        skippedCount = 0;
      } else current = new ValuesBatch(batchNo, normalizer.columns, timeIndex, instrumentIndex, valuesOf);
    };
    start();
    const flush = (): BatchOrSkip => {
      const out: BatchOrSkip = current?.seal() ?? { skipped: true, batchNo, recordsIn: skippedCount };
      batchNo += 1;
      start();
      return out;
    };
    let sinceYield = 0;
    for await (const item of this.input as AsyncIterable<R | readonly R[]>) {
      const records = Array.isArray(item) ? (item as readonly R[]) : [item as R];
      for (const record of records) {
        // A synchronous input never leaves the microtask queue: let I/O callbacks run now and
        // then, so the batch in flight (its queries, its COPY) proceeds while this one is prepared.
        if (++sinceYield >= YIELD_EVERY_RECORDS) {
          sinceYield = 0;
          await pace();
        }
        const idx = recordIndex++;
        if (current) {
          const rec = record as Record<string, unknown>;
          normalizer.checkShape(rec, idx);
          const n = normalizer.normalize(rec);
          if (n.ok) current.add(n.values, idx, record);
          else current.rejections.push({ recordIndex: idx, reason: n.reason, constraint: n.constraint, record: jsonOf(record) });
          current.recordsIn += 1;
          if (current.recordsIn >= batchSize) yield flush();
        } else {
          skippedCount += 1;
          if (skippedCount >= batchSize) yield flush();
        }
      }
    }
    if ((current && current.recordsIn > 0) || (!current && skippedCount > 0)) yield flush();
  }
}
