/**
 * Slow path: one plain object per record, for tests, inspection and the writer's input. Field
 * names are the camelCase of DBN's. Values are raw integers (prices i64 in 1e-9 units as bigint,
 * timestamps u64 ns as bigint, UNDEF sentinels kept), except that a v1/v2 statistics quantity is
 * widened like Databento's upgrade to v3: i32::MAX (UNDEF) becomes UNDEF_STAT_QUANTITY.
 */
import type { RecordBatch } from './batch.js';
import { type DbnVersion, OHLCV_GRANULARITY, RTYPE, UNDEF_STAT_QUANTITY, UNDEF_STAT_QUANTITY_V1, isOhlcvRtype } from './constants.js';
import { type FieldSpec, HEADER_SIZE, type Layout, layoutFor } from './layouts.js';
import { readCString, writeCString } from './text.js';

export interface RecordHeaderFields {
  rtype: number;
  publisherId: number;
  instrumentId: number;
  tsEvent: bigint;
  /** Present when the metadata says ts_out. */
  tsOut?: bigint;
}
export interface TradeFields {
  price: bigint;
  size: number;
  action: string;
  side: string;
  flags: number;
  depth: number;
  tsRecv: bigint;
  tsInDelta: number;
  sequence: number;
}
export interface TradeRecord extends RecordHeaderFields, TradeFields {
  kind: 'trade';
}
/** mbp-1 and tbbo (same layout, rtype 0x01). */
export interface Mbp1Record extends RecordHeaderFields, TradeFields {
  kind: 'mbp1';
  bidPx: bigint;
  askPx: bigint;
  bidSz: number;
  askSz: number;
  bidCt: number;
  askCt: number;
}
export interface OhlcvRecord extends RecordHeaderFields {
  kind: 'ohlcv';
  open: bigint;
  high: bigint;
  low: bigint;
  close: bigint;
  volume: bigint;
  /** From the rtype: '1s' | '1m' | '1h' | '1d' | 'eod' (null for the legacy 0x11). */
  granularity?: string | null;
}
export interface StatRecord extends RecordHeaderFields {
  kind: 'stat';
  tsRecv: bigint;
  tsRef: bigint;
  price: bigint;
  quantity: bigint;
  sequence: number;
  tsInDelta: number;
  statType: number;
  channelId: number;
  updateAction: number;
  statFlags: number;
}
export interface SymbolMappingRecord extends RecordHeaderFields {
  kind: 'symbolMapping';
  /** Absent from v1 records (null); 255 = none. */
  stypeIn?: number | null;
  stypeInSymbol: string;
  stypeOut?: number | null;
  stypeOutSymbol: string;
  startTs: bigint;
  endTs: bigint;
}
export interface StatusRecord extends RecordHeaderFields {
  kind: 'status';
  tsRecv: bigint;
  action: number;
  reason: number;
  tradingEvent: number;
  isTrading: string;
  isQuoting: string;
  isShortSellRestricted: string;
}
export interface ImbalanceRecord extends RecordHeaderFields {
  kind: 'imbalance';
  tsRecv: bigint;
  refPrice: bigint;
  auctionTime: bigint;
  contBookClrPrice: bigint;
  auctInterestClrPrice: bigint;
  ssrFillingPrice: bigint;
  indMatchPrice: bigint;
  upperCollar: bigint;
  lowerCollar: bigint;
  pairedQty: number;
  totalImbalanceQty: number;
  marketImbalanceQty: number;
  unpairedQty: number;
  auctionType: string;
  side: string;
  auctionStatus: number;
  freezeStatus: number;
  numExtensions: number;
  unpairedSide: string;
  significantImbalance: string;
}
/**
 * Instrument definition: every field of the file version's layout (layouts.ts). Fields a loader
 * needs are typed; version-specific ones (v1/v2 tradingReference*, v3 leg*) are optional.
 */
