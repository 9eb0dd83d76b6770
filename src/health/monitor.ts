/**
 * HealthMonitor: one `check()` answers "is this tickvault database working, and if not, why?".
 *
 * It never throws for a database problem: every probe that fails becomes part of the report (an
 * error string on the item, and a reason when it makes the database unhealthy). Unhealthy means:
 * the server cannot be reached, the schema is not initialised, a market table cannot be read, the
 * last load into a table failed (re-run it to resume), a policy job's last run failed, or data is
 * older than a configured staleness limit. Softer findings (a non-policy job failed, callers
 * waiting for a connection, an outdated schema) are warnings.
 */
import { staleRunningLoads } from '../load/ledger.js';
import { STALE_AFTER_MS } from '../load/load-claim.js';
import type { Capabilities, Engine, EngineKind, HostState, PoolStatus } from '../engine/types.js';
import { formatHost } from './hosts.js';
import { errorMessage } from '../errors.js';
import { LOADS_TABLE } from '../schema/bookkeeping.js';
import { LATEST_VERSION, schemaVersion } from '../schema/migrate.js';
import { MARKET_TABLES, type TableSpec } from '../schema/tables.js';
import { ident } from '../sql/ident.js';

export interface HealthOptions {
  /**
   * Maximum age in seconds of the newest row before a table counts as stale (unhealthy): one
   * number for every time-series table, or per table. Default: no limit (freshness is reported
   * only — historical databases are not "stale").
   */
  readonly maxStalenessSeconds?: number | Readonly<Record<string, number>>;
  /** Tables to check (default: every market table). */
  readonly tables?: readonly TableSpec[];
}

export interface ConnectivityReport {
  readonly ok: boolean;
  /** Round trip of `SELECT 1`, including acquiring a connection. */
  readonly latencyMs: number | null;
  readonly error?: string;
}

export interface TableHealth {
  readonly table: string;
  readonly reachable: boolean;
  readonly error?: string;
  /** Newest value of the time column (ISO), null when empty or not a time-series table. */
  readonly newest: string | null;
  /** now − newest, in seconds. */
  readonly freshnessSeconds: number | null;
  readonly chunks: number | null;
  /** before/after compression bytes and their ratio (community tier with compressed chunks). */
  readonly compression: {
    readonly beforeBytes: number;
    readonly afterBytes: number;
    readonly ratio: number | null;
    readonly compressedChunks: number;
  } | null;
}

export interface JobHealth {
  readonly jobId: number;
  readonly application: string;
  readonly procedure: string;
  readonly hypertable: string | null;
  readonly scheduled: boolean;
  readonly lastRunStatus: string | null;
  readonly lastRunStartedAt: string | null;
  readonly lastSuccessfulFinish: string | null;
  readonly totalRuns: number;
  readonly totalFailures: number;
}

export interface LoadHealth {
  readonly table: string;
  readonly loadId: string;
  readonly source: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly recordsInserted: number;
  readonly recordsRejected: number;
  readonly durationSeconds: number | null;
  readonly error: string | null;
}

export interface HealthReport {
  readonly healthy: boolean;
  /** Why the database is unhealthy (empty when healthy). */
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
  readonly checkedAt: string;
  /** Time the whole check took. */
  readonly checkMs: number;
  readonly engine: EngineKind;
  readonly location: string;
  readonly connectivity: ConnectivityReport;
  readonly pool: PoolStatus;
  readonly postgresVersion: string | null;
  readonly timescaledb: { readonly version: string; readonly edition: 'community' | 'apache' } | null;
  readonly tier: string | null;
  readonly schemaVersion: number | null;
  readonly latestSchemaVersion: number;
  readonly tables: readonly TableHealth[];
  /** TimescaleDB background jobs (empty without TimescaleDB; the Apache build has few or none). */
  readonly jobs: readonly JobHealth[];
  readonly jobsError?: string;
  /** The newest load per table from the ledger. */
  readonly lastLoads: readonly LoadHealth[];
  /** Primary + replicas: each host's role, lag and state (empty for a single host). */
  readonly hosts?: readonly HostState[];
  /** host:port the table checks read from, when the engine has replicas. */
  readonly readsFrom?: string;
}

const POLICY_PROCS = /^policy_(retention|compression|refresh_continuous_aggregate|reorder)$|columnstore/;

