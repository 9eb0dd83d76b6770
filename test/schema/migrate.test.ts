/**
 * Migrations on both engines: a second run is a no-op (nothing applied, no catalog change), chunk
 * intervals are configuration, bad configuration is refused before anything is created, and
 * concurrent runs are serialized (advisory lock on the server, the session mutex embedded).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { ServerEngine } from '../../src/engine/server.js';
import type { Engine } from '../../src/engine/types.js';
import { LATEST_VERSION, migrate, schemaVersion, type MigrateResult } from '../../src/schema/migrate.js';
import { collectStatus } from '../../src/health/status.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { createTestDatabase } from '../support/server-cluster.js';

/** Everything a migration can create or change, in a stable order. */
async function catalogSnapshot(engine: Engine): Promise<Record<string, unknown[]>> {
  const q = async (sql: string) => (await engine.query(sql)).rows;
  return {
    relations: await q(`SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                         WHERE n.nspname = current_schema() ORDER BY 1`),
    columns: await q(`SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
                       WHERE table_schema = current_schema() ORDER BY 1, 2`),
    constraints: await q(`SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                           WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`),
    indexes: await q(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2`),
    dimensions: await q(`SELECT hypertable_name, column_name, time_interval::text AS i FROM timescaledb_information.dimensions ORDER BY 1`),
    jobs: await q(`SELECT job_id, proc_name, hypertable_name, schedule_interval::text AS s, config::text AS config
                    FROM timescaledb_information.jobs ORDER BY job_id`),
    caggs: await q('SELECT view_name, view_definition FROM timescaledb_information.continuous_aggregates ORDER BY 1'),
    compression: await q(`SELECT hypertable_name, attname, segmentby_column_index, orderby_column_index
                           FROM timescaledb_information.compression_settings ORDER BY 1, 2`),
    versions: await q('SELECT version, name, applied_at::text AS at FROM tickvault_schema_version ORDER BY version'),
    settings: await q('SELECT key, value::text AS v, updated_at::text AS at FROM tickvault_settings ORDER BY key'),
  };
}

async function chunkIntervals(engine: Engine): Promise<Record<string, string>> {
  const { rows } = await engine.query<{ hypertable_name: string; i: string }>(
    `SELECT hypertable_name, time_interval::text AS i FROM timescaledb_information.dimensions
      WHERE hypertable_schema = current_schema()`,
  );
  return Object.fromEntries(rows.map((r) => [r.hypertable_name, r.i]));
}

async function versionRows(engine: Engine): Promise<number[]> {
  const { rows } = await engine.query<{ version: number }>('SELECT version FROM tickvault_schema_version ORDER BY version');
  return rows.map((r) => Number(r.version));
}

const ALL_VERSIONS = Array.from({ length: LATEST_VERSION }, (_, i) => i + 1);

describe.each(ENGINE_KINDS)('migrate on the %s engine', (kind) => {
  describe('on a fresh database', () => {
    let t: TestEngine;
    let first: MigrateResult;

    beforeAll(async () => {
      t = await openTestEngine(kind, { migrate: false, name: 'schema_migrate' });
      expect(await schemaVersion(t.engine)).toBe(0);
      first = await migrate(t.engine);
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it('the first run applies every migration and says what it did', () => {
      expect(first.fromVersion).toBe(0);
      expect(first.toVersion).toBe(LATEST_VERSION);
      expect(first.migrations.map((m) => [m.version, m.status])).toEqual(ALL_VERSIONS.map((v) => [v, 'applied']));
      const actions = first.migrations.flatMap((m) => m.actions);
      expect(actions).toEqual(
        expect.arrayContaining(['table ohlcv_data', 'hypertable trades_data (chunk 1 hour)', 'index idx_trades_symbol_price_time']),
      );
      if (kind === 'embedded') {
        expect(actions).toEqual(expect.arrayContaining(['compression policy trades_data after 1 day', 'refresh policy ohlcv_hourly']));
        // No default retention: no default deletes history (config/policies.ts).
        expect(actions.filter((a) => /^retention [a-z_]+_data /.test(a))).toEqual([]);
      } else {
        expect(actions).toEqual(expect.arrayContaining(['compression unavailable on tier timescaledb-apache']));
        expect(actions.filter((a) => /^(compression policy|retention [a-z_]+_data |refresh policy)/.test(a))).toEqual([]);
      }
    });

    it('a second run is a no-op: every migration "already applied", no catalog change', async () => {
      const before = await catalogSnapshot(t.engine);
      const second = await migrate(t.engine);
      expect(second.fromVersion).toBe(LATEST_VERSION);
      expect(second.toVersion).toBe(LATEST_VERSION);
      expect(second.extensionCreated).toBe(false);
      expect(second.migrations.map((m) => [m.version, m.status, m.actions])).toEqual(ALL_VERSIONS.map((v) => [v, 'already applied', []]));
      const after = await catalogSnapshot(t.engine);
      expect(after).toEqual(before);
      expect(after.relations!.length).toBeGreaterThan(20); // the snapshot really sees the schema
      expect(await versionRows(t.engine)).toEqual(ALL_VERSIONS);
    });

    it('status reports the tier, the schema version and every feature state', async () => {
      const s = await collectStatus(t.engine);
      expect(s.engine).toBe(kind);
      expect(s.schemaVersion).toBe(LATEST_VERSION);
      expect(s.latestSchemaVersion).toBe(LATEST_VERSION);
      const states = Object.fromEntries(s.features.map((f) => [f.name, f.state]));
      if (kind === 'embedded') {
        expect(s.tier).toBe('timescaledb');
        expect(s.timescaledbEdition).toBe('community');
        expect(states).toMatchObject({
          hypertables: 'native',
          compression: 'native',
          retention: 'native',
          continuous_aggregates: 'native',
        });
      } else {
        expect(s.tier).toBe('timescaledb-apache');
        expect(s.timescaledbEdition).toBe('apache');
        expect(states).toMatchObject({
          hypertables: 'native',
          compression: 'unavailable',
          retention: 'fallback',
          continuous_aggregates: 'fallback',
        });
      }
      expect(s.tables.map((x) => [x.table, x.rows, x.chunks])).toEqual([
        ['ohlcv_data', 0, 0],
        ['trades_data', 0, 0],
        ['tbbo_data', 0, 0],
        ['statistics_data', 0, 0],
        ['instrument_definitions', 0, null],
      ]);
    });
  });

  it('chunk intervals are configuration: trades_data = 30 minutes on a fresh database', async () => {
    const t = await openTestEngine(kind, { migrate: false, name: 'schema_chunks' });
    try {
      const r = await migrate(t.engine, { policies: { chunkInterval: { trades_data: '30 minutes' } } });
      expect(r.migrations[0]!.actions).toContain('hypertable trades_data (chunk 30 minutes)');
      expect(await chunkIntervals(t.engine)).toEqual({
        ohlcv_data: '1 day',
        trades_data: '00:30:00',
        tbbo_data: '01:00:00',
        statistics_data: '1 day',
      });
      // The effective settings are recorded, so later commands (maintain) use the same ones.
      const { rows } = await t.engine.query<{ v: { chunkInterval: Record<string, string> } }>(
        `SELECT value AS v FROM tickvault_settings WHERE key = 'policies'`,
      );
      expect(rows[0]!.v.chunkInterval.trades_data).toBe('30 minutes');
      // Two rows 45 minutes apart land in two chunks.
      await t.engine.query(`INSERT INTO trades_data ("timestamp", instrument_id, symbol, price, size, side)
        VALUES ('2024-03-01 14:00:00+00', 1, 'ESH4', 1, 1, 'B'), ('2024-03-01 14:45:00+00', 1, 'ESH4', 1, 1, 'S')`);
      const chunks = await t.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM show_chunks('trades_data')`);
      expect(chunks.rows[0]!.n).toBe(2);
    } finally {
      await t.dispose();
    }
  });

  it('an invalid interval is refused before anything is created', async () => {
    const t = await openTestEngine(kind, { migrate: false, name: 'schema_badcfg' });
    try {
      await expect(migrate(t.engine, { policies: { chunkInterval: { trades_data: "1 hour'); DROP TABLE x; --" } } })).rejects.toThrow(
        /chunkInterval\.trades_data.*must be an interval/,
      );
      expect(await schemaVersion(t.engine)).toBe(0);
      const { rows } = await t.engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = current_schema()`);
      expect(rows[0]!.n).toBe(0);
    } finally {
      await t.dispose();
    }
  });

  it('concurrent migrate calls both succeed and record each version once', async () => {
    const t = await openTestEngine(kind, { migrate: false, name: 'schema_lock' });
    // On the server: a second engine (own pool) on the same database, so the two runs race for real
    // and only the advisory lock serializes them. Embedded: one session, the engine's mutex.
    const other: Engine = kind === 'server' ? new ServerEngine({ url: t.url, pool: { poolSize: 1, maxOverflow: 2 } }) : t.engine;
    try {
      const results = await Promise.all([migrate(t.engine), migrate(other), migrate(other)]);
      const applied = results.map((r) => r.migrations.filter((m) => m.status === 'applied').map((m) => m.version));
      // Each version applied by exactly one of the runs; the others found it already applied.
      expect(applied.flat().sort((a, b) => a - b)).toEqual(ALL_VERSIONS);
      for (const r of results) expect(r.toVersion).toBe(LATEST_VERSION);
      expect(await versionRows(t.engine)).toEqual(ALL_VERSIONS);
      const dup = await t.engine.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_schema = current_schema()`,
      );
      expect(dup.rows[0]!.n).toBe(4);
    } finally {
      if (other !== t.engine) await other.close();
      await t.dispose();
    }
  });
});

