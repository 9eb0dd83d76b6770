/**
 * Every rollup tickvault keeps, in refresh order (a rollup comes after the one it reads).
 *
 * - `ohlcv_hourly` (DESIGN.md §2; created by migration 3): 1m bars → 1h.
 * - `trades_candles_1m` from trades_data, and hierarchical `trades_candles_1h` (from the 1m view)
 *   and `trades_candles_1d` (from the 1h view).
 *
 * On a tier with continuous aggregates they are real-time continuous aggregates (hierarchical:
 * continuous aggregates on continuous aggregates); elsewhere plain materialized views with the
 * same names and columns, refreshed by `maintain` and `refreshAfterLoad` (src/timescale/rollup-refresh.ts), each with a unique
 * index so it can be refreshed CONCURRENTLY (readers are not blocked).
 *
 * Columns of every rollup: bucket, instrument_id, symbol, publisher_id (from schema version 6:
 * one row per venue), open_price, high_price, low_price, close_price, volume (numeric: sum of
 * BIGINT), and for the trade candles trade_count.
 */
import type { Capabilities } from '../engine/types.js';
import { ident } from '../sql/ident.js';
import { DEFAULT_POLICIES } from '../config/policies.js';
import { VENUES_VERSION } from './tables.js';

export const HOURLY_VIEW = 'ohlcv_hourly';

/**
 * From schema version 6 every rollup is per venue: grouped by publisher_id as well, so bars of one
 * option from several OPRA venues (or trades of one stock on several exchanges) are never blended
 * into one bar whose open and close come from different venues. Before it, per instrument.
 */

function venue(version: number): { col: string; group: string } {
  return version >= VENUES_VERSION ? { col: '\n       publisher_id,', group: ', publisher_id' } : { col: '', group: '' };
}

function hourlySelect(version: number): string {
  const v = venue(version);
  return `SELECT time_bucket(INTERVAL '1 hour', "timestamp") AS bucket,
       instrument_id,
       symbol,${v.col}
       first(open_price, "timestamp") AS open_price,
       max(high_price) AS high_price,
       min(low_price) AS low_price,
       last(close_price, "timestamp") AS close_price,
       sum(volume) AS volume
  FROM ohlcv_data
 WHERE granularity = '1m'
 GROUP BY bucket, instrument_id, symbol${v.group}`;
}

/**
 * CREATE for a rollup view of the tier: a real-time continuous aggregate (created empty, filled by
 * its refresh) where the tier has them, else a plain materialized view populated at creation so
 * it is readable at once (an unpopulated plain view raises on SELECT). `name` is trusted.
 */
export function createRollupViewSql(name: string, select: string, caps: Capabilities): string {
  if (caps.continuousAggregates) {
    return `CREATE MATERIALIZED VIEW ${ident(name)} WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS\n${select}\nWITH NO DATA`;
  }
  return `CREATE MATERIALIZED VIEW ${ident(name)} AS\n${select}\nWITH DATA`;
}

/** The hourly rollup as schema version `version` defines it (default: the current one). */
export function createHourlyRollupSql(caps: Capabilities, version = LATEST_ROLLUP_VERSION): string {
  return createRollupViewSql(HOURLY_VIEW, hourlySelect(version), caps);
}

/** The newest schema version that changed a rollup's definition. */
export const LATEST_ROLLUP_VERSION = VENUES_VERSION;

export type RollupSource = 'ohlcv_data' | 'trades_data';

export interface Rollup {
  readonly name: string;
  /** The hypertable whose rows it summarises (directly or through `reads`). */
  readonly source: RollupSource;
  /** The relation its SELECT reads (the hypertable or the finer rollup). */
  readonly reads: string;
  readonly width: string;
  readonly widthUs: bigint;
  readonly hasTradeCount: boolean;
  /** Refresh-policy window on tiers with a job scheduler (DESIGN.md §2 for ohlcv_hourly). */
  readonly policy: { readonly startOffset: string; readonly endOffset: string; readonly scheduleInterval: string };
}

const MINUTE = 60_000_000n;
const HOUR = 60n * MINUTE;
const DAY = 24n * HOUR;