export class HealthMonitor {
  constructor(
    private readonly engine: Engine,
    private readonly options: HealthOptions = {},
  ) {}

  async check(): Promise<HealthReport> {
    const started = performance.now();
    const checkedAt = new Date();
    const reasons: string[] = [];
    const warnings: string[] = [];
    const engine = this.engine;
    const hosts = engine.hosts ? await engine.hosts() : [];
    for (const h of hosts) {
      if (h.state === 'down') warnings.push(`host ${h.host} is down: ${h.error ?? 'unreachable'}`);
      else if (h.state === 'lagging')
        warnings.push(
          `replica ${h.host} is ${h.lagSeconds === null ? 'behind by an unknown time' : `${h.lagSeconds} s behind`}: reads skip it`,
        );
    }
    const base = {
      checkedAt: checkedAt.toISOString(),
      engine: engine.kind,
      location: engine.location,
      latestSchemaVersion: LATEST_VERSION,
      hosts,
    };

    // 1. Connectivity and round trip.
    let connectivity: ConnectivityReport;
    const t0 = performance.now();
    try {
      await engine.query('SELECT 1');
      connectivity = { ok: true, latencyMs: round(performance.now() - t0, 3) };
    } catch (err) {
      connectivity = { ok: false, latencyMs: null, error: errorMessage(err) };
      reasons.push(`cannot reach the database: ${errorMessage(err)}`);
      return {
        ...base,
        healthy: false,
        reasons,
        warnings,
        checkMs: round(performance.now() - started, 3),
        connectivity,
        pool: engine.poolStatus(),
        postgresVersion: null,
        timescaledb: null,
        tier: null,
        schemaVersion: null,
        tables: [],
        jobs: [],
        lastLoads: [],
      };
    }

    // 2. Versions and schema.
    let caps: Capabilities | undefined;
    try {
      caps = await engine.capabilities({ refresh: true });
    } catch (err) {
      reasons.push(`cannot read the server's capabilities: ${errorMessage(err)}`);
    }
    let version: number | null = null;
    try {
      version = await schemaVersion(engine);
      if (version === 0) reasons.push('the schema is not initialised: run `tickvault init`');
      else if (version < LATEST_VERSION)
        warnings.push(`schema version ${version} is behind ${LATEST_VERSION}: run \`tickvault init\` to upgrade`);
    } catch (err) {
      reasons.push(`cannot read the schema version: ${errorMessage(err)}`);
    }

    // 3. Tables: reachable, newest row, chunks, compression.
    const specs = this.options.tables ?? MARKET_TABLES;
    const chunkCounts = caps?.hypertables
      ? await this.chunkCounts().catch((err: unknown) => {
          warnings.push(`cannot count chunks: ${errorMessage(err)}`);
          return new Map<string, number>();
        })
      : new Map<string, number>();
    const tables: TableHealth[] = [];
    // The data checks read what a query would: from a replica under the lag bound where there is one.
    let reads: Engine = engine;
    if (version !== 0 && engine.forReads) {
      try {
        reads = await engine.forReads();
      } catch (err) {
        warnings.push(`cannot choose a host for reads: ${errorMessage(err)}`);
      }
    }
    if (version !== 0) {
      for (const spec of specs) tables.push(await this.tableHealth(reads, spec, caps, chunkCounts, checkedAt));
    }
    for (const t of tables) {
      if (!t.reachable) reasons.push(`table ${t.table} is not reachable: ${t.error}`);
      const limit = this.stalenessLimit(t.table);
      if (t.reachable && limit !== undefined && t.freshnessSeconds !== null && t.freshnessSeconds > limit) {
        reasons.push(`table ${t.table} is stale: newest row ${t.newest} is ${Math.round(t.freshnessSeconds)} s old (limit ${limit} s)`);
      }
      if (t.reachable && limit !== undefined && t.newest === null && specs.find((s) => s.name === t.table)?.hypertable) {
        warnings.push(`table ${t.table} is empty (staleness limit ${limit} s)`);
      }
    }

    // 4. Background jobs.
    let jobs: JobHealth[] = [];
    let jobsError: string | undefined;
    if (caps?.timescaledbVersion) {
      try {
        jobs = await this.jobs();
      } catch (err) {
        jobsError = errorMessage(err);
        warnings.push(`cannot read background jobs: ${jobsError}`);
      }
      for (const j of jobs) {
        if (j.lastRunStatus?.toLowerCase() === 'failed') {
          const msg = `job ${j.jobId} (${j.procedure}${j.hypertable ? ` on ${j.hypertable}` : ''}) last run failed (${j.totalFailures} of ${j.totalRuns} runs failed)`;
          if (POLICY_PROCS.test(j.procedure)) reasons.push(msg);
          else warnings.push(msg);
        }
      }
    }

    // 5. The last load per table.
    let lastLoads: LoadHealth[] = [];
    if (version !== null && version > 0) {
      try {
        lastLoads = await this.lastLoads();
      } catch (err) {
        reasons.push(`cannot read the load ledger: ${errorMessage(err)}`);
      }
      for (const l of lastLoads) {
        if (l.status === 'failed')
          reasons.push(
            `the last load into ${l.table} (load ${l.loadId}, ${l.source}) failed: ${l.error ?? 'unknown error'}; re-run it to resume`,
          );
      }
      try {
        for (const s of await staleRunningLoads(engine, STALE_AFTER_MS)) {
          const owner = s.owner?.pid !== undefined ? ` (owner pid ${s.owner.pid} on ${s.owner.host ?? 'an unknown host'})` : '';
          warnings.push(
            `load ${s.loadId} into ${s.table} (${s.source}) is marked running but has had no heartbeat for ${formatAge(s.heartbeatAgeSeconds)}${owner}: ` +
              'its process is gone or lost the database; re-run the same load to resume it',
          );
        }
      } catch (err) {
        warnings.push(`cannot read running loads: ${errorMessage(err)}`);
      }
    }

    const pool = engine.poolStatus();
    if (engine.kind === 'server') {
      const room = await this.connectionRoom().catch(() => undefined);
      if (room !== undefined && pool.max > room) {
        warnings.push(
          `the pool may open ${pool.max} connections (poolSize + maxOverflow) but the server allows ${room} for non-superusers ` +
            '(max_connections - superuser_reserved_connections): under load connections will be refused; lower TICKVAULT_POOL_SIZE/TICKVAULT_MAX_OVERFLOW or raise max_connections',
        );
      }
    }
    if (pool.waiting > 0) warnings.push(`${pool.waiting} caller(s) waiting for a database connection (pool of ${pool.size})`);

    return {
      ...base,
      healthy: reasons.length === 0,
      reasons,
      warnings,
      checkMs: round(performance.now() - started, 3),
      connectivity,
      pool,
      postgresVersion: caps?.postgresVersion ?? null,
      timescaledb: caps?.timescaledbVersion
        ? { version: caps.timescaledbVersion, edition: caps.timescaledbLicense === 'apache' ? 'apache' : 'community' }
        : null,
      tier: caps?.tier ?? null,
      schemaVersion: version,
      tables,
      jobs,
      ...(jobsError ? { jobsError } : {}),
      lastLoads,
      ...(reads !== engine || hosts.length > 0 ? { readsFrom: reads === engine ? 'primary' : reads.location } : {}),
    };
  }