export interface DefinitionRecord extends RecordHeaderFields {
  kind: 'definition';
  tsRecv: bigint;
  minPriceIncrement: bigint;
  displayFactor: bigint;
  expiration: bigint;
  activation: bigint;
  unitOfMeasureQty: bigint;
  strikePrice: bigint;
  rawInstrumentId: bigint;
  underlyingId: number;
  contractMultiplier: number;
  channelId: number;
  maturityYear: number;
  maturityMonth: number;
  maturityDay: number;
  currency: string;
  rawSymbol: string;
  group: string;
  exchange: string;
  asset: string;
  cfi: string;
  securityType: string;
  unitOfMeasure: string;
  underlying: string;
  instrumentClass: string;
  securityUpdateAction: string;
  [field: string]: string | number | bigint | null | undefined;
}
/** Any rtype without a layout here (mbo, mbp-10, error, system, bbo...): header + raw body. */
export interface OtherRecord extends RecordHeaderFields {
  kind: 'other';
  /** Bytes after the 16-byte header, without ts_out. */
  body: Uint8Array;
}

export type DbnRecord =
  | TradeRecord
  | Mbp1Record
  | OhlcvRecord
  | StatRecord
  | DefinitionRecord
  | SymbolMappingRecord
  | StatusRecord
  | ImbalanceRecord
  | OtherRecord;

export type FieldValue = string | number | bigint;

export function readField(bytes: Uint8Array, view: DataView, base: number, f: FieldSpec): FieldValue {
  const o = base + f.off;
  switch (f.type) {
    case 'u8':
      return view.getUint8(o);
    case 'i8':
      return view.getInt8(o);
    case 'u16':
      return view.getUint16(o, true);
    case 'i16':
      return view.getInt16(o, true);
    case 'u32':
      return view.getUint32(o, true);
    case 'i32':
      return view.getInt32(o, true);
    case 'u64':
      return view.getBigUint64(o, true);
    case 'i64':
      return view.getBigInt64(o, true);
    case 'u32big':
      return BigInt(view.getUint32(o, true));
    case 'char':
      return bytes[o] === 0 ? '' : String.fromCharCode(bytes[o]!);
    case 'str':
      return readCString(bytes, o, f.len);
  }
}

export function writeField(bytes: Uint8Array, view: DataView, base: number, f: FieldSpec, value: unknown): void {
  const o = base + f.off;
  switch (f.type) {
    case 'u8':
      view.setUint8(o, Number(value ?? 0));
      return;
    case 'i8':
      view.setInt8(o, Number(value ?? 0));
      return;
    case 'u16':
      view.setUint16(o, Number(value ?? 0), true);
      return;
    case 'i16':
      view.setInt16(o, Number(value ?? 0), true);
      return;
    case 'u32':
      view.setUint32(o, Number(value ?? 0), true);
      return;
    case 'i32':
      view.setInt32(o, Number(value ?? 0), true);
      return;
    case 'u64':
      view.setBigUint64(o, BigInt((value as bigint | number | undefined) ?? 0n), true);
      return;
    case 'i64':
      view.setBigInt64(o, BigInt((value as bigint | number | undefined) ?? 0n), true);
      return;
    case 'u32big':
      view.setUint32(o, Number(value ?? 0), true);
      return;
    case 'char':
      bytes[o] = typeof value === 'string' && value.length ? value.charCodeAt(0) : 0;
      return;
    case 'str':
      writeCString(bytes, o, f.len, typeof value === 'string' ? value : '');
      return;
  }
}

/** Decodes record `i` of `batch` into a plain object. */
export function decodeRecord(batch: RecordBatch, i: number): DbnRecord {
  const { bytes, view, version } = batch;
  const base = batch.offsets[i]!;
  const rtype = batch.rtypes[i]!;
  const len = bytes[base]! << 2;
  const rec: Record<string, unknown> = {
    kind: 'other',
    rtype,
    publisherId: view.getUint16(base + 2, true),
    instrumentId: view.getUint32(base + 4, true),
    tsEvent: view.getBigUint64(base + 8, true),
  };
  if (batch.tsOut) rec.tsOut = view.getBigUint64(base + len - 8, true);
  const layout = layoutFor(rtype, version);
  if (!layout) {
    rec.body = bytes.slice(base + HEADER_SIZE, base + len - (batch.tsOut ? 8 : 0));
    return rec as unknown as OtherRecord;
  }
  rec.kind = layout.kind;
  for (const f of layout.fields) rec[f.name] = readField(bytes, view, base, f);
  if (layout.kind === 'stat' && version < 3) {
    const q = rec.quantity as number;
    rec.quantity = q === UNDEF_STAT_QUANTITY_V1 ? UNDEF_STAT_QUANTITY : BigInt(q);
  } else if (layout.kind === 'ohlcv') {
    rec.granularity = OHLCV_GRANULARITY[rtype] ?? null;
  } else if (layout.kind === 'symbolMapping' && version === 1) {
    rec.stypeIn = null;
    rec.stypeOut = null;
  }
  return rec as unknown as DbnRecord;
}

