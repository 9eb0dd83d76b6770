/**
 * The versioned migrations, in order. Each runs in its own transaction together with the row
 * that records it, so the version table never claims a migration that did not commit.
 * What a migration creates follows the detected capabilities (DESIGN.md §4), never the engine.
 */
import { ident, literal, identList } from '../sql/ident.js';
import type { Capabilities, Connection } from '../engine/types.js';
import type { PolicySettings, HypertableName } from '../config/policies.js';
import { MARKET_TABLES, VENUES_VERSION, checksAtVersion, specAtVersion, type TableSpec } from './tables.js';
import { createIndexSql, createTableSql } from './ddl.js';
import { BOOKKEEPING_SQL, DEFINITION_VERSIONS_TABLE, SETTINGS_TABLE } from './bookkeeping.js';
import { createHourlyRollupSql, createTradeCandlesSql, HOURLY_VIEW, ROLLUPS, TRADE_CANDLES, type Rollup } from './rollups.js';
import { sqlType } from './types.js';

export interface MigrationContext {
  readonly caps: Capabilities;
  readonly policies: PolicySettings;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  up(tx: Connection, ctx: MigrationContext): Promise<string[]>;
}

async function run(tx: Connection, done: string[], what: string, sql: string, params: readonly unknown[] = []): Promise<void> {
  await tx.query(sql, params);
  done.push(what);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'market data tables, hypertables and indexes',
    async up(tx, { caps, policies }) {
      const done: string[] = [];
      // The tables as version 1 had them; later migrations change them (6: venues), so a fresh
      // database and an upgraded one take the same steps and end up alike.
      for (const spec of MARKET_TABLES) {
        await run(tx, done, `table ${spec.name}`, createTableSql(specAtVersion(spec, 1)));
        if (spec.hypertable && caps.hypertables) {
          const interval = policies.chunkInterval[spec.hypertable.chunkIntervalKey as HypertableName];
          // No default time index: the contract lists the indexes exactly, and each extra index
          // is paid on every inserted row (DESIGN.md §6). Chunk exclusion covers time-only scans.
          await run(
            tx,
            done,
            `hypertable ${spec.name} (chunk ${interval})`,
            `SELECT create_hypertable($1::regclass, by_range($2::name, $3::interval), create_default_indexes => false)`,
            [spec.name, spec.hypertable.timeColumn, interval],
          );
        }
        for (const index of spec.indexes) {
          await run(tx, done, `index ${index.name}`, createIndexSql(spec.name, index));
        }
      }
      return done;
    },
  },
  {
    version: 2,
    name: 'load ledger, quarantine, symbol history',
    async up(tx) {
      const done: string[] = [];
      for (const sql of BOOKKEEPING_SQL) {
        await run(tx, done, sql.match(/^CREATE (?:TABLE|INDEX) (\S+)/)?.[1] ?? 'bookkeeping', sql);
      }
      return done;
    },
  },
  {
    version: 3,
    name: 'compression, retention and hourly rollup for the detected tier',
    async up(tx, { caps, policies }) {
      const done: string[] = [];
      const hypertables = MARKET_TABLES.filter((s) => s.hypertable);
      if (caps.compression) {
        for (const spec of hypertables) await enableCompression(tx, done, spec, policies);
      } else {
        done.push(`compression unavailable on tier ${caps.tier}`);
      }
      if (caps.policies) {
        for (const spec of hypertables) {
          const keep = policies.retainFor[spec.name as HypertableName];
          if (keep)
            await run(tx, done, `retention ${spec.name} ${keep}`, 'SELECT add_retention_policy($1::regclass, $2::interval)', [
              spec.name,
              keep,
            ]);
        }
      } else if (caps.hypertables) {
        done.push('retention runs through `tickvault maintain` (drop_chunks)');
      }
      if (!caps.hypertables) {
        done.push(`rollup ${HOURLY_VIEW} unavailable without TimescaleDB`);
      } else
        await run(
          tx,
          done,
          `rollup ${HOURLY_VIEW} (${caps.continuousAggregates ? 'continuous aggregate' : 'materialized view kept by maintain'})`,
          createHourlyRollupSql(caps, 3),
        );
      if (caps.continuousAggregates && caps.policies) {
        const r = policies.hourlyRefresh;
        await run(
          tx,
          done,
          `refresh policy ${HOURLY_VIEW}`,
          `SELECT add_continuous_aggregate_policy($1::regclass, start_offset => $2::interval, end_offset => $3::interval, schedule_interval => $4::interval)`,
          [HOURLY_VIEW, r.startOffset, r.endOffset, r.scheduleInterval],
        );
      }
      await tx.query(
        `INSERT INTO ${ident(SETTINGS_TABLE)} (key, value) VALUES ('policies', $1::jsonb), ('tier_at_init', to_jsonb($2::text))
        ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = NOW()`,
        [JSON.stringify(policies), caps.tier],
      );
      return done;
    },
  },
  {
    version: 4,
    name: 'definition versions (instrument_id, ts_recv, claimed symbol) for DefinitionsLoader',
    async up(tx) {
      // One row per instrument definition version seen: orders versions (newest ts_recv wins)
      // and is what tickvault_symbol_history is derived from (see src/load/definitions.ts).
      const done: string[] = [];
      await run(
        tx,
        done,
        DEFINITION_VERSIONS_TABLE,
        `CREATE TABLE ${DEFINITION_VERSIONS_TABLE} (
        instrument_id INTEGER NOT NULL,
        ts_recv TIMESTAMPTZ NOT NULL,
        symbol VARCHAR(50) NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
        PRIMARY KEY (instrument_id, ts_recv)
      )`,
      );
      await run(
        tx,
        done,
        `${DEFINITION_VERSIONS_TABLE}_symbol_idx`,
        `CREATE INDEX ${DEFINITION_VERSIONS_TABLE}_symbol_idx ON ${DEFINITION_VERSIONS_TABLE} (symbol, ts_recv)`,
      );
      return done;
    },
  },
  // Candles built from trades (rollups.ts), for the detected tier.
  {
    version: 5,
    name: 'candles from trades: trades_candles_1m with hierarchical 1h and 1d rollups',
    async up(tx, { caps }) {
      const done: string[] = [];
      if (!caps.hypertables) {
        done.push('trade candles unavailable without TimescaleDB (time_bucket, first/last)');
        return done;
      }
      for (const sql of createTradeCandlesSql(caps, 5)) {
        await tx.query(sql);
        done.push(sql.split('\n')[0]!.replace(/ AS$/, ''));
      }
      if (caps.continuousAggregates && caps.policies) {
        for (const r of TRADE_CANDLES) {
          await tx.query(
            'SELECT add_continuous_aggregate_policy($1::regclass, start_offset => $2::interval, end_offset => $3::interval, schedule_interval => $4::interval)',
            [r.name, r.policy.startOffset, r.policy.endOffset, r.policy.scheduleInterval],
          );
          done.push(`refresh policy ${r.name} (${r.policy.startOffset} .. ${r.policy.endOffset}, every ${r.policy.scheduleInterval})`);
        }
      } else if (!caps.continuousAggregates) {
        done.push('trade candles are materialized views kept by `tickvault maintain` and refreshAfterLoad');
      }
      return done;
    },
  },
  {
    version: VENUES_VERSION,
    name: 'venues: publisher_id on every market table, tbbo sequence, venue-aware keys and rollups, side N, nullable tick_size and multiplier',
    up: migrateVenues,
  },
];