  private stalenessLimit(table: string): number | undefined {
    const m = this.options.maxStalenessSeconds;
    return typeof m === 'number' ? m : m?.[table];
  }

  private async chunkCounts(): Promise<Map<string, number>> {
    const { rows } = await this.engine.query<{ hypertable_name: string; n: number; compressed: number }>(
      `SELECT hypertable_name, count(*)::int AS n FROM timescaledb_information.chunks
        WHERE hypertable_schema = current_schema() GROUP BY hypertable_name`,
    );
    return new Map(rows.map((r) => [r.hypertable_name, Number(r.n)]));
  }

  private async tableHealth(
    reads: Engine,
    spec: TableSpec,
    caps: Capabilities | undefined,
    chunkCounts: Map<string, number>,
    now: Date,
  ): Promise<TableHealth> {
    const time = spec.hypertable?.timeColumn ?? (spec.columns.some((c) => c.name === 'updated_at') ? 'updated_at' : undefined);
    let newest: Date | null = null;
    try {
      if (time) {
        const { rows } = await reads.query<{ newest: Date | null }>(`SELECT max(${ident(time)}) AS newest FROM ${ident(spec.name)}`);
        newest = rows[0]?.newest ? new Date(rows[0].newest) : null;
      } else {
        await reads.query(`SELECT 1 FROM ${ident(spec.name)} LIMIT 1`);
      }
    } catch (err) {
      return {
        table: spec.name,
        reachable: false,
        error: errorMessage(err),
        newest: null,
        freshnessSeconds: null,
        chunks: null,
        compression: null,
      };
    }
    const isHyper = spec.hypertable !== undefined && caps?.hypertables === true;
    let compression: TableHealth['compression'] = null;
    if (isHyper && caps?.compression) {
      try {
        compression = await this.compressionStats(spec.name);
      } catch {
        compression = null; // not a compressed hypertable, or the stats function is missing
      }
    }
    return {
      table: spec.name,
      reachable: true,
      newest: newest ? newest.toISOString() : null,
      freshnessSeconds: newest ? round((now.getTime() - newest.getTime()) / 1000, 3) : null,
      chunks: isHyper ? (chunkCounts.get(spec.name) ?? 0) : null,
      compression,
    };
  }

