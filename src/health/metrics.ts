/**
 * Prometheus text exposition (format 0.0.4) of a health report plus the load ledger's totals.
 *
 *   tickvault_up                             gauge    1 when the database answered
 *   tickvault_healthy                        gauge    1 when the health check found no reason
 *   tickvault_check_latency_seconds          gauge    round trip of SELECT 1
 *   tickvault_pool_connections{state}        gauge    total / in_use / idle / overflow
 *   tickvault_pool_waiting                   gauge    callers waiting for a connection
 *   tickvault_pool_recycled_total            counter  connections closed and replaced
 *   tickvault_rows_loaded_total{table}       counter  rows inserted by all loads (ledger)
 *   tickvault_rows_rejected_total{table}     counter  rows quarantined by all loads (ledger)
 *   tickvault_load_duration_seconds{table}   summary  _sum/_count over completed loads
 *   tickvault_last_load_duration_seconds{table} gauge
 *   tickvault_loads{table,status}            gauge    loads per status
 *   tickvault_table_up{table}                gauge    1 when the table is readable
 *   tickvault_data_freshness_seconds{table}  gauge    now − newest row
 *   tickvault_chunks{table}                  gauge
 *   tickvault_compression_ratio{table}       gauge    (community tier, compressed tables)
 *   tickvault_job_failures_total{job_id,procedure} counter
 *   tickvault_host_up{host,role}             gauge    primary + replicas: 1 when the host answered
 *   tickvault_replica_lag_seconds{host}      gauge    replicas: seconds behind the primary
 */
import type { Engine } from '../engine/types.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE } from '../schema/bookkeeping.js';
import { hostSamples } from './hosts.js';
import type { HealthReport } from './monitor.js';

type Labels = Readonly<Record<string, string>>;
interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter' | 'summary';
  readonly help: string;
  readonly samples: { suffix?: string; labels?: Labels; value: number }[];
}

export interface LedgerTotals {
  readonly byTable: readonly {
    table: string;
    inserted: number;
    rejected: number;
    durationSum: number;
    completed: number;
    lastDuration: number | null;
  }[];
  readonly byStatus: readonly { table: string; status: string; n: number }[];
}

/** Sums from the ledger; undefined when the ledger is not there (schema not initialised, server down). */
export async function ledgerTotals(engine: Engine): Promise<LedgerTotals | undefined> {
  try {
    const totals = await engine.query<{ table: string; inserted: string; rejected: string }>(
      `SELECT l.target_table AS table, COALESCE(sum(b.records_inserted), 0)::text AS inserted, COALESCE(sum(b.records_rejected), 0)::text AS rejected
         FROM ${LOADS_TABLE} l LEFT JOIN ${LOAD_BATCHES_TABLE} b ON b.load_id = l.load_id GROUP BY l.target_table`,
    );
    const durations = await engine.query<{ table: string; sum_ms: string | null; n: string; last_ms: string | null }>(
      `SELECT target_table AS table, sum(duration_ms)::text AS sum_ms, count(*)::text AS n,
              (array_agg(duration_ms ORDER BY load_id DESC))[1]::text AS last_ms
         FROM ${LOADS_TABLE} WHERE status = 'completed' AND duration_ms IS NOT NULL GROUP BY target_table`,
    );
    const status = await engine.query<{ table: string; status: string; n: string }>(
      `SELECT target_table AS table, status, count(*)::text AS n FROM ${LOADS_TABLE} GROUP BY target_table, status`,
    );
    const dur = new Map(durations.rows.map((r) => [r.table, r]));
    return {
      byTable: totals.rows.map((r) => {
        const d = dur.get(r.table);
        return {
          table: r.table,
          inserted: Number(r.inserted),
          rejected: Number(r.rejected),
          durationSum: d?.sum_ms ? Number(d.sum_ms) / 1000 : 0,
          completed: d ? Number(d.n) : 0,
          lastDuration: d?.last_ms ? Number(d.last_ms) / 1000 : null,
        };
      }),
      byStatus: status.rows.map((r) => ({ table: r.table, status: r.status, n: Number(r.n) })),
    };
  } catch {
    return undefined;
  }
}

