/**
 * TimescaleDB chunk operations, the one place tickvault issues them. The chunk catalog as a load
 * sees it: which chunks of a hypertable exist, their time ranges (µs, [start, end)), whether they
 * are compressed, how many rows they hold in a range; and the two state changes a
 * compression-aware load makes — decompress before writing, recompress after.
 *
 * The ledger is the memory of those changes: a load writes the list of compressed chunks it is
 * about to decompress ('decompressedChunks') or write into ('partialChunks') into its ledger
 * details BEFORE touching them (committed, recordChunkState), and clears it after recompressing.
 * `recoverDecompressedChunks` (run at the start of every load, and by `maintain` callers)
 * recompresses whatever a failed or killed load left decompressed.
 */
import type { Engine, Queryable } from '../engine/types.js';
import { LOADS_TABLE } from '../schema/bookkeeping.js';
import { ident } from '../sql/ident.js';
import { usExpr } from '../sql/time.js';
import { microsToIso } from '../values/time.js';

export interface ChunkInfo {
  /** schema-qualified, quoted-as-needed regclass text, e.g. _timescaledb_internal._hyper_2_7_chunk */
  readonly chunk: string;
  readonly startUs: bigint;
  /** Exclusive. */
  readonly endUs: bigint;
  readonly compressed: boolean;
}

/** Every chunk of `table`, ordered by start; [] when the table is not a hypertable. */
export async function listChunks(db: Queryable, table: string, range?: { minUs: bigint; maxUs: bigint }): Promise<ChunkInfo[]> {
  const params: unknown[] = [table];
  let where = '';
  if (range) {
    params.push(microsToIso(range.minUs), microsToIso(range.maxUs));
    where = 'AND range_end > $2::timestamptz AND range_start <= $3::timestamptz';
  }
  const { rows } = await db.query<{ chunk: string; s: string; e: string; compressed: boolean }>(
    `SELECT format('%I.%I', chunk_schema, chunk_name) AS chunk, ${usExpr('range_start')}::text AS s, ${usExpr('range_end')}::text AS e,
            COALESCE(is_compressed, false) AS compressed
       FROM timescaledb_information.chunks
      WHERE hypertable_schema = current_schema() AND hypertable_name = $1 ${where}
      ORDER BY range_start`,
    params,
  );
  return rows.map((r) => ({ chunk: r.chunk, startUs: BigInt(r.s), endUs: BigInt(r.e), compressed: r.compressed }));
}

/** The hypertable's chunk_time_interval in µs, or null (not a hypertable / not time-partitioned). */
export async function chunkIntervalUs(db: Queryable, table: string): Promise<bigint | null> {
  const { rows } = await db.query<{ us: string | null }>(
    `SELECT (extract(epoch FROM time_interval) * 1000000)::int8::text AS us FROM timescaledb_information.dimensions
      WHERE hypertable_schema = current_schema() AND hypertable_name = $1 AND dimension_number = 1`,
    [table],
  );
  return rows[0]?.us ? BigInt(rows[0].us) : null;
}

/** Rows of `chunk` whose time lies in [minUs, maxUs] (reads compressed chunks transparently). */
export async function rowsInRange(db: Queryable, chunk: string, timeColumn: string, minUs: bigint, maxUs: bigint): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${chunk} WHERE ${ident(timeColumn)} BETWEEN $1::timestamptz AND $2::timestamptz`,
    [microsToIso(minUs), microsToIso(maxUs)],
  );
  return Number(rows[0]!.n);
}

export async function decompressChunk(db: Queryable, chunk: string): Promise<void> {
  await db.query('SELECT decompress_chunk($1::regclass, if_compressed => true)', [chunk]);
}

export async function compressChunk(db: Queryable, chunk: string): Promise<void> {
  // Also recompresses a partially compressed chunk (rows inserted into it after compression).
  await db.query('SELECT compress_chunk($1::regclass, if_not_compressed => true)', [chunk]);
}

/** Compresses every chunk of `table` older than `olderThan` (an interval text, bound as a parameter). */
async function compressChunksOlderThan(db: Queryable, table: string, olderThan: string): Promise<void> {
  await db.query('SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks($1::regclass, older_than => $2::interval) c', [
    table,
    olderThan,
  ]);
}

/** Compresses the chunks older than the table's compression policy (what the job would do). */
export async function compressEligibleChunks(db: Queryable, table: string): Promise<void> {
  const { rows } = await db.query<{ after: string | null }>(
    `SELECT (config->>'compress_after') AS after FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression' AND hypertable_name = $1`,
    [table],
  );
  const after = rows[0]?.after;
  if (!after) return;
  await compressChunksOlderThan(db, table, after);
}

