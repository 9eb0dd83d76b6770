/**
 * Keeping rollups current.
 *
 * Community tier (capabilities.continuousAggregates): rollups are real-time continuous aggregates.
 * Rows appended above the materialized horizon (the watermark) are read live; rows written BELOW
 * it (a backfill into an already-materialized range) are invisible until that range is refreshed
 * — which `refreshAfterLoad` does with refresh_continuous_aggregate over the touched buckets, finer
 * rollup first. Two rules keep the result exact:
 *  - the window ends at the start of the current (incomplete) bucket: a materialized bucket that
 *    still receives rows would go stale, while real-time reads it live until it is complete;
 *  - when the window reaches above the materialized horizon, it is extended down to that horizon,
 *    because a refresh moves the watermark to its end and anything unmaterialized below the
 *    watermark would disappear from real-time reads.
 *
 * Other tiers: rollups are plain materialized views; they are recomputed whole, in dependency
 * order, CONCURRENTLY when they have a unique index (readers keep reading the old contents).
 */
import type { Capabilities, Engine, Queryable } from '../engine/types.js';
import { CapabilityError } from '../errors.js';
import { ident } from '../sql/ident.js';
import { microsToIso } from '../values/time.js';
import { timeRangeArgMicros, usExpr, type TimeInput } from '../sql/time.js';
import { ROLLUPS, rollupsOf, type Rollup } from '../schema/rollups.js';

export interface RefreshAction {
  readonly view: string;
  readonly method: 'refresh_continuous_aggregate' | 'REFRESH MATERIALIZED VIEW' | 'REFRESH MATERIALIZED VIEW CONCURRENTLY' | 'none';
  /** Window refreshed (ISO, microseconds); null = unbounded / whole view. */
  readonly start: string | null;
  readonly end: string | null;
  readonly note?: string;
  readonly ms?: number;
}

function floorTo(us: bigint, width: bigint): bigint {
  const r = us % width;
  return r < 0n ? us - r - width : us - r;
}

async function nowUs(db: Queryable): Promise<bigint> {
  const { rows } = await db.query<{ us: string }>(`SELECT ${usExpr('now()')} AS us`);
  return BigInt(rows[0]!.us);
}

async function exists(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [ident(name)]);
  return rows[0]!.ok;
}

/** End (exclusive, µs) of the newest materialized bucket of a continuous aggregate; null if none. */
async function materializedEnd(db: Queryable, r: Rollup): Promise<bigint | null> {
  const { rows } = await db.query<{ schema: string; name: string }>(
    `SELECT materialization_hypertable_schema AS schema, materialization_hypertable_name AS name
       FROM timescaledb_information.continuous_aggregates WHERE view_name = $1`,
    [r.name],
  );
  const mat = rows[0];
  if (!mat) throw new CapabilityError(`${r.name} is not a continuous aggregate on this database`);
  const res = await db.query<{ us: string | null }>(`SELECT ${usExpr('max(bucket)')} AS us FROM ${ident(mat.schema)}.${ident(mat.name)}`);
  const v = res.rows[0]!.us;
  return v === null ? null : BigInt(v) + r.widthUs;
}

async function hasUniqueIndex(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = to_regclass($1) AND indisunique) AS ok',
    [ident(name)],
  );
  return rows[0]!.ok;
}

/**
 * Plans (and unless `dryRun`, runs) the refresh of one rollup over [startUs, endUs) — null bounds
 * mean "from the beginning" / "up to the last complete bucket".
 */
async function refreshOne(
  engine: Engine,
  caps: Capabilities,
  r: Rollup,
  startUs: bigint | null,
  endUs: bigint | null,
  dryRun: boolean,
): Promise<RefreshAction> {
  if (!(await exists(engine, r.name))) {
    return { view: r.name, method: 'none', start: null, end: null, note: 'rollup not created on this database (run `tickvault init`)' };
  }
  const t0 = performance.now();
  if (!caps.continuousAggregates) {
    const concurrent = await hasUniqueIndex(engine, r.name);
    const method = concurrent ? 'REFRESH MATERIALIZED VIEW CONCURRENTLY' : 'REFRESH MATERIALIZED VIEW';
    if (!dryRun) await engine.query(`${method} ${ident(r.name)}`);
    return {
      view: r.name,
      method,
      start: null,
      end: null,
      note: 'whole view recomputed',
      ...(dryRun ? {} : { ms: performance.now() - t0 }),
    };
  }
  const limit = floorTo(await nowUs(engine), r.widthUs);
  let end = endUs === null ? limit : floorTo(endUs - 1n, r.widthUs) + r.widthUs;
  if (end > limit) end = limit;
  let start = startUs === null ? null : floorTo(startUs, r.widthUs);
  if (start !== null && start >= end) {
    return {
      view: r.name,
      method: 'none',
      start: microsToIso(start),
      end: microsToIso(end),
      note: 'only the current bucket is touched: real-time reads it live',
    };
  }
  const horizon = await materializedEnd(engine, r);
  let note: string | undefined;
  if (start !== null && end > (horizon ?? -(2n ** 62n))) {
    // The refresh moves the horizon up to `end`: materialize everything not yet materialized below it.
    if (horizon === null) {
      start = null;
      note = 'never materialized: window extended to the beginning';
    } else if (horizon < start) {
      start = horizon;
      note = 'window extended down to the materialized horizon';
    }
  }
  const startText = start === null ? null : microsToIso(start);
  const endText = microsToIso(end);
  if (!dryRun) {
    await engine.query('CALL refresh_continuous_aggregate($1::regclass, $2::timestamptz, $3::timestamptz)', [
      ident(r.name),
      startText,
      endText,
    ]);
  }
  return {
    view: r.name,
    method: 'refresh_continuous_aggregate',
    start: startText,
    end: endText,
    ...(note ? { note } : {}),
    ...(dryRun ? {} : { ms: performance.now() - t0 }),
  };
}

/**
 * After rows were written into `table` between minTime and maxTime (inclusive), makes every rollup
 * over that table show them: refresh_continuous_aggregate over the touched buckets on the community
 * tier (finer rollups first), REFRESH MATERIALIZED VIEW elsewhere. Tables without rollups: no-op.
 * Call it after a backfill into an already-materialized range (the loaders do, after a load).
 */
export async function refreshAfterLoad(engine: Engine, table: string, minTime: TimeInput, maxTime: TimeInput): Promise<RefreshAction[]> {
  const { minUs, maxUs } = timeRangeArgMicros(minTime, maxTime);
  const caps = await engine.capabilities();
  const out: RefreshAction[] = [];
  for (const r of rollupsOf(table)) out.push(await refreshOne(engine, caps, r, minUs, maxUs + 1n, false));
  return out;
}

/** Refreshes (or plans, with dryRun) every rollup up to its last complete bucket, in dependency order. */
export async function refreshRollups(engine: Engine, options: { dryRun?: boolean } = {}): Promise<RefreshAction[]> {
  const caps = await engine.capabilities();
  const out: RefreshAction[] = [];
  for (const r of ROLLUPS) out.push(await refreshOne(engine, caps, r, null, null, options.dryRun ?? false));
  return out;
}
