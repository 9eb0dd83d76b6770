/**
 * A batch's COPY bytes, encoded ahead of its turn. The loader encodes each batch while the
 * previous one is still streaming into the server (the client is idle then, see pacer.ts), so the
 * worker's COPY sends finished bytes, and the append path's "may two rows of this batch share a
 * natural key?" check reads the same bytes instead of encoding the batch a second time.
 */
import { BinaryCopyWriter, COPY_BINARY_HEADER } from '../../copy/index.js';
import type { Column } from '../../schema/tables.js';
import type { EncodedBatch, PreparedBatch } from './batch.js';

export type { EncodedBatch };

/** Encodes rows [from, to) of the batch: in one call when it offers encodeRows, else row by row. */
export function encodeRowRange(batch: PreparedBatch, w: BinaryCopyWriter, from: number, to: number): void {
  if (batch.encodeRows) batch.encodeRows(w, from, to);
  else for (let r = from; r < to; r++) batch.encodeRow(w, r);
}

/** Rows encoded between two calls of `pace`. */
const ROWS_PER_SLICE = 2048;

/** The batch's encoding for exactly these columns, if it was encoded ahead. */
export function encodedBatch(batch: PreparedBatch, columns: readonly string[]): EncodedBatch | undefined {
  const e = batch.encoded;
  return e && e.columns.length === columns.length && e.columns.every((c, i) => c === columns[i]) ? e : undefined;
}

/**
 * Encodes `batch` (in slices separated by `pace`) unless its producer did, and answers the
 * repeated-key question for the append path, so neither happens when the batch's turn comes.
 */
export async function encodeAhead(
  batch: PreparedBatch,
  columns: readonly Column[],
  naturalKey: readonly string[],
  pace: () => Promise<void>,
): Promise<void> {
  const names = columns.map((c) => c.name);
  const done = encodedBatch(batch, names);
  if (done) {
    done.mayRepeatKey ??= naturalKey.length > 0 && hasRepeatedKey(done.bytes, batch.rowCount, columns, naturalKey);
    return;
  }
  const w = new BinaryCopyWriter({ chunkSize: Number.POSITIVE_INFINITY });
  try {
    for (let r = 0; r < batch.rowCount; r += ROWS_PER_SLICE) {
      if (r > 0) await pace();
      encodeRowRange(batch, w, r, Math.min(batch.rowCount, r + ROWS_PER_SLICE));
    }
  } catch {
    // A row the encoder refuses: leave the batch to the COPY path, whose error handling reports it.
    return;
  }
  const bytes = w.finish();
  batch.encoded = {
    columns: names,
    bytes,
    mayRepeatKey: naturalKey.length > 0 && hasRepeatedKey(bytes, batch.rowCount, columns, naturalKey),
  };
}

/** Whether two rows of the batch may share a natural key (cached when encoded ahead). */
export function mayRepeatKey(batch: PreparedBatch, columns: readonly Column[], naturalKey: readonly string[]): boolean {
  const cached = encodedBatch(
    batch,
    columns.map((c) => c.name),
  );
  if (cached) return (cached.mayRepeatKey ??= hasRepeatedKey(cached.bytes, batch.rowCount, columns, naturalKey));
  const w = new BinaryCopyWriter({ chunkSize: Number.POSITIVE_INFINITY });
  encodeRowRange(batch, w, 0, batch.rowCount);
  return hasRepeatedKey(w.finish(), batch.rowCount, columns, naturalKey);
}

/**
 * The key fields are hashed straight from the rows' COPY encoding (one pass over one buffer; no
 * per-row values, which the DBN fast path never builds), 53 bits from two FNV-style lanes.
 */
function hasRepeatedKey(buf: Buffer, rowCount: number, columns: readonly Column[], naturalKey: readonly string[]): boolean {
  const isKey = columns.map((c) => naturalKey.includes(c.name));
  const seen = new Set<number>();
  let p = COPY_BINARY_HEADER.length;
  for (let r = 0; r < rowCount; r++) {
    const fields = buf.readInt16BE(p);
    p += 2;
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193;
    for (let f = 0; f < fields; f++) {
      const len = buf.readInt32BE(p);
      p += 4;
      if (isKey[f]) {
        h1 = Math.imul(h1 ^ (len & 0xff), 0x01000193);
        h2 = Math.imul(h2 ^ (len & 0xff), 0x5bd1e995);
        for (let i = 0; i < len; i++) {
          const b = buf[p + i]!;
          h1 = Math.imul(h1 ^ b, 0x01000193);
          h2 = Math.imul(h2 ^ b, 0x5bd1e995);
        }
      }
      if (len > 0) p += len;
    }
    const h = (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
    if (seen.has(h)) return true;
    seen.add(h);
  }
  return false;
}

/** The bytes of an encoded batch in pieces the socket takes without copying the whole buffer again. */
export function* encodedChunks(bytes: Buffer, chunkSize = 256 * 1024): Generator<Uint8Array> {
  for (let p = 0; p < bytes.length; p += chunkSize) yield bytes.subarray(p, Math.min(bytes.length, p + chunkSize));
}
