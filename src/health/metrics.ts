/**
 * Prometheus metrics of a health report and the load ledger, through prom-client: one Registry
 * per TickvaultMetrics (never the global one), Node.js process/runtime families from
 * collectDefaultMetrics, and the families below (format 0.0.4).
 *
 *   tickvault_up                             gauge      1 when the database answered
 *   tickvault_healthy                        gauge      1 when the health check found no reason
 *   tickvault_check_latency_seconds          gauge      round trip of SELECT 1
 *   tickvault_pool_connections{state}        gauge      total / in_use / idle / overflow
 *   tickvault_pool_waiting                   gauge      callers waiting for a connection
 *   tickvault_pool_recycled_total            counter    connections closed and replaced
 *   tickvault_rows_loaded_total{table}       counter    rows inserted by all loads (ledger)
 *   tickvault_rows_rejected_total{table}     counter    rows quarantined by all loads (ledger)
 *   tickvault_rows_quarantined_total{table,reason} counter  quarantine rows by reason
 *   tickvault_load_duration_seconds{table}   histogram  completed loads (ledger); was a summary
 *   tickvault_last_load_duration_seconds{table} gauge
 *   tickvault_loads{table,status}            gauge      loads per status
 *   tickvault_table_up{table}                gauge      1 when the table is readable
 *   tickvault_data_freshness_seconds{table}  gauge      now − newest row
 *   tickvault_chunks{table}                  gauge
 *   tickvault_compression_ratio{table}       gauge      (community tier, compressed tables)
 *   tickvault_job_failures_total{job_id,procedure} counter
 *   tickvault_host_up{host,role}             gauge      primary + replicas: 1 when the host answered
 *   tickvault_replica_lag_seconds{host}      gauge      replicas: seconds behind the primary
 *   tickvault_metrics_snapshot_age_seconds   gauge      age of the cached database reads
 * In-process loads, when their BulkLoadOptions.observer is `metrics.loadObserver()`:
 *   tickvault_batch_write_seconds{table}     histogram  one COPY/INSERT of a batch
 *   tickvault_process_load_seconds{table,status} histogram  loads run by this process
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../engine/types.js';
import type { LoadObserver } from '../load/observer.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE, QUARANTINE_TABLE } from '../schema/bookkeeping.js';
import { hostSamples } from './hosts.js';
import type { HealthReport } from './monitor.js';

export interface LedgerTotals {
  readonly byTable: readonly {
    table: string;
    inserted: number;
    rejected: number;
    lastDuration: number | null;
  }[];
  readonly byStatus: readonly { table: string; status: string; n: number }[];
  /** Completed loads' durations, grouped by equal value (`n` loads took `seconds`). */
  readonly durations: readonly { table: string; seconds: number; n: number }[];
  readonly quarantined: readonly { table: string; reason: string; n: number }[];
}

/** What one scrape reports: read from the database at most once per the server's max age. */
export interface MetricsSnapshot {
  readonly report: HealthReport;
  readonly ledger: LedgerTotals | undefined;
  /** performance.now() when it was read. */
  readonly readAt?: number;
}

/** Seconds: loads run from well under a second (a test fixture) to hours (a month of trades). */
export const LOAD_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400];
export const BATCH_WRITE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The quarantine's reason as a bounded label: the constraint's name, or the reason up to its first
 * ': ' (the rest carries the offending value). The same key the loader's topRejectReasons uses.
 */
const REASON_KEY_SQL = `COALESCE(constraint_name, regexp_replace(reason, ': .*$', ''))`;

/** Sums from the ledger; undefined when the ledger is not there (schema not initialised, server down). */
export async function ledgerTotals(engine: Engine): Promise<LedgerTotals | undefined> {
  try {
    const totals = await engine.query<{ table: string; inserted: string; rejected: string }>(
      `SELECT l.target_table AS table, COALESCE(sum(b.records_inserted), 0)::text AS inserted, COALESCE(sum(b.records_rejected), 0)::text AS rejected
         FROM ${LOADS_TABLE} l LEFT JOIN ${LOAD_BATCHES_TABLE} b ON b.load_id = l.load_id GROUP BY l.target_table`,
    );
    const last = await engine.query<{ table: string; last_ms: string | null }>(
      `SELECT target_table AS table, (array_agg(duration_ms ORDER BY load_id DESC))[1]::text AS last_ms
         FROM ${LOADS_TABLE} WHERE status = 'completed' AND duration_ms IS NOT NULL GROUP BY target_table`,
    );
    const durations = await engine.query<{ table: string; ms: string; n: string }>(
      `SELECT target_table AS table, duration_ms::text AS ms, count(*)::text AS n
         FROM ${LOADS_TABLE} WHERE status = 'completed' AND duration_ms IS NOT NULL GROUP BY target_table, duration_ms`,
    );
    const status = await engine.query<{ table: string; status: string; n: string }>(
      `SELECT target_table AS table, status, count(*)::text AS n FROM ${LOADS_TABLE} GROUP BY target_table, status`,
    );
    const quarantined = await engine.query<{ table: string; reason: string; n: string }>(
      `SELECT target_table AS table, ${REASON_KEY_SQL} AS reason, count(*)::text AS n FROM ${QUARANTINE_TABLE} GROUP BY 1, 2`,
    );
    const lastMs = new Map(last.rows.map((r) => [r.table, r.last_ms]));
    return {
      byTable: totals.rows.map((r) => {
        const ms = lastMs.get(r.table);
        return {
          table: r.table,
          inserted: Number(r.inserted),
          rejected: Number(r.rejected),
          lastDuration: ms ? Number(ms) / 1000 : null,
        };
      }),
      byStatus: status.rows.map((r) => ({ table: r.table, status: r.status, n: Number(r.n) })),
      durations: durations.rows.map((r) => ({ table: r.table, seconds: Number(r.ms) / 1000, n: Number(r.n) })),
      quarantined: quarantined.rows.map((r) => ({ table: r.table, reason: r.reason, n: Number(r.n) })),
    };
  } catch {
    return undefined;
  }
}

