/**
 * `maintain`: what TimescaleDB's job scheduler would do, run on demand — needed on the embedded
 * engine (no background workers) and on the Apache tier (no policies at all):
 *   1. refresh every rollup up to its last complete bucket (before retention, so the rollups keep
 *      summaries of raw chunks about to be dropped where the tier allows);
 *   2. retention: drop_chunks older than each table's retention interval. Before anything runs,
 *      the ledger says which completed loads the drop deletes rows of, and how many; with a
 *      `confirm` callback (the CLI passes one on a TTY) the drop happens only if it answers yes —
 *      without one it runs, as a cron job's maintain always has. Each load's ledger row records
 *      what the drop deleted, so a re-run of that load says so;
 *   3. compression (capabilities.compression): compress the chunks older than compress_after;
 *   4. ANALYZE the market tables (after the changes, so the planner sees the final state);
 *   5. report compression effectiveness per hypertable and per chunk.
 * Intervals come from the policies stored at `init` (tickvault_settings 'policies'), else the
 * defaults of src/config/policies.ts. With `dryRun` nothing changes: every action is listed with
 * the chunks or windows it would touch.
 */
import { requireSchema } from '../schema/schema-state.js';
import { requireTableOwner } from '../security/ownership.js';
import { compressChunk, recoverDecompressedChunks } from '../timescale/chunks.js';
import type { Capabilities, Engine, Queryable } from '../engine/types.js';
import type { HypertableName, PolicyOverrides, PolicySettings } from '../config/policies.js';
import { storedPolicies } from '../timescale/policies.js';
import { MARKET_TABLES, tableSpec } from '../schema/tables.js';
import { loadsInDroppedRange, recordRetentionDrop, type LoadDropImpact } from '../load/ledger.js';
import { usExpr } from '../sql/time.js';
import { microsToIso } from '../values/time.js';
import { ident } from '../sql/ident.js';
import { refreshRollups, type RefreshAction } from '../timescale/rollup-refresh.js';

export interface MaintainOptions {
  /** List the actions without doing them. */
  readonly dryRun?: boolean;
  /** Override the stored policies (tests, one-off runs). */
  readonly policies?: PolicyOverrides;
  /** The time retention and compression ages are measured from (default: the database's now()). */
  readonly now?: Date;
  /**
   * Asked before a retention drop deletes rows of completed loads (not asked when it deletes none,
   * nor on a dry run). false: no chunk is dropped (the other steps still run). Absent: drop.
   */
  readonly confirm?: (question: RetentionQuestion) => boolean | Promise<boolean>;
}

/** What the retention drops of this run would delete of completed loads. */
export interface RetentionQuestion {
  readonly actions: readonly ChunkAction[];
  /** Rows of completed loads deleted, summed over the actions. */
  readonly loadRows: number;
  readonly loads: number;
}

export interface ChunkAction {
  readonly step: 'retention' | 'compression';
  readonly hypertable: string;
  /** The interval that made the chunks due. */
  readonly olderThan: string;
  readonly chunks: readonly string[];
  /** 'declined': retention the confirm callback said no to; nothing dropped. */
  readonly status: 'done' | 'planned' | 'declined';
  readonly ms?: number;
  /** Retention: every row before this time (ISO) goes with the chunks. */
  readonly before?: string;
  /** Retention: the completed loads with rows in the dropped chunks, and how many. */
  readonly loads?: readonly LoadDropImpact[];
}

export interface ChunkCompression {
  readonly chunk: string;
  readonly status: string;
  readonly beforeBytes: bigint | null;
  readonly afterBytes: bigint | null;
  readonly ratio: number | null;
}

export interface HypertableCompression {
  readonly hypertable: string;
  readonly totalChunks: bigint;
  readonly compressedChunks: bigint;
  /** Bytes (table + indexes + toast) of the compressed chunks before and after compression. */
  readonly beforeBytes: bigint | null;
  readonly afterBytes: bigint | null;
  /** before / after; null when nothing is compressed. */
  readonly ratio: number | null;
  readonly chunks: readonly ChunkCompression[];
}

export interface MaintainReport {
  readonly dryRun: boolean;
  readonly tier: Capabilities['tier'];
  readonly policiesFrom: 'settings' | 'defaults';
  readonly policies: PolicySettings;
  readonly refreshed: readonly RefreshAction[];
  readonly retention: readonly ChunkAction[];
  readonly compression: readonly ChunkAction[];
  readonly analyzed: readonly string[];
  /** Null when the tier has no compression. */
  readonly compressionStats: readonly HypertableCompression[] | null;
  readonly notes: readonly string[];
}

const HYPERTABLES = MARKET_TABLES.filter((s) => s.hypertable).map((s) => s.name as HypertableName);

