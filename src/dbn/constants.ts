/** DBN constants (see shared/reference/dbn-records.md §1-§5). */

export type DbnVersion = 1 | 2 | 3;

export const DBN_MAGIC = [0x44, 0x42, 0x4e] as const; // "DBN"
export const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd] as const;

export const UNDEF_PRICE = 0x7fffffffffffffffn;
export const UNDEF_TIMESTAMP = 0xffffffffffffffffn;
export const UNDEF_ORDER_SIZE = 0xffffffff;
export const UNDEF_STAT_QUANTITY = 0x7fffffffffffffffn; // v3; v1/v2 use i32::MAX on the wire
export const UNDEF_STAT_QUANTITY_V1 = 0x7fffffff;
export const FIXED_PRICE_SCALE = 1_000_000_000;

export const RTYPE = {
  MBP_0: 0x00, // trades
  MBP_1: 0x01, // mbp-1 and tbbo
  MBP_10: 0x0a,
  OHLCV_DEPRECATED: 0x11,
  STATUS: 0x12,
  INSTRUMENT_DEF: 0x13,
  IMBALANCE: 0x14,
  ERROR: 0x15,
  SYMBOL_MAPPING: 0x16,
  SYSTEM: 0x17,
  STATISTICS: 0x18,
  OHLCV_1S: 0x20,
  OHLCV_1M: 0x21,
  OHLCV_1H: 0x22,
  OHLCV_1D: 0x23,
  OHLCV_EOD: 0x24,
  MBO: 0xa0,
} as const;

/** Granularity label per OHLCV rtype (taken from the rtype, never from a file name). */
export const OHLCV_GRANULARITY: Readonly<Record<number, string>> = {
  [RTYPE.OHLCV_1S]: '1s',
  [RTYPE.OHLCV_1M]: '1m',
  [RTYPE.OHLCV_1H]: '1h',
  [RTYPE.OHLCV_1D]: '1d',
  [RTYPE.OHLCV_EOD]: 'eod',
};

export function isOhlcvRtype(rtype: number): boolean {
  return (rtype >= RTYPE.OHLCV_1S && rtype <= RTYPE.OHLCV_EOD) || rtype === RTYPE.OHLCV_DEPRECATED;
}

/** Metadata schema code -> name; index = code. 0xFFFF (mixed) is absent. */
export const SCHEMA_NAMES = [
  'mbo',
  'mbp-1',
  'mbp-10',
  'tbbo',
  'trades',
  'ohlcv-1s',
  'ohlcv-1m',
  'ohlcv-1h',
  'ohlcv-1d',
  'definition',
  'statistics',
  'status',
  'imbalance',
  'ohlcv-eod',
  'cmbp-1',
  'cbbo-1s',
  'cbbo-1m',
  'tcbbo',
  'bbo-1s',
  'bbo-1m',
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export function schemaCode(name: SchemaName): number {
  return SCHEMA_NAMES.indexOf(name);
}

export const STYPE_NAMES = [
  'instrument_id',
  'raw_symbol',
  'smart',
  'continuous',
  'parent',
  'nasdaq_symbol',
  'cms_symbol',
  'isin',
  'us_code',
  'bbg_comp_id',
  'bbg_comp_ticker',
  'figi',
  'figi_ticker',
] as const;
export const STYPE = { INSTRUMENT_ID: 0, RAW_SYMBOL: 1, CONTINUOUS: 3, PARENT: 4 } as const;

/** Width of fixed-size symbol strings in metadata and symbol-mapping records. */
export const SYMBOL_CSTR_LEN_V1 = 22;
export const SYMBOL_CSTR_LEN_V2 = 71;

export const STAT_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'opening_price',
  2: 'indicative_opening_price',
  3: 'settlement_price',
  4: 'trading_session_low_price',
  5: 'trading_session_high_price',
  6: 'cleared_volume',
  7: 'lowest_offer',
  8: 'highest_bid',
  9: 'open_interest',
  10: 'fixing_price',
  11: 'close_price',
  12: 'net_change',
  13: 'vwap',
  14: 'volatility',
  15: 'delta',
  16: 'uncrossing_price',
  17: 'upper_price_limit',
  18: 'lower_price_limit',
  19: 'block_volume',
  10001: 'venue_specific_volume_1',
};

/**
 * Every rtype DBN defines (reference §4), by name. A record whose rtype is none of these cannot be
 * a record of any known type (a flipped byte, a newer DBN the decoder does not know): loads
 * quarantine it rather than skip it as "another type".
 */
export const RTYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'trades',
  0x01: 'mbp-1/tbbo',
  0x0a: 'mbp-10',
  0x11: 'ohlcv (legacy)',
  0x12: 'status',
  0x13: 'definition',
  0x14: 'imbalance',
  0x15: 'error',
  0x16: 'symbol mapping',
  0x17: 'system',
  0x18: 'statistics',
  0x20: 'ohlcv-1s',
  0x21: 'ohlcv-1m',
  0x22: 'ohlcv-1h',
  0x23: 'ohlcv-1d',
  0x24: 'ohlcv-eod',
  0xa0: 'mbo',
  0xb1: 'cmbp-1/tcbbo',
  0xc0: 'cbbo-1s',
  0xc1: 'cbbo-1m',
  0xc2: 'tcbbo',
  0xc3: 'bbo-1s',
  0xc4: 'bbo-1m',
};

/** 1 at each known rtype (RTYPE_NAMES), as a lookup table for per-record checks. */
export const KNOWN_RTYPE: Uint8Array = Uint8Array.from({ length: 256 }, (_, rt) => (RTYPE_NAMES[rt] === undefined ? 0 : 1));

/**
 * Records that steer a stream rather than carry market data (errors, symbol mappings,
 * heartbeats): consumed by the decoder and the symbol resolution, never rows of a table.
 */
export const CONTROL_RTYPE: Uint8Array = Uint8Array.from({ length: 256 }, (_, rt) => (rt === 0x15 || rt === 0x16 || rt === 0x17 ? 1 : 0));
