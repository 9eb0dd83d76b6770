/**
 * Byte layouts of the DBN records tickvault reads, per DBN version, as data. One table drives
 * the slow-path decoder (records.ts) and the writer, so the two cannot disagree; the hot-path
 * cursors use the same offsets through the named constants below.
 * Offsets are from the record start (the 16-byte header is not listed). Source: the record
 * structs of databento/dbn 0.54 (v1/v2 in compat.rs, v3 in record.rs), cross-checked with
 * shared/reference/dbn-records.md §4 and the fixture files.
 */
import { type DbnVersion, RTYPE, isOhlcvRtype } from './constants.js';

/** u64/i64 decode to bigint; 'u32big' is a u32 exposed as bigint (v1/v2 raw_instrument_id). */
export type FieldType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'u32big' | 'char' | 'str';
export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly off: number;
  /** Width for 'str' (NUL-padded ASCII). */
  readonly len: number;
}

export type RecordKind = 'trade' | 'mbp1' | 'ohlcv' | 'stat' | 'definition' | 'symbolMapping' | 'status' | 'imbalance' | 'other';

export interface Layout {
  readonly kind: RecordKind;
  /** Record size without ts_out. */
  readonly size: number;
  readonly fields: readonly FieldSpec[];
}

export const HEADER_SIZE = 16;

type Row = readonly [name: string, type: FieldType, off: number, len?: number];
function layout(kind: RecordKind, size: number, rows: readonly Row[]): Layout {
  return { kind, size, fields: rows.map(([name, type, off, len]) => ({ name, type, off, len: len ?? 0 })) };
}

/** Offsets shared by trades (MBP-0) and mbp-1/tbbo, identical in v1-v3. */
export const TRADE = { price: 16, size: 24, action: 28, side: 29, flags: 30, depth: 31, tsRecv: 32, tsInDelta: 40, sequence: 44 } as const;
export const MBP1 = { bidPx: 48, askPx: 56, bidSz: 64, askSz: 68, bidCt: 72, askCt: 76 } as const;
export const OHLCV = { open: 16, high: 24, low: 32, close: 40, volume: 48 } as const;
/** StatMsg differs by version: quantity is i32 in v1/v2 and i64 in v3, shifting what follows. */
export const STAT_V1 = {
  tsRecv: 16,
  tsRef: 24,
  price: 32,
  quantity: 40,
  sequence: 44,
  tsInDelta: 48,
  statType: 52,
  channelId: 54,
  updateAction: 56,
  statFlags: 57,
} as const;
export const STAT_V3 = {
  tsRecv: 16,
  tsRef: 24,
  price: 32,
  quantity: 40,
  sequence: 48,
  tsInDelta: 52,
  statType: 56,
  channelId: 58,
  updateAction: 60,
  statFlags: 61,
} as const;
export type StatOffsets = { readonly [K in keyof typeof STAT_V1]: number };

const TRADE_ROWS: readonly Row[] = [
  ['price', 'i64', TRADE.price],
  ['size', 'u32', TRADE.size],
  ['action', 'char', TRADE.action],
  ['side', 'char', TRADE.side],
  ['flags', 'u8', TRADE.flags],
  ['depth', 'u8', TRADE.depth],
  ['tsRecv', 'u64', TRADE.tsRecv],
  ['tsInDelta', 'i32', TRADE.tsInDelta],
  ['sequence', 'u32', TRADE.sequence],
];
const TRADE_LAYOUT = layout('trade', 48, TRADE_ROWS);
const MBP1_LAYOUT = layout('mbp1', 80, [
  ...TRADE_ROWS,
  ['bidPx', 'i64', MBP1.bidPx],
  ['askPx', 'i64', MBP1.askPx],
  ['bidSz', 'u32', MBP1.bidSz],
  ['askSz', 'u32', MBP1.askSz],
  ['bidCt', 'u32', MBP1.bidCt],
  ['askCt', 'u32', MBP1.askCt],
]);
const OHLCV_LAYOUT = layout('ohlcv', 56, [
  ['open', 'i64', OHLCV.open],
  ['high', 'i64', OHLCV.high],
  ['low', 'i64', OHLCV.low],
  ['close', 'i64', OHLCV.close],
  ['volume', 'u64', OHLCV.volume],
]);
function statLayout(o: StatOffsets, size: number, qty: FieldType): Layout {
  return layout('stat', size, [
    ['tsRecv', 'u64', o.tsRecv],
    ['tsRef', 'u64', o.tsRef],
    ['price', 'i64', o.price],
    ['quantity', qty, o.quantity],
    ['sequence', 'u32', o.sequence],
    ['tsInDelta', 'i32', o.tsInDelta],
    ['statType', 'u16', o.statType],
    ['channelId', 'u16', o.channelId],
    ['updateAction', 'u8', o.updateAction],
    ['statFlags', 'u8', o.statFlags],
  ]);
}
const STAT_LAYOUT_V1 = statLayout(STAT_V1, 64, 'i32');
const STAT_LAYOUT_V3 = statLayout(STAT_V3, 80, 'i64');

