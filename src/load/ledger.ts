/**
 * The load ledger: one row per load, one row per committed batch. A batch's ledger row is written
 * in the same transaction as its data, so "the ledger says batch k committed" and "batch k's rows
 * are in the table" are the same fact — the basis of exactly-once resume.
 */
import type { Connection, Queryable } from '../engine/types.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE, type LoadMode } from '../schema/bookkeeping.js';
import { microsToIso } from '../values/time.js';
import { ident } from '../sql/ident.js';
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
  load_id: string;
  source: string;
  content_hash: string;
  status: LoadStatus;
  mode: LoadMode;
  batch_size: number;
  records_in: string;
  records_inserted: string;
  records_rejected: string;
  min_time: Date | null;
  max_time: Date | null;
  instrument_ids: number[] | null;
  details: Record<string, unknown> | null;
}

const SELECT_LOAD = `SELECT load_id::text AS load_id, source, content_hash, status, mode, batch_size, records_in::text AS records_in,
  records_inserted::text AS records_inserted, records_rejected::text AS records_rejected, min_time, max_time, instrument_ids, details
  FROM ${LOADS_TABLE}`;

function toRecord(r: LoadRowDb): LoadRecord {
  return {
    loadId: r.load_id,
    source: r.source,
    contentHash: r.content_hash,
    status: r.status,
    mode: r.mode,
    batchSize: Number(r.batch_size),
    recordsIn: Number(r.records_in),
    recordsInserted: Number(r.records_inserted),
    recordsRejected: Number(r.records_rejected),
    minTime: r.min_time,
    maxTime: r.max_time,
    instrumentIds: r.instrument_ids,
    details: r.details,
  };
}

