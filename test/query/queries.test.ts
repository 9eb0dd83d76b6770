import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { OHLCVLoader, TBBOLoader, TradesLoader } from '../../src/load/loaders.js';
import {
  aggregatedVolume,
  asOf,
  bars,
  planBars,
  recentOhlcv,
  spreadAnalysis,
  streamBars,
  streamQuery,
  type Bar,
} from '../../src/query/index.js';
import { refreshRollups } from '../../src/maintain/index.js';
import { QueryError } from '../../src/errors.js';
import { isoToMicros } from '../../src/values/time.js';
import { DAY, OTHER, SYMBOL, US, dec, fmt, iso, makeBars, makeQuotes, makeTrades, refBars, type RefBar } from '../support/query-data.js';

const trades = makeTrades();
const quotes = makeQuotes();
const ohlcv = makeBars();
const T = (hhmmss: string) => isoToMicros(`${DAY}T${hhmmss}Z`);

function asRef(b: Bar): RefBar {
  return {
    us: b.timeUs,
    open: dec(b.open),
    high: dec(b.high),
    low: dec(b.low),
    close: dec(b.close),
    volume: b.volume,
    count: b.tradeCount ?? -1n,
  };
}
const tradeRef = (startUs: bigint, endUs: bigint, width: bigint) =>
  refBars(
    trades.filter((t) => t.symbol === SYMBOL),
    startUs,
    endUs,
    width,
    (t) => {
      const p = dec(t.price);
      return { open: p, high: p, low: p, close: p, volume: t.size };
    },
  );
const ohlcvRef = (startUs: bigint, endUs: bigint, width: bigint) =>
  refBars(
    ohlcv.filter((b) => b.granularity === '1m'),
    startUs,
    endUs,
    width,
    (b) => ({
      open: dec(b.open),
      high: dec(b.high),
      low: dec(b.low),
      close: dec(b.close),
      volume: b.volume,
    }),
  ).map((b) => ({ ...b, count: -1n }));