export interface TickvaultMetricsOptions {
  /** Node.js process and runtime families (process_cpu_seconds_total, nodejs_heap_size_used_bytes, …). Default true. */
  readonly defaultMetrics?: boolean;
}

/** Called on every update with the snapshot, to set metrics registered on `registry` by others. */
export type SnapshotCollector = (snapshot: MetricsSnapshot, registry: Registry) => void;

export class TickvaultMetrics {
  readonly registry = new Registry();
  private readonly collectors: SnapshotCollector[] = [];
  private readonly up: Gauge;
  private readonly healthy: Gauge;
  private readonly latency: Gauge;
  private readonly pool: Gauge<'state'>;
  private readonly poolWaiting: Gauge;
  private readonly poolRecycled: Counter;
  private readonly loaded: Counter<'table'>;
  private readonly rejected: Counter<'table'>;
  private readonly quarantined: Counter<'table' | 'reason'>;
  private readonly loadDuration: Histogram<'table'>;
  private readonly lastDuration: Gauge<'table'>;
  private readonly loads: Gauge<'table' | 'status'>;
  private readonly tableUp: Gauge<'table'>;
  private readonly freshness: Gauge<'table'>;
  private readonly chunks: Gauge<'table'>;
  private readonly ratio: Gauge<'table'>;
  private readonly jobFailures: Counter<'job_id' | 'procedure'>;
  private readonly snapshotAge: Gauge;
  private readonly hostUp: Gauge<'host' | 'role'>;
  private readonly replicaLag: Gauge<'host'>;
  private readonly batchWrite: Histogram<'table'>;
  private readonly processLoad: Histogram<'table' | 'status'>;

  constructor(options: TickvaultMetricsOptions = {}) {
    const registers = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) =>
      new Histogram<L>({ name, help, labelNames, buckets, registers });
    this.up = gauge('tickvault_up', 'Whether the database answered the health check (1) or not (0).');
    this.healthy = gauge('tickvault_healthy', 'Whether the health check found the database healthy (1) or not (0).');
    this.latency = gauge('tickvault_check_latency_seconds', 'Round trip of SELECT 1 including acquiring a connection.');
    this.pool = gauge('tickvault_pool_connections', 'Connections in the pool by state.', ['state']);
    this.poolWaiting = gauge('tickvault_pool_waiting', 'Callers waiting for a free connection.');
    this.poolRecycled = counter('tickvault_pool_recycled_total', 'Connections closed by the pool (age, idle, broken) since start.');
    this.loaded = counter('tickvault_rows_loaded_total', 'Rows inserted by loads, from the load ledger.', ['table']);
    this.rejected = counter('tickvault_rows_rejected_total', 'Rows quarantined by loads, from the load ledger.', ['table']);
    this.quarantined = counter('tickvault_rows_quarantined_total', 'Rows in the quarantine by table and reason.', ['table', 'reason']);
    this.loadDuration = histogram(
      'tickvault_load_duration_seconds',
      'Duration of completed loads, from the load ledger.',
      ['table'],
      LOAD_DURATION_BUCKETS,
    );
    this.lastDuration = gauge('tickvault_last_load_duration_seconds', 'Duration of the newest completed load.', ['table']);
    this.loads = gauge('tickvault_loads', 'Loads in the ledger by status.', ['table', 'status']);
    this.tableUp = gauge('tickvault_table_up', 'Whether the table can be read (1) or not (0).', ['table']);
    this.freshness = gauge('tickvault_data_freshness_seconds', 'Seconds since the newest row of the table.', ['table']);
    this.chunks = gauge('tickvault_chunks', 'Chunks of the hypertable.', ['table']);
    this.ratio = gauge('tickvault_compression_ratio', 'Bytes before compression divided by bytes after.', ['table']);
    this.jobFailures = counter('tickvault_job_failures_total', 'Failed runs of TimescaleDB background jobs.', ['job_id', 'procedure']);
    this.snapshotAge = gauge('tickvault_metrics_snapshot_age_seconds', 'Age of the cached database reads behind this scrape.');
    this.hostUp = gauge('tickvault_host_up', 'Whether each configured host answered (1) or not (0), by role.', ['host', 'role']);
    this.replicaLag = gauge('tickvault_replica_lag_seconds', 'Seconds a replica is behind the primary.', ['host']);
    this.batchWrite = histogram(
      'tickvault_batch_write_seconds',
      'Time of one batch write (COPY or INSERT) by loads run in this process.',
      ['table'],
      BATCH_WRITE_BUCKETS,
    );
    this.processLoad = histogram(
      'tickvault_process_load_seconds',
      'Duration of loads run in this process, by outcome.',
      ['table', 'status'],
      LOAD_DURATION_BUCKETS,
    );
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Registers a collector run on each update: how extra families (e.g. per-host replica gauges) join. */
  addCollector(collector: SnapshotCollector): void {
    this.collectors.push(collector);
  }

