/**
 * The DBN fast path's per-table codecs: check from the raw record bytes that every column rule
 * holds and, in the same pass, write the whole COPY tuple straight from those bytes into a block of
 * tuples (encodeTupleBlock) — no cursor, no per-field method call, no BigInt, no string per row.
 * Blocks are plain bytes, so they can be encoded on another thread (tuple-encoder.ts) and are
 * appended to the COPY stream by reference (BinaryCopyWriter.appendEncoded).
 *
 * The fast path is an optimisation only. A record it does not vouch for (UNDEF or non-positive
 * prices, prices at or above 2^53 nanos, a side other than A/B/N, size 0, an id above INTEGER, a symbol that is
 * not a plain ≤ 50-unit string...) takes the generic path (dbn-mapping.ts + validation), which
 * knows every rule; test/ingest/fast-path.test.ts proves both paths give the same rows, the same
 * rejections and the same COPY bytes.
 */
import { BinaryCopyWriter } from '../copy/index.js';
import { CopyEncodeError } from '../copy/errors.js';
import {
  type FieldWords,
  TUPLE_TS_LIMIT_US,
  fieldWords,
  nanosTo8,
  putAsciiChar,
  putField,
  putIdPair,
  putInt4,
  putInt8U32,
  putNumeric8,
  putRowHeadAndTimestamp,
} from '../copy/tuple-fields.js';
import { MBP1, TRADE } from '../dbn/layouts.js';
import { tbboData, tradesData, type Column, type TableName, type TableSpec } from '../schema/tables.js';
import { INT4_MAX, maxTextLength } from '../schema/column-fit.js';

function columnOf(spec: TableSpec, name: string): Column {
  return spec.columns.find((c) => c.name === name)!;
}

/** The fast path takes symbols that fit the trades/tbbo symbol column (both VARCHAR(50)). */
const SYMBOL_MAX = Math.min(maxTextLength(columnOf(tradesData, 'symbol').type), maxTextLength(columnOf(tbboData, 'symbol').type));
/** High half of an i64 price below which the value is < 2^53 and so exact in a double. */
const PRICE_HI_LIMIT = 0x200000;
const A = 65;
const B = 66;
/** 'N': no aggressor (ICE and others); stored as it is. */
const N = 78;
/** Bytes of every fixed-size part of a tuple, beyond the symbol field: a generous bound. */
export const TUPLE_FIXED_MAX = 160;

/**
 * Symbol text → its encoded TEXT field (length word + UTF-8), built once per distinct symbol
 * by the general writer so the bytes are its bytes. Symbols the fast path cannot take (longer
 * than the column, or text the writer refuses) get index -1 and their rows go generic.
 *
 * An entry is a symbol as one instrument's (indexOf(symbol, instrumentId)): a record's index then
 * also names its instrument, so a batch learns which instruments it holds from the indexes it
 * already has in order, without reading every record again (idOf).
 */
export class SymbolFields {
  private readonly index = new Map<string, number>();
  private readonly fields: FieldWords[] = [];
  private readonly names: string[] = [];
  private readonly ids: number[] = [];

  /** Index of `symbol` as instrument `instrumentId`'s (-1 when the fast path cannot take it). */
  indexOf(symbol: string, instrumentId = -1): number {
    const key = `${instrumentId}\u0000${symbol}`;
    const k = this.index.get(key);
    return k === undefined ? this.add(key, symbol, instrumentId) : k;
  }

  field(k: number): FieldWords {
    return this.fields[k]!;
  }
  /** Every field so far, by index (a tuple encoder on another thread gets the new ones with each job). */
  get all(): readonly FieldWords[] {
    return this.fields;
  }
  name(k: number): string {
    return this.names[k]!;
  }
  /** The instrument of entry k (-1 when indexed without one). */
  idOf(k: number): number {
    return this.ids[k]!;
  }

