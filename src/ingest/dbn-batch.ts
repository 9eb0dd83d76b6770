/**
 * A PreparedBatch over decoded DBN bytes. When the table has a fast codec (trades, tbbo), the
 * records it vouches for were encoded into COPY tuples per decoder batch straight from the record
 * bytes (fast-codecs.ts: no per-row object, no BigInt), and the batch keeps runs of them. Rows the
 * fast path does not vouch for go through the generic mapping (dbn-mapping.ts) and the table
 * description's validation, and are stored as values.
 *
 * The fast path is an optimisation only: it accepts a record only when every column rule holds
 * on the raw fields, and test/ingest/fast-path.test.ts proves it produces the same rows and the
 * same COPY bytes as the generic path.
 */
import type { RecordBatch } from '../dbn/batch.js';
import type { BinaryCopyWriter } from '../copy/index.js';
import type { Column } from '../schema/tables.js';
import type { CellValue } from '../schema/types.js';
import { rowEncoderFor, valuesToJson, type EncodedBatch, type PreparedBatch, type Rejection } from '../load/write/batch.js';
import type { DbnMapper } from './dbn-mapping.js';
import type { SymbolFields, TupleBlock } from './fast-codecs.js';

export { fastCodecFor, SymbolFields, type FastRowCodec } from './fast-codecs.js';

/** One decoder batch and the tuples of its fast rows (encoded before any row of it is handed out). */
export interface TupleSegment {
  readonly batch: RecordBatch;
  readonly block: TupleBlock;
  /** SymbolFields index of each record's symbol (-1: none), as given to the encoder. */
  readonly syms: Int32Array;
}

/**
 * Rows of one checkpoint batch, in record order, as pieces: a run of consecutive fast records of
 * one decoder batch (whose tuples lie back to back in the segment's block: 5 numbers a run, no
 * per-row storage), or one generic row held as values. A fast row's COPY bytes are its
 * pre-encoded tuple, appended by reference; consecutive rows coalesce into one range.
 */
/** Slots of DbnRowBatch.idsAdded (a power of two). */
const ID_SLOTS = 64;

export class DbnRowBatch implements PreparedBatch {
  recordsIn = 0;
  readonly rejections: Rejection[] = [];
  readonly instrumentIds = new Set<number>();
  encoded?: EncodedBatch;
  private readonly segs: TupleSegment[] = [];
  /** Per piece: first row, segment index, first record index in the decoder batch, first tuple ordinal (-1: generic row). */
  private pieceRow: Int32Array = new Int32Array(64);
  private pieceSeg: Int32Array = new Int32Array(64);
  private pieceI: Int32Array = new Int32Array(64);
  private pieceOrd: Int32Array = new Int32Array(64);
  private pieces = 0;
  private readonly generic = new Map<number, CellValue[]>();
  private n = 0;
  private minUs = Infinity;
  private maxUs = -Infinity;
  /**
   * Ids already in instrumentIds, direct-mapped on their low bits: instruments interleave record
   * by record, and a Set.add per record was the costliest line of a fast run.
   */
  private readonly idsAdded = new Float64Array(ID_SLOTS).fill(-1);
  /** Piece of the last encodeRow: rows are encoded in order, so the next row is in it or the next one. */
  private at = 0;
  private readonly encodeValues;

  constructor(
    readonly batchNo: number,
    private readonly columns: readonly Column[],
    private readonly mapper: DbnMapper,
    private readonly timeIndex: number,
    private readonly symbols: SymbolFields,
  ) {
    this.encodeValues = rowEncoderFor(columns);
  }

  get rowCount(): number {
    return this.n;
  }
  get minTime(): bigint | null {
    return this.n === 0 ? null : BigInt(this.minUs);
  }
  get maxTime(): bigint | null {
    return this.n === 0 ? null : BigInt(this.maxUs);
  }

  private segIndex(seg: TupleSegment): number {
    const s = this.segs.length - 1;
    if (s >= 0 && this.segs[s] === seg) return s;
    this.segs.push(seg);
    return s + 1;
  }

  private piece(seg: number, i: number, ord: number): void {
    if (this.pieces === this.pieceRow.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.pieceRow = grow(this.pieceRow);
      this.pieceSeg = grow(this.pieceSeg);
      this.pieceI = grow(this.pieceI);
      this.pieceOrd = grow(this.pieceOrd);
    }
    const k = this.pieces++;
    this.pieceRow[k] = this.n;
    this.pieceSeg[k] = seg;
    this.pieceI[k] = i;
    this.pieceOrd[k] = ord;
  }

