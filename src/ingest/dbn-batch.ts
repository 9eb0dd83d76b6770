/**
 * A PreparedBatch over decoded DBN bytes. Rows are kept as (decoder batch, record index) pairs
 * and encoded straight from the record bytes when the table has a fast encoder (trades, tbbo):
 * no per-row object, no BigInt. Rows the fast path does not vouch for go through the generic
 * mapping (dbn-mapping.ts) and the table description's validation, and are stored as values.
 *
 * The fast path is an optimisation only: it accepts a record only when every column rule holds
 * on the raw fields, and test/ingest/fast-path.test.ts proves it produces the same rows and the
 * same COPY bytes as the generic path.
 */
import type { RecordBatch } from '../dbn/batch.js';
import { CHAR, Mbp1Cursor, TradeCursor } from '../dbn/cursor.js';
import { newFixedParts } from '../dbn/fixed.js';
import type { BinaryCopyWriter } from '../copy/binary-writer.js';
import type { Column, TableName } from '../schema/tables.js';
import type { CellValue } from '../schema/types.js';
import { rowEncoderFor, valuesToJson, type PreparedBatch, type Rejection } from '../load/batch.js';
import type { DbnMapper } from './dbn-mapping.js';

const INT4_MAX = 2147483647;
/** timestamptzNumber is exact within ±8e15 µs (years 1716–2223). */
const FAST_TS_LIMIT = 8e15;
const SYMBOL_MAX = 50;

/** Encodes one record of a decoder batch; returns false when it cannot vouch for the record. */
export interface FastRowCodec {
  /** Checks the raw record; true = every column rule of the table holds. */
  accept(batch: RecordBatch, i: number, symbol: string): boolean;
  encode(w: BinaryCopyWriter, batch: RecordBatch, i: number, symbol: string): void;
  timeUs(batch: RecordBatch, i: number): number;
}

const parts = newFixedParts();

function positivePrice(ok: boolean): boolean {
  // DECIMAL(20,8) keeps 8 decimals: a positive price must stay > 0 after rounding the 9th.
  return ok && parts[0]! > 0 && (parts[1]! > 0 || parts[2]! >= 5);
}

/** Keeps one cursor positioned: resetting it only when the decoder batch changes. */
abstract class CursorCodec<C extends TradeCursor> implements FastRowCodec {
  private last: RecordBatch | undefined;
  protected constructor(private readonly c: C) {}
  protected at(batch: RecordBatch, i: number): C {
    if (batch !== this.last) { this.c.reset(batch); this.last = batch; }
    return this.c.at(i);
  }
  abstract accept(batch: RecordBatch, i: number, symbol: string): boolean;
  abstract encode(w: BinaryCopyWriter, batch: RecordBatch, i: number, symbol: string): void;
  timeUs(batch: RecordBatch, i: number): number { return this.at(batch, i).tsEventUs; }
}

class TradesCodec extends CursorCodec<TradeCursor> {
  constructor() { super(new TradeCursor()); }
  accept(batch: RecordBatch, i: number, symbol: string): boolean {
    const c = this.at(batch, i);
    const ts = c.tsEventUs;
    const side = c.side;
    return c.instrumentId <= INT4_MAX && ts === ts && ts < FAST_TS_LIMIT && symbol.length <= SYMBOL_MAX
      && positivePrice(c.priceParts(parts)) && c.size > 0 && (side === CHAR.A || side === CHAR.B);
  }
  encode(w: BinaryCopyWriter, batch: RecordBatch, i: number, symbol: string): void {
    const c = this.at(batch, i);
    w.beginRow(7);
    w.timestamptzNumber(c.tsEventUs);
    w.int4(c.instrumentId);
    w.text(symbol);
    c.priceParts(parts);
    w.numericFromNanoParts(parts[0]!, parts[1]!, parts[2]!);
    w.int8Number(c.size);
    w.char(c.side === CHAR.A ? 'S' : 'B');
    w.textIdPair(c.publisherId, c.sequence);
  }
}

