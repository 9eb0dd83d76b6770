/**
 * Database helpers of the tests: reading a table back as exact text, counting, resetting the
 * tables between tests, reading the quarantine and the ledger.
 */
import type { Engine, Queryable } from '../../src/engine/types.js';
import {
  DEFINITION_VERSIONS_TABLE,
  LOAD_BATCHES_TABLE,
  LOADS_TABLE,
  QUARANTINE_TABLE,
  SYMBOL_HISTORY_TABLE,
} from '../../src/schema/bookkeeping.js';
import { loadedColumns, type TableName, type TableSpec } from '../../src/schema/tables.js';
import { ident } from '../../src/sql/ident.js';

/** SQL that renders a column as exact text, session-timezone independent (timestamps in UTC). */
export function textExpr(name: string, kind: string): string {
  return kind === 'timestamptz' ? `(${ident(name)} AT TIME ZONE 'UTC')::text` : `${ident(name)}::text`;
}

/**
 * Every loaded column (plus generated ones) of every row, as text, in a stable order: two loads
 * that stored the same data give equal snapshots.
 */
export async function snapshot(db: Queryable, spec: TableSpec, where = 'TRUE', params: unknown[] = []): Promise<string[][]> {
  const cols = spec.columns.filter((c) => !c.serverFilled);
  const exprs = cols.map((c) => textExpr(c.name, c.type.kind));
  const order = cols.map((_c, i) => `${i + 1}`).join(', ');
  const { rows } = await db.query<Record<string, string | null>>(
    `SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')} FROM ${ident(spec.name)} WHERE ${where} ORDER BY ${order}`,
    params,
  );
  return rows.map((r) => cols.map((_c, i) => r[`c${i}`] ?? null) as string[]);
}

/** Rows of one table loaded column → text, as objects keyed by column name (ordered by time). */
export async function readRows(db: Queryable, spec: TableSpec, orderBy?: string): Promise<Record<string, string | null>[]> {
  const cols = spec.columns.filter((c) => !c.serverFilled);
  const exprs = cols.map((c) => `${textExpr(c.name, c.type.kind)} AS ${ident(c.name)}`);
  const order = orderBy ?? (spec.hypertable ? `${ident(spec.hypertable.timeColumn)}, ${ident(cols[1]!.name)}` : ident(cols[0]!.name));
  const { rows } = await db.query<Record<string, string | null>>(`SELECT ${exprs.join(', ')} FROM ${ident(spec.name)} ORDER BY ${order}`);
  return rows;
}

