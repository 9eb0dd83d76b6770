/**
 * Applies pending migrations. On a server several processes may run `init` at once, so the whole
 * run holds an advisory lock on one dedicated connection; on the single-session embedded engine
 * there is nobody to race with and the lock is skipped (capability `sharedAccess`).
 */
import { CapabilityError, MigrationError, errorMessage } from '../errors.js';
import type { Connection, Engine, Queryable } from '../engine/types.js';
import { resolvePolicies, type PolicyOverrides } from '../config/policies.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { VERSION_TABLE, VERSION_TABLE_SQL } from './bookkeeping.js';

/** Arbitrary but fixed: identifies tickvault's migration lock among other advisory locks. */
const MIGRATION_LOCK_KEY = 7_146_524_100;

export interface MigrationOutcome {
  readonly version: number;
  readonly name: string;
  readonly status: 'applied' | 'already applied';
  readonly actions: readonly string[];
}

export interface MigrateResult {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly extensionCreated: boolean;
  readonly migrations: readonly MigrationOutcome[];
}

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface MigrateOptions {
  readonly policies?: PolicyOverrides;
  /**
   * Stop after this schema version (default: the latest). An older database is what the upgrade
   * tests start from; a version below the database's own changes nothing (no downgrades).
   */
  readonly to?: number;
}

export async function migrate(engine: Engine, options: MigrateOptions = {}): Promise<MigrateResult> {
  const policies = resolvePolicies(options.policies);
  const target = options.to ?? LATEST_VERSION;
  if (!Number.isInteger(target) || target < 1 || target > LATEST_VERSION) {
    throw new MigrationError(`schema version ${String(options.to)} does not exist (versions 1..${LATEST_VERSION})`);
  }
  // CREATE EXTENSION IF NOT EXISTS races with itself (two sessions both see it missing; the loser
  // fails on pg_extension's unique index), so it too runs under the migration lock.
  const { sharedAccess } = await engine.capabilities();
  const extensionCreated = await engine.withConnection(async (conn) => {
    if (sharedAccess) await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await ensureTimescaleExtension(conn);
    } finally {
      if (sharedAccess) await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
  const caps = await engine.capabilities({ refresh: true });
  return engine.withConnection(async (conn) => {
    if (caps.sharedAccess) await conn.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await conn.query(VERSION_TABLE_SQL);
      const applied = await appliedVersions(conn);
      const fromVersion = Math.max(0, ...applied);
      const outcomes: MigrationOutcome[] = [];
      for (const m of MIGRATIONS) {
        if (m.version > target) break;
        if (applied.has(m.version)) {
          outcomes.push({ version: m.version, name: m.name, status: 'already applied', actions: [] });
          continue;
        }
        const actions = await applyOne(conn, m, { caps, policies });
        outcomes.push({ version: m.version, name: m.name, status: 'applied', actions });
      }
      return { fromVersion, toVersion: Math.max(fromVersion, target), extensionCreated, migrations: outcomes };
    } finally {
      if (caps.sharedAccess) await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  });
}

async function applyOne(conn: Connection, m: Migration, ctx: Parameters<Migration['up']>[1]): Promise<string[]> {
  await conn.query('BEGIN');
  try {
    const actions = await m.up(conn, ctx);
    await conn.query(`INSERT INTO ${VERSION_TABLE} (version, name) VALUES ($1, $2)`, [m.version, m.name]);
    await conn.query('COMMIT');
    return actions;
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(`migration ${m.version} (${m.name}) failed and was rolled back: ${errorMessage(err)}`, { cause: err });
  }
}

async function appliedVersions(conn: Connection): Promise<Set<number>> {
  const { rows } = await conn.query<{ version: number }>(`SELECT version FROM ${VERSION_TABLE}`);
  return new Set(rows.map((r) => Number(r.version)));
}

/** Current schema version, or 0 when tickvault was never initialised here. */
export async function schemaVersion(engine: Queryable): Promise<number> {
  const { rows } = await engine.query<{ v: number | null }>(`SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 ELSE NULL END AS v`, [
    VERSION_TABLE,
  ]);
  if (rows[0]!.v === 0) return 0;
  const res = await engine.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${VERSION_TABLE}`);
  return Number(res.rows[0]!.v ?? 0);
}

async function ensureTimescaleExtension(engine: Queryable): Promise<boolean> {
  const { rows } = await engine.query<{ installed: string | null; available: string | null }>(
    `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed,
            (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS available`,
  );
  const row = rows[0]!;
  if (row.installed) return false;
  if (!row.available) {
    throw new CapabilityError(
      'the TimescaleDB extension is not installed on this PostgreSQL server. Install it (on Debian/Ubuntu: `npm run setup:server`, ' +
        'which builds the Apache-2 edition for the local PostgreSQL), add timescaledb to shared_preload_libraries and restart the server.',
    );
  }
  try {
    await engine.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  } catch (err) {
    const msg = errorMessage(err);
    if (/shared_preload_libraries/i.test(msg)) {
      throw new CapabilityError(
        `TimescaleDB is installed but not loaded: add shared_preload_libraries = 'timescaledb' to postgresql.conf and restart the server (${msg})`,
      );
    }
    throw new CapabilityError(`cannot create the TimescaleDB extension: ${msg} (it needs a superuser or the database owner)`);
  }
  return true;
}