  /** hypertable_columnstore_stats (2.18+) or hypertable_compression_stats, whichever exists. */
  private async compressionStats(table: string): Promise<TableHealth['compression']> {
    const { rows: fns } = await this.engine.query<{ columnstore: boolean }>(
      `SELECT to_regproc('hypertable_columnstore_stats') IS NOT NULL AS columnstore`,
    );
    const fn = fns[0]?.columnstore ? 'hypertable_columnstore_stats' : 'hypertable_compression_stats';
    const { rows } = await this.engine.query<{ before: string | null; after: string | null; chunks: string | null }>(
      `SELECT before_compression_total_bytes::text AS before, after_compression_total_bytes::text AS after,
              number_compressed_chunks::text AS chunks FROM ${fn}($1::regclass)`,
      [table],
    );
    const r = rows[0];
    if (!r || r.before === null || r.after === null)
      return { beforeBytes: 0, afterBytes: 0, ratio: null, compressedChunks: Number(r?.chunks ?? 0) };
    const before = Number(r.before);
    const after = Number(r.after);
    return {
      beforeBytes: before,
      afterBytes: after,
      ratio: after > 0 ? round(before / after, 3) : null,
      compressedChunks: Number(r.chunks ?? 0),
    };
  }

  private async jobs(): Promise<JobHealth[]> {
    const { rows } = await this.engine.query<{
      job_id: number;
      application_name: string;
      proc_name: string;
      hypertable_name: string | null;
      scheduled: boolean;
      last_run_status: string | null;
      last_run_started_at: Date | number | null;
      last_successful_finish: Date | number | null;
      total_runs: string | null;
      total_failures: string | null;
    }>(
      `SELECT j.job_id, j.application_name, j.proc_name, j.hypertable_name, j.scheduled,
              s.last_run_status, s.last_run_started_at, s.last_successful_finish,
              s.total_runs::text AS total_runs, s.total_failures::text AS total_failures
         FROM timescaledb_information.jobs j
         LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
        ORDER BY j.job_id`,
    );
    return rows.map((r) => ({
      jobId: Number(r.job_id),
      application: r.application_name,
      procedure: r.proc_name,
      hypertable: r.hypertable_name,
      scheduled: r.scheduled,
      lastRunStatus: r.last_run_status,
      lastRunStartedAt: iso(r.last_run_started_at),
      lastSuccessfulFinish: iso(r.last_successful_finish),
      totalRuns: Number(r.total_runs ?? 0),
      totalFailures: Number(r.total_failures ?? 0),
    }));
  }

  /** Connections the server accepts from ordinary roles, shared by every client. */
  private async connectionRoom(): Promise<number> {
    const { rows } = await this.engine.query<{ room: number }>(
      `SELECT (current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int) AS room`,
    );
    return Number(rows[0]!.room);
  }

