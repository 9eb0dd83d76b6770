/**
 * The natural keys of the other contract tables (server): bars are keyed by instrument +
 * granularity + timestamp (a 1m and a 1h bar at the same instant are different facts), quotes by
 * instrument + timestamp (an upsert recomputes the generated spread), statistics by instrument +
 * timestamp + stat_type + sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OHLCVLoader, StatisticsLoader, TBBOLoader, type OhlcvRecord, type StatisticsRecord, type TbboRecord } from '../../../src/load/loaders.js';
import { openTestEngine, type TestEngine } from '../../support/engines.js';
import { uniqueHash } from '../support/helpers.js';

const src = (label: string) => ({ source: label, contentHash: uniqueHash(label) });

describe('natural keys of bars, quotes and statistics (server)', () => {
  let te: TestEngine;
  beforeAll(async () => { te = await openTestEngine('server', { name: 'backfill_keys' }); });
  afterAll(async () => { await te?.dispose(); });

  it('ohlcv: same instant, different granularity is not a duplicate; the same bar again is', async () => {
    const bar = (granularity: string, close: string): OhlcvRecord => ({
      timestamp: '2024-06-03T10:00:00Z', instrument_id: 5, symbol: 'ESM4', open_price: '10', high_price: '12', low_price: '9', close_price: close, volume: 100, granularity,
    });
    const loader = new OHLCVLoader({ engine: te.engine });
    expect(await loader.bulkLoad([bar('1m', '11'), bar('1h', '11.5')], { source: src('bars1') })).toMatchObject({ recordsInserted: 2, duplicates: 0 });
    expect(await loader.bulkLoad([bar('1m', '11'), bar('1d', '11')], { source: src('bars2') })).toMatchObject({ recordsInserted: 1, duplicates: 1 });
    expect(await loader.bulkLoad([bar('1h', '11.75')], { source: src('bars3'), mode: 'upsert' })).toMatchObject({ recordsInserted: 0, recordsUpdated: 1 });
    const { rows } = await te.engine.query<{ g: string; c: string }>('SELECT granularity AS g, close_price::text AS c FROM ohlcv_data ORDER BY 1');
    expect(rows).toEqual([{ g: '1d', c: '11.00000000' }, { g: '1h', c: '11.75000000' }, { g: '1m', c: '11.00000000' }]);
  });

  it('tbbo: a quote is one fact only when every stored value is equal; a different quote in the same µs is kept; upsert inserts what is absent', async () => {
    const q = (ts: string, bid: string, ask: string): TbboRecord => ({ timestamp: ts, instrument_id: 9, symbol: 'NQM4', bid_px_00: bid, ask_px_00: ask, bid_sz_00: 1, ask_sz_00: 2 });
    const loader = new TBBOLoader({ engine: te.engine });
    await loader.bulkLoad([q('2024-06-03T10:00:00.000001Z', '100', '100.5'), q('2024-06-03T10:00:00.000002Z', '100', '101')], { source: src('q1') });
    const res = await loader.bulkLoad([
      q('2024-06-03T10:00:00.000002Z', '100', '101'), // the stored quote again
      q('2024-06-03T10:00:00.000002Z', '100.25', '101.5'), // another quote in the same microsecond
      q('2024-06-03T10:00:00.000003Z', '99', '99.25'),
    ], { source: src('q2'), mode: 'upsert' });
    expect(res).toMatchObject({ recordsInserted: 2, recordsUpdated: 0 });
    const { rows } = await te.engine.query<{ s: string }>('SELECT spread::text AS s FROM tbbo_data ORDER BY "timestamp", spread');
    expect(rows.map((r) => r.s)).toEqual(['0.50000000', '1.00000000', '1.25000000', '0.25000000']);
    expect(await loader.bulkLoad([q('2024-06-03T10:00:00.000001Z', '100', '100.5')], { source: src('q3') })).toMatchObject({ recordsInserted: 0, duplicates: 1 });
    expect(await loader.bulkLoad([q('2024-06-03T10:00:00.000001Z', '1', '2')], { source: src('q4') })).toMatchObject({ recordsInserted: 1, duplicates: 0 });
  });

  it('a fresh append that repeats a key within one batch: the COPY is undone, the batch staged, the repeat quarantined', async () => {
    const q = (us: number, ask: string): TbboRecord => ({ timestamp: `2024-07-01T10:00:00.00000${us}Z`, instrument_id: 11, symbol: 'RTYU4', bid_px_00: '1', ask_px_00: ask, bid_sz_00: 1, ask_sz_00: 1 });
    const res = await new TBBOLoader({ engine: te.engine }).bulkLoad([q(1, '2'), q(2, '2'), q(1, '2'), q(1, '3'), q(3, '2')], { source: src('repeat') });
    expect(res).toMatchObject({ recordsInserted: 4, duplicates: 1 });
    expect(res.backfill).toMatchObject({ batchesCopied: 0, batchesStaged: 1 });
    const { rows } = await te.engine.query<{ a: string }>(`SELECT ask_px_00::text AS a FROM tbbo_data WHERE instrument_id = 11 ORDER BY "timestamp", ask_px_00`);
    expect(rows.map((r) => r.a)).toEqual(['2.00000000', '3.00000000', '2.00000000', '2.00000000']);
  });

  it('statistics: keyed by stat_type and sequence too', async () => {
    const s = (statType: number, sequence: number, price: string): StatisticsRecord => ({
      timestamp: '2024-06-03T00:00:00Z', ts_recv: '2024-06-03T00:00:01Z', instrument_id: 3, symbol: 'CLN4', stat_type: statType, stat_type_name: `t${statType}`,
      price, quantity: null, sequence, update_action: 1, stat_flags: 0,
    });
    const loader = new StatisticsLoader({ engine: te.engine });
    expect(await loader.bulkLoad([s(1, 1, '70'), s(2, 1, '71'), s(1, 2, '72')], { source: src('s1') })).toMatchObject({ recordsInserted: 3 });
    expect(await loader.bulkLoad([s(1, 1, '70.5'), s(3, 1, '1')], { source: src('s2'), mode: 'upsert' })).toMatchObject({ recordsInserted: 1, recordsUpdated: 1 });
    const { rows } = await te.engine.query<{ p: string }>('SELECT price::text AS p FROM statistics_data ORDER BY stat_type, sequence');
    expect(rows.map((r) => r.p)).toEqual(['70.50000000', '72.00000000', '71.00000000', '1.00000000']);
  });
});
