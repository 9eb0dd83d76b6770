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

/**
 * A copy of `bytes` (a complete binary COPY stream of `rowCount` rows) with its rows in segment
 * order: segments bytewise ascending (NULL first, column by column), time descending within a
 * segment, input order among equal times.
 *
 * Segments are few and rows many, so each row gets its segment's rank (a Map of the distinct
 * segments' bytes as latin1 strings) and its time as a Number (µs since 1970 are exact below
 * 2^53); rows are bucketed by rank and each bucket is put in time order. Comparing key bytes and
 * BigInt times in every comparison was most of a direct-compress load's JS time.
 */
export function sortCopyRows(bytes: Buffer, rowCount: number, order: SegmentOrder): Buffer {
  const starts = new Int32Array(rowCount + 1);
  const times = new Float64Array(rowCount);
  const ranks = new Int32Array(rowCount);
  const nseg = order.segment.length;
  // The segment part (0..nseg-1) or -2 for the time field, by field position.
  const role = new Int8Array(Math.max(order.time, ...order.segment) + 1).fill(-1);
  order.segment.forEach((f, k) => {
    role[f] = k;
  });
  role[order.time] = -2;
  const segmentIds = new Map<string, number>();
  const segmentParts: (string | null)[][] = [];
  const parts: (string | null)[] = new Array(nseg);
  let p = COPY_BINARY_HEADER.length;
  for (let r = 0; r < rowCount; r++) {
    starts[r] = p;
    const fields = (bytes[p]! << 8) | bytes[p + 1]!;
    p += 2;
    for (let f = 0; f < fields; f++) {
      const len = (bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
      p += 4;
      const k = f < role.length ? role[f]! : -1;
      if (k === -2) {
        const hi = (bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!;
        const lo = ((bytes[p + 4]! << 24) | (bytes[p + 5]! << 16) | (bytes[p + 6]! << 8) | bytes[p + 7]!) >>> 0;
        times[r] = hi * 4294967296 + lo;
      } else if (k >= 0) parts[k] = len < 0 ? null : bytes.toString('latin1', p, p + len);
      if (len > 0) p += len;
    }
    // Length-prefixed parts: unambiguous for any bytes (a segment column need not be text).
    const id = nseg === 1 ? (parts[0] === null ? '-' : `=${parts[0]}`) : parts.map((x) => (x === null ? '-' : `${x.length}=${x}`)).join('');
    let rank = segmentIds.get(id);
    if (rank === undefined) {
      rank = segmentParts.length;
      segmentIds.set(id, rank);
      segmentParts.push([...parts]);
    }
    ranks[r] = rank;
  }
  starts[rowCount] = p;
  // The distinct segments in key order; latin1 strings compare by their bytes.
  const byKey = segmentParts.map((_, i) => i);
  byKey.sort((a, b) => {
    for (let k = 0; k < nseg; k++) {
      const x = segmentParts[a]![k]!;
      const y = segmentParts[b]![k]!;
      if (x === y) continue;
      if (x === null) return -1;
      if (y === null) return 1;
      return x < y ? -1 : 1;
    }
    return 0;
  });
  const place = new Int32Array(byKey.length);
  byKey.forEach((seg, i) => {
    place[seg] = i;
  });
  // Bucket the rows by their segment's place (a counting sort), keeping input order.
  const bucketStart = new Int32Array(byKey.length + 1);
  for (let r = 0; r < rowCount; r++) bucketStart[place[ranks[r]!]! + 1]! += 1;
  for (let i = 0; i < byKey.length; i++) bucketStart[i + 1]! += bucketStart[i]!;
  const fill = bucketStart.slice(0, byKey.length);
  const idx = new Int32Array(rowCount);
  for (let r = 0; r < rowCount; r++) idx[fill[place[ranks[r]!]!]!++] = r;
  const out = Buffer.allocUnsafe(bytes.length);
  COPY_BINARY_HEADER.copy(out, 0);
  let o = COPY_BINARY_HEADER.length;
  for (let i = 0; i < byKey.length; i++) {
    const bucket = idx.subarray(bucketStart[i]!, bucketStart[i + 1]!);
    // Ascending by time, later input first among equals (one pass over rows that arrive nearly
    // in time order, as DBN files' do), then read backwards: time descending, input order.
    const rows = Array.from(bucket).sort((a, b) => times[a]! - times[b]! || b - a);
    for (let j = rows.length - 1; j >= 0; j--) {
      const from = starts[rows[j]!]!;
      const end = starts[rows[j]! + 1]!;
      out.set(bytes.subarray(from, end), o);
      o += end - from;
    }
  }
  bytes.copy(out, o, p); // trailer
  return out;
}