/** What a load's ledger details say about the compressed chunks it took over (see the header). */
export interface LedgerChunkState {
  readonly decompressedChunks?: readonly string[];
  readonly partialChunks?: readonly string[];
  readonly recompressedChunks?: readonly string[];
}

/** Merges `state` into the load's ledger details; callers commit it before touching the chunks. */
export async function recordChunkState(db: Queryable, loadId: string, state: LedgerChunkState): Promise<void> {
  await db.query(
    `UPDATE ${LOADS_TABLE} SET details = COALESCE(details, '{}'::jsonb) || $2::jsonb, updated_at = NOW() WHERE load_id = $1::bigint`,
    [loadId, JSON.stringify(state)],
  );
}

/** Whether a chunk still exists (retention may have dropped it since the ledger named it). */
export async function chunkExists(db: Queryable, chunk: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [chunk]);
  return rows[0]!.ok;
}

export interface RecoveredLoad {
  readonly loadId: string;
  readonly table: string;
  readonly status: string;
  readonly chunks: readonly string[];
}

export interface RecoverOptions {
  /** Only loads into this table. */
  readonly table?: string;
  /** A load this caller is resuming: it takes its own chunks over, they are not recompressed here. */
  readonly exceptLoadId?: string;
  /**
   * A 'running' load whose ledger row has not moved for this long is taken for dead (killed
   * process). Recompressing under a live load is still correct (its rows then go into the
   * compressed chunk, more slowly, and it recompresses at its end), only slower. Default 10 min.
   */
  readonly staleRunningAfterMs?: number;
}

/**
 * Recompresses the chunks that failed (or killed) loads left decompressed, as their ledger
 * details say, and clears that record. Returns what it did. Community tier only (callers check
 * `capabilities.compression`).
 */
export async function recoverDecompressedChunks(engine: Engine, options: RecoverOptions = {}): Promise<RecoveredLoad[]> {
  const stale = Math.max(0, options.staleRunningAfterMs ?? 10 * 60_000) / 1000;
  const { rows } = await engine.query<{ load_id: string; target_table: string; status: string; chunks: string[] }>(
    `SELECT load_id::text AS load_id, target_table, status,
            ARRAY(SELECT DISTINCT c FROM jsonb_array_elements_text(COALESCE(details->'decompressedChunks', '[]') || COALESCE(details->'partialChunks', '[]')) c) AS chunks
       FROM ${LOADS_TABLE}
      WHERE (jsonb_array_length(COALESCE(details->'decompressedChunks', '[]')) > 0 OR jsonb_array_length(COALESCE(details->'partialChunks', '[]')) > 0)
        AND ($1::text IS NULL OR target_table = $1) AND ($2::bigint IS NULL OR load_id <> $2::bigint)
        AND (status IN ('failed', 'completed', 'superseded') OR (status = 'running' AND updated_at < now() - make_interval(secs => $3)))
      ORDER BY load_id`,
    [options.table ?? null, options.exceptLoadId ?? null, stale],
  );
  const out: RecoveredLoad[] = [];
  for (const r of rows) {
    const done: string[] = [];
    for (const chunk of [...r.chunks].sort()) {
      if (!(await chunkExists(engine, chunk))) continue;
      await compressChunk(engine, chunk);
      done.push(chunk);
    }
    await engine.query(
      `UPDATE ${LOADS_TABLE} SET details = details || jsonb_build_object('decompressedChunks', '[]'::jsonb, 'partialChunks', '[]'::jsonb, 'recompressedAfterInterruption', $2::jsonb), updated_at = now()
        WHERE load_id = $1::bigint`,
      [r.load_id, JSON.stringify(done)],
    );
    out.push({ loadId: r.load_id, table: r.target_table, status: r.status, chunks: done });
  }
  return out;
}
