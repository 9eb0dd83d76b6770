/**
 * Retention and compression policies, as stored and as live in TimescaleDB.
 *
 * Two places hold a table's policy: the settings tickvault stores (`tickvault_settings`
 * 'policies', written by `init` and `policy`; `maintain` applies them with drop_chunks and
 * compress_chunk on every tier) and, on the community tier, TimescaleDB's policy jobs
 * (add_retention_policy / add_compression_policy), which the job scheduler runs by itself on a
 * server. `applyPolicyChanges` changes both in one transaction, so they agree; `readPolicies`
 * shows both, so a job added by hand is seen. On the Apache tier there are no policy jobs:
 * retention is the stored setting that `tickvault maintain` applies, and compression does not exist.
 *
 * Every interval is a bound parameter; table names come from the fixed list of hypertables.
 */
import type { Capabilities, Engine, Queryable } from '../engine/types.js';
import { CapabilityError } from '../errors.js';
import {
  HYPERTABLE_NAMES,
  resolvePolicies,
  type HypertableName,
  type PolicyAge,
  type PolicyOverrides,
  type PolicySettings,
} from '../config/policies.js';
import { SETTINGS_TABLE } from '../schema/bookkeeping.js';
import { ident } from '../sql/ident.js';

export interface PolicyJob {
  readonly jobId: number;
  /** drop_after (retention) or compress_after (compression), as the job's config holds it. */
  readonly after: string;
  readonly scheduleInterval: string;
}

export interface TablePolicies {
  readonly table: HypertableName;
  /** The stored setting (null = keep forever). */
  readonly retention: PolicyAge;
  readonly retentionJob: PolicyJob | null;
  /** Who drops the expired chunks here, in words. */
  readonly retentionRunsBy: string;
  /** The stored setting (null = never compress). */
  readonly compressAfter: PolicyAge;
  readonly compressionJob: PolicyJob | null;
  readonly compressionRunsBy: string;
}

export interface PoliciesReport {
  readonly tier: Capabilities['tier'];
  /** 'settings': stored at init / by `policy`; 'defaults': nothing stored (schema not initialised). */
  readonly from: 'settings' | 'defaults';
  readonly settings: PolicySettings;
  readonly tables: readonly TablePolicies[];
  readonly notes: readonly string[];
}

/** The stored policy settings merged over the defaults (and over `overrides`, for one-off runs). */
export async function storedPolicies(
  db: Queryable,
  overrides?: PolicyOverrides,
): Promise<{ policies: PolicySettings; from: 'settings' | 'defaults' }> {
  const { rows } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [SETTINGS_TABLE]);
  let stored: PolicyOverrides | undefined;
  if (rows[0]!.present) {
    const res = await db.query<{ value: PolicyOverrides }>(`SELECT value FROM ${ident(SETTINGS_TABLE)} WHERE key = 'policies'`);
    stored = res.rows[0]?.value;
  }
  // Stored JSON of older versions omits a table without retention: absent = keep forever there.
  const merged: PolicyOverrides = {
    chunkInterval: { ...(stored?.chunkInterval ?? {}), ...(overrides?.chunkInterval ?? {}) },
    compressAfter: { ...(stored?.compressAfter ?? {}), ...(overrides?.compressAfter ?? {}) },
    retainFor: { ...(stored?.retainFor ?? {}), ...(overrides?.retainFor ?? {}) },
    hourlyRefresh: { ...(stored?.hourlyRefresh ?? {}), ...(overrides?.hourlyRefresh ?? {}) },
  };
  return { policies: resolvePolicies(merged), from: stored ? 'settings' : 'defaults' };
}

/** Live policy jobs of a kind per hypertable of the current schema (none on the Apache tier). */
async function liveJobs(db: Queryable, kind: 'retention' | 'compression'): Promise<Map<string, PolicyJob>> {
  const proc = kind === 'retention' ? 'policy_retention' : 'policy_compression';
  const key = kind === 'retention' ? 'drop_after' : 'compress_after';
  const { rows } = await db.query<{ hypertable_name: string; job_id: number; after: string | null; schedule: string }>(
    `SELECT hypertable_name, job_id, config->>$2 AS after, schedule_interval::text AS schedule
       FROM timescaledb_information.jobs
      WHERE proc_name = $1 AND hypertable_schema = current_schema() ORDER BY job_id`,
    [proc, key],
  );
  const out = new Map<string, PolicyJob>();
  for (const r of rows) out.set(r.hypertable_name, { jobId: Number(r.job_id), after: r.after ?? '?', scheduleInterval: r.schedule });
  return out;
}

