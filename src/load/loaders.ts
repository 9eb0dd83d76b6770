/**
 * The table loaders. Each is the shared BaseLoader bound to one table description, with the
 * seed's default batch size for that data type (smaller rows → larger batches).
 */
import { BaseLoader, type LoaderConfig } from './loader.js';
import { ohlcvData, statisticsData, tbboData, tradesData } from '../schema/tables.js';
import type { FixedPoint } from './normalize.js';

/** Timestamps: Date, ISO 8601 string, or epoch nanoseconds as bigint (truncated to µs). */
export type TimestampInput = Date | string | bigint;
/** Prices: decimal string (exact), number (via its shortest decimal form), or fixed point. */
export type PriceInput = string | number | FixedPoint;
export type IntegerInput = number | bigint | string;

export interface OhlcvRecord {
  timestamp: TimestampInput;
  instrument_id: number;
  symbol: string;
  open_price: PriceInput;
  high_price: PriceInput;
  low_price: PriceInput;
  close_price: PriceInput;
  volume: IntegerInput;
  /** '1s' | '1m' | '1h' | '1d' */
  granularity: string;
  /**
   * The venue (DBN publisher_id). Optional: omitted = 0, "not given". Part of the natural key, so
   * the same instrument and instant from two venues are two rows.
   */
  publisher_id?: number;
}

/** The trade sides the table stores. */
export type TradeSide = 'B' | 'S' | 'N';

export interface TradeRecord {
  timestamp: TimestampInput;
  instrument_id: number;
  symbol: string;
  price: PriceInput;
  size: IntegerInput;
  /** 'B' buy aggressor, 'S' sell aggressor, 'N' no aggressor (other values from untyped input are quarantined) */
  side: TradeSide;
  trade_id?: string | null;
  /**
   * The venue (DBN publisher_id). Optional: omitted = 0, "not given". Part of the natural key, so
   * the same instrument and instant from two venues are two rows.
   */
  publisher_id?: number;
}

export interface TbboRecord {
  timestamp: TimestampInput;
  instrument_id: number;
  symbol: string;
  bid_px_00?: PriceInput | null;
  ask_px_00?: PriceInput | null;
  bid_sz_00?: IntegerInput | null;
  ask_sz_00?: IntegerInput | null;
  /**
   * The venue (DBN publisher_id). Optional: omitted = 0, "not given". Part of the natural key, so
   * the same instrument and instant from two venues are two rows.
   */
  publisher_id?: number;
  /**
   * The venue's sequence number of the record (DBN `sequence`): what tells apart several quotes
   * in one microsecond. Optional (NULL): quotes without one are keyed by instrument, venue and
   * timestamp alone, so give it when one microsecond can hold several quotes.
   */
  sequence?: IntegerInput | null;
}

export interface StatisticsRecord {
  timestamp: TimestampInput;
  ts_recv: TimestampInput;
  ts_ref?: TimestampInput | null;
  instrument_id: number;
  symbol: string;
  stat_type: number;
  stat_type_name: string;
  price?: PriceInput | null;
  quantity?: IntegerInput | null;
  sequence: IntegerInput;
  ts_in_delta?: number | null;
  channel_id?: number | null;
  update_action: number;
  stat_flags: number;
  /**
   * The venue (DBN publisher_id). Optional: omitted = 0, "not given". Part of the natural key, so
   * the same instrument and instant from two venues are two rows.
   */
  publisher_id?: number;
}

export class OHLCVLoader extends BaseLoader<OhlcvRecord> {
  constructor(config: LoaderConfig = {}) {
    super(ohlcvData, { batchSize: 5_000 }, config);
  }
}

export class TradesLoader extends BaseLoader<TradeRecord> {
  constructor(config: LoaderConfig = {}) {
    super(tradesData, { batchSize: 10_000 }, config);
  }
}

export class TBBOLoader extends BaseLoader<TbboRecord> {
  constructor(config: LoaderConfig = {}) {
    super(tbboData, { batchSize: 15_000 }, config);
  }
}

export class StatisticsLoader extends BaseLoader<StatisticsRecord> {
  constructor(config: LoaderConfig = {}) {
    super(statisticsData, { batchSize: 1_000 }, config);
  }
}