const STATUS_LAYOUT = layout('status', 40, [
  ['tsRecv', 'u64', 16],
  ['action', 'u16', 24],
  ['reason', 'u16', 26],
  ['tradingEvent', 'u16', 28],
  ['isTrading', 'char', 30],
  ['isQuoting', 'char', 31],
  ['isShortSellRestricted', 'char', 32],
]);
const IMBALANCE_LAYOUT = layout('imbalance', 112, [
  ['tsRecv', 'u64', 16],
  ['refPrice', 'i64', 24],
  ['auctionTime', 'u64', 32],
  ['contBookClrPrice', 'i64', 40],
  ['auctInterestClrPrice', 'i64', 48],
  ['ssrFillingPrice', 'i64', 56],
  ['indMatchPrice', 'i64', 64],
  ['upperCollar', 'i64', 72],
  ['lowerCollar', 'i64', 80],
  ['pairedQty', 'u32', 88],
  ['totalImbalanceQty', 'u32', 92],
  ['marketImbalanceQty', 'u32', 96],
  ['unpairedQty', 'u32', 100],
  ['auctionType', 'char', 104],
  ['side', 'char', 105],
  ['auctionStatus', 'u8', 106],
  ['freezeStatus', 'u8', 107],
  ['numExtensions', 'u8', 108],
  ['unpairedSide', 'char', 109],
  ['significantImbalance', 'char', 110],
]);
const SYMBOL_MAPPING_V1 = layout('symbolMapping', 80, [
  ['stypeInSymbol', 'str', 16, 22],
  ['stypeOutSymbol', 'str', 38, 22],
  ['startTs', 'u64', 64],
  ['endTs', 'u64', 72],
]);
const SYMBOL_MAPPING_V2 = layout('symbolMapping', 176, [
  ['stypeIn', 'u8', 16],
  ['stypeInSymbol', 'str', 17, 71],
  ['stypeOut', 'u8', 88],
  ['stypeOutSymbol', 'str', 89, 71],
  ['startTs', 'u64', 160],
  ['endTs', 'u64', 168],
]);

