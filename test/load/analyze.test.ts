/**
 * After a load only the chunks it touched are analyzed: a daily append must not re-analyze years
 * of history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

function trades(day: string, n: number, from = 0): TradeRecord[] {
  return Array.from({ length: n }, (_v, i) => ({
    timestamp: `${day}T10:00:${String(i % 60).padStart(2, '0')}.${String(from + i).padStart(6, '0')}Z`,
    instrument_id: 1,
    symbol: 'ESH4',
    price: '5000.25',
    size: 1,
    side: 'B',
    trade_id: `${day}-${from + i}`,
  }));
}

describe.each(ENGINE_KINDS)('analyze after load (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'analyze' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  const analyzed = async () => {
    const { rows } = await te.engine.query<{ chunk: string; n: string }>(
      `SELECT c.chunk_name AS chunk, COALESCE(s.analyze_count, 0)::text AS n
         FROM timescaledb_information.chunks c
         JOIN pg_stat_all_tables s ON s.schemaname = c.chunk_schema AND s.relname = c.chunk_name
        WHERE c.hypertable_name = 'trades_data' ORDER BY c.range_start`,
    );
    return rows.map((r) => Number(r.n));
  };

  it('analyzes the chunks of the new rows, not the old ones', async () => {
    const loader = new TradesLoader({ engine: te.engine });
    await loader.bulkLoad(trades('2024-03-01', 50), { source: { source: 'day1', contentHash: 'analyze-day1' } });
    const before = await analyzed();
    expect(before).toEqual([1]);
    await loader.bulkLoad(trades('2024-03-02', 50), { source: { source: 'day2', contentHash: 'analyze-day2' } });
    expect(await analyzed()).toEqual([1, 1]); // day 1's chunk was not analyzed again
  });
});