function runsBy(caps: Capabilities, kind: 'retention' | 'compression', setting: PolicyAge, job: PolicyJob | null): string {
  if (kind === 'compression' && !caps.compression) return `unavailable on tier ${caps.tier} (no compression in this edition)`;
  if (!caps.hypertables) return 'unavailable without TimescaleDB';
  if (setting === null && job === null) return kind === 'retention' ? 'nothing: history is kept' : 'nothing: chunks stay uncompressed';
  const manual = kind === 'retention' ? '`tickvault maintain` (drop_chunks)' : '`tickvault maintain` (compress_chunk)';
  if (!caps.policies) return `${manual}; tier ${caps.tier} has no policy jobs`;
  if (!job) return `${manual} only: no policy job`;
  return caps.jobScheduler
    ? `policy job ${job.jobId} (TimescaleDB job scheduler, every ${job.scheduleInterval}) and ${manual}`
    : `policy job ${job.jobId}, run by ${manual} (no job scheduler in this process)`;
}

/** Every hypertable's stored and live retention and compression policies. */
export async function readPolicies(engine: Engine): Promise<PoliciesReport> {
  const caps = await engine.capabilities();
  const { policies, from } = await storedPolicies(engine);
  const retention = caps.hypertables ? await liveJobs(engine, 'retention') : new Map<string, PolicyJob>();
  const compression = caps.hypertables ? await liveJobs(engine, 'compression') : new Map<string, PolicyJob>();
  const notes: string[] = [];
  if (caps.hypertables && !caps.policies) {
    notes.push(
      `tier ${caps.tier}: TimescaleDB policies do not exist in this edition; retention is applied by \`tickvault maintain\` (drop_chunks), compression is unavailable`,
    );
  }
  const tables: TablePolicies[] = [];
  for (const table of HYPERTABLE_NAMES) {
    const rj = retention.get(table) ?? null;
    const cj = compression.get(table) ?? null;
    // A job added or changed by hand is what the scheduler runs: say so rather than hide it.
    if (rj && !(await sameAge(engine, rj.after, policies.retainFor[table]).catch(() => false))) {
      notes.push(
        `${table}: policy job ${rj.jobId} drops chunks older than ${rj.after}, but the setting is ${policies.retainFor[table] ?? 'none'}; \`tickvault policy --retention ${table}=…\` sets both`,
      );
    }
    if (cj && !(await sameAge(engine, cj.after, policies.compressAfter[table]).catch(() => false))) {
      notes.push(
        `${table}: policy job ${cj.jobId} compresses after ${cj.after}, but the setting is ${policies.compressAfter[table] ?? 'none'}; \`tickvault policy --compress-after ${table}=…\` sets both`,
      );
    }
    tables.push({
      table,
      retention: policies.retainFor[table],
      retentionJob: rj,
      retentionRunsBy: runsBy(caps, 'retention', policies.retainFor[table], rj),
      compressAfter: policies.compressAfter[table],
      compressionJob: cj,
      compressionRunsBy: runsBy(caps, 'compression', policies.compressAfter[table], cj),
    });
  }
  return { tier: caps.tier, from, settings: policies, tables, notes };
}

export interface PolicyChange {
  readonly table: HypertableName;
  readonly policy: 'retention' | 'compression';
  readonly from: PolicyAge;
  readonly to: PolicyAge;
  /** 'changed': the setting or the live job changed; 'unchanged': both already were as asked. */
  readonly status: 'changed' | 'unchanged';
  /** What happened in the database, in words (job ids, or why there is no job). */
  readonly detail: string;
}

export interface PolicyChanges {
  readonly retainFor?: Partial<Record<HypertableName, PolicyAge>>;
  readonly compressAfter?: Partial<Record<HypertableName, PolicyAge>>;
}

/**
 * Sets retention and compression per table: the stored settings and, on the community tier, the
 * live policy jobs (an existing job is replaced; `none` removes it). Tables not named keep their
 * policies. One transaction: the settings and the jobs change together or not at all.
 */