const DEFAULT_RTYPE: Partial<Record<DbnRecord['kind'], number>> = {
  trade: RTYPE.MBP_0,
  mbp1: RTYPE.MBP_1,
  stat: RTYPE.STATISTICS,
  definition: RTYPE.INSTRUMENT_DEF,
  symbolMapping: RTYPE.SYMBOL_MAPPING,
  status: RTYPE.STATUS,
  imbalance: RTYPE.IMBALANCE,
};

/** Size in bytes `rec` takes when encoded for `version` (ts_out included when `tsOut`). */
export function encodedSize(rec: DbnRecord, version: DbnVersion, tsOut: boolean): number {
  const extra = tsOut ? 8 : 0;
  if (rec.kind === 'other') return HEADER_SIZE + rec.body.length + extra;
  return layoutOf(rec, version).size + extra;
}

function layoutOf(rec: DbnRecord, version: DbnVersion): Layout {
  const rtype = rec.rtype ?? DEFAULT_RTYPE[rec.kind];
  const l = rtype === undefined ? undefined : layoutFor(rtype, version);
  if (!l || l.kind !== rec.kind) throw new RangeError(`record kind ${rec.kind} does not match rtype ${rtype}`);
  return l;
}

/**
 * Encodes `rec` at out[base..] for `version`; returns bytes written. The inverse of
 * decodeRecord, including narrowing a v3 stat quantity to v1/v2's i32 (UNDEF maps back to i32::MAX).
 */
export function encodeRecord(rec: DbnRecord, version: DbnVersion, tsOut: boolean, out: Uint8Array, view: DataView, base: number): number {
  const size = encodedSize(rec, version, tsOut);
  if (size % 4 !== 0 || size > 255 * 4) throw new RangeError(`record size ${size} is not encodable`);
  const rtype = rec.rtype ?? DEFAULT_RTYPE[rec.kind];
  if (rtype === undefined || (rec.kind === 'ohlcv' && !isOhlcvRtype(rtype))) throw new RangeError(`record kind ${rec.kind} needs an rtype`);
  out.fill(0, base, base + size);
  out[base] = size >> 2;
  out[base + 1] = rtype;
  view.setUint16(base + 2, rec.publisherId, true);
  view.setUint32(base + 4, rec.instrumentId, true);
  view.setBigUint64(base + 8, rec.tsEvent, true);
  if (tsOut) view.setBigUint64(base + size - 8, rec.tsOut ?? 0n, true);
  if (rec.kind === 'other') {
    out.set(rec.body, base + HEADER_SIZE);
    return size;
  }
  const src = rec as unknown as Record<string, unknown>;
  for (const f of layoutOf(rec, version).fields) {
    let v = src[f.name];
    if (f.name === 'quantity' && f.type === 'i32') {
      const q = BigInt((v as bigint | undefined) ?? 0n);
      if (q === UNDEF_STAT_QUANTITY) v = UNDEF_STAT_QUANTITY_V1;
      else if (q > 0x7fffffffn || q < -0x80000000n) throw new RangeError(`stat quantity ${q} does not fit DBN v${version}'s i32`);
      else v = Number(q);
    }
    if ((f.name === 'stypeIn' || f.name === 'stypeOut') && (v === null || v === undefined)) v = 0xff;
    writeField(out, view, base, f, v);
  }
  return size;
}
