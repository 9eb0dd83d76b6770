/**
 * The row encoder: a PostgreSQL `COPY ... (FORMAT binary)` stream around the field encoders.
 *
 * Stream layout (PostgreSQL docs, "COPY — Binary Format"):
 *   header  : 11-byte signature "PGCOPY\n\377\r\n\0", int32 flags (0), int32 extension length (0)
 *   per row : int16 field count, then per field int32 byte length (-1 = NULL) + the bytes of
 *             the type's binary send format (field-encoders.ts)
 *   trailer : int16 -1
 * All integers are big-endian (network order).
 *
 * BinaryCopyWriter is the writer every COPY producer holds: the byte buffer (byte-buffer.ts),
 * the field methods (field-encoders.ts) and, here, the framing — header, row starts, rollback of
 * a half-written row, rows encoded elsewhere appended by reference, and the trailer.
 */

import type { CellValue, ColumnType } from '../schema/types.js';
import type { ChunkBufferOptions } from './byte-buffer.js';
import { CopyEncodeError } from './errors.js';
import { CopyFieldWriter, fieldWriterFor } from './field-encoders.js';

/** "PGCOPY\n\377\r\n\0" */
export const COPY_BINARY_SIGNATURE: Buffer = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** Signature + int32 flags 0 + int32 header-extension length 0 (19 bytes). */
export const COPY_BINARY_HEADER: Buffer = Buffer.concat([COPY_BINARY_SIGNATURE, Buffer.alloc(8)]);
/** int16 -1: end of data. */
export const COPY_BINARY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

export type BinaryCopyWriterOptions = ChunkBufferOptions;

export class BinaryCopyWriter extends CopyFieldWriter {
  // The row being written starts at the buffer's `mark`, and `sealed` means finish() was called:
  // both belong to byte-buffer.ts because handing bytes out must drop the mark.
  /** Rows begun (and not aborted) since construction or reset(). */
  rowCount = 0;

  constructor(options: BinaryCopyWriterOptions = {}) {
    super(options);
    this.writeHeader();
  }

  /** Starts a new COPY stream (header included), keeping the allocated buffer. */
  reset(): void {
    this.clear();
    this.rowCount = 0;
    this.writeHeader();
  }

  private writeHeader(): void {
    COPY_BINARY_HEADER.copy(this.buf, this.pos);
    this.pos += COPY_BINARY_HEADER.length;
  }

  /** Starts a row of `fieldCount` fields; exactly that many field calls must follow. */
  beginRow(fieldCount: number): void {
    if (this.sealed) throw new Error('BinaryCopyWriter: finish() was called; reset() to start a new stream');
    this.ensure(2);
    const p = this.pos;
    this.mark = p;
    this.buf[p] = fieldCount >> 8;
    this.buf[p + 1] = fieldCount;
    this.pos = p + 2;
    this.rowCount++;
  }

  /**
   * Discards the row begun by the last beginRow() (e.g. after a field threw), so the stream
   * stays valid and the caller can skip or quarantine the row. Not possible once a chunk
   * was taken after beginRow().
   */
  abortRow(): void {
    if (this.mark < 0) throw new Error('BinaryCopyWriter.abortRow: no row to abort (or a chunk was taken since beginRow)');
    this.pos = this.mark;
    this.mark = -1;
    this.rowCount--;
  }

  /**
   * Appends complete tuples encoded elsewhere: bytes src[start, end), which the caller must never
   * modify afterwards (chunks may be views of them). Counts as `rows` rows; a range that continues
   * the previous one in the same `src` just extends it, so a batch of pre-encoded rows costs a
   * few comparisons per row and one copy (or none) per chunk.
   */
  appendEncoded(src: Uint8Array, start: number, end: number, rows = 1): void {
    if (this.sealed) throw new Error('BinaryCopyWriter: finish() was called; reset() to start a new stream');
    this.appendRange(src, start, end);
    this.mark = -1;
    this.rowCount += rows;
  }

  /** Appends the trailer and returns every byte not yet handed out. Call reset() to reuse. */
  finish(): Buffer {
    if (this.sealed) throw new Error('BinaryCopyWriter: finish() called twice');
    this.ensure(2);
    this.buf[this.pos] = 0xff;
    this.buf[this.pos + 1] = 0xff;
    this.pos += 2;
    this.sealed = true;
    return this.flush()!;
  }
}

/** Writes one row (array of cells, one per column) as a complete COPY tuple. */
export type RowEncoder = (w: BinaryCopyWriter, row: readonly CellValue[]) => void;

/** A table description: the COPY column list, in order. Only `type` is used here. */
export type CopyColumns = readonly { readonly type: ColumnType }[];

/**
 * A row encoder for a table description. On a bad cell it rolls the partial row back
 * (the writer stays valid) and throws a CopyEncodeError whose `column` is the cell's index.
 */
export function createRowEncoder(columns: CopyColumns): RowEncoder {
  const writers = columns.map((c) => fieldWriterFor(c.type));
  const n = writers.length;
  return (w, row) => {
    if (row.length !== n) {
      throw new CopyEncodeError('COPY_ROW_SHAPE', `row has ${row.length} cells, table has ${n} columns`);
    }
    w.beginRow(n);
    let i = 0;
    try {
      for (; i < n; i++) writers[i]!(w, row[i]!);
    } catch (err) {
      w.abortRow();
      if (err instanceof CopyEncodeError && err.column === undefined) err.column = i;
      throw err;
    }
  };
}

/**
 * Encodes rows into one complete COPY binary payload (header, rows, trailer). For large inputs
 * use the chunked helpers of copy-stream.ts instead. Errors carry the 0-based `row` index.
 */
export function encodeRows(columns: CopyColumns, rows: Iterable<readonly CellValue[]>): Buffer {
  const w = new BinaryCopyWriter({ chunkSize: Infinity });
  const encode = createRowEncoder(columns);
  let index = 0;
  for (const row of rows) {
    try {
      encode(w, row);
    } catch (err) {
      if (err instanceof CopyEncodeError) err.row = index;
      throw err;
    }
    index++;
  }
  return w.finish();
}