export async function applyPolicyChanges(engine: Engine, changes: PolicyChanges): Promise<PolicyChange[]> {
  const caps = await engine.capabilities();
  if (!caps.hypertables) throw new CapabilityError('retention and compression policies need TimescaleDB');
  const { rows } = await engine.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [SETTINGS_TABLE]);
  if (!rows[0]!.present) throw new CapabilityError('the schema is not initialised here: run `tickvault init` first');
  return engine.transaction(async (tx) => {
    // One writer at a time, so two `policy` runs cannot each add a job for the same table.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['tickvault-policies']);
    const { policies } = await storedPolicies(tx);
    const next = resolvePolicies({
      chunkInterval: policies.chunkInterval,
      hourlyRefresh: policies.hourlyRefresh,
      retainFor: { ...policies.retainFor, ...(changes.retainFor ?? {}) },
      compressAfter: { ...policies.compressAfter, ...(changes.compressAfter ?? {}) },
    });
    const out: PolicyChange[] = [];
    const retentionJobs = await liveJobs(tx, 'retention');
    const compressionJobs = await liveJobs(tx, 'compression');
    for (const table of Object.keys(changes.retainFor ?? {}) as HypertableName[]) {
      out.push(
        await setPolicy(tx, caps, 'retention', table, policies.retainFor[table], next.retainFor[table], retentionJobs.get(table) ?? null),
      );
    }
    for (const table of Object.keys(changes.compressAfter ?? {}) as HypertableName[]) {
      out.push(
        await setPolicy(
          tx,
          caps,
          'compression',
          table,
          policies.compressAfter[table],
          next.compressAfter[table],
          compressionJobs.get(table) ?? null,
        ),
      );
    }
    await tx.query(
      `INSERT INTO ${ident(SETTINGS_TABLE)} (key, value) VALUES ('policies', $1::jsonb)
      ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = NOW()`,
      [JSON.stringify(next)],
    );
    return out;
  });
}

async function setPolicy(
  tx: Queryable,
  caps: Capabilities,
  kind: 'retention' | 'compression',
  table: HypertableName,
  from: PolicyAge,
  to: PolicyAge,
  job: PolicyJob | null,
): Promise<PolicyChange> {
  const base = { table, policy: kind, from, to };
  const settingChanged = !(await sameAge(tx, from, to));
  if (kind === 'compression' && !caps.compression) {
    return {
      ...base,
      status: settingChanged ? 'changed' : 'unchanged',
      detail: `setting stored, but compression is unavailable on tier ${caps.tier}: nothing is compressed`,
    };
  }
  if (!caps.policies) {
    return {
      ...base,
      status: settingChanged ? 'changed' : 'unchanged',
      detail: `tier ${caps.tier} has no policy jobs: ${to === null ? 'nothing is dropped' : 'expired chunks are dropped when `tickvault maintain` runs (drop_chunks)'}`,
    };
  }
  const jobMatches = to === null ? job === null : job !== null && (await sameAge(tx, job.after, to));
  if (jobMatches) {
    return {
      ...base,
      status: settingChanged ? 'changed' : 'unchanged',
      detail: job ? `policy job ${job.jobId} already ${kind === 'retention' ? 'drops after' : 'compresses after'} ${to}` : 'no policy job',
    };
  }
  const [remove, add] =
    kind === 'retention' ? ['remove_retention_policy', 'add_retention_policy'] : ['remove_compression_policy', 'add_compression_policy'];
  if (job) await tx.query(`SELECT ${remove}($1::regclass, if_exists => true)`, [ident(table)]);
  if (to === null) return { ...base, status: 'changed', detail: job ? `policy job ${job.jobId} removed` : 'no policy job' };
  if (kind === 'compression') {
    const { rows } = await tx.query<{ ok: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1 AND compression_enabled) AS ok',
      [table],
    );
    if (!rows[0]!.ok)
      return { ...base, status: 'changed', detail: `setting stored; ${table} has no compression settings, so no policy job was added` };
  }
  const { rows } = await tx.query<{ id: number }>(`SELECT ${add}($1::regclass, $2::interval) AS id`, [ident(table), to]);
  return { ...base, status: 'changed', detail: `${job ? `policy job ${job.jobId} replaced by` : 'added'} policy job ${rows[0]!.id}` };
}

/** Two ages equal as intervals ('1 year' = '12 months'); none equals only none. */
async function sameAge(db: Queryable, a: PolicyAge, b: PolicyAge): Promise<boolean> {
  if (a === null || b === null) return a === b;
  const { rows } = await db.query<{ same: boolean }>('SELECT $1::interval = $2::interval AS same', [a, b]);
  return rows[0]!.same;
}
