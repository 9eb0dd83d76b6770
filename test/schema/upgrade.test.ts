/**
 * Migration 6 upgrades a database in place: a database at schema version 5 with rows in every
 * table (and, embedded, compressed chunks and materialized rollups) migrates to 6 with every row
 * kept, the new columns filled with their "not given" values (publisher_id 0, tbbo sequence NULL),
 * the rollups recreated per venue with the same contents and their refresh policies, and the
 * queries answering as before. Afterwards the venue-aware rules hold (side N stored, NULL tick size).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { LATEST_VERSION, migrate, schemaVersion } from '../../src/schema/migrate.js';
import { ROLLUPS } from '../../src/schema/rollups.js';
import { MARKET_TABLES, specAtVersion } from '../../src/schema/tables.js';
import { refreshRollups } from '../../src/timescale/rollup-refresh.js';
import { aggregatedVolume, asOf, bars, spreadAnalysis } from '../../src/query/queries.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { DefinitionsLoader } from '../../src/load/definitions.js';
import { ident, identList } from '../../src/sql/ident.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

/** Every row of a table, the columns version 5 had, as sorted text. */
async function v5Rows(db: Engine, table: (typeof MARKET_TABLES)[number]): Promise<string[]> {
  const cols = specAtVersion(table, 5)
    .columns.filter((c) => !c.serverFilled)
    .map((c) => c.name);
  const { rows } = await db.query<{ line: string }>(`SELECT row(${identList(cols)})::text AS line FROM ${ident(table.name)}`);
  return rows.map((r) => r.line).sort();
}

async function rollupRows(db: Engine, name: string): Promise<string[]> {
  const { rows } = await db.query<{ line: string }>(
    `SELECT row(bucket, instrument_id, symbol, open_price, high_price, low_price, close_price, volume)::text AS line FROM ${ident(name)}`,
  );
  return rows.map((r) => r.line).sort();
}

async function seedVersion5(db: Engine): Promise<void> {
  const hours = [0, 1, 2, 30, 31]; // two days: several chunks
  for (const h of hours) {
    for (let m = 0; m < 3; m++) {
      const ts = `2024-03-0${1 + Math.floor(h / 24)} ${String(h % 24).padStart(2, '0')}:${String(m).padStart(2, '0')}:00+00`;
      await db.query(
        `INSERT INTO ohlcv_data ("timestamp", instrument_id, symbol, open_price, high_price, low_price, close_price, volume, granularity)
        VALUES ($1, 7, 'ESH4', 10 + $2::int, 12 + $2::int, 9, 11, 100 + $2::int, '1m')`,
        [ts, m],
      );
      await db.query(
        `INSERT INTO trades_data ("timestamp", instrument_id, symbol, price, size, side, trade_id) VALUES
        ($1, 7, 'ESH4', 5100.25 + $2::int, 3, 'B', $3), ($1::timestamptz + interval '1 second', 7, 'ESH4', 5100.5, 1, 'S', $4)`,
        [ts, m, `t${h}-${m}-a`, `t${h}-${m}-b`],
      );
      await db.query(
        `INSERT INTO tbbo_data ("timestamp", instrument_id, symbol, bid_px_00, ask_px_00, bid_sz_00, ask_sz_00) VALUES
        ($1, 7, 'ESH4', 5100, 5100.5, 2, 3), ($1, 7, 'ESH4', 5100.25, 5100.5, 1, 1)`,
        [ts],
      );
      await db.query(
        `INSERT INTO statistics_data ("timestamp", ts_recv, instrument_id, symbol, stat_type, stat_type_name, price, quantity, sequence, update_action, stat_flags)
        VALUES ($1, $1, 7, 'ESH4', 5, 'trading_session_high_price', 5101, NULL, $2, 1, 0)`,
        [ts, h * 10 + m],
      );
    }
  }
  await db.query(`INSERT INTO instrument_definitions (instrument_id, symbol, raw_symbol, asset, exchange, currency, tick_size, multiplier)
    VALUES (7, 'ESH4', 'ESH4', 'ES', 'XCME', 'USD', 0.25, 50)`);
}