  private async lastLoads(): Promise<LoadHealth[]> {
    const { rows } = await this.engine.query<{
      target_table: string;
      load_id: string;
      source: string;
      status: string;
      started_at: Date;
      finished_at: Date | null;
      records_inserted: string;
      records_rejected: string;
      duration_ms: string | null;
      error: string | null;
    }>(
      `SELECT DISTINCT ON (target_table) target_table, load_id::text AS load_id, source, status, started_at, finished_at,
              records_inserted::text AS records_inserted, records_rejected::text AS records_rejected, duration_ms::text AS duration_ms, error
         FROM ${LOADS_TABLE} WHERE status <> 'superseded' ORDER BY target_table, load_id DESC`,
    );
    return rows.map((r) => ({
      table: r.target_table,
      loadId: r.load_id,
      source: r.source,
      status: r.status,
      startedAt: iso(r.started_at)!,
      finishedAt: iso(r.finished_at),
      recordsInserted: Number(r.records_inserted),
      recordsRejected: Number(r.records_rejected),
      durationSeconds: r.duration_ms === null ? null : Number(r.duration_ms) / 1000,
      error: r.error,
    }));
  }
}

/**
 * A timestamp as ISO text. node-postgres reads 'infinity'/'-infinity' as ±Infinity (TimescaleDB's
 * job stats say -infinity for "never"), which no Date can print: those are null, like NULL.
 */
function iso(d: Date | string | number | null): string | null {
  if (d === null || (typeof d === 'number' && !Number.isFinite(d)) || d === 'infinity' || d === '-infinity') return null;
  const t = new Date(d);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Human-readable report for `tickvault health`. */
export function formatHealth(r: HealthReport): string {
  const lines: string[] = [];
  lines.push(`health:       ${r.healthy ? 'HEALTHY' : 'UNHEALTHY'}`);
  for (const reason of r.reasons) lines.push(`  - ${reason}`);
  lines.push(`engine:       ${r.engine} (${r.location})`);
  lines.push(
    `connectivity: ${r.connectivity.ok ? `ok, round trip ${r.connectivity.latencyMs} ms` : `FAILED ${r.connectivity.error ?? ''}`}`,
  );
  lines.push(
    `pool:         size ${r.pool.size}, in use ${r.pool.inUse}, idle ${r.pool.idle}, waiting ${r.pool.waiting}, overflow ${r.pool.overflow}, recycled ${r.pool.recycled}`,
  );
  if (r.hosts && r.hosts.length > 0) {
    lines.push(`hosts:${r.readsFrom ? `        reads from ${r.readsFrom}` : ''}`);
    for (const h of r.hosts) lines.push(`  ${formatHost(h)}`);
  }
  if (r.postgresVersion) lines.push(`PostgreSQL:   ${r.postgresVersion}`);
  if (r.connectivity.ok)
    lines.push(`TimescaleDB:  ${r.timescaledb ? `${r.timescaledb.version} (${r.timescaledb.edition} edition)` : 'not installed'}`);
  if (r.schemaVersion !== null) lines.push(`schema:       version ${r.schemaVersion} of ${r.latestSchemaVersion}`);
  if (r.tables.length > 0) {
    lines.push('tables:');
    for (const t of r.tables) {
      if (!t.reachable) {
        lines.push(`  ${t.table.padEnd(24)} UNREACHABLE ${t.error}`);
        continue;
      }
      const parts = [t.newest ? `newest ${t.newest} (${formatAge(t.freshnessSeconds!)} ago)` : 'no rows'];
      if (t.chunks !== null) parts.push(`${t.chunks} chunks`);
      if (t.compression?.ratio) parts.push(`compression ${t.compression.ratio}x`);
      lines.push(`  ${t.table.padEnd(24)} ${parts.join(', ')}`);
    }
  }
  if (r.jobs.length > 0) {
    lines.push('jobs:');
    for (const j of r.jobs) {
      lines.push(
        `  ${String(j.jobId).padStart(5)} ${j.procedure.padEnd(32)} ${(j.hypertable ?? '').padEnd(16)} last ${j.lastRunStatus ?? 'never run'}, ${j.totalFailures}/${j.totalRuns} failed`,
      );
    }
  } else if (r.timescaledb) {
    lines.push('jobs:         none');
  }
  if (r.lastLoads.length > 0) {
    lines.push('last loads:');
    for (const l of r.lastLoads) {
      lines.push(
        `  ${l.table.padEnd(24)} #${l.loadId} ${l.status} ${l.recordsInserted} rows, ${l.recordsRejected} rejected${l.durationSeconds !== null ? `, ${l.durationSeconds} s` : ''} (${l.source})`,
      );
    }
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