export async function maintain(engine: Engine, options: MaintainOptions = {}): Promise<MaintainReport> {
  await requireSchema(engine);
  const dryRun = options.dryRun ?? false;
  if (!dryRun) await requireTableOwner(engine, 'maintain (rollup refresh, retention, compression, ANALYZE)');
  const caps = await engine.capabilities();
  const notes: string[] = [];
  const { policies, from } = await storedPolicies(engine, options.policies);
  // Chunks a killed backfill left decompressed (the ledger lists them) are compressed again first.
  if (caps.compression && !dryRun) await recoverDecompressedChunks(engine);
  if (caps.jobScheduler) notes.push('a job scheduler runs the policies too; running them now is harmless (idempotent)');

  const dropped = new Set<string>();
  let retention: ChunkAction[] = [];
  let drops: PlannedDrop[] = [];
  if (caps.hypertables) {
    drops = await planRetention(engine, policies, options.now);
    retention = drops.map((d) => d.action);
    const loadRows = retention.reduce((n, a) => n + (a.loads ?? []).reduce((m, l) => m + l.rows, 0), 0);
    if (!dryRun && loadRows > 0 && options.confirm) {
      const loads = new Set(retention.flatMap((a) => (a.loads ?? []).map((l) => l.loadId))).size;
      if (!(await options.confirm({ actions: retention, loadRows, loads }))) {
        retention = retention.map((a) => ({ ...a, status: 'declined' as const }));
        drops = [];
        notes.push(
          'retention declined: no chunk was dropped; change the policy (`tickvault policy --retention <table>=none`) to keep that history, or run `tickvault maintain --yes`',
        );
      }
    }
    // A dry run lists no compression of chunks its retention would drop first.
    if (dryRun) {
      for (const d of drops) for (const c of d.action.chunks) dropped.add(c);
      drops = [];
    }
  } else {
    notes.push('retention unavailable without TimescaleDB hypertables');
  }

  const refreshed = await refreshRollups(engine, { dryRun });

  for (const d of drops) {
    const t0 = performance.now();
    await engine.query('SELECT drop_chunks($1::regclass, older_than => $2::timestamptz)', [
      ident(d.action.hypertable),
      microsToIso(d.cutoffUs),
    ]);
    for (const l of d.action.loads ?? [])
      await recordRetentionDrop(engine, l.loadId, l.rows, { olderThan: d.action.olderThan, beforeUs: d.beforeUs });
    for (const c of d.action.chunks) dropped.add(c);
    retention[retention.indexOf(d.action)] = { ...d.action, status: 'done', ms: performance.now() - t0 };
  }

  const compression: ChunkAction[] = [];
  if (caps.compression) {
    for (const table of HYPERTABLES) {
      const after = policies.compressAfter[table];
      if (!after || !(await compressionEnabled(engine, table))) continue;
      const chunks = (await uncompressedChunksOlderThan(engine, table, after, options.now)).filter((c) => !dropped.has(c));
      if (chunks.length === 0) continue;
      const t0 = performance.now();
      if (!dryRun) {
        for (const c of chunks) await compressChunk(engine, c);
      }
      compression.push({
        step: 'compression',
        hypertable: table,
        olderThan: after,
        chunks,
        status: dryRun ? 'planned' : 'done',
        ...(dryRun ? {} : { ms: performance.now() - t0 }),
      });
    }
  } else {
    notes.push(`compression unavailable on tier ${caps.tier}`);
  }

  const analyzed = MARKET_TABLES.map((s) => s.name);
  if (!dryRun) for (const t of analyzed) await engine.query(`ANALYZE ${ident(t)}`);

  const compressionStats = caps.compression ? await compressionReport(engine) : null;
  return { dryRun, tier: caps.tier, policiesFrom: from, policies, refreshed, retention, compression, analyzed, compressionStats, notes };
}

async function isHypertable(db: Queryable, table: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1) AS ok',
    [table],
  );
  return rows[0]!.ok;
}

async function compressionEnabled(db: Queryable, table: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1 AND compression_enabled) AS ok',
    [table],
  );
  return rows[0]!.ok;
}

interface PlannedDrop {
  readonly action: ChunkAction;
  /** drop_chunks' older_than, fixed once so the drop deletes exactly the chunks listed. */
  readonly cutoffUs: bigint;
  /** The end of the newest dropped chunk: every row before it goes. */
  readonly beforeUs: bigint;
}

