/**
 * The load ledger: one row per load, one row per committed batch. A batch's ledger row is written
 * in the same transaction as its data, so "the ledger says batch k committed" and "batch k's rows
 * are in the table" are the same fact — the basis of exactly-once resume.
 */
import type { Connection, Engine, Queryable } from '../engine/types.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE, type LoadMode } from '../schema/bookkeeping.js';
import { microsToIso } from '../values/time.js';
import type { PreparedBatch } from './write/batch.js';

export type LoadStatus = 'running' | 'completed' | 'failed' | 'superseded';

export interface SourceIdentity {
  /** Human-readable origin (file path, feed name). */
  readonly source: string;
  /** Content hash: equal hashes mean the same input, whatever its name. */
  readonly contentHash: string;
}

export interface LoadRecord {
  readonly loadId: string;
  readonly source: string;
  readonly contentHash: string;
  readonly status: LoadStatus;
  readonly mode: LoadMode;
  readonly batchSize: number;
  readonly recordsIn: number;
  readonly recordsInserted: number;
  readonly recordsRejected: number;
  readonly minTime: Date | null;
  readonly maxTime: Date | null;
  readonly instrumentIds: number[] | null;
  readonly details: Record<string, unknown> | null;
}

interface LoadRowDb {
  load_id: string; source: string; content_hash: string; status: LoadStatus; mode: LoadMode; batch_size: number;
  records_in: string; records_inserted: string; records_rejected: string; min_time: Date | null; max_time: Date | null;
  instrument_ids: number[] | null; details: Record<string, unknown> | null;
}

const SELECT_LOAD = `SELECT load_id::text AS load_id, source, content_hash, status, mode, batch_size, records_in::text AS records_in,
  records_inserted::text AS records_inserted, records_rejected::text AS records_rejected, min_time, max_time, instrument_ids, details
  FROM ${LOADS_TABLE}`;

function toRecord(r: LoadRowDb): LoadRecord {
  return {
    loadId: r.load_id, source: r.source, contentHash: r.content_hash, status: r.status, mode: r.mode, batchSize: Number(r.batch_size),
    recordsIn: Number(r.records_in), recordsInserted: Number(r.records_inserted), recordsRejected: Number(r.records_rejected),
    minTime: r.min_time, maxTime: r.max_time, instrumentIds: r.instrument_ids, details: r.details,
  };
}

