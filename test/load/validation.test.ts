/**
 * Nothing lost: every row the contract rejects is quarantined — with its reason, the constraint
 * name, the original record and its input position — while the rest of the batch lands; rows
 * the validator lets through but the database rejects are isolated by bisection; a malformed
 * record shape is a clear error naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordShapeError } from '../../src/errors.js';
import { OHLCVLoader, StatisticsLoader, TBBOLoader, TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count, ledgerRows, quarantined, readRows, reset, uniqueHash, type QuarantineRow } from '../support/db.js';
import { tradesData } from '../../src/schema/tables.js';
import { T0 } from '../support/time.js';

const ts = (i: number) => T0 + BigInt(i) * 1_000_000n; // i ms later

function trade(i: number, over: Partial<Record<keyof TradeRecord, unknown>> = {}): TradeRecord {
  return {
    timestamp: ts(i),
    instrument_id: 5002,
    symbol: 'ESH4',
    price: '4780.25',
    size: 1,
    side: 'B',
    trade_id: `t${i}`,
    ...over,
  } as TradeRecord;
}

/** The JSON the quarantine must hold for a record (bigint as string, undefined dropped, NUL spelled \u0000). */
function json(record: object): unknown {
  return JSON.parse(
    JSON.stringify(record, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v.replaceAll('\0', '\\u0000') : v,
    ),
  );
}

interface Expect {
  index: number;
  constraint: string | null;
  reason: RegExp;
}

function checkQuarantine(
  rows: QuarantineRow[],
  records: readonly object[],
  expected: readonly Expect[],
  loadId: string | null,
  source: string,
): void {
  expect(rows.map((r) => Number(r.record_index))).toEqual(expected.map((e) => e.index));
  for (const [k, e] of expected.entries()) {
    const row = rows[k]!;
    expect(row.constraint_name, `record ${e.index}`).toBe(e.constraint);
    expect(row.reason, `record ${e.index}`).toMatch(e.reason);
    expect(JSON.parse(row.record), `record ${e.index}`).toEqual(json(records[e.index]!));
    expect(row.load_id).toBe(loadId);
    expect(row.source).toBe(source);
  }
}