describe.each(ENGINE_KINDS)('schema version 5 → 6 with rows in every table (%s)', (kind) => {
  let te: TestEngine;
  const before = new Map<string, unknown>();
  let upgrade: Awaited<ReturnType<typeof migrate>>;
  const range = ['2024-03-01T00:00:00Z', '2024-03-03T00:00:00Z'] as const;

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'upgrade_v5', migrate: false });
    const db = te.engine;
    await migrate(db, { to: 5 });
    expect(await schemaVersion(db)).toBe(5);
    await seedVersion5(db);
    await refreshRollups(db);
    const caps = await db.capabilities();
    if (caps.compression) {
      // Compressed chunks too: the upgrade must not need them decompressed.
      await db.query(`SELECT count(compress_chunk(c, true)) FROM show_chunks('trades_data') c`);
      await db.query(`SELECT count(compress_chunk(c, true)) FROM show_chunks('tbbo_data') c`);
    }
    for (const spec of MARKET_TABLES) before.set(spec.name, await v5Rows(db, spec));
    for (const r of ROLLUPS) before.set(r.name, await rollupRows(db, r.name));
    // What the version-5 queries answered (the SQL of version 5's bars, volume, spread, as-of).
    before.set(
      'bars',
      (
        await db.query(`SELECT time_bucket('1 hour', "timestamp")::text AS b, first(price, "timestamp")::text AS o, last(price, "timestamp")::text AS c, sum(size)::text AS v
      FROM trades_data WHERE symbol = 'ESH4' GROUP BY 1 ORDER BY 1`)
      ).rows,
    );
    before.set(
      'volume',
      (await db.query(`SELECT sum(size)::text AS v, count(*)::text AS n FROM trades_data WHERE symbol = 'ESH4'`)).rows[0],
    );
    before.set(
      'spread',
      (await db.query(`SELECT count(*)::text AS n, min(spread)::text AS lo, max(spread)::text AS hi FROM tbbo_data WHERE symbol = 'ESH4'`))
        .rows[0],
    );
    upgrade = await migrate(db);
  }, 240_000);
  afterAll(async () => {
    await te?.dispose();
  });

  it('applies migration 6 only, and says what it changed', () => {
    expect(upgrade.fromVersion).toBe(5);
    expect(upgrade.toVersion).toBe(LATEST_VERSION);
    expect(upgrade.migrations.filter((m) => m.status === 'applied').map((m) => m.version)).toEqual([6]);
    const actions = upgrade.migrations.find((m) => m.version === 6)!.actions;
    expect(actions).toEqual(
      expect.arrayContaining([
        'column ohlcv_data.publisher_id',
        'column tbbo_data.sequence',
        "constraint trades_side_check CHECK (side IN ('B', 'S', 'N'))",
      ]),
    );
  });

  it('keeps every row of every table; the new columns read "not given"', async () => {
    for (const spec of MARKET_TABLES) {
      expect(await v5Rows(te.engine, spec), spec.name).toEqual(before.get(spec.name));
      const { rows } = await te.engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${ident(spec.name)} WHERE publisher_id <> 0`);
      expect(rows[0]!.n, spec.name).toBe('0');
    }
    const { rows } = await te.engine.query<{ n: string }>('SELECT count(*)::text AS n FROM tbbo_data WHERE sequence IS NOT NULL');
    expect(rows[0]!.n).toBe('0');
  });

  it('recreates every rollup per venue with the same contents (and, where the tier has them, its refresh policy)', async () => {
    await refreshRollups(te.engine);
    for (const r of ROLLUPS) expect(await rollupRows(te.engine, r.name), r.name).toEqual(before.get(r.name));
    const caps = await te.engine.capabilities();
    if (caps.continuousAggregates && caps.policies) {
      const { rows } = await te.engine.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate'`,
      );
      expect(Number(rows[0]!.n)).toBe(ROLLUPS.length);
    }
  });

  it('queries answer as before', async () => {
    const b = await bars(te.engine, 'ESH4', range[0], range[1], '1 hour', { source: 'trades', rollup: 'raw' });
    const expected = before.get('bars') as { o: string; c: string; v: string }[];
    expect(b.map((x) => [x.open, x.close, String(x.volume), x.publisherId])).toEqual(expected.map((x) => [x.o, x.c, x.v, 0]));
    const fromRollup = await bars(te.engine, 'ESH4', range[0], range[1], '1 hour', { source: 'trades', rollup: 'rollup' });
    expect(fromRollup.map((x) => [x.open, x.close, String(x.volume)])).toEqual(expected.map((x) => [x.o, x.c, x.v]));
    const vol = await aggregatedVolume(te.engine, 'ESH4', range[0], range[1], '1 day');
    const bv = before.get('volume') as { v: string; n: string };
    expect([String(vol.reduce((a, x) => a + x.volume, 0n)), String(vol.reduce((a, x) => a + x.tradeCount, 0n))]).toEqual([bv.v, bv.n]);
    const sp = await spreadAnalysis(te.engine, 'ESH4', range[0], range[1]);
    const bs = before.get('spread') as { n: string; lo: string; hi: string };
    expect([String(sp.quotes), sp.min, sp.max]).toEqual([bs.n, bs.lo, bs.hi]);
    const at = await asOf(te.engine, 'ESH4', '2024-03-02T12:00:00Z');
    expect(at.trade).toMatchObject({ publisherId: 0, price: '5100.50000000' });
  });

  it('after the upgrade: side N and NULL tick size are stored, and a second venue of a stored trade is a new row', async () => {
    const loader = new TradesLoader({ engine: te.engine });
    const r = await loader.storeBatch([
      {
        timestamp: '2024-03-01T00:00:00Z',
        instrument_id: 7,
        symbol: 'ESH4',
        price: '5100.25',
        size: 3,
        side: 'N',
        trade_id: 't0-0-a',
        publisher_id: 57,
      },
    ]);
    expect([r.recordsInserted, r.recordsRejected]).toEqual([1, 0]);
    const d = await new DefinitionsLoader({ engine: te.engine }).storeBatch([
      {
        instrument_id: 8,
        symbol: 'MSFT',
        raw_symbol: 'MSFT',
        asset: 'MSFT',
        exchange: 'XNAS',
        currency: 'USD',
        tick_size: null,
        multiplier: null,
        publisher_id: 2,
      },
    ]);
    expect([d.recordsInserted, d.recordsRejected]).toEqual([1, 0]);
  });
});
