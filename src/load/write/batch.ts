/**
 * A PreparedBatch is one checkpoint's worth of input, validated and ready to encode: the unit a
 * worker COPYs, commits and records in the ledger. Batches are numbered by input position (every
 * `batchSize` input records, rejected ones included), so a re-run of the same source produces the
 * same numbering and an interrupted load resumes at the first batch the ledger lacks.
 *
 * The generic implementation holds normalized rows; a decoder may implement the interface over its
 * own binary buffers (no per-row objects) — the writer only needs `encodeRow`. The batch also
 * carries its COPY bytes once they are encoded (`encoded`, see encoded-batch.ts).
 */
import { BinaryCopyWriter, createRowEncoder, type RowEncoder } from '../../copy/index.js';
import { CopyError } from '../../copy/errors.js';
import type { CellValue } from '../../schema/types.js';
import type { Column } from '../../schema/tables.js';
import { formatDecimal } from '../../copy/numeric.js';
import { epochDaysToIso, microsToIso } from '../../values/time.js';

export interface Rejection {
  /** 0-based index of the record in the load's input. */
  readonly recordIndex: number;
  readonly reason: string;
  readonly constraint: string | null;
  /** The original record as JSON text. */
  readonly record: string;
}

/** A batch's COPY bytes, encoded ahead of its turn (encoded-batch.ts). */
export interface EncodedBatch {
  /** The columns the rows were encoded for, in order. */
  readonly columns: readonly string[];
  /** The whole binary COPY stream of rows 0..rowCount-1 (header and trailer included). */
  readonly bytes: Buffer;
  /** Whether two rows may share the natural key (hash equality; a collision only costs the exact path); computed on demand. */
  mayRepeatKey?: boolean;
}

export interface PreparedBatch {
  readonly batchNo: number;
  readonly recordsIn: number;
  /** Valid rows, encodable with encodeRow(0..rowCount-1). */
  readonly rowCount: number;
  readonly rejections: Rejection[];
  readonly minTime: bigint | null;
  readonly maxTime: bigint | null;
  readonly instrumentIds: ReadonlySet<number>;
  encodeRow(w: BinaryCopyWriter, i: number): void;
  /** Rows [from, to) in order, when the batch can do better than one encodeRow per row (see encodeRowRange). */
  encodeRows?(w: BinaryCopyWriter, from: number, to: number): void;
  /** Normalized values of row i (used by the INSERT path and for quarantining DB rejections). */
  rowValues(i: number): readonly CellValue[];
  /** Input position and original JSON of row i. */
  rowOrigin(i: number): { recordIndex: number; record: string };
  /** The rows' COPY bytes, set by whoever encoded them (the producer or encodeAhead). */
  encoded?: EncodedBatch;
}

const encoders = new WeakMap<readonly Column[], RowEncoder>();

export function rowEncoderFor(columns: readonly Column[]): RowEncoder {
  let enc = encoders.get(columns);
  if (!enc) {
    enc = createRowEncoder(columns);
    encoders.set(columns, enc);
  }
  return enc;
}

/**
 * A batch built from JS records. Each valid row is encoded into the batch's COPY bytes as it is
 * added (encoded-batch.ts hands them to the COPY) and its values are not kept: holding 10,000
 * rows of values (an array and a few BigInts each) until COMMIT made the young-generation GC copy
 * them again and again — a third of the client's CPU. The rare consumers of values (bisection
 * after a database rejection, the INSERT path, quarantine) re-normalize the original record.
 */
export class ValuesBatch implements PreparedBatch {
  readonly recordIndexes: number[] = [];
  readonly originals: unknown[] = [];
  readonly rejections: Rejection[] = [];
  readonly instrumentIds = new Set<number>();
  minTime: bigint | null = null;
  maxTime: bigint | null = null;
  recordsIn = 0;
  encoded?: EncodedBatch;
  private readonly encode: RowEncoder;
  private readonly writer = new BinaryCopyWriter({ chunkSize: Number.POSITIVE_INFINITY });

  constructor(
    readonly batchNo: number,
    private readonly columns: readonly Column[],
    private readonly timeIndex: number,
    private readonly instrumentIndex: number,
    /** The values of a record this batch accepted (normalization is deterministic). */
    private readonly valuesOf: (original: unknown) => readonly CellValue[],
    /** The record an original stands for, for the quarantine (a source may keep a compact form of it). */
    private readonly recordOf: (original: unknown) => unknown = (original) => original,
  ) {
    this.encode = rowEncoderFor(columns);
  }

  get rowCount(): number {
    return this.originals.length;
  }

  /** Adds a validated row; a value the COPY encoding cannot represent makes it a rejection instead. */
  add(values: readonly CellValue[], recordIndex: number, original: unknown): void {
    try {
      this.encode(this.writer, values);
    } catch (err) {
      if (!(err instanceof CopyError)) throw err;
      this.writer.abortRow();
      this.rejections.push({
        recordIndex,
        reason: `not encodable for COPY: ${err.message}`,
        constraint: null,
        record: jsonOf(this.recordOf(original)),
      });
      return;
    }
    this.recordIndexes.push(recordIndex);
    this.originals.push(original);
    if (this.timeIndex >= 0) {
      const t = values[this.timeIndex] as bigint;
      if (this.minTime === null || t < this.minTime) this.minTime = t;
      if (this.maxTime === null || t > this.maxTime) this.maxTime = t;
    }
    if (this.instrumentIndex >= 0) this.instrumentIds.add(values[this.instrumentIndex] as number);
  }

  /** Ends the batch: its COPY bytes are kept for the writer (encoded-batch.ts). */
  seal(): this {
    this.encoded = { columns: this.columns.map((c) => c.name), bytes: this.writer.finish() };
    return this;
  }

  encodeRow(w: BinaryCopyWriter, i: number): void {
    this.encode(w, this.rowValues(i));
  }
  rowValues(i: number): readonly CellValue[] {
    return this.valuesOf(this.originals[i]);
  }
  rowOrigin(i: number): { recordIndex: number; record: string } {
    return { recordIndex: this.recordIndexes[i]!, record: jsonOf(this.recordOf(this.originals[i])) };
  }
}

/**
 * The original record as JSON for the quarantine: bigint as its decimal string, and NUL
 * characters spelled as the six characters "\u0000" — jsonb cannot hold U+0000, and a record
 * rejected for containing one must still be quarantined, not fail the load.
 */
export function jsonOf(record: unknown): string {
  return (
    JSON.stringify(record, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '\\u0000') : v,
    ) ?? 'null'
  );
}

/** Readable JSON of normalized values (decimals as text, timestamps ISO) for quarantine records. */
export function valuesToJson(columns: readonly Column[], values: readonly CellValue[] | null, extra: Record<string, unknown> = {}): string {
  const obj: Record<string, unknown> = { ...extra };
  if (values) {
    columns.forEach((c, i) => {
      const v = values[i];
      obj[c.name] = v === null || v === undefined ? null : displayValue(c, v);
    });
  }
  return JSON.stringify(obj);
}

function displayValue(c: Column, v: CellValue): unknown {
  switch (c.type.kind) {
    case 'timestamptz':
      return microsToIso(v as bigint);
    case 'numeric':
      return formatDecimal(v as bigint, c.type.scale);
    case 'date':
      return epochDaysToIso(v as number);
    default:
      return typeof v === 'bigint' ? v.toString() : v;
  }
}