  /** A LoadObserver feeding the in-process histograms; pass it as BulkLoadOptions.observer. */
  loadObserver(): LoadObserver {
    return {
      batchWritten: (e) => this.batchWrite.observe({ table: e.table }, e.seconds),
      loadFinished: (e) => this.processLoad.observe({ table: e.table, status: e.status }, e.seconds),
    };
  }

  /** Replaces every database-derived value with the snapshot's (series that vanished are dropped). */
  update(snapshot: MetricsSnapshot, now: number = performance.now()): void {
    const { report, ledger } = snapshot;
    for (const m of [this.latency, this.pool, this.loaded, this.rejected, this.quarantined, this.loadDuration, this.lastDuration])
      m.reset();
    for (const m of [this.loads, this.tableUp, this.freshness, this.chunks, this.ratio, this.jobFailures, this.poolRecycled]) m.reset();
    this.hostUp.reset();
    this.replicaLag.reset();
    for (const h of hostSamples(report.hosts ?? [])) {
      this.hostUp.set({ host: h.host, role: h.role }, h.up);
      if (h.lagSeconds !== null) this.replicaLag.set({ host: h.host }, h.lagSeconds);
    }
    this.up.set(report.connectivity.ok ? 1 : 0);
    this.healthy.set(report.healthy ? 1 : 0);
    if (report.connectivity.latencyMs !== null) this.latency.set(report.connectivity.latencyMs / 1000);
    this.pool.set({ state: 'total' }, report.pool.size);
    this.pool.set({ state: 'in_use' }, report.pool.inUse);
    this.pool.set({ state: 'idle' }, report.pool.idle);
    this.pool.set({ state: 'overflow' }, report.pool.overflow);
    this.poolWaiting.set(report.pool.waiting);
    this.poolRecycled.inc(report.pool.recycled);
    for (const t of ledger?.byTable ?? []) {
      this.loaded.inc({ table: t.table }, t.inserted);
      this.rejected.inc({ table: t.table }, t.rejected);
      if (t.lastDuration !== null) this.lastDuration.set({ table: t.table }, t.lastDuration);
      // A table with loads but none completed still shows an empty histogram.
      this.loadDuration.zero({ table: t.table });
    }
    for (const d of ledger?.durations ?? []) for (let i = 0; i < d.n; i++) this.loadDuration.observe({ table: d.table }, d.seconds);
    for (const q of ledger?.quarantined ?? []) this.quarantined.inc({ table: q.table, reason: q.reason }, q.n);
    for (const s of ledger?.byStatus ?? []) this.loads.set({ table: s.table, status: s.status }, s.n);
    for (const t of report.tables) {
      const labels = { table: t.table };
      this.tableUp.set(labels, t.reachable ? 1 : 0);
      if (t.freshnessSeconds !== null) this.freshness.set(labels, t.freshnessSeconds);
      if (t.chunks !== null) this.chunks.set(labels, t.chunks);
      if (t.compression?.ratio) this.ratio.set(labels, t.compression.ratio);
    }
    for (const j of report.jobs) this.jobFailures.inc({ job_id: String(j.jobId), procedure: j.procedure }, j.totalFailures);
    this.snapshotAge.set(snapshot.readAt === undefined ? 0 : Math.max(0, (now - snapshot.readAt) / 1000));
    for (const c of this.collectors) c(snapshot, this.registry);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The text of one report and ledger, without process metrics (for `tickvault health --metrics`-style one-offs and tests). */
export async function renderMetrics(report: HealthReport, ledger: LedgerTotals | undefined): Promise<string> {
  const metrics = new TickvaultMetrics({ defaultMetrics: false });
  metrics.update({ report, ledger });
  return metrics.render();
}
