/**
 * Hot-path accessors. A cursor is created once (per batch or reused across batches with
 * `reset`) and positioned with `at(i)`; its getters read the field in place from the batch's
 * DataView. Nothing is allocated per record except by the bigint getters.
 *
 * How values are exposed (choose per use):
 *  - prices (i64, 1e-9 units): `price` as bigint (exact; one allocation), `priceParts(out)` filling
 *    a reusable Float64Array [sign, whole units, nanos] exactly with no allocation (the form the
 *    NUMERIC encoder consumes), `priceUndef` for UNDEF_PRICE, and `priceHi`/`priceLo` int32 halves.
 *  - timestamps (u64 ns): `tsEvent` as bigint (exact), `tsEventUs` as a double of whole microseconds
 *    (floor(ns/1000), exact up to year 2255; NaN for UNDEF_TIMESTAMP), which is what TIMESTAMPTZ stores.
 *  - chars (side, action, ...): char codes as numbers (e.g. 65 'A'); compare with CHAR.*.
 */
import type { RecordBatch } from './batch.js';
import { RTYPE, UNDEF_STAT_QUANTITY, UNDEF_STAT_QUANTITY_V1 } from './constants.js';
import { type FixedParts, isI64Max, readFixedParts, readMicros, readU64Number } from './fixed.js';
import { type FieldSpec, MBP1, OHLCV, STAT_V1, STAT_V3, type StatOffsets, TRADE, layoutFor } from './layouts.js';
import { type FieldValue, readField } from './records.js';

export const CHAR = { A: 65, B: 66, N: 78, T: 84, Y: 89 } as const;

export class RecordCursor {
  protected b!: RecordBatch;
  protected v!: DataView;
  /** Offset of the current record in batch.bytes. */
  o = 0;

  constructor(batch?: RecordBatch) {
    if (batch) this.reset(batch);
  }

  /** Points the cursor at another batch (cursors are reusable across batches). */
  reset(batch: RecordBatch): this {
    this.b = batch;
    this.v = batch.view;
    this.o = 0;
    return this;
  }

  /** Moves to record i of the batch. */
  at(i: number): this {
    this.o = this.b.offsets[i]!;
    return this;
  }

  get rtype(): number {
    return this.b.bytes[this.o + 1]!;
  }
  /** Record size in bytes (header length word x 4). */
  get length(): number {
    return this.b.bytes[this.o]! << 2;
  }
  get publisherId(): number {
    return this.v.getUint16(this.o + 2, true);
  }
  get instrumentId(): number {
    return this.v.getUint32(this.o + 4, true);
  }
  get tsEvent(): bigint {
    return this.v.getBigUint64(this.o + 8, true);
  }
  get tsEventUs(): number {
    return readMicros(this.v, this.o + 8);
  }
  /** Only meaningful when batch.tsOut; the u64 at the end of the record. */
  get tsOut(): bigint {
    return this.v.getBigUint64(this.o + this.length - 8, true);
  }
  get tsOutUs(): number {
    return readMicros(this.v, this.o + this.length - 8);
  }

  protected i64(off: number): bigint {
    return this.v.getBigInt64(this.o + off, true);
  }
  protected u64(off: number): bigint {
    return this.v.getBigUint64(this.o + off, true);
  }
  protected parts(off: number, out: FixedParts): boolean {
    return readFixedParts(this.v, this.o + off, out);
  }
  protected undef(off: number): boolean {
    return isI64Max(this.v, this.o + off);
  }
  protected us(off: number): number {
    return readMicros(this.v, this.o + off);
  }
}

/** Trades (rtype 0x00); also the first 48 bytes of mbp-1/tbbo. */
export class TradeCursor extends RecordCursor {
  get price(): bigint {
    return this.i64(TRADE.price);
  }
  /** Fills out = [sign, units, nanos]; false for UNDEF_PRICE. */
  priceParts(out: FixedParts): boolean {
    return this.parts(TRADE.price, out);
  }
  get priceUndef(): boolean {
    return this.undef(TRADE.price);
  }
  get priceHi(): number {
    return this.v.getInt32(this.o + TRADE.price + 4, true);
  }
  get priceLo(): number {
    return this.v.getUint32(this.o + TRADE.price, true);
  }
  get size(): number {
    return this.v.getUint32(this.o + TRADE.size, true);
  }
  get action(): number {
    return this.b.bytes[this.o + TRADE.action]!;
  }
  get side(): number {
    return this.b.bytes[this.o + TRADE.side]!;
  }
  get flags(): number {
    return this.b.bytes[this.o + TRADE.flags]!;
  }
  get depth(): number {
    return this.b.bytes[this.o + TRADE.depth]!;
  }
  get tsRecv(): bigint {
    return this.u64(TRADE.tsRecv);
  }
  get tsRecvUs(): number {
    return this.us(TRADE.tsRecv);
  }
  get tsInDelta(): number {
    return this.v.getInt32(this.o + TRADE.tsInDelta, true);
  }
  get sequence(): number {
    return this.v.getUint32(this.o + TRADE.sequence, true);
  }
}

