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
 * per-row values, which the DBN fast path never builds): two independent 32-bit lanes, four bytes
 * a step, kept in an open-addressing table of typed arrays. A 64-bit match answers "may repeat"
 * (the merge path then checks exactly); a Set of per-row numbers cost a heap number per row.
 */
function hasRepeatedKey(buf: Buffer, rowCount: number, columns: readonly Column[], naturalKey: readonly string[]): boolean {
  const isKey = Uint8Array.from(columns, (c) => (naturalKey.includes(c.name) ? 1 : 0));
  let capacity = 16;
  while (capacity < rowCount * 2) capacity *= 2;
  const mask = capacity - 1;
  const lane1 = new Int32Array(capacity);
  const lane2 = new Int32Array(capacity);
  const used = new Uint8Array(capacity);
  let p = COPY_BINARY_HEADER.length;
  for (let r = 0; r < rowCount; r++) {
    const fields = (buf[p]! << 8) | buf[p + 1]!;
    p += 2;
    let h1 = 0x811c9dc5 | 0;
    let h2 = 0x01000193 | 0;
    for (let f = 0; f < fields; f++) {
      const len = (buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!;
      p += 4;
      if (f < isKey.length && isKey[f] === 1) {
        h1 = Math.imul(h1 ^ len, 0x01000193);
        h2 = Math.imul(h2 ^ len, 0x5bd1e995);
        let i = 0;
        for (; i + 4 <= len; i += 4) {
          const w = (buf[p + i]! << 24) | (buf[p + i + 1]! << 16) | (buf[p + i + 2]! << 8) | buf[p + i + 3]!;
          h1 = Math.imul(h1 ^ w, 0x01000193);
          h2 = Math.imul((h2 ^ w) + (h2 >>> 15), 0x5bd1e995);
        }
        for (; i < len; i++) {
          h1 = Math.imul(h1 ^ buf[p + i]!, 0x01000193);
          h2 = Math.imul((h2 ^ buf[p + i]!) + (h2 >>> 15), 0x5bd1e995);
        }
      }
      if (len > 0) p += len;
    }
    // Finalise so nearby keys spread over the table (murmur3's fmix32).
    h1 ^= h1 >>> 16;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h1 = Math.imul(h1, 0xc2b2ae35);
    h1 ^= h1 >>> 16;
    let slot = h1 & mask;
    while (used[slot] === 1) {
      if (lane1[slot] === h1 && lane2[slot] === h2) return true;
      slot = (slot + 1) & mask;
    }
    used[slot] = 1;
    lane1[slot] = h1;
    lane2[slot] = h2;
  }
  return false;
}

/** The bytes of an encoded batch in pieces the socket takes without copying the whole buffer again. */
export function* encodedChunks(bytes: Buffer, chunkSize = 256 * 1024): Generator<Uint8Array> {
  for (let p = 0; p < bytes.length; p += chunkSize) yield bytes.subarray(p, Math.min(bytes.length, p + chunkSize));
}