export function renderMetrics(report: HealthReport, ledger: LedgerTotals | undefined): string {
  const families: Family[] = [];
  const fam = (name: string, type: Family['type'], help: string): Family => {
    const f: Family = { name, type, help, samples: [] };
    families.push(f);
    return f;
  };
  fam('tickvault_up', 'gauge', 'Whether the database answered the health check (1) or not (0).').samples.push({
    value: report.connectivity.ok ? 1 : 0,
  });
  fam('tickvault_healthy', 'gauge', 'Whether the health check found the database healthy (1) or not (0).').samples.push({
    value: report.healthy ? 1 : 0,
  });
  const latency = fam('tickvault_check_latency_seconds', 'gauge', 'Round trip of SELECT 1 including acquiring a connection.');
  if (report.connectivity.latencyMs !== null) latency.samples.push({ value: report.connectivity.latencyMs / 1000 });
  const pool = fam('tickvault_pool_connections', 'gauge', 'Connections in the pool by state.');
  pool.samples.push(
    { labels: { state: 'total' }, value: report.pool.size },
    { labels: { state: 'in_use' }, value: report.pool.inUse },
    { labels: { state: 'idle' }, value: report.pool.idle },
    { labels: { state: 'overflow' }, value: report.pool.overflow },
  );
  fam('tickvault_pool_waiting', 'gauge', 'Callers waiting for a free connection.').samples.push({ value: report.pool.waiting });
  fam('tickvault_pool_recycled_total', 'counter', 'Connections closed by the pool (age, idle, broken) since start.').samples.push({
    value: report.pool.recycled,
  });

  const loaded = fam('tickvault_rows_loaded_total', 'counter', 'Rows inserted by loads, from the load ledger.');
  const rejected = fam('tickvault_rows_rejected_total', 'counter', 'Rows quarantined by loads, from the load ledger.');
  const duration = fam('tickvault_load_duration_seconds', 'summary', 'Duration of completed loads.');
  const lastDuration = fam('tickvault_last_load_duration_seconds', 'gauge', 'Duration of the newest completed load.');
  const loads = fam('tickvault_loads', 'gauge', 'Loads in the ledger by status.');
  for (const t of ledger?.byTable ?? []) {
    const labels = { table: t.table };
    loaded.samples.push({ labels, value: t.inserted });
    rejected.samples.push({ labels, value: t.rejected });
    duration.samples.push({ suffix: '_sum', labels, value: t.durationSum }, { suffix: '_count', labels, value: t.completed });
    if (t.lastDuration !== null) lastDuration.samples.push({ labels, value: t.lastDuration });
  }
  for (const s of ledger?.byStatus ?? []) loads.samples.push({ labels: { table: s.table, status: s.status }, value: s.n });

  const tableUp = fam('tickvault_table_up', 'gauge', 'Whether the table can be read (1) or not (0).');
  const fresh = fam('tickvault_data_freshness_seconds', 'gauge', 'Seconds since the newest row of the table.');
  const chunks = fam('tickvault_chunks', 'gauge', 'Chunks of the hypertable.');
  const ratio = fam('tickvault_compression_ratio', 'gauge', 'Bytes before compression divided by bytes after.');
  for (const t of report.tables) {
    const labels = { table: t.table };
    tableUp.samples.push({ labels, value: t.reachable ? 1 : 0 });
    if (t.freshnessSeconds !== null) fresh.samples.push({ labels, value: t.freshnessSeconds });
    if (t.chunks !== null) chunks.samples.push({ labels, value: t.chunks });
    if (t.compression?.ratio) ratio.samples.push({ labels, value: t.compression.ratio });
  }
  const jobFailures = fam('tickvault_job_failures_total', 'counter', 'Failed runs of TimescaleDB background jobs.');
  for (const j of report.jobs)
    jobFailures.samples.push({ labels: { job_id: String(j.jobId), procedure: j.procedure }, value: j.totalFailures });

  const hostUp = fam('tickvault_host_up', 'gauge', 'Whether each configured host answered (1) or not (0), by role.');
  const lag = fam('tickvault_replica_lag_seconds', 'gauge', 'Seconds a replica is behind the primary.');
  for (const h of hostSamples(report.hosts ?? [])) {
    hostUp.samples.push({ labels: { host: h.host, role: h.role }, value: h.up });
    if (h.lagSeconds !== null) lag.samples.push({ labels: { host: h.host }, value: h.lagSeconds });
  }

  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) out.push(`${f.name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return `${out.join('\n')}\n`;
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels || Object.keys(labels).length === 0) return '';
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')}}`;
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
