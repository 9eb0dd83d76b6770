import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { OHLCVLoader, TradesLoader } from '../../src/load/loaders.js';
import { refreshAfterLoad, refreshRollups } from '../../src/maintain/index.js';
import type { Engine } from '../../src/engine/types.js';
import { isoToMicros, microsToIso } from '../../src/values/time.js';

interface T {
  us: bigint;
  price: string;
  size: number;
}

async function loadTrades(engine: Engine, rows: readonly T[]): Promise<void> {
  await new TradesLoader({ engine }).storeBatch(
    rows.map((r, i) => ({
      timestamp: microsToIso(r.us),
      instrument_id: 7,
      symbol: 'CLJ4',
      price: r.price,
      size: r.size,
      side: i % 2 ? 'B' : 'S',
      trade_id: `${r.us}`,
    })),
  );
}

function series(fromIso: string, count: number, stepSeconds: number, base: number): T[] {
  const start = isoToMicros(fromIso);
  return Array.from({ length: count }, (_, i) => ({
    us: start + BigInt(i * stepSeconds) * 1_000_000n + 3n,
    price: `${base + (i % 17) * 0.25}`,
    size: 1 + (i % 5),
  }));
}

/** A view's candles next to the same candles computed from raw trades (both as comparable text). */
async function viewVsRaw(engine: Engine, view: string, width: string): Promise<{ view: string[]; raw: string[] }> {
  const cols = `(extract(epoch FROM b) * 1000000)::int8 || ' ' || o || ' ' || h || ' ' || l || ' ' || c || ' ' || v || ' ' || n AS line`;
  const v = await engine.query<{ line: string }>(
    `SELECT ${cols} FROM (SELECT bucket AS b, open_price AS o, high_price AS h, low_price AS l, close_price AS c, volume AS v, trade_count AS n FROM ${view} WHERE symbol = 'CLJ4') x ORDER BY b`,
  );
  const r = await engine.query<{ line: string }>(
    `SELECT ${cols} FROM (SELECT time_bucket($1::interval, "timestamp") AS b, first(price, "timestamp") AS o, max(price) AS h, min(price) AS l,
            last(price, "timestamp") AS c, sum(size) AS v, count(*) AS n FROM trades_data WHERE symbol = 'CLJ4' GROUP BY 1) x ORDER BY b`,
    [width],
  );
  return { view: v.rows.map((x) => x.line), raw: r.rows.map((x) => x.line) };
}

const VIEWS = [
  ['trades_candles_1m', '1 minute'],
  ['trades_candles_1h', '1 hour'],
  ['trades_candles_1d', '1 day'],
] as const;

describe.each(ENGINE_KINDS)('rollup refresh on %s', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'refresh' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('a backfill into a materialized range is stale until refreshAfterLoad, then visible in every rollup', async () => {
    const e = t.engine;
    await loadTrades(e, series('2024-03-04T10:00:00Z', 240, 30, 80)); // 10:00–12:00
    await refreshRollups(e);
    for (const [view, width] of VIEWS) {
      const { view: v, raw } = await viewVsRaw(e, view, width);
      expect(v).toEqual(raw);
    }
    // Backfill into the materialized hours: a new high and extra volume in 10:xx, plus rows in 11:xx.
    const backfill: T[] = [
      { us: isoToMicros('2024-03-04T10:30:00.500001Z'), price: '95.5', size: 40 },
      { us: isoToMicros('2024-03-04T11:45:10.000009Z'), price: '70.25', size: 3 },
    ];
    await loadTrades(e, backfill);
    const stale = await viewVsRaw(e, 'trades_candles_1h', '1 hour');
    expect(stale.view).not.toEqual(stale.raw);
    const actions = await refreshAfterLoad(e, 'trades_data', microsToIso(backfill[0]!.us), microsToIso(backfill[1]!.us));
    expect(actions.map((a) => a.view)).toEqual(['trades_candles_1m', 'trades_candles_1h', 'trades_candles_1d']);
    if ((await e.capabilities()).continuousAggregates) {
      expect(actions[0]).toMatchObject({
        method: 'refresh_continuous_aggregate',
        start: '2024-03-04T10:30:00.000000Z',
        end: '2024-03-04T11:46:00.000000Z',
      });
      expect(actions[1]).toMatchObject({ start: '2024-03-04T10:00:00.000000Z', end: '2024-03-04T12:00:00.000000Z' });
    } else {
      expect(actions[0]!.method).toBe('REFRESH MATERIALIZED VIEW CONCURRENTLY');
    }
    for (const [view, width] of VIEWS) {
      const { view: v, raw } = await viewVsRaw(e, view, width);
      expect(v).toEqual(raw);
    }
  });

  it('never hides unmaterialized history: a narrow refresh after a load on another day keeps every day visible', async () => {
    const e = t.engine;
    // Two new days above the materialized horizon (read live so far); then a load announced for
    // the later day only. The refresh moves the horizon past the earlier day, which must not vanish.
    await loadTrades(e, series('2024-05-01T09:00:00Z', 50, 60, 60));
    await loadTrades(e, series('2024-05-20T09:00:00Z', 50, 60, 65));
    if ((await e.capabilities()).continuousAggregates) {
      for (const [view, width] of VIEWS) {
        const { view: v, raw } = await viewVsRaw(e, view, width);
        expect(v).toEqual(raw);
      }
    }
    await refreshAfterLoad(e, 'trades_data', '2024-05-20T09:00:00Z', '2024-05-20T10:00:00Z');
    for (const [view, width] of VIEWS) {
      const { view: v, raw } = await viewVsRaw(e, view, width);
      expect(v).toEqual(raw);
    }
  });

  it('rows in the current bucket are left to real-time reads; ohlcv_hourly follows backfilled 1m bars', async () => {
    const e = t.engine;
    const caps = await e.capabilities();
    const now = new Date();
    const live = await refreshAfterLoad(e, 'trades_data', now, now);
    if (caps.continuousAggregates) expect(live.every((a) => a.method === 'none')).toBe(true);

    const bar = (iso: string, price: string, volume: number) => ({
      timestamp: iso,
      instrument_id: 7,
      symbol: 'CLJ4',
      open_price: price,
      high_price: price,
      low_price: price,
      close_price: price,
      volume,
      granularity: '1m',
    });
    await new OHLCVLoader({ engine: e }).storeBatch([bar('2024-03-04T10:00:00Z', '80.5', 10), bar('2024-03-04T10:01:00Z', '81.5', 20)]);
    await refreshRollups(e);
    await new OHLCVLoader({ engine: e }).storeBatch([bar('2024-03-04T10:02:00Z', '90.12345678', 5)]);
    await refreshAfterLoad(e, 'ohlcv_data', '2024-03-04T10:02:00Z', '2024-03-04T10:02:00Z');
    const { rows } = await e.query<{ open_price: string; high_price: string; close_price: string; volume: string }>(
      `SELECT open_price, high_price, close_price, volume FROM ohlcv_hourly WHERE symbol = 'CLJ4' AND bucket = '2024-03-04T10:00:00Z'`,
    );
    expect(rows).toEqual([{ open_price: '80.50000000', high_price: '90.12345678', close_price: '90.12345678', volume: '35' }]);
    // Tables without rollups: nothing to do.
    expect(await refreshAfterLoad(e, 'tbbo_data', now, now)).toEqual([]);
  });
});
