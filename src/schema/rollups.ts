/**
 * The `ohlcv_hourly` rollup of DESIGN.md §2: 1-minute bars → 1-hour bars. On the community tier
 * it is a continuous aggregate with a refresh policy; elsewhere a plain materialized view with
 * the same name and columns that `maintain` refreshes, so queries read it the same way.
 */
import type { Capabilities } from '../engine/types.js';
import { ident } from '../sql/ident.js';

export const HOURLY_VIEW = 'ohlcv_hourly';

const HOURLY_SELECT = `SELECT time_bucket(INTERVAL '1 hour', "timestamp") AS bucket,
       instrument_id,
       symbol,
       first(open_price, "timestamp") AS open_price,
       max(high_price) AS high_price,
       min(low_price) AS low_price,
       last(close_price, "timestamp") AS close_price,
       sum(volume) AS volume
  FROM ohlcv_data
 WHERE granularity = '1m'
 GROUP BY bucket, instrument_id, symbol`;

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

export function createHourlyRollupSql(caps: Capabilities): string {
  return createRollupViewSql(HOURLY_VIEW, HOURLY_SELECT, caps);
}
