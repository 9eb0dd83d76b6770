/**
 * The retention guard: rows already older than their table's retention window are refused before
 * anything is written. Accepting them would be a silent loss — the next retention run (`tickvault
 * maintain`, or TimescaleDB's job scheduler on a server) deletes them, and the ledger would go on
 * saying the file is loaded (issue 13). The user chooses: change the policy, or load anyway with
 * `allowExpired` (`--allow-expired`), knowing the rows go at the next retention run.
 *
 * The window is the stricter of the stored retention setting (what `maintain` applies) and a live
 * retention policy job (what the scheduler applies), measured from `now` (default: the database's
 * clock, which is what drop_chunks and the policy job measure from).
 */
import type { Queryable } from '../engine/types.js';
import { TickvaultError } from '../errors.js';
import { HYPERTABLE_NAMES, type HypertableName } from '../config/policies.js';
import { storedPolicies } from '../timescale/policies.js';
import { usExpr } from '../sql/time.js';
import { microsToIso } from '../values/time.js';

export interface RetentionOptions {
  /** Load rows past the table's retention window anyway (they are dropped at the next retention run). */
  readonly allowExpired?: boolean;
  /** The time the window is measured from (default: the database's now()); tests pass a fixed one. */
  readonly now?: Date;
}

export interface RetentionWindow {
  readonly table: HypertableName;
  /** The retention interval in force (the stricter one when the setting and a live job differ). */
  readonly interval: string;
  /** The policy in words: which setting or job. */
  readonly policy: string;
  /** Rows with a time before this (µs since the epoch) are past the window. */
  readonly cutoffUs: bigint;
}

/** A load's rows are past the table's retention window: refused before anything was written. */
export class RetentionExpiredError extends TickvaultError {
  constructor(
    readonly window: RetentionWindow,
    readonly oldestUs: bigint,
    readonly what: string,
  ) {
    super(
      'RETENTION_EXPIRED',
      `${what} is refused: its oldest row (${microsToIso(oldestUs)}) is past ${window.table}'s retention window — ${window.policy} ` +
        `drops rows older than ${window.interval} (before ${microsToIso(window.cutoffUs)}), so the next retention run would delete what this load stores. ` +
        `Nothing was written. Either change the policy (\`tickvault policy --retention ${window.table}=none\`, or a window longer than the data's age) ` +
        'or load anyway with --allow-expired (library: allowExpired: true), and the rows are dropped at the next retention run.',
    );
  }
}

/** The table's retention window at `now`, or null when nothing drops its rows. */
export async function retentionWindow(db: Queryable, table: string, now?: Date): Promise<RetentionWindow | null> {
  if (!HYPERTABLE_NAMES.includes(table as HypertableName)) return null;
  const name = table as HypertableName;
  const { policies, from } = await storedPolicies(db);
  const candidates: { interval: string; policy: string }[] = [];
  const setting = policies.retainFor[name];
  if (setting)
    candidates.push({
      interval: setting,
      policy: `the retention setting of ${name} (${setting}${from === 'defaults' ? ', a default' : ''}, applied by \`tickvault maintain\`)`,
    });
  const { rows: jobsView } = await db.query<{ ok: boolean }>(`SELECT to_regclass('timescaledb_information.jobs') IS NOT NULL AS ok`);
  if (jobsView[0]!.ok) {
    const { rows } = await db.query<{ job_id: number; drop_after: string | null }>(
      `SELECT job_id, config->>'drop_after' AS drop_after FROM timescaledb_information.jobs
        WHERE proc_name = 'policy_retention' AND hypertable_name = $1 AND hypertable_schema = current_schema() ORDER BY job_id`,
      [name],
    );
    for (const r of rows)
      if (r.drop_after)
        candidates.push({ interval: r.drop_after, policy: `retention policy job ${r.job_id} on ${name} (${r.drop_after})` });
  }
  let best: RetentionWindow | null = null;
  for (const c of candidates) {
    const { rows } = await db.query<{ us: string }>(`SELECT ${usExpr('(COALESCE($1::timestamptz, now()) - $2::interval)')}::text AS us`, [
      now?.toISOString() ?? null,
      c.interval,
    ]);
    const cutoffUs = BigInt(rows[0]!.us);
    if (!best || cutoffUs > best.cutoffUs) best = { table: name, interval: c.interval, policy: c.policy, cutoffUs };
  }
  return best;
}

/** Throws RetentionExpiredError when `oldestUs` is past the window. */
export function checkRetention(window: RetentionWindow | null, oldestUs: bigint | null, what: string): void {
  if (window && oldestUs !== null && oldestUs < window.cutoffUs) throw new RetentionExpiredError(window, oldestUs, what);
}