/** The chunks each table's retention drops now, and the completed loads they hold rows of. */
async function planRetention(engine: Engine, policies: PolicySettings, now: Date | undefined): Promise<PlannedDrop[]> {
  const out: PlannedDrop[] = [];
  for (const table of HYPERTABLES) {
    const keep = policies.retainFor[table];
    if (!keep || !(await isHypertable(engine, table))) continue;
    const cut = await engine.query<{ us: string }>(`SELECT ${usExpr('(COALESCE($1::timestamptz, now()) - $2::interval)')}::text AS us`, [
      now?.toISOString() ?? null,
      keep,
    ]);
    const cutoffUs = BigInt(cut.rows[0]!.us);
    const { rows } = await engine.query<{ chunk: string; end_us: string; oldest_us: string }>(
      `SELECT c::text AS chunk, ${usExpr('i.range_end')}::text AS end_us,
              (SELECT ${usExpr('min(a.range_start)')} FROM timescaledb_information.chunks a WHERE a.hypertable_name = $3 AND a.hypertable_schema = current_schema())::text AS oldest_us
         FROM show_chunks($1::regclass, older_than => $2::timestamptz) c
         JOIN timescaledb_information.chunks i ON format('%I.%I', i.chunk_schema, i.chunk_name)::regclass = c
        ORDER BY 1`,
      [ident(table), microsToIso(cutoffUs), table],
    );
    if (rows.length === 0) continue;
    const beforeUs = rows.reduce((m, r) => (BigInt(r.end_us) > m ? BigInt(r.end_us) : m), BigInt(rows[0]!.end_us));
    const timeColumn = tableSpec(table).hypertable!.timeColumn;
    const loads = await loadsInDroppedRange(engine, table, timeColumn, BigInt(rows[0]!.oldest_us), beforeUs);
    out.push({
      cutoffUs,
      beforeUs,
      action: {
        step: 'retention',
        hypertable: table,
        olderThan: keep,
        chunks: rows.map((r) => r.chunk),
        status: 'planned',
        before: microsToIso(beforeUs),
        loads,
      },
    });
  }
  return out;
}

async function uncompressedChunksOlderThan(db: Queryable, table: string, interval: string, now: Date | undefined): Promise<string[]> {
  const { rows } = await db.query<{ chunk: string }>(
    `SELECT c::text AS chunk
       FROM show_chunks($1::regclass, older_than => (COALESCE($3::timestamptz, now()) - $2::interval)) c
       JOIN timescaledb_information.chunks i ON format('%I.%I', i.chunk_schema, i.chunk_name)::regclass = c
      WHERE NOT i.is_compressed
      ORDER BY 1`,
    [ident(table), interval, now?.toISOString() ?? null],
  );
  return rows.map((r) => r.chunk);
}

// TimescaleDB 2.18 renamed compression to "columnstore"; the old names still answer. Use the
// classic name when the server has it, else the new one (DESIGN.md §8).
async function statsFunctions(db: Queryable): Promise<{ hypertable: string; chunk: string } | null> {
  const { rows } = await db.query<{ h: string | null; c: string | null; hn: string | null; cn: string | null }>(
    `SELECT to_regproc('hypertable_compression_stats')::text AS h, to_regproc('chunk_compression_stats')::text AS c,
            to_regproc('hypertable_columnstore_stats')::text AS hn, to_regproc('chunk_columnstore_stats')::text AS cn`,
  );
  const r = rows[0]!;
  if (r.h && r.c) return { hypertable: 'hypertable_compression_stats', chunk: 'chunk_compression_stats' };
  if (r.hn && r.cn) return { hypertable: 'hypertable_columnstore_stats', chunk: 'chunk_columnstore_stats' };
  return null;
}

function ratio(before: bigint | null, after: bigint | null): number | null {
  if (before === null || after === null || after === 0n) return null;
  return Number((before * 1000n) / after) / 1000;
}

const big = (v: string | null) => (v === null ? null : BigInt(v));

/** Compression effectiveness of every hypertable with compression enabled (community tier). */
export async function compressionReport(db: Queryable): Promise<HypertableCompression[]> {
  const fns = await statsFunctions(db);
  if (!fns) return [];
  const out: HypertableCompression[] = [];
  for (const table of HYPERTABLES) {
    if (!(await compressionEnabled(db, table))) continue;
    const h = await db.query<{
      total_chunks: string | null;
      number_compressed_chunks: string | null;
      before_compression_total_bytes: string | null;
      after_compression_total_bytes: string | null;
    }>(
      `SELECT total_chunks, number_compressed_chunks, before_compression_total_bytes, after_compression_total_bytes FROM ${ident(fns.hypertable)}($1::regclass)`,
      [ident(table)],
    );
    const c = await db.query<{
      chunk: string;
      compression_status: string;
      before_compression_total_bytes: string | null;
      after_compression_total_bytes: string | null;
    }>(
      `SELECT format('%I.%I', chunk_schema, chunk_name) AS chunk, compression_status, before_compression_total_bytes, after_compression_total_bytes
         FROM ${ident(fns.chunk)}($1::regclass) ORDER BY chunk_name`,
      [ident(table)],
    );
    const row = h.rows[0];
    const before = big(row?.before_compression_total_bytes ?? null);
    const after = big(row?.after_compression_total_bytes ?? null);
    out.push({
      hypertable: table,
      totalChunks: BigInt(row?.total_chunks ?? c.rows.length),
      compressedChunks: BigInt(row?.number_compressed_chunks ?? 0),
      beforeBytes: before,
      afterBytes: after,
      ratio: ratio(before, after),
      chunks: c.rows.map((r) => {
        const b = big(r.before_compression_total_bytes);
        const a = big(r.after_compression_total_bytes);
        return { chunk: r.chunk, status: r.compression_status, beforeBytes: b, afterBytes: a, ratio: ratio(b, a) };
      }),
    });
  }
  return out;
}