class TbboCodec extends CursorCodec<Mbp1Cursor> {
  constructor() { super(new Mbp1Cursor()); }
  accept(batch: RecordBatch, i: number, symbol: string): boolean {
    const c = this.at(batch, i);
    const ts = c.tsEventUs;
    if (!(c.instrumentId <= INT4_MAX && ts === ts && ts < FAST_TS_LIMIT && symbol.length <= SYMBOL_MAX)) return false;
    // Both sides present, positive and not crossed; anything else (one-sided, NULL sizes,
    // crossed or odd values) takes the generic path, which knows every rule.
    if (c.bidPxUndef || c.askPxUndef || c.bidSz === 0 || c.askSz === 0) return false;
    if (!positivePrice(c.bidPxParts(parts))) return false;
    const bidUnits = parts[1]!;
    const bidFrac = Math.floor(parts[2]! / 10) + (parts[2]! % 10 >= 5 ? 1 : 0);
    if (!positivePrice(c.askPxParts(parts))) return false;
    const askFrac = Math.floor(parts[2]! / 10) + (parts[2]! % 10 >= 5 ? 1 : 0);
    return parts[1]! > bidUnits || (parts[1]! === bidUnits && askFrac >= bidFrac);
  }
  encode(w: BinaryCopyWriter, batch: RecordBatch, i: number, symbol: string): void {
    const c = this.at(batch, i);
    w.beginRow(7);
    w.timestamptzNumber(c.tsEventUs);
    w.int4(c.instrumentId);
    w.text(symbol);
    c.bidPxParts(parts);
    w.numericFromNanoParts(parts[0]!, parts[1]!, parts[2]!);
    c.askPxParts(parts);
    w.numericFromNanoParts(parts[0]!, parts[1]!, parts[2]!);
    w.int8Number(c.bidSz);
    w.int8Number(c.askSz);
  }
}

export function fastCodecFor(table: TableName): FastRowCodec | undefined {
  if (table === 'trades_data') return new TradesCodec();
  if (table === 'tbbo_data') return new TbboCodec();
  return undefined;
}

/** Rows of one checkpoint batch: fast rows (record references) and generic rows (values). */
export class DbnRowBatch implements PreparedBatch {
  recordsIn = 0;
  readonly rejections: Rejection[] = [];
  readonly instrumentIds = new Set<number>();
  private readonly segs: RecordBatch[] = [];
  private seg = new Int32Array(1024);
  private idx = new Int32Array(1024);
  private recIndex = new Float64Array(1024);
  private readonly symbols: string[] = [];
  /** Generic rows: row number → values (null for fast rows). */
  private readonly values: (CellValue[] | null)[] = [];
  private n = 0;
  private minUs = Infinity;
  private maxUs = -Infinity;
  private readonly encodeValues;

  constructor(readonly batchNo: number, private readonly columns: readonly Column[], private readonly codec: FastRowCodec | undefined,
    private readonly mapper: DbnMapper, private readonly timeIndex: number) {
    this.encodeValues = rowEncoderFor(columns);
  }

  get rowCount(): number { return this.n; }
  get minTime(): bigint | null { return this.n === 0 ? null : BigInt(this.minUs); }
  get maxTime(): bigint | null { return this.n === 0 ? null : BigInt(this.maxUs); }

  private slot(batch: RecordBatch, i: number, recordIndex: number, symbol: string, values: CellValue[] | null, timeUs: number, instrumentId: number): void {
    if (this.n === this.seg.length) this.grow();
    let s = this.segs.length - 1;
    if (s < 0 || this.segs[s] !== batch) { this.segs.push(batch); s++; }
    this.seg[this.n] = s;
    this.idx[this.n] = i;
    this.recIndex[this.n] = recordIndex;
    this.symbols.push(symbol);
    this.values.push(values);
    this.n++;
    if (timeUs < this.minUs) this.minUs = timeUs;
    if (timeUs > this.maxUs) this.maxUs = timeUs;
    this.instrumentIds.add(instrumentId);
  }

  addFast(batch: RecordBatch, i: number, recordIndex: number, symbol: string): void {
    this.slot(batch, i, recordIndex, symbol, null, this.codec!.timeUs(batch, i), batch.view.getUint32(batch.offsets[i]! + 4, true));
  }

  addValues(batch: RecordBatch, i: number, recordIndex: number, values: CellValue[], instrumentId: number): void {
    this.slot(batch, i, recordIndex, '', values, Number(values[this.timeIndex] as bigint), instrumentId);
  }

  encodeRow(w: BinaryCopyWriter, r: number): void {
    const v = this.values[r];
    if (v) this.encodeValues(w, v);
    else this.codec!.encode(w, this.segs[this.seg[r]!]!, this.idx[r]!, this.symbols[r]!);
  }

  rowValues(r: number): readonly CellValue[] {
    const v = this.values[r];
    if (v) return v;
    const batch = this.segs[this.seg[r]!]!;
    this.mapper.reset(batch);
    return this.mapper.map(this.idx[r]!, this.symbols[r]!) as CellValue[];
  }

  rowOrigin(r: number): { recordIndex: number; record: string } {
    const recordIndex = this.recIndex[r]!;
    return { recordIndex, record: valuesToJson(this.columns, this.rowValues(r) as CellValue[], { dbn_record_index: recordIndex }) };
  }

  private grow(): void {
    const size = this.seg.length * 2;
    const seg = new Int32Array(size); seg.set(this.seg); this.seg = seg;
    const idx = new Int32Array(size); idx.set(this.idx); this.idx = idx;
    const rec = new Float64Array(size); rec.set(this.recIndex); this.recIndex = rec;
  }
}