describe.each(ENGINE_KINDS)('query API on %s', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'query' });
    const engine = t.engine;
    await new TradesLoader({ engine }).storeBatch(
      trades.map((x) => ({
        timestamp: iso(x.us),
        instrument_id: x.symbol === SYMBOL ? 101 : 202,
        symbol: x.symbol,
        price: x.price,
        size: x.size,
        side: x.side,
        trade_id: x.tradeId,
      })),
    );
    await new TBBOLoader({ engine }).storeBatch(
      quotes.map((q) => ({
        timestamp: iso(q.us),
        instrument_id: q.symbol === SYMBOL ? 101 : 202,
        symbol: q.symbol,
        bid_px_00: q.bid,
        ask_px_00: q.ask,
        bid_sz_00: q.bid === null ? null : 5,
        ask_sz_00: q.ask === null ? null : 7,
      })),
    );
    await new OHLCVLoader({ engine }).storeBatch(
      ohlcv.map((b) => ({
        timestamp: iso(b.us),
        instrument_id: 101,
        symbol: b.symbol,
        open_price: b.open,
        high_price: b.high,
        low_price: b.low,
        close_price: b.close,
        volume: b.volume,
        granularity: b.granularity,
      })),
    );
    const { rows } = await engine.query<{ n: string }>('SELECT count(*) AS n FROM trades_data');
    expect(Number(rows[0]!.n)).toBe(trades.length);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('recentOhlcv: newest first from `since`, limited, one granularity', async () => {
    const since = T('10:30:00');
    const got = await recentOhlcv(t.engine, SYMBOL, iso(since), 10);
    const want = ohlcv
      .filter((b) => b.granularity === '1m' && b.us >= since)
      .sort((a, b) => (a.us > b.us ? -1 : 1))
      .slice(0, 10);
    expect(got.map((b) => [b.timeUs, b.open, b.high, b.low, b.close, b.volume, b.granularity])).toEqual(
      want.map((b) => [b.us, b.open, b.high, b.low, b.close, b.volume, '1m']),
    );
    expect(got[0]!.time.toISOString()).toBe('2024-03-04T11:59:00.000Z');
    const hourly = await recentOhlcv(t.engine, SYMBOL, new Date('2024-03-04T00:00:00Z'), 100, '1h');
    expect(hourly.map((b) => b.timeUs)).toEqual([T('11:00:00'), T('10:00:00'), T('09:00:00')]);
    expect(await recentOhlcv(t.engine, 'NOPE', iso(since), 10)).toEqual([]);
    expect(await recentOhlcv(t.engine, SYMBOL, '2024-03-05T00:00:00Z', 10)).toEqual([]);
  });

  it('aggregatedVolume: sums and counts per bucket, edges and half-open range', async () => {
    for (const [bucket, width] of [
      ['1 hour', US.hour],
      ['15 minutes', 15n * US.minute],
    ] as const) {
      const start = T('09:30:00');
      const end = T('13:00:00');
      const got = await aggregatedVolume(t.engine, SYMBOL, iso(start), iso(end), bucket);
      const inRange = trades.filter((x) => x.symbol === SYMBOL && x.us >= start && x.us < end);
      const want = new Map<bigint, { v: bigint; b: bigint; s: bigint; n: bigint }>();
      for (const x of inRange) {
        const k = x.us - (x.us % width);
        const e = want.get(k) ?? { v: 0n, b: 0n, s: 0n, n: 0n };
        e.v += x.size;
        e.n += 1n;
        if (x.side === 'B') e.b += x.size;
        else e.s += x.size;
        want.set(k, e);
      }
      expect(got.map((g) => [g.timeUs, g.volume, g.buyVolume, g.sellVolume, g.tradeCount])).toEqual(
        [...want.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, e]) => [k, e.v, e.b, e.s, e.n]),
      );
    }
    // The trade at exactly 10:00:00 is in the 10:00 bucket, the one at 10:59:59.999999 too; 13:00:00 is excluded.
    const edge = await aggregatedVolume(t.engine, SYMBOL, iso(T('10:00:00')), iso(T('11:00:00')), '1 hour');
    expect(edge).toHaveLength(1);
    expect(edge[0]!.tradeCount).toBe(
      BigInt(trades.filter((x) => x.symbol === SYMBOL && x.us >= T('10:00:00') && x.us < T('11:00:00')).length),
    );
    expect(await aggregatedVolume(t.engine, SYMBOL, iso(T('10:00:00')), iso(T('10:00:00')), '1 hour')).toEqual([]);
    expect(await aggregatedVolume(t.engine, 'NOPE', iso(T('09:00:00')), iso(T('13:00:00')), '1 hour')).toEqual([]);
  });

  it('spreadAnalysis: avg, exact median, min, max; NULL spreads ignored but counted as quotes', async () => {
    const start = T('09:10:00');
    const end = T('11:40:00');
    const got = await spreadAnalysis(t.engine, SYMBOL, iso(start), iso(end));
    const rows = quotes.filter((q) => q.symbol === SYMBOL && q.us >= start && q.us < end);
    const spreads = rows
      .filter((q) => q.bid !== null && q.ask !== null)
      .map((q) => dec(q.ask!) - dec(q.bid!))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(rows.length).toBeGreaterThan(spreads.length); // some NULL spreads are in the range
    const n = BigInt(spreads.length);
    const sum = spreads.reduce((s, v) => s + v, 0n);
    const avg10 = (sum * 100n * 2n + n) / (2n * n); // half up (values are >= 0), 10 decimals
    const mid =
      spreads.length % 2 === 1
        ? spreads[(spreads.length - 1) / 2]! * 10n
        : (spreads[spreads.length / 2 - 1]! + spreads[spreads.length / 2]!) * 5n; // 9 decimals
    expect(got.quotes).toBe(BigInt(rows.length));
    expect(got.count).toBe(n);
    expect(dec(got.avg!, 10)).toBe(avg10);
    expect(dec(got.median!, 9)).toBe(mid);
    expect(got.min).toBe(fmt(spreads[0]!));
    expect(got.max).toBe(fmt(spreads[spreads.length - 1]!));
    // Same as percentile_cont(0.5) (which PostgreSQL computes in double precision).
    const pc = await t.engine.query<{ m: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY spread) AS m FROM tbbo_data WHERE symbol = $1 AND "timestamp" >= $2 AND "timestamp" < $3`,
      [SYMBOL, iso(start), iso(end)],
    );
    expect(Number(got.median)).toBeCloseTo(Number(pc.rows[0]!.m), 9);

    const none = await spreadAnalysis(t.engine, 'NOPE', iso(start), iso(end));
    expect(none).toEqual({ quotes: 0n, count: 0n, avg: null, median: null, min: null, max: null });
    const empty = await spreadAnalysis(t.engine, SYMBOL, iso(start), iso(start));
    expect(empty.count).toBe(0n);
    // Only NULL-spread quotes → no statistics, quotes still counted.
    const nullOnly = quotes.find((q) => q.symbol === SYMBOL && (q.bid === null || q.ask === null))!;
    const one = await spreadAnalysis(t.engine, SYMBOL, iso(nullOnly.us), iso(nullOnly.us + 1n));
    expect(one).toEqual({ quotes: 1n, count: 0n, avg: null, median: null, min: null, max: null });
  });

  it('bars from trades at several intervals equal the reference (raw rows)', async () => {
    for (const [interval, width] of [
      ['1 minute', US.minute],
      ['15 minutes', 15n * US.minute],
      ['1 hour', US.hour],
      ['1 day', US.day],
    ] as const) {
      const start = T('09:00:00');
      const end = T('13:00:00');
      const got = await bars(t.engine, SYMBOL, iso(start), iso(end), interval, { source: 'trades', rollup: 'raw' });
      expect(got.map(asRef)).toEqual(tradeRef(start, end, width));
    }
    // Unaligned range: partial first and last buckets hold only the rows inside the range.
    const got = await bars(t.engine, SYMBOL, iso(T('09:20:00')), iso(T('12:10:00') + 1n), '1 hour', { source: 'trades' });
    expect(got.map(asRef)).toEqual(tradeRef(T('09:20:00'), T('12:10:00') + 1n, US.hour));
    expect(await bars(t.engine, 'NOPE', iso(T('09:00:00')), iso(T('13:00:00')), '1 hour', { source: 'trades' })).toEqual([]);
    expect(await bars(t.engine, SYMBOL, iso(T('13:00:00') + 1n), iso(T('14:00:00')), '1 hour', { source: 'trades' })).toEqual([]);
  });

  it('bars from stored 1m bars equal the reference; other granularities do not leak in', async () => {
    for (const [interval, width] of [
      ['5 minutes', 5n * US.minute],
      ['1 hour', US.hour],
    ] as const) {
      const got = await bars(t.engine, SYMBOL, iso(T('09:00:00')), iso(T('12:00:00')), interval, { source: 'ohlcv', rollup: 'raw' });
      expect(got.map(asRef)).toEqual(ohlcvRef(T('09:00:00'), T('12:00:00'), width));
      expect(got.every((b) => b.tradeCount === null)).toBe(true);
    }
  });

  it('bars from the rollups (continuous aggregates / refreshed views) equal bars from raw rows', async () => {
    await refreshRollups(t.engine);
    const start = T('09:00:00');
    const end = T('13:00:00');
    const dayStart = T('00:00:00');
    const cases = [
      ['1 hour', 'trades_candles_1h', start, end],
      ['2 hours', 'trades_candles_1h', start, end],
      ['1 day', 'trades_candles_1d', dayStart, dayStart + US.day],
      ['1 week', 'trades_candles_1d', dayStart - 7n * US.day, dayStart + 7n * US.day],
      ['1 month', 'trades_candles_1d', isoToMicros('2024-03-01'), isoToMicros('2024-04-01')],
      ['5 minutes', 'trades_candles_1m', start, end],
      ['7 minutes', 'trades_candles_1m', start, end],
    ] as const;
    for (const [interval, relation, start, end] of cases) {
      const plan = await planBars(t.engine, SYMBOL, iso(start), iso(end), interval, { source: 'trades', rollup: 'rollup' });
      expect(plan.relation).toBe(relation);
      const viaRollup = await bars(t.engine, SYMBOL, iso(start), iso(end), interval, { source: 'trades', rollup: 'rollup' });
      const viaRaw = await bars(t.engine, SYMBOL, iso(start), iso(end), interval, { source: 'trades', rollup: 'raw' });
      expect(viaRollup).toEqual(viaRaw);
      expect(viaRollup.length).toBeGreaterThan(0);
    }
    // The aggregate itself, read directly, holds the same 1h candles.
    const { rows } = await t.engine.query<{
      us: string;
      open_price: string;
      high_price: string;
      low_price: string;
      close_price: string;
      volume: string;
      trade_count: string;
    }>(
      `SELECT (extract(epoch FROM bucket) * 1000000)::int8 AS us, open_price, high_price, low_price, close_price, volume, trade_count
         FROM trades_candles_1h WHERE symbol = $1 ORDER BY bucket`,
      [SYMBOL],
    );
    expect(
      rows.map((r) => ({
        us: BigInt(r.us),
        open: dec(r.open_price),
        high: dec(r.high_price),
        low: dec(r.low_price),
        close: dec(r.close_price),
        volume: BigInt(r.volume),
        count: BigInt(r.trade_count),
      })),
    ).toEqual(tradeRef(0n, 2n ** 62n, US.hour));
    // Unaligned range → raw rows, even when a rollup is requested.
    expect(
      (await planBars(t.engine, SYMBOL, iso(T('09:20:00')), iso(end), '1 hour', { source: 'trades', rollup: 'rollup' })).relation,
    ).toBe('trades_candles_1m');
    expect(
      (await planBars(t.engine, SYMBOL, iso(T('09:20:30')), iso(end), '1 hour', { source: 'trades', rollup: 'rollup' })).relation,
    ).toBe('trades_data');
    expect((await planBars(t.engine, SYMBOL, iso(start), iso(end), '90 seconds', { source: 'trades', rollup: 'rollup' })).relation).toBe(
      'trades_data',
    );
    // ohlcv_hourly serves hourly bars from 1m bars.
    const plan = await planBars(t.engine, SYMBOL, iso(T('09:00:00')), iso(T('12:00:00')), '1 hour', { source: 'ohlcv', rollup: 'rollup' });
    expect(plan.relation).toBe('ohlcv_hourly');
    expect(await bars(t.engine, SYMBOL, iso(T('09:00:00')), iso(T('12:00:00')), '1 hour', { source: 'ohlcv', rollup: 'rollup' })).toEqual(
      await bars(t.engine, SYMBOL, iso(T('09:00:00')), iso(T('12:00:00')), '1 hour', { source: 'ohlcv', rollup: 'raw' }),
    );
    // 'auto' uses a rollup only where the tier keeps it current by itself.
    const caps = await t.engine.capabilities();
    const auto = await planBars(t.engine, SYMBOL, iso(start), iso(end), '1 hour', { source: 'trades' });
    expect(auto.relation).toBe(caps.continuousAggregates ? 'trades_candles_1h' : 'trades_data');
  });

  it('asOf: last trade and last quote at or before a time', async () => {
    const mine = trades.filter((x) => x.symbol === SYMBOL);
    const target = mine[40]!;
    const exact = await asOf(t.engine, SYMBOL, iso(target.us));
    expect(exact.trade).toMatchObject({
      timeUs: target.us,
      price: target.price,
      size: target.size,
      side: target.side,
      tradeId: target.tradeId,
      instrumentId: 101,
    });
    const before = await asOf(t.engine, SYMBOL, iso(target.us - 1n));
    expect(before.trade!.timeUs).toBe(mine[39]!.us);
    const q = quotes.filter((x) => x.symbol === SYMBOL && x.us <= target.us).at(-1)!;
    expect(exact.quote).toMatchObject({ timeUs: q.us, bid: q.bid, ask: q.ask });
    expect(exact.quote!.spread).toBe(q.bid !== null && q.ask !== null ? fmt(dec(q.ask) - dec(q.bid)) : null);
    expect(exact.at.timeUs).toBe(target.us);
    // Nanosecond input is truncated to the microsecond (bigint = epoch ns, as for the loaders).
    const ns = await asOf(t.engine, SYMBOL, target.us * 1000n + 999n);
    expect(ns.trade!.timeUs).toBe(target.us);
    const early = await asOf(t.engine, SYMBOL, iso(T('08:00:00')));
    expect(early.trade).toBeNull();
    expect(early.quote).toBeNull();
    expect(await asOf(t.engine, 'NOPE', iso(T('12:00:00')))).toMatchObject({ trade: null, quote: null });
  });

  it('streams bars through a cursor in bounded batches, equal to the plain query', async () => {
    const args = [SYMBOL, iso(T('09:00:00')), iso(T('13:00:00')), '1 minute', { source: 'trades', rollup: 'raw' }] as const;
    const batches: number[] = [];
    const streamed: Bar[] = [];
    for await (const b of streamBars(t.engine, ...args, { batchSize: 7, onBatch: (n) => batches.push(n) })) streamed.push(b);
    const all = await bars(t.engine, ...args);
    expect(streamed).toEqual(all);
    expect(Math.max(...batches)).toBe(7);
    expect(batches.length).toBe(Math.floor(all.length / 7) + 1);
    // Leaving early closes the cursor and releases the session.
    let seen = 0;
    for await (const _ of streamQuery(t.engine, 'SELECT * FROM trades_data ORDER BY "timestamp"', [], { batchSize: 5 })) {
      if (++seen === 12) break;
    }
    expect(seen).toBe(12);
    const after = await t.engine.query<{ n: string }>('SELECT count(*) AS n FROM trades_data');
    expect(Number(after.rows[0]!.n)).toBe(trades.length);
    // A failing statement surfaces as an error and leaves the engine usable.
    await expect(async () => {
      for await (const _ of streamQuery(t.engine, 'SELECT 1/0')) {
        /* none */
      }
    }).rejects.toThrow(/division by zero/);
    expect((await t.engine.query<{ x: number }>('SELECT 1 AS x')).rows[0]!.x).toBe(1);
  });

  it('rejects bad arguments before they reach SQL', async () => {
    const s = iso(T('09:00:00'));
    const e = iso(T('10:00:00'));
    await expect(bars(t.engine, SYMBOL, s, e, '1 parsec', { source: 'trades' })).rejects.toBeInstanceOf(QueryError);
    await expect(bars(t.engine, SYMBOL, s, e, "1 hour'); DROP TABLE trades_data; --", { source: 'trades' })).rejects.toBeInstanceOf(
      QueryError,
    );
    await expect(aggregatedVolume(t.engine, SYMBOL, s, e, '0 minutes')).rejects.toBeInstanceOf(QueryError);
    await expect(aggregatedVolume(t.engine, SYMBOL, e, s, '1 hour')).rejects.toThrow(/before start/);
    await expect(recentOhlcv(t.engine, SYMBOL, s, 0)).rejects.toBeInstanceOf(QueryError);
    await expect(asOf(t.engine, SYMBOL, 'yesterday')).rejects.toBeInstanceOf(QueryError);
    // A symbol is data, never SQL.
    expect(await aggregatedVolume(t.engine, "x' OR '1'='1", s, e, '1 hour')).toEqual([]);
    expect(await aggregatedVolume(t.engine, OTHER, s, e, '1 hour')).not.toEqual([]);
  });
});
