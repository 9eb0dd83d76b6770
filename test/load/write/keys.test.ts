/**
 * The natural keys of the other contract tables (server), each with the venue (publisher_id) since
 * schema version 6: bars are keyed by instrument + publisher + granularity + timestamp (a 1m and a
 * 1h bar at the same instant are different facts, so are two venues' bars), quotes by instrument +
 * publisher + timestamp + sequence (an upsert recomputes the generated spread), statistics by
 * instrument + publisher + timestamp + stat_type + sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OHLCVLoader,
  StatisticsLoader,
  TBBOLoader,
  type OhlcvRecord,
  type StatisticsRecord,
  type TbboRecord,
} from '../../../src/load/loaders.js';
import { openTestEngine, type TestEngine } from '../../support/engines.js';
import { uniqueHash } from '../../support/db.js';

const src = (label: string) => ({ source: label, contentHash: uniqueHash(label) });

describe('natural keys of bars, quotes and statistics (server)', () => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine('server', { name: 'backfill_keys' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it('ohlcv: same instant, different granularity is not a duplicate; the same bar again is', async () => {
    const bar = (granularity: string, close: string): OhlcvRecord => ({
      timestamp: '2024-06-03T10:00:00Z',
      instrument_id: 5,
      symbol: 'ESM4',
      open_price: '10',
      high_price: '12',
      low_price: '9',
      close_price: close,
      volume: 100,
      granularity,
    });
    const loader = new OHLCVLoader({ engine: te.engine });
    expect(await loader.bulkLoad([bar('1m', '11'), bar('1h', '11.5')], { source: src('bars1') })).toMatchObject({
      recordsInserted: 2,
      duplicates: 0,
    });
    expect(await loader.bulkLoad([bar('1m', '11'), bar('1d', '11')], { source: src('bars2') })).toMatchObject({
      recordsInserted: 1,
      duplicates: 1,
    });
    expect(await loader.bulkLoad([bar('1h', '11.75')], { source: src('bars3'), mode: 'upsert' })).toMatchObject({
      recordsInserted: 0,
      recordsUpdated: 1,
    });
    const { rows } = await te.engine.query<{ g: string; c: string }>(
      'SELECT granularity AS g, close_price::text AS c FROM ohlcv_data ORDER BY 1',
    );
    expect(rows).toEqual([
      { g: '1d', c: '11.00000000' },
      { g: '1h', c: '11.75000000' },
      { g: '1m', c: '11.00000000' },
    ]);
  });

  it('tbbo: keyed by instrument, venue, timestamp and sequence — quotes of one µs with one book are kept apart by sequence; upsert corrects a quote in place', async () => {
    const q = (ts: string, bid: string, ask: string, sequence: number | null, publisher_id = 1): TbboRecord => ({
      timestamp: ts,
      instrument_id: 9,
      symbol: 'NQM4',
      bid_px_00: bid,
      ask_px_00: ask,
      bid_sz_00: 1,
      ask_sz_00: 2,
      sequence,
      publisher_id,
    });
    const loader = new TBBOLoader({ engine: te.engine });
    await loader.bulkLoad([q('2024-06-03T10:00:00.000001Z', '100', '100.5', 1), q('2024-06-03T10:00:00.000002Z', '100', '101', 2)], {
      source: src('q1'),
    });
    const res = await loader.bulkLoad(
      [
        q('2024-06-03T10:00:00.000002Z', '100', '101', 2), // the stored quote again
        q('2024-06-03T10:00:00.000002Z', '100', '101', 3), // another trade's quote in the same µs, same book
        q('2024-06-03T10:00:00.000002Z', '100', '101', 2, 7), // the same sequence on another venue
        q('2024-06-03T10:00:00.000003Z', '99', '99.25', 4),
      ],
      { source: src('q2'), mode: 'upsert' },
    );
    expect(res).toMatchObject({ recordsInserted: 3, recordsUpdated: 0 });
    const { rows } = await te.engine.query<{ k: string }>(
      `SELECT publisher_id || ':' || sequence || ' ' || spread::text AS k FROM tbbo_data ORDER BY "timestamp", publisher_id, sequence`,
    );
    expect(rows.map((r) => r.k)).toEqual(['1:1 0.50000000', '1:2 1.00000000', '1:3 1.00000000', '7:2 1.00000000', '1:4 0.25000000']);
    // Same key, other values: a duplicate in append mode, a correction (spread recomputed) in upsert mode.
    expect(await loader.bulkLoad([q('2024-06-03T10:00:00.000001Z', '1', '2', 1)], { source: src('q3') })).toMatchObject({
      recordsInserted: 0,
      duplicates: 1,
    });
    expect(await loader.bulkLoad([q('2024-06-03T10:00:00.000001Z', '1', '2', 1)], { source: src('q4'), mode: 'upsert' })).toMatchObject({
      recordsInserted: 0,
      recordsUpdated: 1,
    });
    const fixed = await te.engine.query<{ s: string }>(`SELECT spread::text AS s FROM tbbo_data WHERE sequence = 1`);
    expect(fixed.rows).toEqual([{ s: '1.00000000' }]);
  });

  it('a fresh append that repeats a key within one batch: the COPY is undone, the batch staged, the repeat quarantined', async () => {
    const q = (us: number, ask: string, sequence: number): TbboRecord => ({
      timestamp: `2024-07-01T10:00:00.00000${us}Z`,
      instrument_id: 11,
      symbol: 'RTYU4',
      bid_px_00: '1',
      ask_px_00: ask,
      bid_sz_00: 1,
      ask_sz_00: 1,
      sequence,
    });
    const res = await new TBBOLoader({ engine: te.engine }).bulkLoad(
      [q(1, '2', 1), q(2, '2', 2), q(1, '2', 1), q(1, '3', 3), q(3, '2', 4)],
      { source: src('repeat') },
    );
    expect(res).toMatchObject({ recordsInserted: 4, duplicates: 1 });
    expect(res.backfill).toMatchObject({ batchesCopied: 0, batchesStaged: 1 });
    const { rows } = await te.engine.query<{ a: string }>(
      `SELECT ask_px_00::text AS a FROM tbbo_data WHERE instrument_id = 11 ORDER BY "timestamp", ask_px_00`,
    );
    expect(rows.map((r) => r.a)).toEqual(['2.00000000', '3.00000000', '2.00000000', '2.00000000']);
  });

  it('ohlcv: the same bar start from two venues is two bars', async () => {
    const bar = (publisher_id: number): OhlcvRecord => ({
      timestamp: '2024-06-04T10:00:00Z',
      instrument_id: 5,
      symbol: 'ESM4',
      open_price: '10',
      high_price: '12',
      low_price: '9',
      close_price: '11',
      volume: 100,
      granularity: '1m',
      publisher_id,
    });
    expect(await new OHLCVLoader({ engine: te.engine }).bulkLoad([bar(20), bar(21), bar(20)], { source: src('venues') })).toMatchObject({
      recordsInserted: 2,
      duplicates: 1,
    });
  });

  it('statistics: keyed by stat_type and sequence too', async () => {
    const s = (statType: number, sequence: number, price: string): StatisticsRecord => ({
      timestamp: '2024-06-03T00:00:00Z',
      ts_recv: '2024-06-03T00:00:01Z',
      instrument_id: 3,
      symbol: 'CLN4',
      stat_type: statType,
      stat_type_name: `t${statType}`,
      price,
      quantity: null,
      sequence,
      update_action: 1,
      stat_flags: 0,
    });
    const loader = new StatisticsLoader({ engine: te.engine });
    expect(await loader.bulkLoad([s(1, 1, '70'), s(2, 1, '71'), s(1, 2, '72')], { source: src('s1') })).toMatchObject({
      recordsInserted: 3,
    });
    expect(await loader.bulkLoad([s(1, 1, '70.5'), s(3, 1, '1')], { source: src('s2'), mode: 'upsert' })).toMatchObject({
      recordsInserted: 1,
      recordsUpdated: 1,
    });
    const { rows } = await te.engine.query<{ p: string }>('SELECT price::text AS p FROM statistics_data ORDER BY stat_type, sequence');
    expect(rows.map((r) => r.p)).toEqual(['70.50000000', '72.00000000', '71.00000000', '1.00000000']);
  });
});