describe('embedded data directory reopened', () => {
  it('keeps the community features: migrate after a reopen creates compression and policies', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tickvault-reopen-'));
    try {
      // First open only creates the database (like `tickvault status` before `init`).
      await (await EmbeddedEngine.open({ dataDir: dir })).close();
      const engine = await EmbeddedEngine.open({ dataDir: dir });
      try {
        expect((await engine.capabilities()).tier).toBe('timescaledb');
        const r = await migrate(engine);
        expect(r.migrations.every((m) => m.status === 'applied')).toBe(true);
        const { rows } = await engine.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'`,
        );
        expect(rows[0]!.n).toBe(4);
      } finally {
        await engine.close();
      }
      // And once more: the data is there and compression still works after another reopen.
      const again = await EmbeddedEngine.open({ dataDir: dir });
      try {
        expect(await schemaVersion(again)).toBe(LATEST_VERSION);
        await again.query(`INSERT INTO trades_data ("timestamp", instrument_id, symbol, price, size, side)
          VALUES (now() - interval '3 days', 1, 'ESH4', 1, 1, 'B')`);
        const c = await again.query<{ n: number }>(
          `SELECT count(compress_chunk(ch))::int AS n FROM show_chunks('trades_data', older_than => interval '1 day') ch`,
        );
        expect(c.rows[0]!.n).toBe(1);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('advisory lock on the server', () => {
  let serverUrl: string;
  beforeAll(() => {
    serverUrl = inject('serverUrl');
  });

  it('a migrate waits while another session holds the migration lock, then finds nothing left to do', async () => {
    const db = await createTestDatabase(serverUrl, 'schema_lock_wait');
    const a = new ServerEngine({ url: db.url, pool: { poolSize: 1, maxOverflow: 1 } });
    const b = new ServerEngine({ url: db.url, pool: { poolSize: 1, maxOverflow: 1 } });
    try {
      await migrate(a);
      // Hold tickvault's lock from outside (same key as src/schema/migrate.ts) and show that b blocks on it.
      const holder = await a.withConnection(async (conn) => {
        await conn.query('SELECT pg_advisory_lock($1)', [7_146_524_100]);
        let done = false;
        const run = migrate(b).then((r) => {
          done = true;
          return r;
        });
        await new Promise((r) => setTimeout(r, 500));
        const waitedWhileLocked = !done;
        await conn.query('SELECT pg_advisory_unlock($1)', [7_146_524_100]);
        return { waitedWhileLocked, result: await run };
      });
      expect(holder.waitedWhileLocked).toBe(true);
      expect(holder.result.migrations.every((m) => m.status === 'already applied')).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