// InstrumentDefMsg: the first 104 bytes agree across versions except where noted in each table.
const DEF_HEAD: readonly Row[] = [
  ['tsRecv', 'u64', 16],
  ['minPriceIncrement', 'i64', 24],
  ['displayFactor', 'i64', 32],
  ['expiration', 'u64', 40],
  ['activation', 'u64', 48],
  ['highLimitPrice', 'i64', 56],
  ['lowLimitPrice', 'i64', 64],
  ['maxPriceVariation', 'i64', 72],
];
const DEF_V1 = layout('definition', 360, [
  ...DEF_HEAD,
  ['tradingReferencePrice', 'i64', 80],
  ['unitOfMeasureQty', 'i64', 88],
  ['minPriceIncrementAmount', 'i64', 96],
  ['priceRatio', 'i64', 104],
  ['instAttribValue', 'i32', 112],
  ['underlyingId', 'u32', 116],
  ['rawInstrumentId', 'u32big', 120],
  ['marketDepthImplied', 'i32', 124],
  ['marketDepth', 'i32', 128],
  ['marketSegmentId', 'u32', 132],
  ['maxTradeVol', 'u32', 136],
  ['minLotSize', 'i32', 140],
  ['minLotSizeBlock', 'i32', 144],
  ['minLotSizeRoundLot', 'i32', 148],
  ['minTradeVol', 'u32', 152],
  ['contractMultiplier', 'i32', 160],
  ['decayQuantity', 'i32', 164],
  ['originalContractSize', 'i32', 168],
  ['tradingReferenceDate', 'u16', 176],
  ['applId', 'i16', 178],
  ['maturityYear', 'u16', 180],
  ['decayStartDate', 'u16', 182],
  ['channelId', 'u16', 184],
  ['currency', 'str', 186, 4],
  ['settlCurrency', 'str', 190, 4],
  ['secsubtype', 'str', 194, 6],
  ['rawSymbol', 'str', 200, 22],
  ['group', 'str', 222, 21],
  ['exchange', 'str', 243, 5],
  ['asset', 'str', 248, 7],
  ['cfi', 'str', 255, 7],
  ['securityType', 'str', 262, 7],
  ['unitOfMeasure', 'str', 269, 31],
  ['underlying', 'str', 300, 21],
  ['strikePriceCurrency', 'str', 321, 4],
  ['instrumentClass', 'char', 325],
  ['strikePrice', 'i64', 328],
  ['matchAlgorithm', 'char', 342],
  ['mdSecurityTradingStatus', 'u8', 343],
  ['mainFraction', 'u8', 344],
  ['priceDisplayFormat', 'u8', 345],
  ['settlPriceType', 'u8', 346],
  ['subFraction', 'u8', 347],
  ['underlyingProduct', 'u8', 348],
  ['securityUpdateAction', 'char', 349],
  ['maturityMonth', 'u8', 350],
  ['maturityDay', 'u8', 351],
  ['maturityWeek', 'u8', 352],
  ['userDefinedInstrument', 'char', 353],
  ['contractMultiplierUnit', 'i8', 354],
  ['flowScheduleType', 'i8', 355],
  ['tickRule', 'u8', 356],
]);
const DEF_V2 = layout('definition', 400, [
  ...DEF_HEAD,
  ['tradingReferencePrice', 'i64', 80],
  ['unitOfMeasureQty', 'i64', 88],
  ['minPriceIncrementAmount', 'i64', 96],
  ['priceRatio', 'i64', 104],
  ['strikePrice', 'i64', 112],
  ['instAttribValue', 'i32', 120],
  ['underlyingId', 'u32', 124],
  ['rawInstrumentId', 'u32big', 128],
  ['marketDepthImplied', 'i32', 132],
  ['marketDepth', 'i32', 136],
  ['marketSegmentId', 'u32', 140],
  ['maxTradeVol', 'u32', 144],
  ['minLotSize', 'i32', 148],
  ['minLotSizeBlock', 'i32', 152],
  ['minLotSizeRoundLot', 'i32', 156],
  ['minTradeVol', 'u32', 160],
  ['contractMultiplier', 'i32', 164],
  ['decayQuantity', 'i32', 168],
  ['originalContractSize', 'i32', 172],
  ['tradingReferenceDate', 'u16', 176],
  ['applId', 'i16', 178],
  ['maturityYear', 'u16', 180],
  ['decayStartDate', 'u16', 182],
  ['channelId', 'u16', 184],
  ['currency', 'str', 186, 4],
  ['settlCurrency', 'str', 190, 4],
  ['secsubtype', 'str', 194, 6],
  ['rawSymbol', 'str', 200, 71],
  ['group', 'str', 271, 21],
  ['exchange', 'str', 292, 5],
  ['asset', 'str', 297, 7],
  ['cfi', 'str', 304, 7],
  ['securityType', 'str', 311, 7],
  ['unitOfMeasure', 'str', 318, 31],
  ['underlying', 'str', 349, 21],
  ['strikePriceCurrency', 'str', 370, 4],
  ['instrumentClass', 'char', 374],
  ['matchAlgorithm', 'char', 375],
  ['mdSecurityTradingStatus', 'u8', 376],
  ['mainFraction', 'u8', 377],
  ['priceDisplayFormat', 'u8', 378],
  ['settlPriceType', 'u8', 379],
  ['subFraction', 'u8', 380],
  ['underlyingProduct', 'u8', 381],
  ['securityUpdateAction', 'char', 382],
  ['maturityMonth', 'u8', 383],
  ['maturityDay', 'u8', 384],
  ['maturityWeek', 'u8', 385],
  ['userDefinedInstrument', 'char', 386],
  ['contractMultiplierUnit', 'i8', 387],
  ['flowScheduleType', 'i8', 388],
  ['tickRule', 'u8', 389],
]);
const DEF_V3 = layout('definition', 520, [
  ...DEF_HEAD,
  ['unitOfMeasureQty', 'i64', 80],
  ['minPriceIncrementAmount', 'i64', 88],
  ['priceRatio', 'i64', 96],
  ['strikePrice', 'i64', 104],
  ['rawInstrumentId', 'u64', 112],
  ['legPrice', 'i64', 120],
  ['legDelta', 'i64', 128],
  ['instAttribValue', 'i32', 136],
  ['underlyingId', 'u32', 140],
  ['marketDepthImplied', 'i32', 144],
  ['marketDepth', 'i32', 148],
  ['marketSegmentId', 'u32', 152],
  ['maxTradeVol', 'u32', 156],
  ['minLotSize', 'i32', 160],
  ['minLotSizeBlock', 'i32', 164],
  ['minLotSizeRoundLot', 'i32', 168],
  ['minTradeVol', 'u32', 172],
  ['contractMultiplier', 'i32', 176],
  ['decayQuantity', 'i32', 180],
  ['originalContractSize', 'i32', 184],
  ['legInstrumentId', 'u32', 188],
  ['legRatioPriceNumerator', 'i32', 192],
  ['legRatioPriceDenominator', 'i32', 196],
  ['legRatioQtyNumerator', 'i32', 200],
  ['legRatioQtyDenominator', 'i32', 204],
  ['legUnderlyingId', 'u32', 208],
  ['applId', 'i16', 212],
  ['maturityYear', 'u16', 214],
  ['decayStartDate', 'u16', 216],
  ['channelId', 'u16', 218],
  ['legCount', 'u16', 220],
  ['legIndex', 'u16', 222],
  ['currency', 'str', 224, 4],
  ['settlCurrency', 'str', 228, 4],
  ['secsubtype', 'str', 232, 6],
  ['rawSymbol', 'str', 238, 71],
  ['group', 'str', 309, 21],
  ['exchange', 'str', 330, 5],
  ['asset', 'str', 335, 11],
  ['cfi', 'str', 346, 7],
  ['securityType', 'str', 353, 7],
  ['unitOfMeasure', 'str', 360, 31],
  ['underlying', 'str', 391, 21],
  ['strikePriceCurrency', 'str', 412, 4],
  ['legRawSymbol', 'str', 416, 71],
  ['instrumentClass', 'char', 487],
  ['matchAlgorithm', 'char', 488],
  ['mainFraction', 'u8', 489],
  ['priceDisplayFormat', 'u8', 490],
  ['subFraction', 'u8', 491],
  ['underlyingProduct', 'u8', 492],
  ['securityUpdateAction', 'char', 493],
  ['maturityMonth', 'u8', 494],
  ['maturityDay', 'u8', 495],
  ['maturityWeek', 'u8', 496],
  ['userDefinedInstrument', 'char', 497],
  ['contractMultiplierUnit', 'i8', 498],
  ['flowScheduleType', 'i8', 499],
  ['tickRule', 'u8', 500],
  ['legInstrumentClass', 'char', 501],
  ['legSide', 'char', 502],
]);