export const OHLCV_HOURLY: Rollup = {
  name: HOURLY_VIEW,
  source: 'ohlcv_data',
  reads: 'ohlcv_data',
  width: '1 hour',
  widthUs: HOUR,
  hasTradeCount: false,
  policy: DEFAULT_POLICIES.hourlyRefresh,
};

// Policy windows: each covers at least two buckets (TimescaleDB requires it) and ends one bucket
// before now, so a bucket is materialized once it is complete; later backfills are covered by
// refreshAfterLoad. Older late data is the loader's to announce, not the policy's to rescan.
export const TRADES_CANDLES_1M: Rollup = {
  name: 'trades_candles_1m',
  source: 'trades_data',
  reads: 'trades_data',
  width: '1 minute',
  widthUs: MINUTE,
  hasTradeCount: true,
  policy: { startOffset: '3 days', endOffset: '1 minute', scheduleInterval: '5 minutes' },
};
export const TRADES_CANDLES_1H: Rollup = {
  name: 'trades_candles_1h',
  source: 'trades_data',
  reads: 'trades_candles_1m',
  width: '1 hour',
  widthUs: HOUR,
  hasTradeCount: true,
  policy: { startOffset: '1 month', endOffset: '1 hour', scheduleInterval: '1 hour' },
};
export const TRADES_CANDLES_1D: Rollup = {
  name: 'trades_candles_1d',
  source: 'trades_data',
  reads: 'trades_candles_1h',
  width: '1 day',
  widthUs: DAY,
  hasTradeCount: true,
  policy: { startOffset: '3 months', endOffset: '1 day', scheduleInterval: '1 day' },
};

/** All rollups in refresh order. */
export const ROLLUPS: readonly Rollup[] = [OHLCV_HOURLY, TRADES_CANDLES_1M, TRADES_CANDLES_1H, TRADES_CANDLES_1D];
export const TRADE_CANDLES: readonly Rollup[] = [TRADES_CANDLES_1M, TRADES_CANDLES_1H, TRADES_CANDLES_1D];

export function rollupsOf(table: string): readonly Rollup[] {
  return ROLLUPS.filter((r) => r.source === table);
}

function candleSelect(r: Rollup, version: number): string {
  const width = `INTERVAL '${r.width}'`;
  const v = venue(version);
  if (r.reads === 'trades_data') {
    return `SELECT time_bucket(${width}, "timestamp") AS bucket,
       instrument_id,
       symbol,${v.col}
       first(price, "timestamp") AS open_price,
       max(price) AS high_price,
       min(price) AS low_price,
       last(price, "timestamp") AS close_price,
       sum(size) AS volume,
       count(*) AS trade_count
  FROM trades_data
 GROUP BY 1, instrument_id, symbol${v.group}`;
  }
  return `SELECT time_bucket(${width}, bucket) AS bucket,
       instrument_id,
       symbol,${v.col}
       first(open_price, bucket) AS open_price,
       max(high_price) AS high_price,
       min(low_price) AS low_price,
       last(close_price, bucket) AS close_price,
       sum(volume) AS volume,
       sum(trade_count) AS trade_count
  FROM ${ident(r.reads)}
 GROUP BY 1, instrument_id, symbol${v.group}`;
}

/** DDL creating the trade candles for the tier as schema version `version` defines them, in order. */
export function createTradeCandlesSql(caps: Capabilities, version = LATEST_ROLLUP_VERSION): string[] {
  const out: string[] = [];
  for (const r of TRADE_CANDLES) {
    out.push(createRollupViewSql(r.name, candleSelect(r, version), caps));
    // Plain views need a unique index to be refreshed CONCURRENTLY.
    if (!caps.continuousAggregates) out.push(rollupUniqueIndexSql(r, version));
  }
  return out;
}

/** The unique index a plain-view rollup needs for REFRESH … CONCURRENTLY: one row per group. */
export function rollupUniqueIndexSql(r: Rollup, version = LATEST_ROLLUP_VERSION): string {
  const cols = version >= VENUES_VERSION ? 'symbol, bucket, instrument_id, publisher_id' : 'symbol, bucket, instrument_id';
  return `CREATE UNIQUE INDEX ${ident(`${r.name}_symbol_bucket_key`)} ON ${ident(r.name)} (${cols})`;
}
