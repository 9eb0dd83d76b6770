/**
 * Direct-to-columnstore COPY (TimescaleDB ≥ 2.21, community edition): with the GUC
 * `timescaledb.enable_direct_compress_copy` set, a COPY into a hypertable writes compressed
 * batches straight into the chunk's columnstore instead of row-store pages that a later
 * compress_chunk would rewrite. This module answers, from the server itself (version, license,
 * GUC present, the table's catalog — never the engine kind), whether a table can take that path,
 * and if not, why; and sets the GUCs for one transaction.
 *
 * What TimescaleDB requires (src/copy.c): compression enabled on the hypertable, no primary key,
 * unique index or exclusion constraint, and no trigger besides its own insert blocker — any other
 * trigger (a user's, or the continuous-aggregate invalidation trigger of TimescaleDB versions
 * that record invalidations by trigger) makes it WARN and fall back to a normal COPY. We check the
 * same conditions first, so the plan and the result say why instead of a server warning nobody sees.
 */
import type { Capabilities, Queryable } from '../engine/types.js';
import { HYPERTABLE_NAMES, type HypertableName } from '../config/policies.js';
import { usExpr } from '../sql/time.js';
import { storedPolicies } from './policies.js';

/** The GUC names (constants: never built from input). */
export const GUC_DIRECT_COMPRESS = 'timescaledb.enable_direct_compress_copy';
export const GUC_CLIENT_SORTED = 'timescaledb.enable_direct_compress_copy_client_sorted';
/** 2.25+: rows TimescaleDB sorts at once per COPY (before: every 1,000-row flush is sorted on its own). */
export const GUC_SORT_LIMIT = 'timescaledb.direct_compress_copy_tuple_sort_limit';

/** The TimescaleDB trigger every hypertable has; copy.c ignores exactly one trigger. */
const INSERT_BLOCKER = 'ts_insert_blocker';

export type DirectCompressSupport =
  | { readonly ok: true; readonly version: string; readonly sortLimitGuc: boolean }
  | { readonly ok: false; readonly reason: string };