/** Layout of `rtype` in a file of `version`, or undefined for rtypes read only as headers. */
export function layoutFor(rtype: number, version: DbnVersion): Layout | undefined {
  switch (rtype) {
    case RTYPE.MBP_0:
      return TRADE_LAYOUT;
    case RTYPE.MBP_1:
      return MBP1_LAYOUT;
    case RTYPE.STATUS:
      return STATUS_LAYOUT;
    case RTYPE.INSTRUMENT_DEF:
      return version === 1 ? DEF_V1 : version === 2 ? DEF_V2 : DEF_V3;
    case RTYPE.IMBALANCE:
      return IMBALANCE_LAYOUT;
    case RTYPE.SYMBOL_MAPPING:
      return version === 1 ? SYMBOL_MAPPING_V1 : SYMBOL_MAPPING_V2;
    case RTYPE.STATISTICS:
      return version === 3 ? STAT_LAYOUT_V3 : STAT_LAYOUT_V1;
    default:
      return isOhlcvRtype(rtype) ? OHLCV_LAYOUT : undefined;
  }
}

/**
 * Smallest legal record size (bytes) per rtype for a version, plus 8 with ts_out. The batch walker
 * rejects shorter records so that no accessor can read past its record.
 */
export function minRecordSizes(version: DbnVersion, tsOut: boolean): Uint16Array {
  const extra = tsOut ? 8 : 0;
  const t = new Uint16Array(256).fill(HEADER_SIZE + extra);
  for (let r = 0; r < 256; r++) {
    const l = layoutFor(r, version);
    if (l) t[r] = l.size + extra;
  }
  return t;
}