  private add(key: string, symbol: string, instrumentId: number): number {
    let k = -1;
    if (symbol.length <= SYMBOL_MAX) {
      const w = new BinaryCopyWriter({ chunkSize: Infinity });
      w.beginRow(1);
      try {
        w.text(symbol);
        const all = w.finish();
        // header (19) + field count (2) … trailer (2)
        k = this.fields.length;
        this.fields.push(fieldWords(Uint8Array.from(all.subarray(21, all.length - 2))));
        this.names.push(symbol);
        this.ids.push(instrumentId);
      } catch (err) {
        if (!(err instanceof CopyEncodeError)) throw err;
      }
    }
    this.index.set(key, k);
    return k;
  }
}

export interface FastRowCodec {
  /**
   * Writes the complete tuple of the record at byte offset `o` of `view` at offset p of b (d views
   * the same bytes; TUPLE_FIXED_MAX + symbolField.bytes.length bytes must be free) when every column
   * rule of the table holds on the raw fields, and returns the end offset and sets `timeUs` (the
   * timestamp column, whole µs); returns -1 otherwise (the bytes after p are then garbage).
   * Checking and writing in one pass reads each field once.
   */
  encode(b: Uint8Array, d: DataView, p: number, view: DataView, o: number, symbolField: FieldWords): number;
  timeUs: number;
}

/** ts_event (u64 ns at +8) as whole µs (floor), or -1 when UNDEF or beyond TUPLE_TS_LIMIT_US. */
function eventUs(v: DataView, o: number): number {
  const lo = v.getUint32(o + 8, true);
  const hi = v.getUint32(o + 12, true);
  // ns = hi·2^32 + lo and 2^32 = 4294967·1000 + 296: both terms stay exact below 2^53.
  const us = hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  return us < TUPLE_TS_LIMIT_US ? us : -1; // UNDEF (u64::MAX) is ~1.8e16 µs
}

/**
 * The i64 price at `off` in 1e-8 units when it is positive after rounding (≥ 5 nanos) and below
 * 2^53 nanos; else -1 (UNDEF_PRICE, zero, negative and huge values go generic).
 */
function price8(v: DataView, off: number): number {
  const hi = v.getInt32(off + 4, true);
  if (hi < 0 || hi >= PRICE_HI_LIMIT) return -1;
  const nanos = hi * 4294967296 + v.getUint32(off, true);
  return nanos >= 5 ? nanosTo8(nanos) : -1;
}

/** trades_data: timestamp, instrument_id, symbol, price, size, side, trade_id, publisher_id. */
class TradesCodec implements FastRowCodec {
  timeUs = -1;
  encode(b: Uint8Array, d: DataView, p: number, v: DataView, o: number, symbolField: FieldWords): number {
    const id = v.getUint32(o + 4, true);
    const side = v.getUint8(o + TRADE.side);
    const size = v.getUint32(o + TRADE.size, true);
    if (id > INT4_MAX || (side !== A && side !== B && side !== N) || size === 0) return -1;
    const price = price8(v, o + TRADE.price);
    if (price < 0) return -1;
    const us = eventUs(v, o);
    if (us < 0) return -1;
    this.timeUs = us;
    const publisher = v.getUint16(o + 2, true);
    p = putRowHeadAndTimestamp(d, p, 8, us);
    p = putInt4(d, p, id);
    p = putField(b, d, p, symbolField);
    p = putNumeric8(d, p, price);
    p = putInt8U32(d, p, size);
    p = putAsciiChar(d, p, side === A ? 83 /* S */ : side);
    p = putIdPair(d, p, publisher, v.getUint32(o + TRADE.sequence, true));
    return putInt4(d, p, publisher);
  }
}