export async function count(db: Queryable, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${ident(table)} WHERE ${where}`, params);
  return Number(rows[0]!.n);
}

export interface QuarantineRow {
  load_id: string | null;
  target_table: string;
  reason: string;
  constraint_name: string | null;
  source: string | null;
  record_index: string | null;
  record: string;
}

/** Quarantine rows of a table (record as JSON text), ordered by record_index. */
export async function quarantined(db: Queryable, table: string): Promise<QuarantineRow[]> {
  const { rows } = await db.query<QuarantineRow>(
    `SELECT load_id::text AS load_id, target_table, reason, constraint_name, source, record_index::text AS record_index, record::text AS record
       FROM ${QUARANTINE_TABLE} q WHERE target_table = $1 ORDER BY q.record_index, q.id`,
    [table],
  );
  return rows;
}

export interface LedgerRow {
  load_id: string;
  source: string;
  content_hash: string;
  status: string;
  mode: string;
  records_in: string;
  records_inserted: string;
  records_rejected: string;
  batches: string;
}

export async function ledgerRows(db: Queryable, table: string): Promise<LedgerRow[]> {
  const { rows } = await db.query<LedgerRow>(
    `SELECT l.load_id::text AS load_id, source, content_hash, status, mode, records_in::text AS records_in,
            records_inserted::text AS records_inserted, records_rejected::text AS records_rejected,
            (SELECT count(*) FROM ${LOAD_BATCHES_TABLE} b WHERE b.load_id = l.load_id)::text AS batches
       FROM ${LOADS_TABLE} l WHERE target_table = $1 ORDER BY l.load_id`,
    [table],
  );
  return rows;
}

/**
 * Empties the given market tables (default: every market table and the definitions with their
 * versions and symbol history), the ledger and the quarantine.
 */
export async function reset(engine: Engine, tables?: readonly string[]): Promise<void> {
  if (tables) for (const t of tables) await engine.query(`TRUNCATE ${ident(t)}`);
  else {
    await engine.query(`TRUNCATE ohlcv_data, trades_data, tbbo_data, statistics_data`);
    await engine.query(`TRUNCATE instrument_definitions, ${DEFINITION_VERSIONS_TABLE}, ${SYMBOL_HISTORY_TABLE}`);
  }
  await engine.query(`TRUNCATE ${QUARANTINE_TABLE}, ${LOAD_BATCHES_TABLE}, ${LOADS_TABLE} CASCADE`);
}

/** Secondary index names of a table, sorted. */
export async function indexNames(db: Queryable, table: string): Promise<string[]> {
  const { rows } = await db.query<{ indexname: string }>(
    'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname',
    [table],
  );
  return rows.map((r) => r.indexname);
}

/** The loaded column names of a table (what a record may carry). */
export function fieldNames(spec: TableSpec): string[] {
  return loadedColumns(spec).map((c) => c.name);
}

/** A unique content hash per call, so loads in one test file never collide in the ledger. */
let hashCounter = 0;
export function uniqueHash(label: string): string {
  hashCounter += 1;
  return `test:${label}:${process.pid}:${hashCounter}:${Math.random().toString(36).slice(2, 8)}`;
}

export const DATA_TABLES: readonly TableName[] = ['ohlcv_data', 'trades_data', 'tbbo_data', 'statistics_data', 'instrument_definitions'];

/** Quarantine rows of one load: constraint name → count. */
export async function quarantineByConstraint(db: Queryable, loadId: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ c: string | null; n: string }>(
    `SELECT constraint_name AS c, count(*)::text AS n FROM ${QUARANTINE_TABLE} WHERE load_id = $1::bigint GROUP BY 1 ORDER BY 1`,
    [loadId],
  );
  return Object.fromEntries(rows.map((r) => [r.c ?? 'null', Number(r.n)]));
}

export async function quarantineRows(
  db: Queryable,
  loadId: string,
): Promise<{ reason: string; constraint_name: string | null; record_index: string; record: string }[]> {
  const { rows } = await db.query<{ reason: string; constraint_name: string | null; record_index: string; record: string }>(
    `SELECT reason, constraint_name, record_index::text AS record_index, record::text AS record FROM ${QUARANTINE_TABLE}
      WHERE load_id = $1::bigint ORDER BY record_index, id`,
    [loadId],
  );
  return rows;
}

export interface LoadRow {
  load_id: string;
  status: string;
  error: string | null;
  records_in: string;
  records_inserted: string;
  records_rejected: string;
  source: string;
}

export async function loadRows(db: Queryable, table?: string): Promise<LoadRow[]> {
  const { rows } = await db.query<LoadRow>(
    `SELECT load_id::text AS load_id, status, error, records_in::text AS records_in, records_inserted::text AS records_inserted,
            records_rejected::text AS records_rejected, source
       FROM ${LOADS_TABLE} ${table ? 'WHERE target_table = $1' : ''} ORDER BY load_id`,
    table ? [table] : [],
  );
  return rows;
}

/**
 * The whole table as text lines, every column but created_at/updated_at, in a total order —
 * the form in which two loads are compared for identical contents.
 */
export async function tableText(db: Queryable, table: TableName): Promise<string[]> {
  const cols: Record<TableName, string> = {
    ohlcv_data: `("timestamp" AT TIME ZONE 'UTC')::text, instrument_id, symbol, open_price::text, high_price::text, low_price::text, close_price::text, volume::text, granularity, publisher_id`,
    trades_data: `("timestamp" AT TIME ZONE 'UTC')::text, instrument_id, symbol, price::text, size::text, side, trade_id, publisher_id`,
    tbbo_data: `("timestamp" AT TIME ZONE 'UTC')::text, instrument_id, symbol, bid_px_00::text, ask_px_00::text, bid_sz_00::text, ask_sz_00::text, spread::text, publisher_id, sequence::text`,
    statistics_data: `("timestamp" AT TIME ZONE 'UTC')::text, (ts_recv AT TIME ZONE 'UTC')::text, (ts_ref AT TIME ZONE 'UTC')::text, instrument_id, symbol, stat_type,
      stat_type_name, price::text, quantity::text, sequence::text, ts_in_delta, channel_id, update_action, stat_flags, publisher_id`,
    instrument_definitions: `instrument_id, symbol, raw_symbol, asset, exchange, currency, tick_size::text, multiplier::text, expiration_date::text, is_active, publisher_id`,
  };
  const { rows } = await db.query<{ line: string }>(`SELECT row(${cols[table]})::text AS line FROM ${table}`);
  // Sorted in JS: a total, collation-independent order of the whole row text.
  return rows.map((r) => r.line).sort();
}