/** The newest non-superseded load of this content into this table. */
export async function findLoadByHash(db: Queryable, table: string, contentHash: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(
    `${SELECT_LOAD} WHERE target_table = $1 AND content_hash = $2 AND status <> 'superseded' ORDER BY load_id DESC LIMIT 1`,
    [table, contentHash],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** The newest completed load of this source name into this table (what `replace` replaces). */
export async function findCompletedLoadBySource(db: Queryable, table: string, source: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(
    `${SELECT_LOAD} WHERE target_table = $1 AND source = $2 AND status = 'completed' ORDER BY load_id DESC LIMIT 1`,
    [table, source],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function getLoad(db: Queryable, loadId: string): Promise<LoadRecord | undefined> {
  const { rows } = await db.query<LoadRowDb>(`${SELECT_LOAD} WHERE load_id = $1::bigint`, [loadId]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function createLoad(
  db: Queryable,
  args: { identity: SourceIdentity; table: string; mode: LoadMode; batchSize: number; details?: Record<string, unknown> },
): Promise<string> {
  const { rows } = await db.query<{ load_id: string }>(
    `INSERT INTO ${LOADS_TABLE} (source, content_hash, target_table, mode, status, batch_size, details)
     VALUES ($1, $2, $3, $4, 'running', $5, $6::jsonb) RETURNING load_id::text AS load_id`,
    [args.identity.source, args.identity.contentHash, args.table, args.mode, args.batchSize, JSON.stringify(args.details ?? {})],
  );
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
  await db.query(
    `UPDATE ${LOADS_TABLE} SET details = COALESCE(details, '{}'::jsonb) || $2::jsonb, updated_at = NOW() WHERE load_id = $1::bigint`,
    [loadId, JSON.stringify(details)],
  );
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

export async function recordBatch(
  conn: Connection,
  loadId: string,
  batch: PreparedBatch,
  inserted: number,
  rejected: number,
): Promise<void> {
  await recordBatches(conn, loadId, [{ batch, inserted, rejected }]);
}

/** The ledger rows of batches committed together, in one statement (arrays unnested side by side). */
export async function recordBatches(conn: Connection, loadId: string, outcomes: readonly BatchOutcome[]): Promise<void> {
  const iso = (us: bigint | null) => (us === null ? null : microsToIso(us));
  await conn.query(
    `INSERT INTO ${LOAD_BATCHES_TABLE} (load_id, batch_no, records_in, records_inserted, records_rejected, min_time, max_time, instrument_ids)
     SELECT $1::bigint, b.no, b.n_in, b.n_ok, b.n_bad, b.lo, b.hi, ARRAY(SELECT jsonb_array_elements_text(b.ids)::int)
       FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::jsonb[]) AS b(no, n_in, n_ok, n_bad, lo, hi, ids)`,
    [
      loadId,
      outcomes.map((o) => o.batch.batchNo),
      outcomes.map((o) => o.batch.recordsIn),
      outcomes.map((o) => o.inserted),
      outcomes.map((o) => o.rejected),
      outcomes.map((o) => iso(o.batch.minTime)),
      outcomes.map((o) => iso(o.batch.maxTime)),
      outcomes.map((o) => JSON.stringify([...o.batch.instrumentIds])),
    ],
  );
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
     ORDER BY load_id DESC LIMIT 1`,
    [table, source],
  );
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
       FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint`,
    [loadId],
  );
  const r = rows[0]!;
  return {
    batches: Number(r.n),
    lastBatch: r.last === null ? null : Number(r.last),
    recordsIn: Number(r.r_in),
    recordsInserted: Number(r.ok),
    recordsRejected: Number(r.bad),
  };
}

/**
 * UPDATE of a load's row ($1) with its totals, time range and instruments summed from its
 * committed batches, plus the assignments in `set`.
 */
function summedFromBatches(set: string): string {
  return `UPDATE ${LOADS_TABLE} l SET ${set}updated_at = NOW(),
        instrument_ids = ARRAY(SELECT DISTINCT unnest(instrument_ids) FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint ORDER BY 1),
        records_in = b.records_in, records_inserted = b.records_inserted, records_rejected = b.records_rejected,
        min_time = b.min_time, max_time = b.max_time
       FROM (SELECT COALESCE(sum(records_in), 0) AS records_in, COALESCE(sum(records_inserted), 0) AS records_inserted,
                    COALESCE(sum(records_rejected), 0) AS records_rejected, min(min_time) AS min_time, max(max_time) AS max_time
               FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint) b
      WHERE l.load_id = $1::bigint`;
}

/** Sums a load's committed batches into its row: totals, time range, instruments. */
async function summarize(db: Queryable, loadId: string): Promise<void> {
  await db.query(summedFromBatches(''), [loadId]);
}

/** Marks a load completed with totals summed from its committed batches. */
export async function completeLoad(db: Queryable, loadId: string, durationMs: number): Promise<LoadRecord> {
  await db.query(summedFromBatches("status = 'completed', finished_at = NOW(), duration_ms = $2, error = NULL, "), [
    loadId,
    Math.round(durationMs),
  ]);
  return (await getLoad(db, loadId))!;
}

/** Marks a load failed with its error and the last batch that committed (a resume continues after it). */
export async function failLoad(db: Queryable, loadId: string, message: string): Promise<void> {
  await db.query(
    `UPDATE ${LOADS_TABLE} SET status = 'failed', error = $2, updated_at = NOW(),
        details = COALESCE(details, '{}'::jsonb) || jsonb_build_object('lastCommittedBatch',
          (SELECT max(batch_no) FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint))
      WHERE load_id = $1::bigint`,
    [loadId, message],
  );
}

export async function supersede(conn: Connection, loadId: string): Promise<void> {
  await conn.query(`UPDATE ${LOADS_TABLE} SET status = 'superseded', updated_at = NOW() WHERE load_id = $1::bigint`, [loadId]);
}

export interface StaleLoad {
  readonly loadId: string;
  readonly table: string;
  readonly source: string;
  readonly heartbeatAgeSeconds: number;
  readonly owner: { readonly pid?: number; readonly host?: string } | null;
}

/**
 * Loads still marked running whose heartbeat (updated_at, refreshed every few seconds by a live
 * owner) is older than `staleAfterMs`: their process died or lost the database for good.
 */
export async function staleRunningLoads(db: Queryable, staleAfterMs: number): Promise<StaleLoad[]> {
  const { rows } = await db.query<{ load_id: string; target_table: string; source: string; age: string; owner: StaleLoad['owner'] }>(
    `SELECT load_id::text AS load_id, target_table, source, extract(epoch FROM NOW() - updated_at)::text AS age, details -> 'owner' AS owner
       FROM ${LOADS_TABLE}
      WHERE status = 'running' AND updated_at < NOW() - make_interval(secs => $1)
      ORDER BY load_id`,
    [staleAfterMs / 1000],
  );
  return rows.map((r) => ({
    loadId: r.load_id,
    table: r.target_table,
    source: r.source,
    heartbeatAgeSeconds: Math.round(Number(r.age)),
    owner: r.owner,
  }));
}

/** Rows of one completed load that a retention drop deletes (or deleted). */
export interface LoadDropImpact {
  readonly loadId: string;
  readonly source: string;
  /** Rows of the load in the dropped range (exact for batches wholly inside; counted in the table for a batch the boundary cuts). */
  readonly rows: number;
  readonly minTime: Date | null;
  readonly maxTime: Date | null;
}

/**
 * The completed loads of `table` with rows still stored in [fromUs, beforeUs) — the range a
 * retention drop deletes, from the oldest remaining chunk — and how many rows each has there.
 * Read from the ledger's batches (their time range, instruments and inserted count), so even a
 * drop of years of history is counted without scanning it; only a batch that the boundary cuts
 * is counted in the table, over its own range and instruments.
 */
export async function loadsInDroppedRange(
  db: Queryable,
  table: string,
  timeColumn: string,
  fromUs: bigint,
  beforeUs: bigint,
): Promise<LoadDropImpact[]> {
  const t = ident(timeColumn);
  const { rows } = await db.query<{ load_id: string; source: string; rows: string; min_time: Date | null; max_time: Date | null }>(
    `SELECT l.load_id::text AS load_id, l.source, l.min_time, l.max_time,
            sum(CASE WHEN b.min_time >= $2::timestamptz AND b.max_time < $3::timestamptz THEN b.records_inserted::bigint
                     ELSE (SELECT count(*) FROM ${ident(table)} x
                            WHERE x.${t} >= greatest(b.min_time, $2::timestamptz) AND x.${t} < least(b.max_time + interval '1 microsecond', $3::timestamptz)
                              AND x.instrument_id = ANY(b.instrument_ids)) END)::text AS rows
       FROM ${LOADS_TABLE} l JOIN ${LOAD_BATCHES_TABLE} b ON b.load_id = l.load_id
      WHERE l.target_table = $1 AND l.status = 'completed' AND b.records_inserted > 0
        AND b.max_time >= $2::timestamptz AND b.min_time < $3::timestamptz
      GROUP BY l.load_id, l.source, l.min_time, l.max_time ORDER BY l.load_id`,
    [table, microsToIso(fromUs), microsToIso(beforeUs)],
  );
  return rows
    .map((r) => ({ loadId: r.load_id, source: r.source, rows: Number(r.rows), minTime: r.min_time, maxTime: r.max_time }))
    .filter((r) => r.rows > 0);
}

/** Notes in a load's ledger row that a retention drop deleted `rows` more of its rows. */
export async function recordRetentionDrop(
  db: Queryable,
  loadId: string,
  rows: number,
  drop: { olderThan: string; beforeUs: bigint },
): Promise<void> {
  await db.query(
    `UPDATE ${LOADS_TABLE} SET updated_at = NOW(), details = COALESCE(details, '{}'::jsonb) || jsonb_build_object('retentionDropped', jsonb_build_object(
        'rows', COALESCE((details->'retentionDropped'->>'rows')::bigint, 0) + $2::bigint, 'at', NOW(), 'olderThan', $3::text, 'before', $4::text))
      WHERE load_id = $1::bigint`,
    [loadId, rows, drop.olderThan, microsToIso(drop.beforeUs)],
  );
}

/** What a completed load no longer has in its table. */
export interface RowsGone {
  /** Rows known gone: the larger of what retention drops recorded and what the chunk catalog proves. */
  readonly rows: number;
  /** Rows the load inserted. */
  readonly inserted: number;
  /** Nothing of the load is stored any more. */
  readonly all: boolean;
  /** The last recorded retention drop (by `tickvault maintain`), if any. */
  readonly lastDrop?: { readonly olderThan: string; readonly before: string; readonly at: string };
}

/**
 * Whether rows of a completed load are gone from its hypertable. Retention drops whole chunks
 * from the oldest, so a batch whose newest row is older than the oldest remaining chunk has no
 * chunk left to hold it: that proves its rows gone whoever dropped them (`maintain`, the job
 * scheduler, a manual drop_chunks), at the cost of one catalog query. Null when nothing is gone.
 */
export async function rowsGoneSinceLoad(db: Queryable, load: LoadRecord, table: string): Promise<RowsGone | null> {
  const { rows } = await db.query<{ gone: string; inserted: string }>(
    `SELECT COALESCE(sum(b.records_inserted) FILTER (WHERE s.start IS NULL OR b.max_time < s.start), 0)::text AS gone,
            COALESCE(sum(b.records_inserted), 0)::text AS inserted
       FROM ${LOAD_BATCHES_TABLE} b,
            (SELECT min(range_start) AS start FROM timescaledb_information.chunks WHERE hypertable_name = $2 AND hypertable_schema = current_schema()) s
      WHERE b.load_id = $1::bigint AND b.records_inserted > 0`,
    [load.loadId, table],
  );
  const inserted = Number(rows[0]!.inserted);
  const recorded = (
    load.details as { retentionDropped?: { rows?: number | string; olderThan?: string; before?: string; at?: string } } | null
  )?.retentionDropped;
  const gone = Math.min(inserted, Math.max(Number(rows[0]!.gone), Number(recorded?.rows ?? 0)));
  if (inserted === 0 || gone === 0) return null;
  return {
    rows: gone,
    inserted,
    all: gone >= inserted,
    ...(recorded?.olderThan
      ? { lastDrop: { olderThan: recorded.olderThan, before: String(recorded.before), at: String(recorded.at) } }
      : {}),
  };
}
