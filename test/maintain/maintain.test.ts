import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { migrate } from '../../src/schema/migrate.js';
import { TBBOLoader, TradesLoader } from '../../src/load/loaders.js';
import { maintain } from '../../src/maintain/index.js';
import type { Engine } from '../../src/engine/types.js';
import { dateToMicros, microsToIso } from '../../src/values/time.js';

const HOUR = 3_600_000_000n;
const DAY = 24n * HOUR;

interface Snapshot {
  chunks: string[];
  trades: string[];
  quotes: string[];
}

async function snapshot(e: Engine): Promise<Snapshot> {
  const chunks = await e.query<{ c: string }>(
    `SELECT hypertable_name || ' ' || chunk_name || ' ' || is_compressed AS c FROM timescaledb_information.chunks
      WHERE hypertable_name IN ('trades_data', 'tbbo_data') ORDER BY 1`,
  );
  const trades = await e.query<{ r: string }>(`SELECT t::text AS r FROM trades_data t ORDER BY "timestamp", trade_id`);
  const quotes = await e.query<{ r: string }>(`SELECT q::text AS r FROM tbbo_data q ORDER BY "timestamp"`);
  return { chunks: chunks.rows.map((x) => x.c), trades: trades.rows.map((x) => x.r), quotes: quotes.rows.map((x) => x.r) };
}

describe.each(ENGINE_KINDS)('maintain on %s', (kind) => {
  let t: TestEngine;
  const nowUs = dateToMicros(new Date());
  // trades: retention 2 years, compress after 1 day; tbbo: retention 1 year, compress after 3 days.
  const ages = {
    expiredTrade: 3n * 365n * DAY,
    oldTrade: 3n * DAY,
    recentTrade: 2n * HOUR,
    expiredQuote: 400n * DAY,
    oldQuote: 5n * DAY,
    recentQuote: HOUR,
  };

  beforeAll(async () => {
    // Retention is off by default (no default deletes history): this database asks for the
    // contract's windows, and the expired rows are stored on purpose (allowExpired).
    t = await openTestEngine(kind, { name: 'maintain', migrate: false });
    await migrate(t.engine, { policies: { retainFor: { trades_data: '2 years', tbbo_data: '1 year' } } });
    const trades = [];
    for (const [label, age] of [
      ['expired', ages.expiredTrade],
      ['old', ages.oldTrade],
      ['recent', ages.recentTrade],
    ] as const) {
      for (let i = 0; i < 20; i++) {
        trades.push({
          timestamp: microsToIso(nowUs - age + BigInt(i) * 1_000_001n),
          instrument_id: 1,
          symbol: i % 2 ? 'AAA' : 'BBB',
          price: `${100 + i}.125`,
          size: 1 + i,
          side: i % 3 ? ('B' as const) : ('S' as const),
          trade_id: `${label}-${i}`,
        });
      }
    }
    await new TradesLoader({ engine: t.engine, allowExpired: true }).storeBatch(trades);
    const quotes = [];
    for (const age of [ages.expiredQuote, ages.oldQuote, ages.recentQuote]) {
      for (let i = 0; i < 10; i++) {
        quotes.push({
          timestamp: microsToIso(nowUs - age + BigInt(i) * 1_000_003n),
          instrument_id: 1,
          symbol: 'AAA',
          bid_px_00: '10.5',
          ask_px_00: `${10.75 + i / 4}`,
          bid_sz_00: 1,
          ask_sz_00: 2,
        });
      }
    }
    await new TBBOLoader({ engine: t.engine, allowExpired: true }).storeBatch(quotes);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('--dry-run lists the due actions and changes nothing', async () => {
    const caps = await t.engine.capabilities();
    const before = await snapshot(t.engine);
    const report = await maintain(t.engine, { dryRun: true });
    expect(await snapshot(t.engine)).toEqual(before);
    expect(report.dryRun).toBe(true);
    expect(report.policiesFrom).toBe('settings');
    expect(report.retention.map((a) => [a.hypertable, a.olderThan, a.status, a.chunks.length])).toEqual([
      ['trades_data', '2 years', 'planned', 1],
      ['tbbo_data', '1 year', 'planned', 1],
    ]);
    expect(report.refreshed.map((r) => r.view)).toEqual(['ohlcv_hourly', 'trades_candles_1m', 'trades_candles_1h', 'trades_candles_1d']);
    expect(report.refreshed.every((r) => r.ms === undefined)).toBe(true);
    if (caps.compression) {
      // The expired chunks are not listed for compression: retention drops them first.
      expect(report.compression.map((a) => [a.hypertable, a.olderThan, a.status, a.chunks.length])).toEqual([
        ['trades_data', '1 day', 'planned', 1],
        ['tbbo_data', '3 days', 'planned', 1],
      ]);
      expect(report.compressionStats!.find((h) => h.hypertable === 'trades_data')!.compressedChunks).toBe(0n);
    } else {
      expect(report.compression).toEqual([]);
      expect(report.compressionStats).toBeNull();
      expect(report.notes.join(' ')).toMatch(/compression unavailable/);
    }
  });

  it('drops chunks past retention, compresses chunks past compress_after, keeps the remaining data unchanged', async () => {
    const caps = await t.engine.capabilities();
    const before = await snapshot(t.engine);
    const report = await maintain(t.engine);
    const after = await snapshot(t.engine);

    const expiredTrades = before.trades.filter((r) => r.includes('expired-'));
    expect(expiredTrades).toHaveLength(20);
    expect(after.trades).toEqual(before.trades.filter((r) => !r.includes('expired-')));
    expect(after.quotes).toHaveLength(20);
    expect(after.quotes).toEqual(before.quotes.slice(10));
    expect(report.retention.map((a) => [a.hypertable, a.status])).toEqual([
      ['trades_data', 'done'],
      ['tbbo_data', 'done'],
    ]);
    expect(report.analyzed).toContain('trades_data');

    if (caps.compression) {
      expect(report.compression.map((a) => [a.hypertable, a.status, a.chunks.length])).toEqual([
        ['trades_data', 'done', 1],
        ['tbbo_data', 'done', 1],
      ]);
      const compressed = after.chunks.filter((c) => c.endsWith(' true'));
      expect(compressed).toHaveLength(2);
      const trades = report.compressionStats!.find((h) => h.hypertable === 'trades_data')!;
      expect(trades.compressedChunks).toBe(1n);
      expect(trades.totalChunks).toBe(2n);
      expect(trades.beforeBytes! > 0n && trades.afterBytes! > 0n).toBe(true);
      expect(trades.ratio).toBeGreaterThan(0);
      expect(trades.chunks.map((c) => c.status).sort()).toEqual(['Compressed', 'Uncompressed']);
      expect(trades.chunks.find((c) => c.status === 'Compressed')!.ratio).toBeGreaterThan(0);
      // The recent chunk is not compressed.
      const recent = await t.engine.query<{ n: string }>(
        `SELECT count(*) AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'trades_data' AND NOT is_compressed AND range_end > now() - interval '1 day'`,
      );
      expect(Number(recent.rows[0]!.n)).toBe(1);
    } else {
      expect(after.chunks.every((c) => c.endsWith(' false'))).toBe(true);
    }

    // Nothing is due any more.
    const again = await maintain(t.engine, { dryRun: true });
    expect(again.retention).toEqual([]);
    expect(again.compression).toEqual([]);
  });
});
