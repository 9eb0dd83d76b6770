/**
 * Reorders a batch's binary COPY rows by the table's compression order — segment-by columns
 * ascending, then time descending (every tickvault table compresses `ORDER BY timestamp DESC`) —
 * for direct-to-columnstore COPY. TimescaleDB compresses what one flush of its COPY buffers holds
 * (1,000 rows before 2.25); rows of one segment that arrive together fill whole compressed
 * batches, while time-ordered rows of ten interleaved symbols would make batches of ~100 rows.
 *
 * Works on the encoded bytes (the DBN fast path never builds per-row values): one pass to find
 * each row's offset, a sort of row indexes comparing the key fields' bytes, one copy. Memory: the
 * batch twice, which the loader bounds (batchSize, GROUP_MAX_ROWS).
 */
import { COPY_BINARY_HEADER } from '../../copy/index.js';
import type { Column } from '../../schema/tables.js';

export interface SegmentOrder {
  /** Field positions of the segment-by columns in the COPY rows. */
  readonly segment: readonly number[];
  /** Field position of the time column (binary timestamptz: int8 µs). */
  readonly time: number;
}

/** The sort key positions for `columns`, or null when a column is not among them. */
export function segmentOrder(columns: readonly Column[], segmentBy: readonly string[], timeColumn: string): SegmentOrder | null {
  const names = columns.map((c) => c.name);
  const segment = segmentBy.map((s) => names.indexOf(s));
  const time = names.indexOf(timeColumn);
  if (time < 0 || segment.some((i) => i < 0)) return null;
  return { segment, time };
}

/** A copy of `bytes` (a complete binary COPY stream of `rowCount` rows) with its rows in segment order. */
export function sortCopyRows(bytes: Buffer, rowCount: number, order: SegmentOrder): Buffer {
  const starts = new Int32Array(rowCount + 1);
  const keyAt = new Int32Array(rowCount * (order.segment.length + 1));
  const keyLen = new Int32Array(rowCount * (order.segment.length + 1));
  const fieldsWanted = [...order.segment, order.time];
  let p = COPY_BINARY_HEADER.length;
  for (let r = 0; r < rowCount; r++) {
    starts[r] = p;
    const fields = bytes.readInt16BE(p);
    p += 2;
    for (let f = 0; f < fields; f++) {
      const len = bytes.readInt32BE(p);
      p += 4;
      const k = fieldsWanted.indexOf(f);
      if (k >= 0) {
        keyAt[r * fieldsWanted.length + k] = p;
        keyLen[r * fieldsWanted.length + k] = len;
      }
      if (len > 0) p += len;
    }
  }
  starts[rowCount] = p;
  const nk = fieldsWanted.length;
  const idx = Array.from({ length: rowCount }, (_, i) => i);
  idx.sort((a, b) => {
    for (let k = 0; k < nk - 1; k++) {
      const la = keyLen[a * nk + k]!;
      const lb = keyLen[b * nk + k]!;
      // NULL (-1) first; otherwise bytewise: grouping a segment's rows is what matters, not collation.
      if (la < 0 || lb < 0) {
        if (la !== lb) return la - lb;
        continue;
      }
      const c = bytes.compare(bytes, keyAt[b * nk + k]!, keyAt[b * nk + k]! + lb, keyAt[a * nk + k]!, keyAt[a * nk + k]! + la);
      if (c !== 0) return c; // compare(): source (a) against target (b)
    }
    const ta = bytes.readBigInt64BE(keyAt[a * nk + nk - 1]!);
    const tb = bytes.readBigInt64BE(keyAt[b * nk + nk - 1]!);
    return ta > tb ? -1 : ta < tb ? 1 : a - b; // time descending, input order among equals
  });
  const out = Buffer.allocUnsafe(bytes.length);
  COPY_BINARY_HEADER.copy(out, 0);
  let o = COPY_BINARY_HEADER.length;
  for (const r of idx) o += bytes.copy(out, o, starts[r]!, starts[r + 1]!);
  bytes.copy(out, o, p); // trailer
  return out;
}
