/**
 * Happy paths of the four time-series loaders on both engines: storeBatch and bulkLoad put
 * exactly the given rows into the contract tables (read back as text), with the seed's
 * defaults, progress reporting and the ledger filled in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OHLCVLoader,
  StatisticsLoader,
  TBBOLoader,
  TradesLoader,
  type OhlcvRecord,
  type StatisticsRecord,
  type TbboRecord,
  type TradeRecord,
} from '../../src/load/loaders.js';
import { ohlcvData, statisticsData, tbboData, tradesData } from '../../src/schema/tables.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count, ledgerRows, quarantined, readRows, reset, uniqueHash } from '../support/db.js';
import { T0 } from '../support/time.js';

const sec = (s: number) => T0 + BigInt(s) * 1_000_000_000n;

describe.each(ENGINE_KINDS)('loaders, happy path (%s)', (kind) => {
  let te: TestEngine;

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'load_loaders' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it('constructors take the seed defaults and validate the config', () => {
    expect(new OHLCVLoader({ engine: te.engine }).batchSize).toBe(5_000);
    expect(new TradesLoader({ engine: te.engine }).batchSize).toBe(10_000);
    expect(new TBBOLoader({ engine: te.engine }).batchSize).toBe(15_000);
    expect(new StatisticsLoader({ engine: te.engine }).batchSize).toBe(1_000);
    const l = new TradesLoader({ engine: te.engine, batchSize: 7, parallelWorkers: 3, useCopy: false });
    expect([l.batchSize, l.parallelWorkers, l.useCopy]).toEqual([7, 3, false]);
    expect(() => new TradesLoader({ engine: te.engine, batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new TradesLoader({ engine: te.engine, parallelWorkers: 1.5 })).toThrow(/parallelWorkers/);
  });

  it('OHLCVLoader stores bars exactly', async () => {
    await reset(te.engine, ['ohlcv_data']);
    const loader = new OHLCVLoader({ engine: te.engine });
    const bars: OhlcvRecord[] = [
      {
        timestamp: sec(0),
        instrument_id: 5002,
        symbol: 'ESH4',
        open_price: '4780.25',
        high_price: '4781.00',
        low_price: '4779.75',
        close_price: 4780.5,
        volume: 1234,
        granularity: '1m',
      },
      {
        timestamp: '2024-01-02T10:01:00Z',
        instrument_id: 5002,
        symbol: 'ESH4',
        open_price: { value: 4_780_500_000_000n, scale: 9 },
        high_price: { value: 4_780_500_000_000n, scale: 9 },
        low_price: { value: 4_780_500_000_000n, scale: 9 },
        close_price: { value: 4_780_500_000_000n, scale: 9 },
        volume: 0n,
        granularity: '1m',
      },
      {
        timestamp: new Date('2024-01-02T00:00:00Z'),
        instrument_id: 38,
        symbol: 'AAPL',
        open_price: 185.4,
        high_price: 186.01,
        low_price: 184.9,
        close_price: 185.99,
        volume: '9876543210',
        granularity: '1d',
        publisher_id: 2,
      }, // publisher_id optional (omitted = 0)
    ];
    const res = await loader.storeBatch(bars);
    expect(res).toMatchObject({ recordsInserted: 3, recordsRejected: 0 });
    expect(res.processingTimeMs).toBeGreaterThanOrEqual(0);
    expect(await readRows(te.engine, ohlcvData)).toEqual([
      {
        timestamp: '2024-01-02 00:00:00',
        instrument_id: '38',
        symbol: 'AAPL',
        open_price: '185.40000000',
        high_price: '186.01000000',
        low_price: '184.90000000',
        close_price: '185.99000000',
        volume: '9876543210',
        granularity: '1d',
        publisher_id: '2',
      },
      {
        timestamp: '2024-01-02 10:00:00',
        instrument_id: '5002',
        symbol: 'ESH4',
        open_price: '4780.25000000',
        high_price: '4781.00000000',
        low_price: '4779.75000000',
        close_price: '4780.50000000',
        volume: '1234',
        granularity: '1m',
        publisher_id: '0',
      },
      {
        timestamp: '2024-01-02 10:01:00',
        instrument_id: '5002',
        symbol: 'ESH4',
        open_price: '4780.50000000',
        high_price: '4780.50000000',
        low_price: '4780.50000000',
        close_price: '4780.50000000',
        volume: '0',
        granularity: '1m',
        publisher_id: '0',
      },
    ]);
    const { rows } = await te.engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM ohlcv_data WHERE created_at IS NULL`);
    expect(rows[0]!.n).toBe('0'); // the server filled created_at
  });

  it('TradesLoader bulk-loads a stream in batches with progress and a ledger entry', async () => {
    await reset(te.engine, ['trades_data']);
    const loader = new TradesLoader({ engine: te.engine, batchSize: 40 });
    const n = 250;
    async function* trades(): AsyncGenerator<TradeRecord | TradeRecord[]> {
      for (let i = 0; i < n; i += 10) {
        // a mix of single records and arrays of records
        const chunk: TradeRecord[] = [];
        for (let j = i; j < i + 10; j++) {
          chunk.push({
            timestamp: T0 + BigInt(j) * 1_001n,
            instrument_id: 5002 + (j % 2),
            symbol: j % 2 ? 'NQH4' : 'ESH4',
            price: { value: 4_780_250_000_000n + BigInt(j) * 250_000_000n, scale: 9 },
            size: 1 + (j % 7),
            side: j % 3 ? 'B' : 'S',
            trade_id: `t${j}`,
          });
        }
        if (i % 20 === 0) yield chunk;
        else for (const r of chunk) yield r;
      }
    }
    const progress: [number, number | undefined][] = [];
    const hash = uniqueHash('trades-happy');
    const res = await loader.bulkLoad(trades(), {
      source: { source: 'trades-happy.dbn', contentHash: hash },
      total: n,
      onProgress: (c, t) => progress.push([c, t]),
    });
    expect(res).toMatchObject({
      status: 'completed',
      totalRecords: n,
      recordsInserted: n,
      recordsRejected: 0,
      batchesResumed: 0,
      replacedLoadId: null,
      topRejectReasons: [],
    });
    expect(res.recordsPerSecond).toBeGreaterThan(0);
    expect(res.loadId).toMatch(/^\d+$/);
    expect(progress.at(-1)).toEqual([n, n]);
    expect(progress.map((p) => p[0])).toEqual([40, 80, 120, 160, 200, 240, 250]);
    expect(await count(te.engine, 'trades_data')).toBe(n);
    const rows = await readRows(te.engine, tradesData);
    expect(rows[0]).toEqual({
      timestamp: '2024-01-02 10:00:00',
      instrument_id: '5002',
      symbol: 'ESH4',
      price: '4780.25000000',
      size: '1',
      side: 'S',
      trade_id: 't0',
      publisher_id: '0',
    });
    expect(rows[249]).toEqual({
      timestamp: '2024-01-02 10:00:00.000249',
      instrument_id: '5003',
      symbol: 'NQH4',
      price: '4842.50000000',
      size: '5',
      side: 'S',
      trade_id: 't249',
      publisher_id: '0',
    });
    const [entry] = await ledgerRows(te.engine, 'trades_data');
    expect(entry).toMatchObject({
      load_id: res.loadId,
      source: 'trades-happy.dbn',
      content_hash: hash,
      status: 'completed',
      mode: 'append',
      records_in: '250',
      records_inserted: '250',
      records_rejected: '0',
      batches: '7',
    });
    const { rows: range } = await te.engine.query<{ min: string; max: string; ids: string }>(
      `SELECT (min_time AT TIME ZONE 'UTC')::text AS min, (max_time AT TIME ZONE 'UTC')::text AS max, instrument_ids::text AS ids FROM tickvault_loads WHERE load_id = $1::bigint`,
      [res.loadId],
    );
    expect(range[0]).toEqual({ min: '2024-01-02 10:00:00', max: '2024-01-02 10:00:00.000249', ids: '{5002,5003}' });
  });

  it('TBBOLoader stores quotes with NULL prices/sizes and the generated spread', async () => {
    await reset(te.engine, ['tbbo_data']);
    const loader = new TBBOLoader({ engine: te.engine });
    const quotes: TbboRecord[] = [
      {
        timestamp: sec(0),
        instrument_id: 5002,
        symbol: 'ESH4',
        bid_px_00: '4780.25',
        ask_px_00: '4780.50',
        bid_sz_00: 12,
        ask_sz_00: 7n,
        publisher_id: 1,
        sequence: 1170380,
      },
      { timestamp: sec(1), instrument_id: 5002, symbol: 'ESH4', bid_px_00: null, ask_px_00: '4780.50', bid_sz_00: null, ask_sz_00: 3 },
      { timestamp: sec(2), instrument_id: 5002, symbol: 'ESH4', bid_px_00: { value: 4_780_000_000_000n, scale: 9 } },
      { timestamp: sec(3), instrument_id: 5002, symbol: 'ESH4', bid_px_00: '4780.50', ask_px_00: '4780.50', bid_sz_00: 1, ask_sz_00: 1 }, // locked: allowed (ask >= bid)
      { timestamp: sec(4), instrument_id: 38, symbol: 'AAPL' },
    ];
    expect(await loader.storeBatch(quotes)).toMatchObject({ recordsInserted: 5, recordsRejected: 0 });
    expect(await readRows(te.engine, tbboData)).toEqual([
      {
        timestamp: '2024-01-02 10:00:00',
        instrument_id: '5002',
        symbol: 'ESH4',
        bid_px_00: '4780.25000000',
        ask_px_00: '4780.50000000',
        bid_sz_00: '12',
        ask_sz_00: '7',
        spread: '0.25000000',
        publisher_id: '1',
        sequence: '1170380',
      },
      {
        timestamp: '2024-01-02 10:00:01',
        instrument_id: '5002',
        symbol: 'ESH4',
        bid_px_00: null,
        ask_px_00: '4780.50000000',
        bid_sz_00: null,
        ask_sz_00: '3',
        spread: null,
        publisher_id: '0',
        sequence: null,
      },
      {
        timestamp: '2024-01-02 10:00:02',
        instrument_id: '5002',
        symbol: 'ESH4',
        bid_px_00: '4780.00000000',
        ask_px_00: null,
        bid_sz_00: null,
        ask_sz_00: null,
        spread: null,
        publisher_id: '0',
        sequence: null,
      },
      {
        timestamp: '2024-01-02 10:00:03',
        instrument_id: '5002',
        symbol: 'ESH4',
        bid_px_00: '4780.50000000',
        ask_px_00: '4780.50000000',
        bid_sz_00: '1',
        ask_sz_00: '1',
        spread: '0.00000000',
        publisher_id: '0',
        sequence: null,
      },
      {
        timestamp: '2024-01-02 10:00:04',
        instrument_id: '38',
        symbol: 'AAPL',
        bid_px_00: null,
        ask_px_00: null,
        bid_sz_00: null,
        ask_sz_00: null,
        spread: null,
        publisher_id: '0',
        sequence: null,
      },
    ]);
  });

  it('TBBOLoader accepts a generated spread read back from the database and ignores it', async () => {
    await reset(te.engine, ['tbbo_data']);
    const loader = new TBBOLoader({ engine: te.engine });
    const res = await loader.storeBatch([
      { timestamp: sec(0), instrument_id: 1, symbol: 'X', bid_px_00: 1, ask_px_00: 3, spread: '99', created_at: 'whatever' } as TbboRecord,
    ]);
    expect(res.recordsInserted).toBe(1);
    expect((await readRows(te.engine, tbboData))[0]!.spread).toBe('2.00000000');
  });

  it('StatisticsLoader stores statistics', async () => {
    await reset(te.engine, ['statistics_data']);
    const loader = new StatisticsLoader({ engine: te.engine });
    const stats: StatisticsRecord[] = [
      {
        timestamp: sec(0),
        ts_recv: sec(0) + 1_500n,
        ts_ref: sec(-3600),
        instrument_id: 5002,
        symbol: 'ESH4',
        stat_type: 3,
        stat_type_name: 'settlement_price',
        price: { value: 4_779_750_000_000n, scale: 9 },
        quantity: null,
        sequence: 123_456_789_012n,
        ts_in_delta: 1500,
        channel_id: 2,
        update_action: 1,
        stat_flags: 1,
      },
      {
        timestamp: sec(1),
        ts_recv: sec(1),
        instrument_id: 5002,
        symbol: 'ESH4',
        stat_type: 6,
        stat_type_name: 'cleared_volume',
        price: null,
        quantity: 1_234_567n,
        sequence: 7,
        update_action: 2,
        stat_flags: 0,
      },
    ];
    expect(await loader.storeBatch(stats)).toMatchObject({ recordsInserted: 2, recordsRejected: 0 });
    expect(await readRows(te.engine, statisticsData)).toEqual([
      {
        timestamp: '2024-01-02 10:00:00',
        ts_recv: '2024-01-02 10:00:00.000001',
        ts_ref: '2024-01-02 09:00:00',
        instrument_id: '5002',
        symbol: 'ESH4',
        stat_type: '3',
        stat_type_name: 'settlement_price',
        price: '4779.75000000',
        quantity: null,
        sequence: '123456789012',
        ts_in_delta: '1500',
        channel_id: '2',
        update_action: '1',
        stat_flags: '1',
        publisher_id: '0',
      },
      {
        timestamp: '2024-01-02 10:00:01',
        ts_recv: '2024-01-02 10:00:01',
        ts_ref: null,
        instrument_id: '5002',
        symbol: 'ESH4',
        stat_type: '6',
        stat_type_name: 'cleared_volume',
        price: null,
        quantity: '1234567',
        sequence: '7',
        ts_in_delta: null,
        channel_id: null,
        update_action: '2',
        stat_flags: '0',
        publisher_id: '0',
      },
    ]);
  });

  it('storeBatch of an empty array is a no-op', async () => {
    await reset(te.engine, ['trades_data']);
    const res = await new TradesLoader({ engine: te.engine }).storeBatch([]);
    expect(res).toMatchObject({ recordsInserted: 0, recordsRejected: 0 });
    expect(await count(te.engine, 'trades_data')).toBe(0);
    expect(await quarantined(te.engine, 'trades_data')).toEqual([]);
  });

  it('a loader without an engine opens one from its connection settings and closes it', async () => {
    if (kind !== 'server') return; // the embedded default would create ./.tickvault in the repo
    await reset(te.engine, ['trades_data']);
    const loader = new TradesLoader({ databaseUrl: te.url });
    await loader.storeBatch([{ timestamp: sec(0), instrument_id: 1, symbol: 'X', price: 1, size: 1, side: 'B' }]);
    await loader.close();
    expect(await count(te.engine, 'trades_data')).toBe(1);
  });
});
