/**
 * Writes one prepared batch inside the caller's transaction. Rows go in by binary COPY (or a
 * multi-row INSERT when useCopy is false). If the database still rejects rows the validator let
 * through, the batch is bisected under savepoints until each offending row is isolated; those
 * rows are returned for quarantine and every other row lands.
 */
import { BinaryCopyWriter } from '../../copy/index.js';
import { formatDecimal } from '../../copy/numeric.js';
import type { Connection } from '../../engine/types.js';
import { errorMessage } from '../../errors.js';
import type { Column } from '../../schema/tables.js';
import type { CellValue } from '../../schema/types.js';
import { ident, identList } from '../../sql/ident.js';
import { epochDaysToIso, microsToIso } from '../../values/time.js';
import type { PreparedBatch, Rejection } from './batch.js';
import { encodedBatch, encodedChunks } from './encoded-batch.js';

export interface WriteOutcome {
  readonly inserted: number;
  readonly dbRejections: Rejection[];
}

export interface WriteOptions {
  readonly table: string;
  readonly columns: readonly Column[];
  readonly useCopy: boolean;
  /**
   * Skip the savepoint around the whole batch (two round trips): a row the database rejects then
   * aborts the caller's transaction with RowsNeedIsolation, and the caller writes the batch again
   * in a new transaction without this option, where the offending rows are isolated.
   */
  readonly optimistic?: boolean;
}

/** The database rejected a row of an optimistic write; the transaction is aborted (see WriteOptions.optimistic). */
export class RowsNeedIsolation extends Error {
  constructor(cause: unknown) {
    super(`the database rejected a row of the batch (${errorMessage(cause)}); write it again with isolation`, { cause });
    this.name = 'RowsNeedIsolation';
  }
}

/** SQLSTATE classes that mean "this row's data is wrong", not "the session is broken". */
function isRowDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export async function writeBatch(conn: Connection, batch: PreparedBatch, opts: WriteOptions): Promise<WriteOutcome> {
  if (opts.optimistic && batch.rowCount > 0) {
    try {
      const inserted = opts.useCopy
        ? await copyRange(conn, batch, opts, 0, batch.rowCount)
        : await insertRange(conn, batch, opts, 0, batch.rowCount);
      return { inserted, dbRejections: [] };
    } catch (err) {
      throw isRowDataError(err) ? new RowsNeedIsolation(err) : err;
    }
  }
  const dbRejections: Rejection[] = [];
  const inserted = batch.rowCount === 0 ? 0 : await writeRange(conn, batch, opts, 0, batch.rowCount, dbRejections, 0);
  return { inserted, dbRejections };
}

async function writeRange(
  conn: Connection,
  batch: PreparedBatch,
  opts: WriteOptions,
  from: number,
  to: number,
  out: Rejection[],
  depth: number,
): Promise<number> {
  const sp = `tv_sp_${depth}`;
  await conn.query(`SAVEPOINT ${sp}`);
  try {
    const n = opts.useCopy ? await copyRange(conn, batch, opts, from, to) : await insertRange(conn, batch, opts, from, to);
    await conn.query(`RELEASE SAVEPOINT ${sp}`);
    return n;
  } catch (err) {
    await conn.query(`ROLLBACK TO SAVEPOINT ${sp}`);
    await conn.query(`RELEASE SAVEPOINT ${sp}`);
    if (!isRowDataError(err)) throw err;
    if (to - from === 1) {
      const origin = batch.rowOrigin(from);
      const constraint = (err as { constraint?: string }).constraint ?? null;
      out.push({
        recordIndex: origin.recordIndex,
        record: origin.record,
        reason: `rejected by the database: ${errorMessage(err)}`,
        constraint,
      });
      return 0;
    }
    const mid = from + Math.floor((to - from) / 2);
    return (
      (await writeRange(conn, batch, opts, from, mid, out, depth + 1)) + (await writeRange(conn, batch, opts, mid, to, out, depth + 1))
    );
  }
}

function copyRange(conn: Connection, batch: PreparedBatch, opts: WriteOptions, from: number, to: number): Promise<number> {
  const names = opts.columns.map((c) => c.name);
  const encoded = from === 0 && to === batch.rowCount ? encodedBatch(batch, names) : undefined;
  if (encoded) return conn.copyInBinary(opts.table, names, encodedChunks(encoded.bytes));
  function* chunks(): Generator<Uint8Array> {
    const w = new BinaryCopyWriter();
    for (let i = from; i < to; i++) {
      batch.encodeRow(w, i);
      const c = w.takeChunk();
      if (c) yield c;
    }
    yield w.finish();
  }
  return conn.copyInBinary(opts.table, names, chunks());
}

/**
 * Bind parameters per INSERT statement. PostgreSQL accepts 65,535, but PGlite reads the
 * ParameterDescription count as a signed int16 and fails ("Invalid array length") beyond 32,767.
 */
const MAX_PARAMS = 32_767;

async function insertRange(conn: Connection, batch: PreparedBatch, opts: WriteOptions, from: number, to: number): Promise<number> {
  const cols = opts.columns;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / cols.length));
  const head = `INSERT INTO ${ident(opts.table)} (${identList(cols.map((c) => c.name))}) VALUES `;
  let inserted = 0;
  for (let start = from; start < to; start += perStatement) {
    const end = Math.min(to, start + perStatement);
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (let i = start; i < end; i++) {
      const values = batch.rowValues(i);
      const ph = cols.map((c, j) => {
        params.push(toParam(c, values[j]!));
        return `$${params.length}`;
      });
      tuples.push(`(${ph.join(', ')})`);
    }
    const res = await conn.query(head + tuples.join(', '), params);
    inserted += res.rowCount;
  }
  return inserted;
}

/** Text form of a normalized value for a bound parameter (exact: no float anywhere). */
export function toParam(col: Column, v: CellValue): unknown {
  if (v === null) return null;
  switch (col.type.kind) {
    case 'timestamptz':
      return microsToIso(v as bigint);
    case 'numeric':
      return formatDecimal(v as bigint, col.type.scale);
    case 'int8':
      return (v as bigint).toString();
    case 'date':
      return epochDaysToIso(v as number);
    default:
      return v;
  }
}