  /**
   * Records [from, to) of the segment's decoder batch, all taken by the fast path, whose tuples
   * are the block's ordinals from `ord` on.
   */
  addFastRun(seg: TupleSegment, from: number, to: number, ord: number): void {
    const s = this.segIndex(seg);
    const k = this.pieces - 1;
    // Continues the previous run (a decoder batch split by nothing but a checkpoint boundary)?
    const last = k >= 0 && this.pieceSeg[k] === s && this.pieceOrd[k]! >= 0 && this.pieceI[k]! + (this.n - this.pieceRow[k]!) === from;
    if (!last) this.piece(s, from, ord);
    const { block, batch, syms } = seg;
    const added = this.idsAdded;
    // A fast record's symbol index names its instrument too (SymbolFields): one sequential
    // array instead of every record's bytes again, long out of cache by now.
    let prev = -1;
    for (let i = from; i < to; i++) {
      const s = syms[i]!;
      if (s === prev) continue;
      prev = s;
      const id = this.symbols.idOf(s);
      if (added[id & (ID_SLOTS - 1)] !== id) this.addId(id);
    }
    if (from === 0 && to === batch.count && block.ends.length === to) {
      // The whole decoder batch: the encoder's own extremes.
      this.minUs = Math.min(this.minUs, block.minUs);
      this.maxUs = Math.max(this.maxUs, block.maxUs);
    } else {
      const { timeUs } = block;
      let min = this.minUs;
      let max = this.maxUs;
      for (let i = from; i < to; i++) {
        const t = timeUs[i]!;
        if (t < min) min = t;
        if (t > max) max = t;
      }
      this.minUs = min;
      this.maxUs = max;
    }
    this.n += to - from;
  }

  addValues(seg: TupleSegment, i: number, values: CellValue[], instrumentId: number): void {
    this.piece(this.segIndex(seg), i, -1);
    this.generic.set(this.n, values);
    const t = Number(values[this.timeIndex] as bigint);
    if (t < this.minUs) this.minUs = t;
    if (t > this.maxUs) this.maxUs = t;
    if (this.idsAdded[instrumentId & (ID_SLOTS - 1)] !== instrumentId) this.addId(instrumentId);
    this.n++;
  }

  private addId(id: number): void {
    this.instrumentIds.add(id);
    this.idsAdded[id & (ID_SLOTS - 1)] = id;
  }

  /** Index of the piece holding row r. */
  private find(r: number): number {
    const k = this.at;
    if (k < this.pieces && this.pieceRow[k]! <= r) {
      if (k + 1 >= this.pieces || this.pieceRow[k + 1]! > r) return k;
      if (k + 2 >= this.pieces || this.pieceRow[k + 2]! > r) return (this.at = k + 1);
    }
    let lo = 0;
    let hi = this.pieces - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.pieceRow[mid]! <= r) lo = mid;
      else hi = mid - 1;
    }
    return (this.at = lo);
  }

  encodeRow(w: BinaryCopyWriter, r: number): void {
    this.encodeRows(w, r, r + 1);
  }

  /** Rows [from, to) in order: each run of pre-encoded tuples is appended as one range. */
  encodeRows(w: BinaryCopyWriter, from: number, to: number): void {
    let r = from;
    while (r < to) {
      const k = this.find(r);
      const ord0 = this.pieceOrd[k]!;
      if (ord0 < 0) {
        this.encodeValues(w, this.generic.get(r)!);
        r++;
        continue;
      }
      const first = this.pieceRow[k]!;
      const end = Math.min(to, k + 1 < this.pieces ? this.pieceRow[k + 1]! : this.n);
      const { bytes, ends } = this.segs[this.pieceSeg[k]!]!.block;
      const j = ord0 + (r - first);
      w.appendEncoded(bytes, j === 0 ? 0 : ends[j - 1]!, ends[ord0 + (end - first) - 1]!, end - r);
      r = end;
    }
  }

  rowValues(r: number): readonly CellValue[] {
    const k = this.find(r);
    if (this.pieceOrd[k]! < 0) return this.generic.get(r)!;
    const seg = this.segs[this.pieceSeg[k]!]!;
    const i = this.pieceI[k]! + (r - this.pieceRow[k]!);
    this.mapper.reset(seg.batch);
    return this.mapper.map(i, this.symbols.name(seg.syms[i]!)) as CellValue[];
  }

  rowOrigin(r: number): { recordIndex: number; record: string } {
    const k = this.find(r);
    const seg = this.segs[this.pieceSeg[k]!]!;
    const recordIndex = seg.batch.firstRecordIndex + this.pieceI[k]! + (this.pieceOrd[k]! < 0 ? 0 : r - this.pieceRow[k]!);
    return { recordIndex, record: valuesToJson(this.columns, this.rowValues(r) as CellValue[], { dbn_record_index: recordIndex }) };
  }
}