/** mbp-1 and tbbo (rtype 0x01): trade fields plus the top level. Empty side: px UNDEF, sz 0. */
export class Mbp1Cursor extends TradeCursor {
  get bidPx(): bigint {
    return this.i64(MBP1.bidPx);
  }
  get askPx(): bigint {
    return this.i64(MBP1.askPx);
  }
  bidPxParts(out: FixedParts): boolean {
    return this.parts(MBP1.bidPx, out);
  }
  askPxParts(out: FixedParts): boolean {
    return this.parts(MBP1.askPx, out);
  }
  get bidPxUndef(): boolean {
    return this.undef(MBP1.bidPx);
  }
  get askPxUndef(): boolean {
    return this.undef(MBP1.askPx);
  }
  get bidSz(): number {
    return this.v.getUint32(this.o + MBP1.bidSz, true);
  }
  get askSz(): number {
    return this.v.getUint32(this.o + MBP1.askSz, true);
  }
  get bidCt(): number {
    return this.v.getUint32(this.o + MBP1.bidCt, true);
  }
  get askCt(): number {
    return this.v.getUint32(this.o + MBP1.askCt, true);
  }
}

/** OHLCV bars (rtypes 0x20-0x24, legacy 0x11). ts_event is the bar start. */
export class OhlcvCursor extends RecordCursor {
  get open(): bigint {
    return this.i64(OHLCV.open);
  }
  get high(): bigint {
    return this.i64(OHLCV.high);
  }
  get low(): bigint {
    return this.i64(OHLCV.low);
  }
  get close(): bigint {
    return this.i64(OHLCV.close);
  }
  openParts(out: FixedParts): boolean {
    return this.parts(OHLCV.open, out);
  }
  highParts(out: FixedParts): boolean {
    return this.parts(OHLCV.high, out);
  }
  lowParts(out: FixedParts): boolean {
    return this.parts(OHLCV.low, out);
  }
  closeParts(out: FixedParts): boolean {
    return this.parts(OHLCV.close, out);
  }
  get volume(): bigint {
    return this.u64(OHLCV.volume);
  }
  /** Volume as a double: exact below 2^53 (check with Number.isSafeInteger). */
  get volumeNumber(): number {
    return readU64Number(this.v, this.o + OHLCV.volume);
  }
}

/** Statistics (rtype 0x18); offsets switch with the batch's DBN version (v1/v2 i32 quantity). */
export class StatCursor extends RecordCursor {
  private s: StatOffsets = STAT_V3;
  private v3 = true;

  override reset(batch: RecordBatch): this {
    super.reset(batch);
    this.v3 = batch.version === 3;
    this.s = this.v3 ? STAT_V3 : STAT_V1;
    return this;
  }

