/**
 * Migration 5: candles built from trades (see rollups.ts), for the detected tier. Listed at the end
 * of MIGRATIONS in src/schema/migrations.ts; kept here, next to the rollup definitions it creates.
 */
import type { Migration } from '../schema/migrations.js';
import { createTradeCandlesSql, TRADE_CANDLES } from './rollups.js';

export const TRADE_CANDLES_MIGRATION: Migration = {
  version: 5,
  name: 'candles from trades: trades_candles_1m with hierarchical 1h and 1d rollups',
  async up(tx, { caps }) {
    const done: string[] = [];
    if (!caps.hypertables) {
      done.push('trade candles unavailable without TimescaleDB (time_bucket, first/last)');
      return done;
    }
    for (const sql of createTradeCandlesSql(caps)) {
      await tx.query(sql);
      done.push(sql.split('\n')[0]!.replace(/ AS$/, ''));
    }
    if (caps.continuousAggregates && caps.policies) {
      for (const r of TRADE_CANDLES) {
        await tx.query(
          'SELECT add_continuous_aggregate_policy($1::regclass, start_offset => $2::interval, end_offset => $3::interval, schedule_interval => $4::interval)',
          [r.name, r.policy.startOffset, r.policy.endOffset, r.policy.scheduleInterval]);
        done.push(`refresh policy ${r.name} (${r.policy.startOffset} .. ${r.policy.endOffset}, every ${r.policy.scheduleInterval})`);
      }
    } else if (!caps.continuousAggregates) {
      done.push('trade candles are materialized views kept by `tickvault maintain` and refreshAfterLoad');
    }
    return done;
  },
};
