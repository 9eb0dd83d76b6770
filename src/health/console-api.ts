/**
 * The read-only data behind the web console (GET /api/* of `tickvault serve`). Every function
 * only SELECTs; identifiers come from the schema's own table specs and user input travels as
 * parameters, so the console runs fine with the reader role's privileges.
 */
import type { Engine, Queryable } from '../engine/types.js';
import { QueryError } from '../errors.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE, QUARANTINE_TABLE } from '../schema/bookkeeping.js';
import { MARKET_TABLES } from '../schema/tables.js';
import { bars, type BarSource, planBars } from '../query/queries.js';
import { ident } from '../sql/ident.js';

export interface SymbolCoverage {
  readonly table: string;
  readonly symbol: string;
  readonly first: string;
  readonly last: string;
  readonly rows: number;
  /** UTC days (YYYY-MM-DD) holding at least one row, oldest first: the coverage strip. */
  readonly days: readonly string[];
}

/** Per time-series table and symbol: the covered range, row count and the days with data. */
export async function coverage(engine: Queryable): Promise<SymbolCoverage[]> {
  const out: SymbolCoverage[] = [];
  for (const spec of MARKET_TABLES) {
    const time = spec.hypertable?.timeColumn;
    if (!time || !spec.columns.some((c) => c.name === 'symbol')) continue;
    const t = ident(time);
    const { rows } = await engine.query<{ symbol: string; first: Date; last: Date; n: string; days: string[] }>(
      `SELECT symbol, min(${t}) AS first, max(${t}) AS last, count(*)::text AS n,
              array_agg(DISTINCT to_char(${t} AT TIME ZONE 'UTC', 'YYYY-MM-DD') ORDER BY to_char(${t} AT TIME ZONE 'UTC', 'YYYY-MM-DD')) AS days
         FROM ${ident(spec.name)} GROUP BY symbol ORDER BY symbol`,
    );
    for (const r of rows)
      out.push({
        table: spec.name,
        symbol: r.symbol,
        first: new Date(r.first).toISOString(),
        last: new Date(r.last).toISOString(),
        rows: Number(r.n),
        days: r.days,
      });
  }
  return out;
}

export interface CandlesRequest {
  readonly symbol: string;
  readonly start: string;
  readonly end: string;
  /** A bar interval such as '1 minute', '1 hour'. */
  readonly interval: string;
  readonly source?: BarSource;
}

export interface Candles {
  /** The relation the bars came from (a rollup, trades_data or ohlcv_data), as `query bars` says. */
  readonly relation: string;
  readonly reason: string;
  readonly bars: readonly {
    time: string;
    publisherId: number;
    open: string;
    high: string;
    low: string;
    close: string;
    volume: string;
    trades: string | null;
  }[];
}

/** Bars by the same plan as `tickvault query bars` (rollup when it answers exactly, raw rows otherwise). */
export async function candles(engine: Engine, req: CandlesRequest): Promise<Candles> {
  const options = { source: req.source ?? 'trades' };
  const plan = await planBars(engine, req.symbol, req.start, req.end, req.interval, options);
  const rows = await bars(engine, req.symbol, req.start, req.end, req.interval, options);
  return {
    relation: plan.relation,
    reason: plan.reason,
    bars: rows.map((b) => ({
      time: new Date(Number(b.timeUs / 1000n)).toISOString(),
      publisherId: b.publisherId,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: String(b.volume),
      trades: b.tradeCount === null ? null : String(b.tradeCount),
    })),
  };
}

export interface LoadRow {
  readonly loadId: string;
  readonly table: string;
  readonly source: string;
  readonly mode: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly recordsIn: number;
  readonly recordsInserted: number;
  readonly recordsRejected: number;
  readonly durationSeconds: number | null;
  readonly rowsPerSecond: number | null;
  readonly strategy: string | null;
  /** Compressed chunks the load rewrote (null when the ledger has no record of any). */
  readonly touchedChunks: number | null;
  readonly error: string | null;
  /** Running loads: committed so far, the input's total when the loader knew it, % and ETA. */
  readonly progress: {
    readonly records: number;
    readonly total: number | null;
    readonly percent: number | null;
    readonly etaSeconds: number | null;
  } | null;
}