/** tbbo_data: timestamp, instrument_id, symbol, bid_price, ask_price, bid_size, ask_size, publisher_id, sequence. */
class TbboCodec implements FastRowCodec {
  timeUs = -1;
  encode(b: Uint8Array, d: DataView, p: number, v: DataView, o: number, symbolField: FieldWords): number {
    const id = v.getUint32(o + 4, true);
    const bidSz = v.getUint32(o + MBP1.bidSz, true);
    const askSz = v.getUint32(o + MBP1.askSz, true);
    if (id > INT4_MAX || bidSz === 0 || askSz === 0) return -1;
    // Both sides present, positive and not crossed; one-sided, crossed or odd books go generic.
    const bid = price8(v, o + MBP1.bidPx);
    if (bid < 0) return -1;
    const ask = price8(v, o + MBP1.askPx);
    if (ask < bid) return -1; // also ask = -1
    const us = eventUs(v, o);
    if (us < 0) return -1;
    this.timeUs = us;
    p = putRowHeadAndTimestamp(d, p, 9, us);
    p = putInt4(d, p, id);
    p = putField(b, d, p, symbolField);
    p = putNumeric8(d, p, bid);
    p = putNumeric8(d, p, ask);
    p = putInt8U32(d, p, bidSz);
    p = putInt8U32(d, p, askSz);
    p = putInt4(d, p, v.getUint16(o + 2, true));
    return putInt8U32(d, p, v.getUint32(o + TRADE.sequence, true));
  }
}

export function fastCodecFor(table: TableName): FastRowCodec | undefined {
  if (table === 'trades_data') return new TradesCodec();
  if (table === 'tbbo_data') return new TbboCodec();
  return undefined;
}

/**
 * Tuples of a decoder batch's fast rows, back to back: the k-th fast record's tuple is
 * bytes[ends[k - 1] ?? 0, ends[k]). timeUs[i] is record i's timestamp (µs) when the codec took
 * it, -1 when it did not (the record goes the generic way); it is only read while the decoder
 * batch is classified, and the in-thread encoder recycles it afterwards.
 */
export interface TupleBlock {
  readonly bytes: Uint8Array;
  readonly ends: Int32Array;
  readonly timeUs: Float64Array;
  /** Smallest and largest timeUs of the tuples (meaningless when there are none). */
  readonly minUs: number;
  readonly maxUs: number;
}

/**
 * Checks and encodes records[offsets[i]] for every i < offsets.length with syms[i] ≥ 0 (the
 * index of its symbol field in `fields`; -1 = not a candidate). A pure function of its inputs:
 * the tuple worker runs it on its own thread.
 */
export function encodeTupleBlock(
  codec: FastRowCodec,
  records: Uint8Array,
  offsets: Int32Array,
  syms: Int32Array,
  fields: readonly FieldWords[],
  /** Where to put timeUs when the caller recycles it (in-thread: it is read only until the batch is classified). */
  timeScratch?: Float64Array,
): TupleBlock {
  const n = offsets.length;
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  // Uninitialised memory: every byte handed out is written first, and zero-filling ~2 MB a batch
  // cost ~10% of the encoding. Slow = not from Buffer's shared pool, so it can be transferred.
  let b: Uint8Array = Buffer.allocUnsafeSlow(Math.max(4096, n * 84));
  let d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ends = new Int32Array(n);
  const timeUs = timeScratch && timeScratch.length >= n ? timeScratch.subarray(0, n) : new Float64Array(n);
  let p = 0;
  let k = 0;
  let minUs = Infinity;
  let maxUs = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = syms[i]!;
    if (s < 0) {
      timeUs[i] = -1;
      continue;
    }
    const field = fields[s]!;
    if (p + TUPLE_FIXED_MAX + field.bytes.length > b.length) {
      const grown = Buffer.allocUnsafeSlow(b.length * 2);
      grown.set(b.subarray(0, p));
      b = grown;
      d = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const e = codec.encode(b, d, p, view, offsets[i]!, field);
    if (e < 0) {
      timeUs[i] = -1;
      continue;
    }
    const t = (timeUs[i] = codec.timeUs);
    if (t < minUs) minUs = t;
    if (t > maxUs) maxUs = t;
    ends[k++] = p = e;
  }
  return { bytes: b.subarray(0, p), ends: ends.subarray(0, k), timeUs, minUs, maxUs };
}