/**
 * Migration 6, in place on a database with rows: every market table gains `publisher_id` (0 for
 * the rows already stored: their venue was never recorded), tbbo_data gains `sequence` (NULL for
 * them), trades_side_check admits 'N', tick_size and multiplier become nullable. The rollups read
 * the changed tables and become per venue, so they are dropped and created again (finer first,
 * after the coarser that read them are gone) with their refresh policies as they were; a
 * continuous aggregate comes back empty and real-time (it reads the raw rows until its policy or
 * `maintain` materializes it), a plain view is filled at creation. The natural keys are matched
 * by the write path (load/write/merge.ts), not by unique indexes, so no index needs rebuilding.
 */
async function migrateVenues(tx: Connection, { caps }: MigrationContext): Promise<string[]> {
  const done: string[] = [];
  const existing = caps.hypertables ? await existingRollups(tx) : new Map<string, RefreshPolicy | null>();
  for (const r of [...ROLLUPS].reverse()) {
    if (!existing.has(r.name)) continue;
    await run(tx, done, `drop rollup ${r.name} (recreated per venue)`, `DROP MATERIALIZED VIEW ${ident(r.name)}`);
  }
  for (const spec of MARKET_TABLES) {
    const table = ident(spec.name);
    for (const c of spec.columns.filter((col) => col.since === VENUES_VERSION)) {
      // A constant default: existing rows (compressed chunks too) read it without a rewrite.
      await run(
        tx,
        done,
        `column ${spec.name}.${c.name}`,
        `ALTER TABLE ${table} ADD COLUMN ${ident(c.name)} ${sqlType(c.type)}${c.nullable ? '' : ' NOT NULL'}${c.default ? ` DEFAULT ${c.default}` : ''}`,
      );
    }
    for (const c of spec.columns.filter((col) => col.nullableSince === VENUES_VERSION)) {
      await run(tx, done, `column ${spec.name}.${c.name} nullable`, `ALTER TABLE ${table} ALTER COLUMN ${ident(c.name)} DROP NOT NULL`);
    }
    const before = new Map(checksAtVersion(spec, VENUES_VERSION - 1).map((ch) => [ch.name, ch.sql]));
    for (const ch of checksAtVersion(spec, VENUES_VERSION)) {
      const was = before.get(ch.name);
      if (was === ch.sql) continue;
      if (was !== undefined) await tx.query(`ALTER TABLE ${table} DROP CONSTRAINT ${ident(ch.name)}`);
      await run(
        tx,
        done,
        `constraint ${ch.name} CHECK (${ch.sql})`,
        `ALTER TABLE ${table} ADD CONSTRAINT ${ident(ch.name)} CHECK (${ch.sql})`,
      );
    }
  }
  if (caps.hypertables) {
    const statements = [createHourlyRollupSql(caps, VENUES_VERSION), ...createTradeCandlesSql(caps, VENUES_VERSION)];
    for (const sql of statements) {
      await tx.query(sql);
      done.push(sql.split('\n')[0]!.replace(/ AS$/, ''));
    }
    for (const r of ROLLUPS) {
      const policy = existing.get(r.name);
      if (!policy || !caps.continuousAggregates || !caps.policies) continue;
      await run(
        tx,
        done,
        `refresh policy ${r.name} (${policy.startOffset ?? 'unbounded'} .. ${policy.endOffset ?? 'unbounded'}, every ${policy.scheduleInterval})`,
        'SELECT add_continuous_aggregate_policy($1::regclass, start_offset => $2::interval, end_offset => $3::interval, schedule_interval => $4::interval)',
        [r.name, policy.startOffset, policy.endOffset, policy.scheduleInterval],
      );
    }
  }
  return done;
}