  get tsRecv(): bigint {
    return this.u64(this.s.tsRecv);
  }
  get tsRecvUs(): number {
    return this.us(this.s.tsRecv);
  }
  get tsRef(): bigint {
    return this.u64(this.s.tsRef);
  }
  get tsRefUs(): number {
    return this.us(this.s.tsRef);
  }
  get price(): bigint {
    return this.i64(this.s.price);
  }
  priceParts(out: FixedParts): boolean {
    return this.parts(this.s.price, out);
  }
  get priceUndef(): boolean {
    return this.undef(this.s.price);
  }
  /** Quantity widened to v3's i64; the version's own null sentinel maps to UNDEF_STAT_QUANTITY. */
  get quantity(): bigint {
    if (this.v3) return this.i64(this.s.quantity);
    const q = this.v.getInt32(this.o + this.s.quantity, true);
    return q === UNDEF_STAT_QUANTITY_V1 ? UNDEF_STAT_QUANTITY : BigInt(q);
  }
  /** True for the version's sentinel: i64::MAX in v3, i32::MAX in v1/v2. */
  get quantityUndef(): boolean {
    return this.v3 ? this.undef(this.s.quantity) : this.v.getInt32(this.o + this.s.quantity, true) === UNDEF_STAT_QUANTITY_V1;
  }
  get sequence(): number {
    return this.v.getUint32(this.o + this.s.sequence, true);
  }
  get tsInDelta(): number {
    return this.v.getInt32(this.o + this.s.tsInDelta, true);
  }
  get statType(): number {
    return this.v.getUint16(this.o + this.s.statType, true);
  }
  get channelId(): number {
    return this.v.getUint16(this.o + this.s.channelId, true);
  }
  get updateAction(): number {
    return this.b.bytes[this.o + this.s.updateAction]!;
  }
  get statFlags(): number {
    return this.b.bytes[this.o + this.s.statFlags]!;
  }
}

/**
 * Instrument definitions and symbol-mapping records: rare, so fields are read by name through
 * the version's layout table (names as in records.ts), e.g. `c.get('rawSymbol')`.
 */
export class LayoutCursor extends RecordCursor {
  private byName = new Map<string, FieldSpec>();
  private readonly rtypeOfKind: number;
  constructor(rtype: number, batch?: RecordBatch) {
    super();
    this.rtypeOfKind = rtype;
    if (batch) this.reset(batch);
  }
  override reset(batch: RecordBatch): this {
    super.reset(batch);
    const l = layoutFor(this.rtypeOfKind, batch.version);
    this.byName = new Map((l?.fields ?? []).map((f) => [f.name, f]));
    return this;
  }
  /** Whether this version's layout has the field (e.g. 'legCount' only in v3). */
  has(name: string): boolean {
    return this.byName.has(name);
  }
  /** Field value (bigint for 64-bit, string for chars/strings, number otherwise); undefined if absent. */
  get(name: string): FieldValue | undefined {
    const f = this.byName.get(name);
    return f ? readField(this.b.bytes, this.v, this.o, f) : undefined;
  }
}

/** Instrument definitions (rtype 0x13), typed getters for what a loader needs; others via get(). */
export class DefinitionCursor extends LayoutCursor {
  constructor(batch?: RecordBatch) {
    super(RTYPE.INSTRUMENT_DEF, batch);
  }
  get tsRecv(): bigint {
    return this.get('tsRecv') as bigint;
  }
  /** Tick size (i64 price); UNDEF_PRICE for many equity/options feeds. */
  get minPriceIncrement(): bigint {
    return this.get('minPriceIncrement') as bigint;
  }
  /** Contract size with unitOfMeasure (i64 price); UNDEF for equities. */
  get unitOfMeasureQty(): bigint {
    return this.get('unitOfMeasureQty') as bigint;
  }
  get expiration(): bigint {
    return this.get('expiration') as bigint;
  }
  get rawSymbol(): string {
    return this.get('rawSymbol') as string;
  }
  get asset(): string {
    return this.get('asset') as string;
  }
  get exchange(): string {
    return this.get('exchange') as string;
  }
  get currency(): string {
    return this.get('currency') as string;
  }
  get securityType(): string {
    return this.get('securityType') as string;
  }
  get instrumentClass(): string {
    return this.get('instrumentClass') as string;
  }
  /** 'A' add, 'M' modify, 'D' delete ('~' in legacy files). */
  get securityUpdateAction(): string {
    return this.get('securityUpdateAction') as string;
  }
}

/** Symbol-mapping records (rtype 0x16); v1 records have no stype bytes (null). */
export class SymbolMappingCursor extends LayoutCursor {
  constructor(batch?: RecordBatch) {
    super(RTYPE.SYMBOL_MAPPING, batch);
  }
  get stypeIn(): number | null {
    return (this.get('stypeIn') as number | undefined) ?? null;
  }
  get stypeInSymbol(): string {
    return this.get('stypeInSymbol') as string;
  }
  get stypeOut(): number | null {
    return (this.get('stypeOut') as number | undefined) ?? null;
  }
  get stypeOutSymbol(): string {
    return this.get('stypeOutSymbol') as string;
  }
  get startTs(): bigint {
    return this.get('startTs') as bigint;
  }
  get endTs(): bigint {
    return this.get('endTs') as bigint;
  }
}
