/**
 * RecordBatch: the hot-path unit. A view over one contiguous run of whole decoded records, with
 * per-record start offsets and rtypes, so accessors read fields in place and no JS object is made
 * per record. A batch owns its buffers (nothing is reused after it is handed out), so keeping a
 * batch alive past the next iteration is safe.
 */
import { Buffer } from 'node:buffer';
import type { DbnVersion } from './constants.js';
import { DbnFormatError, truncatedRecord } from './errors.js';
import { HEADER_SIZE } from './layouts.js';

export interface RecordBatch {
  /** Record bytes; record i occupies bytes[offsets[i] .. offsets[i] + bytes[offsets[i]] * 4). */
  readonly bytes: Uint8Array;
  /** DataView over exactly `bytes` (view offset 0 = bytes[0]). */
  readonly view: DataView;
  /** Start of each record within `bytes`; only the first `count` entries are meaningful. */
  readonly offsets: Int32Array;
  /** rtype of each record (same indexing as offsets). */
  readonly rtypes: Uint8Array;
  readonly count: number;
  readonly version: DbnVersion;
  /** Metadata ts_out: each record ends with an extra u64 ts_out. */
  readonly tsOut: boolean;
  /** Metadata schema code (null = mixed); tells tbbo from mbp-1, which share rtype 0x01. */
  readonly schema: number | null;
  /** Offset of bytes[0] in the decompressed DBN stream (for error messages and tracing). */
  readonly streamOffset: number;
  /** Index of record 0 within the whole stream. */
  readonly firstRecordIndex: number;
}

export interface BatchContext {
  readonly version: DbnVersion;
  readonly tsOut: boolean;
  readonly schema: number | null;
  /** minRecordSizes(version, tsOut). */
  readonly minSizes: Uint16Array;
}

/**
 * Walks whole records in bytes[0, end): fills offsets/rtypes and returns how many fit. Stops at
 * the first record that is not complete (the caller carries it over). Lengths are validated as
 * soon as the length byte is visible, so a corrupt length can never stall the stream.
 */
export function walkRecords(
  bytes: Uint8Array,
  end: number,
  offsets: Int32Array,
  rtypes: Uint8Array,
  minSizes: Uint16Array,
  streamOffset: number,
): { count: number; consumed: number } {
  let p = 0;
  let n = 0;
  while (p < end) {
    const len = bytes[p]! << 2;
    if (len < HEADER_SIZE) {
      throw new DbnFormatError(
        'DBN_BAD_LENGTH',
        streamOffset + p,
        `corrupted record length ${len >> 2} (x4 = ${len} bytes, below the ${HEADER_SIZE}-byte header) at byte offset ${streamOffset + p}`,
      );
    }
    if (p + len > end) break;
    const rt = bytes[p + 1]!;
    if (len < minSizes[rt]!) {
      throw new DbnFormatError(
        'DBN_BAD_LENGTH',
        streamOffset + p,
        `corrupted record length ${len} bytes for rtype 0x${rt.toString(16).padStart(2, '0')} (needs at least ${minSizes[rt]}) at byte offset ${streamOffset + p}`,
      );
    }
    offsets[n] = p;
    rtypes[n] = rt;
    n++;
    p += len;
    // Files are mostly long runs of one record type and length: while the next records repeat
    // this one's length byte and rtype, the checks above hold for them too (same length, same
    // minimum), so only the two header bytes are compared.
    const lenByte = len >> 2;
    while (p + len <= end && bytes[p] === lenByte && bytes[p + 1] === rt) {
      offsets[n] = p;
      rtypes[n] = rt;
      n++;
      p += len;
    }
  }
  return { count: n, consumed: p };
}

/** Target bytes per batch: ~22k trades; big enough to amortise per-batch work, small enough for L2-ish locality. */
export const DEFAULT_BATCH_BYTES = 1 << 20;
const EMPTY = new Uint8Array(0);