/** The ledger, newest first; running loads with the progress of their committed batches. */
export async function loads(engine: Queryable, limit = 200): Promise<LoadRow[]> {
  const { rows } = await engine.query<{
    load_id: string;
    target_table: string;
    source: string;
    mode: string;
    status: string;
    started_at: Date;
    finished_at: Date | null;
    records_in: string;
    records_inserted: string;
    records_rejected: string;
    duration_ms: string | null;
    details: Record<string, unknown> | null;
    error: string | null;
    b_in: string;
    b_ok: string;
    b_bad: string;
    elapsed_s: string;
  }>(
    `SELECT l.load_id::text AS load_id, l.target_table, l.source, l.mode, l.status, l.started_at, l.finished_at,
            l.records_in::text AS records_in, l.records_inserted::text AS records_inserted, l.records_rejected::text AS records_rejected,
            l.duration_ms::text AS duration_ms, l.details, l.error,
            COALESCE(b.r_in, 0)::text AS b_in, COALESCE(b.ok, 0)::text AS b_ok, COALESCE(b.bad, 0)::text AS b_bad,
            extract(epoch FROM (clock_timestamp() - l.started_at))::text AS elapsed_s
       FROM ${LOADS_TABLE} l
       LEFT JOIN LATERAL (SELECT sum(records_in) AS r_in, sum(records_inserted) AS ok, sum(records_rejected) AS bad
                            FROM ${LOAD_BATCHES_TABLE} WHERE load_id = l.load_id AND l.status = 'running') b ON true
      ORDER BY l.load_id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => {
    const details = r.details ?? {};
    const running = r.status === 'running';
    const inserted = running ? Number(r.b_ok) : Number(r.records_inserted);
    const duration = r.duration_ms === null ? null : Number(r.duration_ms) / 1000;
    const recordsIn = running ? Number(r.b_in) : Number(r.records_in);
    const total = typeof details.totalRecords === 'number' ? details.totalRecords : null;
    const elapsed = Number(r.elapsed_s);
    // A running load's rate over its whole time so far: a stalled load shows its rate falling
    // and no ETA of zero.
    const rate = running ? (elapsed > 0 ? recordsIn / elapsed : null) : duration ? recordsIn / duration : null;
    // Compressed chunks the load wrote into (decompressed and recompressed); row-store chunks are not tracked.
    const chunks = Array.isArray(details.recompressedChunks) ? details.recompressedChunks.length : null;
    return {
      loadId: r.load_id,
      table: r.target_table,
      source: r.source,
      mode: r.mode,
      status: r.status,
      startedAt: new Date(r.started_at).toISOString(),
      finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
      recordsIn,
      recordsInserted: inserted,
      recordsRejected: running ? Number(r.b_bad) : Number(r.records_rejected),
      durationSeconds: duration,
      rowsPerSecond: rate === null ? null : Math.round(rate),
      strategy: typeof details.strategy === 'string' ? details.strategy : null,
      touchedChunks: chunks,
      error: r.error,
      progress: running
        ? {
            records: recordsIn,
            total,
            percent: total ? Math.min(100, Math.round((recordsIn / total) * 1000) / 10) : null,
            etaSeconds: total && rate ? Math.max(0, Math.round((total - recordsIn) / rate)) : null,
          }
        : null,
    };
  });
}

export interface QuarantineFilter {
  readonly table?: string;
  readonly reason?: string;
  readonly load?: string;
}

export interface QuarantineView {
  readonly groups: readonly { table: string; reason: string; loadId: string | null; source: string | null; rows: number }[];
  readonly rows: readonly {
    id: string;
    table: string;
    loadId: string | null;
    reason: string;
    constraint: string | null;
    source: string | null;
    recordIndex: number | null;
    record: unknown;
    quarantinedAt: string;
  }[];
}

/** Quarantined rows grouped by reason and load, plus the newest rows themselves (record and origin). */
export async function quarantineView(engine: Queryable, filter: QuarantineFilter = {}, limit = 200): Promise<QuarantineView> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (filter.table) where.push(`target_table = $${params.push(filter.table)}`);
  if (filter.reason) where.push(`(reason = $${params.push(filter.reason)} OR constraint_name = $${params.length})`);
  if (filter.load) {
    if (!/^\d+$/.test(filter.load)) throw new QueryError(`load must be a load id (digits), got ${JSON.stringify(filter.load)}`);
    where.push(`load_id = $${params.push(filter.load)}::bigint`);
  }
  const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const groups = await engine.query<{ table: string; reason: string; load_id: string | null; source: string | null; n: string }>(
    `SELECT target_table AS table, COALESCE(constraint_name, reason) AS reason, load_id::text AS load_id, min(source) AS source, count(*)::text AS n
       FROM ${QUARANTINE_TABLE} ${cond} GROUP BY 1, 2, 3 ORDER BY 3 DESC NULLS LAST, 5 DESC`,
    params,
  );
  const rows = await engine.query<{
    id: string;
    target_table: string;
    load_id: string | null;
    reason: string;
    constraint_name: string | null;
    source: string | null;
    record_index: string | null;
    record: unknown;
    quarantined_at: Date;
  }>(
    `SELECT id::text AS id, target_table, load_id::text AS load_id, reason, constraint_name, source, record_index::text AS record_index,
            record, quarantined_at
       FROM ${QUARANTINE_TABLE} ${cond} ORDER BY id DESC LIMIT $${params.length + 1}`,
    [...params, limit],
  );
  return {
    groups: groups.rows.map((g) => ({ table: g.table, reason: g.reason, loadId: g.load_id, source: g.source, rows: Number(g.n) })),
    rows: rows.rows.map((r) => ({
      id: r.id,
      table: r.target_table,
      loadId: r.load_id,
      reason: r.reason,
      constraint: r.constraint_name,
      source: r.source,
      recordIndex: r.record_index === null ? null : Number(r.record_index),
      record: r.record,
      quarantinedAt: new Date(r.quarantined_at).toISOString(),
    })),
  };
}