describe.each(ENGINE_KINDS)('validation and quarantine (%s)', (kind) => {
  let te: TestEngine;

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'load_validation' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  const TRADE_CASES: readonly [Partial<Record<keyof TradeRecord, unknown>> | null, string | null, RegExp][] = [
    [null, null, /./],
    [{ price: 0 }, 'trades_price_check', /price is not positive/],
    [{ price: '-1.5' }, 'trades_price_check', /price is not positive/],
    [{ price: { value: -250_000_000n, scale: 9 } }, 'trades_price_check', /price is not positive/],
    [{ price: '0.000000004' }, null, /^price: "0\.000000004" has 9 decimals; the column keeps 8/], // never rounded to 0
    [{ price: '5100.123456789012' }, null, /^price: "5100\.123456789012" has 12 decimals; the column keeps 8: round it/],
    [{ price: 0.123456789 }, null, /^price: 0\.123456789 has 9 decimals/],
    [{ price: '1e-9' }, null, /^price: "1e-9" has 9 decimals/],
    [{ price: { value: 1n, scale: 10 } }, null, /has 10 decimals/],
    [{ price: { value: 4n, scale: 9 } }, 'trades_price_check', /price is not positive/], // DBN form: 9th decimal rounded, as documented
    [{ size: 0 }, 'trades_size_check', /size is not positive/],
    [{ size: -3n }, 'trades_size_check', /size is not positive/],
    [{ side: 'X' }, 'trades_side_check', /side is not 'B', 'S' or 'N'/],
    [{ side: 'A' }, 'trades_side_check', /side is not 'B', 'S' or 'N'/],
    [null, null, /./],
    [{ symbol: null }, 'symbol_not_null', /symbol is NULL but the column is NOT NULL/],
    [{ price: null }, 'price_not_null', /price is NULL but the column is NOT NULL/],
    [{ timestamp: undefined }, 'timestamp_not_null', /timestamp is NULL/],
    [{ price: 'abc' }, null, /^price: invalid decimal number: "abc"/],
    [{ price: '1.2.3' }, null, /^price: invalid decimal/],
    [{ price: Number.NaN }, null, /^price: .*NaN/],
    [{ symbol: 'S'.repeat(51) }, null, /^symbol: "S{40}" is longer than 50 characters/],
    [{ price: '1000000000000' }, null, /^price: .*does not fit DECIMAL\(20,8\)/],
    [{ price: '999999999999.999999995' }, null, /has 9 decimals/],
    [{ price: { value: 999_999_999_999_999_999_995n, scale: 9 } }, null, /does not fit DECIMAL\(20,8\)/], // DBN form rounds up past the limit
    [{ price: -1e13 }, null, /does not fit DECIMAL\(20,8\)/],
    [{ timestamp: 'yesterday' }, null, /^timestamp: "yesterday" is not an ISO 8601 timestamp/],
    [{ timestamp: 1_704_189_600 }, null, /^timestamp: .*ambiguous/],
    [{ instrument_id: 2 ** 31 }, null, /^instrument_id: 2147483648 is out of range for INTEGER/],
    [{ instrument_id: 1.5 }, null, /^instrument_id: not an integer/],
    [{ size: 1.5 }, null, /^size: not an integer: 1.5/],
    [{ size: 2n ** 63n }, null, /^size: .*out of range for BIGINT/],
    [{ side: 'BB' }, null, /^side: "BB" is longer than 1 characters/],
    [{ side: 1 }, null, /^side: not a string/],
    [{ trade_id: 'x'.repeat(101) }, null, /^trade_id: .* is longer than 100 characters/],
    [{ symbol: 'A\0B' }, null, /^symbol: text contains a NUL byte/],
    [{ trade_id: null }, null, /./], // trade_id is nullable: lands
    [null, null, /./],
  ];
  const tradeRecords = TRADE_CASES.map(([over], i) => trade(i, over ?? {}));
  const landing = TRADE_CASES.map(([over, c], i) => ({
    i,
    ok: over === null || (c === null && 'trade_id' in over && over.trade_id === null),
  }));
  const expectedRejections: Expect[] = TRADE_CASES.flatMap(([_over, constraint, reason], index) =>
    landing[index]!.ok ? [] : [{ index, constraint, reason }],
  );

  it('bulkLoad quarantines every violating trade and lands the rest', async () => {
    await reset(te.engine, ['trades_data']);
    const loader = new TradesLoader({ engine: te.engine, batchSize: 8 }); // violations spread over several batches
    const res = await loader.bulkLoad(tradeRecords, { source: { source: 'bad-trades.csv', contentHash: uniqueHash('bad') } });
    const good = landing.filter((l) => l.ok).map((l) => l.i);
    expect(res.recordsInserted).toBe(good.length);
    expect(res.recordsRejected).toBe(expectedRejections.length);
    expect(res.totalRecords).toBe(TRADE_CASES.length);
    expect(res.topRejectReasons).toContainEqual({ reason: 'trades_price_check', count: 4 });
    const rows = await readRows(te.engine, tradesData);
    expect(rows.map((r) => r.trade_id)).toEqual(good.map((i) => (TRADE_CASES[i]![0]?.trade_id === null ? null : `t${i}`)));
    checkQuarantine(await quarantined(te.engine, 'trades_data'), tradeRecords, expectedRejections, res.loadId, 'bad-trades.csv');
    const [entry] = await ledgerRows(te.engine, 'trades_data');
    expect(entry).toMatchObject({
      status: 'completed',
      records_in: String(TRADE_CASES.length),
      records_inserted: String(good.length),
      records_rejected: String(expectedRejections.length),
    });
  });

  it('storeBatch quarantines with source "storeBatch" and no load id', async () => {
    await reset(te.engine, ['trades_data']);
    const res = await new TradesLoader({ engine: te.engine }).storeBatch(tradeRecords);
    expect(res.recordsRejected).toBe(expectedRejections.length);
    expect(res.recordsInserted).toBe(TRADE_CASES.length - expectedRejections.length);
    checkQuarantine(await quarantined(te.engine, 'trades_data'), tradeRecords, expectedRejections, null, 'storeBatch');
  });

  it('the database agrees with every CHECK the validator applies to trades', async () => {
    for (const [over, constraint] of TRADE_CASES) {
      if (!constraint || constraint.endsWith('_not_null')) continue;
      const r = {
        price: '4780.25',
        size: '1',
        side: 'B',
        ...Object.fromEntries(Object.entries(over!).map(([k, v]) => [k, typeof v === 'object' ? '-0.25' : String(v)])),
      };
      const err = await te.engine
        .query(`INSERT INTO trades_data (timestamp, instrument_id, symbol, price, size, side) VALUES (now(), 1, 'X', $1, $2, $3)`, [
          r.price,
          r.size,
          r.side,
        ])
        .then(
          () => null,
          (e: unknown) => e as { constraint?: string; message: string },
        );
      expect(err, JSON.stringify(json(over!))).not.toBeNull();
      expect(err!.message).toContain(constraint);
    }
    expect(await count(te.engine, 'trades_data', `symbol = 'X'`)).toBe(0);
  });

  it('OHLCV, TBBO and statistics CHECK violations are quarantined with their constraint names', async () => {
    await reset(te.engine, ['ohlcv_data', 'tbbo_data', 'statistics_data']);
    const bar = (i: number, o: object = {}) => ({
      timestamp: ts(i),
      instrument_id: 1,
      symbol: 'ESH4',
      open_price: '10',
      high_price: '12',
      low_price: '9',
      close_price: '11',
      volume: 5,
      granularity: '1m',
      ...o,
    });
    const bars = [
      bar(0),
      bar(1, { high_price: '8' }),
      bar(2, { open_price: '13' }),
      bar(3, { close_price: '8.99999999' }),
      bar(4, { low_price: '11.5' }),
      bar(5, { volume: -1 }),
      bar(6, { granularity: '12345678901' }),
      bar(7, { volume: 0 }),
      bar(8, { open_price: '12', close_price: '9' }),
    ];
    const o = await new OHLCVLoader({ engine: te.engine }).bulkLoad(bars, { source: { source: 'bars', contentHash: uniqueHash('bars') } });
    expect(o).toMatchObject({ recordsInserted: 3, recordsRejected: 6 });
    checkQuarantine(
      await quarantined(te.engine, 'ohlcv_data'),
      bars,
      [
        { index: 1, constraint: 'ohlcv_price_check', reason: /bar prices inconsistent/ },
        { index: 2, constraint: 'ohlcv_price_check', reason: /bar prices inconsistent/ },
        { index: 3, constraint: 'ohlcv_price_check', reason: /bar prices inconsistent/ },
        { index: 4, constraint: 'ohlcv_price_check', reason: /bar prices inconsistent/ },
        { index: 5, constraint: 'ohlcv_volume_check', reason: /volume is negative/ },
        { index: 6, constraint: null, reason: /^granularity: .* is longer than 10 characters/ },
      ],
      o.loadId,
      'bars',
    );

    const quote = (i: number, q: object = {}) => ({
      timestamp: ts(i),
      instrument_id: 1,
      symbol: 'ESH4',
      bid_px_00: '10.25',
      ask_px_00: '10.5',
      bid_sz_00: 1,
      ask_sz_00: 2,
      ...q,
    });
    const quotes = [
      quote(0),
      quote(1, { ask_px_00: '10' }),
      quote(2, { bid_px_00: 0 }),
      quote(3, { ask_px_00: '-1', bid_px_00: null }),
      quote(4, { bid_sz_00: 0 }),
      quote(5, { ask_sz_00: -2 }),
      quote(6, { bid_px_00: null, ask_px_00: null, bid_sz_00: null, ask_sz_00: null }),
      quote(7, { ask_px_00: '10.25' }),
    ];
    const q = await new TBBOLoader({ engine: te.engine }).bulkLoad(quotes, {
      source: { source: 'quotes', contentHash: uniqueHash('quotes') },
    });
    expect(q).toMatchObject({ recordsInserted: 3, recordsRejected: 5 });
    checkQuarantine(
      await quarantined(te.engine, 'tbbo_data'),
      quotes,
      [
        { index: 1, constraint: 'tbbo_prices_check', reason: /crossed quote/ },
        { index: 2, constraint: 'tbbo_prices_check', reason: /quote prices invalid/ },
        { index: 3, constraint: 'tbbo_prices_check', reason: /quote prices invalid/ },
        { index: 4, constraint: 'tbbo_sizes_check', reason: /quote sizes must be positive/ },
        { index: 5, constraint: 'tbbo_sizes_check', reason: /quote sizes must be positive/ },
      ],
      q.loadId,
      'quotes',
    );

    const stat = (i: number, s: object = {}) => ({
      timestamp: ts(i),
      ts_recv: ts(i),
      instrument_id: 1,
      symbol: 'ESH4',
      stat_type: 3,
      stat_type_name: 'settlement_price',
      price: '1',
      sequence: i,
      update_action: 1,
      stat_flags: 0,
      ...s,
    });
    const stats = [
      stat(0),
      stat(1, { update_action: 3 }),
      stat(2, { stat_type: 0 }),
      stat(3, { stat_type: 40_000 }),
      stat(4, { ts_recv: null }),
      stat(5, { update_action: 2 }),
    ];
    const s = await new StatisticsLoader({ engine: te.engine }).bulkLoad(stats, {
      source: { source: 'stats', contentHash: uniqueHash('stats') },
    });
    expect(s).toMatchObject({ recordsInserted: 2, recordsRejected: 4 });
    checkQuarantine(
      await quarantined(te.engine, 'statistics_data'),
      stats,
      [
        { index: 1, constraint: 'statistics_update_action_check', reason: /update_action is not 1/ },
        { index: 2, constraint: 'statistics_stat_type_check', reason: /stat_type is not positive/ },
        { index: 3, constraint: null, reason: /^stat_type: 40000 is out of range for SMALLINT/ },
        { index: 4, constraint: 'ts_recv_not_null', reason: /ts_recv is NULL/ },
      ],
      s.loadId,
      'stats',
    );
  });

  it('text lengths count characters, not UTF-16 units or bytes', async () => {
    await reset(te.engine, ['trades_data']);
    const res = await new TradesLoader({ engine: te.engine }).storeBatch([
      trade(0, { symbol: '😀'.repeat(50) }),
      trade(1, { symbol: '😀'.repeat(51) }),
      trade(2, { symbol: 'é'.repeat(50) }),
    ]);
    expect(res).toMatchObject({ recordsInserted: 2, recordsRejected: 1 });
    expect((await quarantined(te.engine, 'trades_data')).map((r) => [r.record_index, r.reason.slice(0, 8)])).toEqual([['1', 'symbol: ']]);
  });

  describe('record shape', () => {
    it('an unknown field is a RecordShapeError naming the field; nothing lands', async () => {
      await reset(te.engine, ['trades_data']);
      const loader = new TradesLoader({ engine: te.engine });
      const records = [trade(0), { ...trade(1), prcie: '1' } as TradeRecord];
      const err = await loader.storeBatch(records).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RecordShapeError);
      expect((err as Error).message).toMatch(/record 1: unknown field "prcie" for table trades_data/);
      expect(await count(te.engine, 'trades_data')).toBe(0);
    });

    it('a missing required field is a RecordShapeError naming the field; the load is marked failed', async () => {
      await reset(te.engine, ['trades_data']);
      const loader = new TradesLoader({ engine: te.engine, batchSize: 2 });
      const { side: _side, ...noSide } = trade(3);
      const records = [trade(0), trade(1), trade(2), noSide as TradeRecord];
      const err = await loader
        .bulkLoad(records, { source: { source: 'shape', contentHash: uniqueHash('shape') } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RecordShapeError);
      expect((err as Error).message).toMatch(/record 3: required field "side" is missing for table trades_data/);
      const [entry] = await ledgerRows(te.engine, 'trades_data');
      expect(entry!.status).toBe('failed');
      expect(await count(te.engine, 'trades_data')).toBe(2); // the first, complete batch committed
    });

    it('an optional field may be missing (trade_id)', async () => {
      await reset(te.engine, ['trades_data']);
      const { trade_id: _id, ...noId } = trade(0);
      expect(await new TradesLoader({ engine: te.engine }).storeBatch([noId])).toMatchObject({ recordsInserted: 1 });
    });
  });

  describe('rows the database rejects but the validator lets through', () => {
    const EXTRA = 'tv_test_size_limit';
    const bad = new Set([0, 7, 13, 14, 50, 51, 99]);
    const records = Array.from({ length: 100 }, (_, i) =>
      trade(i, { size: bad.has(i) ? 1_000_000 + i : 1 + (i % 9), ...(i === 20 || i === 33 ? { side: 'X' } : {}) }),
    );
    const expected: Expect[] = [...bad, 20, 33]
      .sort((a, b) => a - b)
      .map((index) =>
        index === 20 || index === 33
          ? { index, constraint: 'trades_side_check', reason: /side is not/ }
          : { index, constraint: EXTRA, reason: /^rejected by the database: .*tv_test_size_limit/ },
      );

    beforeAll(async () => {
      // A rule tickvault does not know: the database enforces it, the validator cannot.
      await te.engine.query(`ALTER TABLE trades_data ADD CONSTRAINT ${EXTRA} CHECK (size < 1000000)`);
    });
    afterAll(async () => {
      await te.engine.query(`ALTER TABLE trades_data DROP CONSTRAINT IF EXISTS ${EXTRA}`);
    });

    it.each([true, false])('bisection quarantines exactly those rows; the others land (useCopy %s)', async (useCopy) => {
      await reset(te.engine, ['trades_data']);
      const loader = new TradesLoader({ engine: te.engine, batchSize: 30, useCopy });
      const res = await loader.bulkLoad(records, { source: { source: 'db-reject', contentHash: uniqueHash('dbrej') } });
      expect(res).toMatchObject({ recordsInserted: 100 - expected.length, recordsRejected: expected.length, totalRecords: 100 });
      const landed = (await readRows(te.engine, tradesData)).map((r) => Number(r.trade_id!.slice(1)));
      expect(landed).toEqual(records.map((_r, i) => i).filter((i) => !expected.some((e) => e.index === i)));
      checkQuarantine(await quarantined(te.engine, 'trades_data'), records, expected, res.loadId, 'db-reject');
      const [entry] = await ledgerRows(te.engine, 'trades_data');
      expect(entry).toMatchObject({
        status: 'completed',
        records_inserted: String(100 - expected.length),
        records_rejected: String(expected.length),
      });
    });

    it('storeBatch bisects too', async () => {
      await reset(te.engine, ['trades_data']);
      const res = await new TradesLoader({ engine: te.engine }).storeBatch(records);
      expect(res).toMatchObject({ recordsInserted: 100 - expected.length, recordsRejected: expected.length });
      checkQuarantine(await quarantined(te.engine, 'trades_data'), records, expected, null, 'storeBatch');
    });

    it('a whole batch rejected by the database is quarantined row by row', async () => {
      await reset(te.engine, ['trades_data']);
      const all = Array.from({ length: 10 }, (_, i) => trade(i, { size: 2_000_000 }));
      const res = await new TradesLoader({ engine: te.engine }).storeBatch(all);
      expect(res).toMatchObject({ recordsInserted: 0, recordsRejected: 10 });
      expect((await quarantined(te.engine, 'trades_data')).map((r) => r.constraint_name)).toEqual(Array(10).fill(EXTRA));
    });
  });
});