function atLeast(version: string | null, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m !== null && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

/** Whether `table` can be loaded by direct-compress COPY on this server, and if not, why. */
export async function directCompressSupport(db: Queryable, caps: Capabilities, table: string): Promise<DirectCompressSupport> {
  if (caps.tier !== 'timescaledb') {
    return {
      ok: false,
      reason: `tier ${caps.tier} (TimescaleDB license ${caps.timescaledbLicense ?? 'none'}) has no compression, so no direct-to-columnstore COPY`,
    };
  }
  if (!atLeast(caps.timescaledbVersion, 2, 21)) {
    return { ok: false, reason: `TimescaleDB ${caps.timescaledbVersion} is older than 2.21, the first with direct-compress COPY` };
  }
  const { rows } = await db.query<{
    guc: string | null;
    limit: string | null;
    compressed: boolean | null;
    unique: string[];
    triggers: string[];
  }>(
    `SELECT current_setting($1, true) AS guc, current_setting($2, true) AS limit,
            (SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_schema = current_schema() AND hypertable_name = $3) AS compressed,
            ARRAY(SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid = to_regclass($3) AND (i.indisunique OR i.indisexclusion) ORDER BY 1)
              || ARRAY(SELECT c.conname::text FROM pg_constraint c WHERE c.conrelid = to_regclass($3) AND c.contype = 'x' ORDER BY 1) AS unique,
            ARRAY(SELECT t.tgname::text FROM pg_trigger t WHERE t.tgrelid = to_regclass($3) AND NOT t.tgisinternal AND t.tgname <> $4 ORDER BY 1) AS triggers`,
    [GUC_DIRECT_COMPRESS, GUC_SORT_LIMIT, table, INSERT_BLOCKER],
  );
  const r = rows[0]!;
  if (r.guc === null) return { ok: false, reason: `TimescaleDB ${caps.timescaledbVersion} has no ${GUC_DIRECT_COMPRESS} setting` };
  if (r.compressed === null) return { ok: false, reason: `${table} is not a hypertable` };
  if (!r.compressed) return { ok: false, reason: `compression is not enabled on ${table}` };
  if (r.unique.length > 0)
    return {
      ok: false,
      reason: `${table} has a unique index or exclusion constraint (${[...new Set(r.unique)].join(', ')}); TimescaleDB compresses on COPY only without one`,
    };
  if (r.triggers.length > 0) {
    const cagg = r.triggers.includes('ts_cagg_invalidation_trigger');
    return {
      ok: false,
      reason: `${table} has triggers (${r.triggers.join(', ')})${cagg ? ` — TimescaleDB ${caps.timescaledbVersion} records continuous-aggregate invalidations by trigger (released 2.23.0 and later do not)` : ''}; TimescaleDB compresses on COPY only without triggers`,
    };
  }
  return { ok: true, version: caps.timescaledbVersion!, sortLimitGuc: r.limit !== null };
}

/**
 * The time (µs) before which a chunk is one the compression policy compresses: now − compress_after
 * (the live policy job's, else the stored setting's; the earlier cutoff when both exist). Null: no
 * compression policy, so no row "belongs" in the columnstore.
 */
export async function compressCutoffUs(db: Queryable, table: string, now?: Date): Promise<{ cutoffUs: bigint; after: string } | null> {
  if (!HYPERTABLE_NAMES.includes(table as HypertableName)) return null;
  const { policies } = await storedPolicies(db);
  const candidates: string[] = [];
  const setting = policies.compressAfter[table as HypertableName];
  if (setting) candidates.push(setting);
  const { rows } = await db.query<{ after: string | null }>(
    `SELECT config->>'compress_after' AS after FROM timescaledb_information.jobs
      WHERE proc_name = 'policy_compression' AND hypertable_schema = current_schema() AND hypertable_name = $1`,
    [table],
  );
  for (const r of rows) if (r.after) candidates.push(r.after);
  let best: { cutoffUs: bigint; after: string } | null = null;
  for (const after of candidates) {
    const res = await db.query<{ us: string }>(`SELECT ${usExpr('(COALESCE($1::timestamptz, now()) - $2::interval)')}::text AS us`, [
      now?.toISOString() ?? null,
      after,
    ]);
    const cutoffUs = BigInt(res.rows[0]!.us);
    // The longer interval wins: a row is only "already compressed" if every policy agrees.
    if (!best || cutoffUs < best.cutoffUs) best = { cutoffUs, after };
  }
  return best;
}

/**
 * Turns direct-compress COPY on for the current transaction only (set_config(..., true) is
 * SET LOCAL). The client sorts each COPY by segment and time but cannot promise order across
 * COPYs (DBN files are ts_recv-ordered; ts_event ranges of consecutive batches overlap), so
 * client_sorted stays off and TimescaleDB sorts; where the server has a sort limit, it is raised
 * to the COPY's row count so one sort covers the whole COPY and compressed batches fill up.
 */
export async function enableDirectCompress(
  tx: Queryable,
  support: Extract<DirectCompressSupport, { ok: true }>,
  rows: number,
): Promise<void> {
  await tx.query('SELECT set_config($1, $2, true), set_config($3, $4, true)', [GUC_DIRECT_COMPRESS, 'on', GUC_CLIENT_SORTED, 'off']);
  if (support.sortLimitGuc) await tx.query('SELECT set_config($1, $2, true)', [GUC_SORT_LIMIT, String(Math.max(rows, 1000))]);
}

/** Whether every chunk overlapping [minUs, maxUs] is compressed (TimescaleDB may fall back silently, with a WARNING). */
export async function rangeCompressed(db: Queryable, table: string, minIso: string, maxIso: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean | null }>(
    `SELECT bool_and(COALESCE(is_compressed, false)) AS ok FROM timescaledb_information.chunks
      WHERE hypertable_schema = current_schema() AND hypertable_name = $1 AND range_end > $2::timestamptz AND range_start <= $3::timestamptz`,
    [table, minIso, maxIso],
  );
  return rows[0]!.ok === true;
}