/**
 * Turns a stream of arbitrary decompressed chunks into batches of whole records. Records that
 * straddle chunks are carried into the next batch's buffer. Memory is bounded by
 * batchBytes + one chunk + one record, whatever the file size.
 */
export async function* assembleBatches(
  chunks: AsyncIterable<Uint8Array>,
  ctx: BatchContext,
  startOffset: number,
  batchBytes = DEFAULT_BATCH_BYTES,
  onBatch?: (b: RecordBatch) => void,
): AsyncGenerator<RecordBatch> {
  let acc: Uint8Array = EMPTY; // pending bytes: acc[0, accLen)
  let accLen = 0;
  let streamOffset = startOffset; // stream offset of acc[0] (or of the next chunk when accLen = 0)
  let recordIndex = 0;

  // Walk into reusable scratch sized for the worst case (16-byte records), then copy out exactly
  // `count` entries: a batch of trades needs a third of the worst case, and GC time was visible.
  let scratchOffsets = new Int32Array(0);
  let scratchRtypes = new Uint8Array(0);
  const cut = (buf: Uint8Array, end: number): RecordBatch | null => {
    const cap = (end >> 4) + 1;
    if (scratchOffsets.length < cap) {
      scratchOffsets = new Int32Array(cap);
      scratchRtypes = new Uint8Array(cap);
    }
    const { count, consumed } = walkRecords(buf, end, scratchOffsets, scratchRtypes, ctx.minSizes, streamOffset);
    // Carry the incomplete tail into a fresh buffer: the batch keeps `buf`, so it must not be reused.
    const tail = end - consumed;
    acc = tail ? buf.slice(consumed, end) : EMPTY;
    accLen = tail;
    if (count === 0) {
      streamOffset += consumed;
      return null;
    }
    const bytes = buf.subarray(0, consumed);
    const batch: RecordBatch = {
      bytes,
      view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      offsets: scratchOffsets.slice(0, count),
      rtypes: scratchRtypes.slice(0, count),
      count,
      version: ctx.version,
      tsOut: ctx.tsOut,
      schema: ctx.schema,
      streamOffset,
      firstRecordIndex: recordIndex,
    };
    recordIndex += count;
    streamOffset += consumed;
    onBatch?.(batch);
    return batch;
  };

  for await (let chunk of chunks) {
    if (chunk.length === 0) continue;
    const big = chunk.length >= batchBytes >> 1;
    if (big && accLen > 0) {
      // Finish the record carried over from the last chunk in a buffer of its own (one small
      // batch) so this big chunk can still be walked in place instead of copied behind the tail.
      const len = acc[0]! << 2;
      const need = len - accLen;
      if (len >= HEADER_SIZE && need > 0 && need <= chunk.length) {
        const rec = new Uint8Array(len);
        rec.set(acc.subarray(0, accLen));
        rec.set(chunk.subarray(0, need), accLen);
        const b = cut(rec, len);
        if (b) yield b;
        chunk = chunk.subarray(need);
      }
    }
    if (accLen === 0 && big) {
      // Big chunk and nothing carried: walk it in place, no copy.
      const b = cut(chunk, chunk.length);
      if (b) yield b;
      continue;
    }
    if (accLen + chunk.length > acc.length) {
      // allocUnsafe: the bytes are overwritten before they are read, so zero-filling is waste.
      const grown = Buffer.allocUnsafe(Math.max(batchBytes, accLen + chunk.length));
      grown.set(acc.subarray(0, accLen));
      acc = grown;
    }
    acc.set(chunk, accLen);
    accLen += chunk.length;
    if (accLen >= batchBytes) {
      const b = cut(acc, accLen);
      if (b) yield b;
    }
  }
  if (accLen > 0) {
    // Hand out every whole record first; then report the incomplete one.
    const b = cut(acc, accLen);
    if (b) yield b;
    if (accLen > 0) throw truncatedRecord(streamOffset, acc[0]! << 2, accLen);
  }
}