/** The newest non-superseded load of this content into this table. */
export async function findLoadByHash(db: Queryable, table: string, contentHash: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(
    `${SELECT_LOAD} WHERE target_table = $1 AND content_hash = $2 AND status <> 'superseded' ORDER BY load_id DESC LIMIT 1`, [table, contentHash]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** The newest completed load of this source name into this table (what `replace` replaces). */
export async function findCompletedLoadBySource(db: Queryable, table: string, source: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(
    `${SELECT_LOAD} WHERE target_table = $1 AND source = $2 AND status = 'completed' ORDER BY load_id DESC LIMIT 1`, [table, source]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function getLoad(db: Queryable, loadId: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(`${SELECT_LOAD} WHERE load_id = $1::bigint`, [loadId]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function createLoad(db: Queryable, args: { identity: SourceIdentity; table: string; mode: LoadMode; batchSize: number; details?: Record<string, unknown> }): Promise<string> {
  const { rows } = await db.query<{ load_id: string }>(
    `INSERT INTO ${LOADS_TABLE} (source, content_hash, target_table, mode, status, batch_size, details)
     VALUES ($1, $2, $3, $4, 'running', $5, $6::jsonb) RETURNING load_id::text AS load_id`,
    [args.identity.source, args.identity.contentHash, args.table, args.mode, args.batchSize, JSON.stringify(args.details ?? {})]);
  return rows[0]!.load_id;
}

/** The running load's heartbeat: its owner is at work (see load-claim.ts). */
export async function touchLoad(db: Queryable, loadId: string): Promise<void> {
  await db.query(`UPDATE ${LOADS_TABLE} SET updated_at = NOW() WHERE load_id = $1::bigint AND status = 'running'`, [loadId]);
}

export async function markRunning(db: Queryable, loadId: string): Promise<void> {
  await db.query(`UPDATE ${LOADS_TABLE} SET status = 'running', error = NULL, updated_at = NOW() WHERE load_id = $1::bigint`, [loadId]);
}

export async function mergeDetails(db: Queryable, loadId: string, details: Record<string, unknown>): Promise<void> {
  await db.query(`UPDATE ${LOADS_TABLE} SET details = COALESCE(details, '{}'::jsonb) || $2::jsonb, updated_at = NOW() WHERE load_id = $1::bigint`,
    [loadId, JSON.stringify(details)]);
}

export async function committedBatches(db: Queryable, loadId: string): Promise<Set<number>> {
  const { rows } = await db.query<{ batch_no: number }>(`SELECT batch_no FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint`, [loadId]);
  return new Set(rows.map((r) => Number(r.batch_no)));
}

export interface BatchOutcome {
  readonly batch: PreparedBatch;
  readonly inserted: number;
  readonly rejected: number;
}

export async function recordBatch(conn: Connection, loadId: string, batch: PreparedBatch, inserted: number, rejected: number): Promise<void> {
  await recordBatches(conn, loadId, [{ batch, inserted, rejected }]);
}

/** The ledger rows of batches committed together, in one statement (arrays unnested side by side). */
export async function recordBatches(conn: Connection, loadId: string, outcomes: readonly BatchOutcome[]): Promise<void> {
  const iso = (us: bigint | null) => (us === null ? null : microsToIso(us));
  await conn.query(
    `INSERT INTO ${LOAD_BATCHES_TABLE} (load_id, batch_no, records_in, records_inserted, records_rejected, min_time, max_time, instrument_ids)
     SELECT $1::bigint, b.no, b.n_in, b.n_ok, b.n_bad, b.lo, b.hi, ARRAY(SELECT jsonb_array_elements_text(b.ids)::int)
       FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[]) AS b(no, n_in, n_ok, n_bad, lo, hi, ids)`,
    [loadId, outcomes.map((o) => o.batch.batchNo), outcomes.map((o) => o.batch.recordsIn), outcomes.map((o) => o.inserted), outcomes.map((o) => o.rejected),
      outcomes.map((o) => iso(o.batch.minTime)), outcomes.map((o) => iso(o.batch.maxTime)), outcomes.map((o) => JSON.stringify([...o.batch.instrumentIds]))]);
}

/**
 * What `replace` replaces: the newest completed load of this source into this table, or the
 * newest failed one with committed batches when that is newer (a load stopped part-way, e.g. by
 * maxRejects, left them in the table; a failed one without batches stored nothing). A failed load's row holds no totals, so they are summed from
 * its batches first: its instruments and time range are what the replacement deletes.
 */
export async function findReplaceableLoadBySource(db: Queryable, table: string, source: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(
    `${SELECT_LOAD} WHERE target_table = $1 AND source = $2
       AND (status = 'completed' OR (status = 'failed' AND EXISTS (SELECT 1 FROM ${LOAD_BATCHES_TABLE} b WHERE b.load_id = ${LOADS_TABLE}.load_id)))
     ORDER BY load_id DESC LIMIT 1`, [table, source]);
  const found = rows[0] ? toRecord(rows[0]) : undefined;
  if (found?.status !== 'failed') return found;
  await summarize(db, found.loadId);
  return getLoad(db, found.loadId);
}

/** How far a load got: its committed batches and their totals. */
export interface LoadProgress {
  readonly batches: number;
  /** Highest committed batch number, null before the first commit. */
  readonly lastBatch: number | null;
  readonly recordsIn: number;
  readonly recordsInserted: number;
  readonly recordsRejected: number;
}

export async function loadProgress(db: Queryable, loadId: string): Promise<LoadProgress> {
  const { rows } = await db.query<{ n: string; last: number | null; r_in: string; ok: string; bad: string }>(
    `SELECT count(*)::text AS n, max(batch_no) AS last, COALESCE(sum(records_in), 0)::text AS r_in,
            COALESCE(sum(records_inserted), 0)::text AS ok, COALESCE(sum(records_rejected), 0)::text AS bad
       FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint`, [loadId]);
  const r = rows[0]!;
  return { batches: Number(r.n), lastBatch: r.last === null ? null : Number(r.last), recordsIn: Number(r.r_in), recordsInserted: Number(r.ok), recordsRejected: Number(r.bad) };
}

/** Sums a load's committed batches into its row: totals, time range, instruments. */
async function summarize(db: Queryable, loadId: string): Promise<void> {
  await db.query(
    `UPDATE ${LOADS_TABLE} l SET updated_at = NOW(),
        instrument_ids = ARRAY(SELECT DISTINCT unnest(instrument_ids) FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint ORDER BY 1),
        records_in = b.records_in, records_inserted = b.records_inserted, records_rejected = b.records_rejected,
        min_time = b.min_time, max_time = b.max_time
       FROM (SELECT COALESCE(sum(records_in), 0) AS records_in, COALESCE(sum(records_inserted), 0) AS records_inserted,
                    COALESCE(sum(records_rejected), 0) AS records_rejected, min(min_time) AS min_time, max(max_time) AS max_time
               FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint) b
      WHERE l.load_id = $1::bigint`,
    [loadId]);
}

/** Marks a load completed with totals summed from its committed batches. */
export async function completeLoad(db: Queryable, loadId: string, durationMs: number): Promise<LoadRecord> {
  await db.query(
    `UPDATE ${LOADS_TABLE} l SET status = 'completed', finished_at = NOW(), updated_at = NOW(), duration_ms = $2, error = NULL,
        instrument_ids = ARRAY(SELECT DISTINCT unnest(instrument_ids) FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint ORDER BY 1),
        records_in = b.records_in, records_inserted = b.records_inserted, records_rejected = b.records_rejected,
        min_time = b.min_time, max_time = b.max_time
       FROM (SELECT COALESCE(sum(records_in), 0) AS records_in, COALESCE(sum(records_inserted), 0) AS records_inserted,
                    COALESCE(sum(records_rejected), 0) AS records_rejected, min(min_time) AS min_time, max(max_time) AS max_time
               FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint) b
      WHERE l.load_id = $1::bigint`,
    [loadId, Math.round(durationMs)]);
  return (await getLoad(db, loadId))!;
}

export async function failLoad(db: Queryable, loadId: string, message: string): Promise<void> {
  await db.query(`UPDATE ${LOADS_TABLE} SET status = 'failed', error = $2, updated_at = NOW() WHERE load_id = $1::bigint`, [loadId, message]);
}

export async function supersede(conn: Connection, loadId: string): Promise<void> {
  await conn.query(`UPDATE ${LOADS_TABLE} SET status = 'superseded', updated_at = NOW() WHERE load_id = $1::bigint`, [loadId]);
}