/** Offsets as the job's config holds them (null: unbounded on that side). */
interface RefreshPolicy {
  readonly startOffset: string | null;
  readonly endOffset: string | null;
  readonly scheduleInterval: string;
}

/** The rollups that exist, with their refresh policy (as configured at init) where they have one. */
async function existingRollups(tx: Connection): Promise<Map<string, RefreshPolicy | null>> {
  const out = new Map<string, RefreshPolicy | null>();
  const names = ROLLUPS.map((r: Rollup) => r.name);
  const { rows } = await tx.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[])`,
    [names],
  );
  for (const r of rows) out.set(r.name, null);
  const hasJobs = await tx.query<{ ok: boolean }>(`SELECT to_regclass('timescaledb_information.jobs') IS NOT NULL AS ok`);
  if (!hasJobs.rows[0]!.ok) return out;
  const { rows: jobs } = await tx.query<{ view: string; start_offset: string | null; end_offset: string | null; schedule: string }>(
    `SELECT ca.view_name AS view, j.config->>'start_offset' AS start_offset, j.config->>'end_offset' AS end_offset, j.schedule_interval::text AS schedule
       FROM timescaledb_information.jobs j
       JOIN timescaledb_information.continuous_aggregates ca
         -- jobs names the view itself in recent TimescaleDB releases, its materialization table in older ones
         ON (j.hypertable_schema = ca.view_schema AND j.hypertable_name = ca.view_name)
         OR (j.hypertable_schema = ca.materialization_hypertable_schema AND j.hypertable_name = ca.materialization_hypertable_name)
      WHERE j.proc_name = 'policy_refresh_continuous_aggregate' AND ca.view_name = ANY($1::text[])`,
    [names],
  );
  for (const j of jobs) out.set(j.view, { startOffset: j.start_offset, endOffset: j.end_offset, scheduleInterval: j.schedule });
  return out;
}

async function enableCompression(tx: Connection, done: string[], spec: TableSpec, policies: PolicySettings): Promise<void> {
  const c = spec.compression;
  if (!c) return;
  const orderBy = c.orderBy.replace(/^(\S+)/, (name) => ident(name));
  // ALTER TABLE options take literals only; both values come from the trusted table description.
  await run(
    tx,
    done,
    `compression settings ${spec.name}`,
    `ALTER TABLE ${ident(spec.name)} SET (timescaledb.compress, timescaledb.compress_segmentby = ${literal(identList(c.segmentBy))}, timescaledb.compress_orderby = ${literal(orderBy)})`,
  );
  const after = policies.compressAfter[spec.name as HypertableName];
  if (after) {
    await run(tx, done, `compression policy ${spec.name} after ${after}`, 'SELECT add_compression_policy($1::regclass, $2::interval)', [
      spec.name,
      after,
    ]);
  }
}
