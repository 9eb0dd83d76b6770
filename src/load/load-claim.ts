/**
 * At most one running load per (target table, source identity).
 *
 * Two loads of the same file at once used to both get a ledger row and each quarantine the
 * other's rows as duplicates: the ledger's check-then-insert had no lock. A load now *claims* its
 * ledger row in one transaction under a transaction-scoped advisory lock on (table, content
 * hash), so the check and the insert cannot interleave with another claimer's. The row records its
 * owner (pid, host) in `details.owner`, and a running row whose owner is alive refuses the second
 * claimer (LoadInProgressError, naming load id, pid and host).
 *
 * A running row whose owner is gone — killed, or given up without reaching the database to say
 * so — is taken over and resumed: on this host its pid is checked; a row owned by another host is
 * alive while its heartbeat (`updated_at`, refreshed every HEARTBEAT_MS by the owner) is fresh.
 * Within one process, a registry of claims tells a live load from one a crashed call left behind.
 */
import os from 'node:os';
import type { Engine } from '../engine/types.js';
import { TickvaultError } from '../errors.js';
import { LOADS_TABLE, type LoadMode } from '../schema/bookkeeping.js';
import * as ledger from './ledger.js';

export interface LoadOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** How often a running load refreshes its heartbeat, and after how long without one it is stale. */
export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 6 * HEARTBEAT_MS;

/** Another live load of the same source into the same table is running. */
export class LoadInProgressError extends TickvaultError {
  constructor(
    readonly loadId: string,
    readonly table: string,
    readonly owner: LoadOwner | undefined,
  ) {
    super(
      'LOAD_IN_PROGRESS',
      `the same source is being loaded into ${table} right now (load ${loadId}${owner ? `, pid ${owner.pid} on ${owner.host} since ${owner.since}` : ''}): ` +
        'wait for it to finish — a re-run then says "already loaded" — or stop it; a load whose process is gone is taken over and resumed by the next run',
    );
  }
}

export type Claim =
  | { readonly kind: 'completed'; readonly existing: ledger.LoadRecord }
  | {
      readonly kind: 'claimed';
      readonly loadId: string;
      /** The interrupted load being resumed (its committed batches are skipped). */
      readonly resumed: ledger.LoadRecord | undefined;
      /** The owner of a stale running load taken over. */
      readonly takenOverFrom: LoadOwner | undefined;
      release(): Promise<void>;
    };

/** Claims held by this process: key → true while the load runs. */
const claimedHere = new Set<string>();

export interface ClaimArgs {
  readonly identity: ledger.SourceIdentity;
  readonly table: string;
  readonly mode: LoadMode;
  readonly batchSize: number;
  readonly details: Record<string, unknown>;
}

export async function claimLoad(engine: Engine, args: ClaimArgs): Promise<Claim> {
  const key = `${engine.location}|${args.table}|${args.identity.contentHash}`;
  const me: LoadOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
  const outcome = await engine.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tickvault-load/${args.table}/${args.identity.contentHash}`]);
    const existing = await ledger.findLoadByHash(tx, args.table, args.identity.contentHash);
    if (existing?.status === 'completed' && args.mode !== 'replace') return { kind: 'completed' as const, existing };
    let takenOverFrom: LoadOwner | undefined;
    if (existing?.status === 'running') {
      const owner = ownerOf(existing);
      const { rows } = await tx.query<{ age_ms: string }>(
        `SELECT (EXTRACT(EPOCH FROM (NOW() - updated_at)) * 1000)::bigint::text AS age_ms FROM ${LOADS_TABLE} WHERE load_id = $1::bigint`,
        [existing.loadId],
      );
      if (ownerAlive(owner, Number(rows[0]?.age_ms ?? 0), key)) throw new LoadInProgressError(existing.loadId, args.table, owner);
      takenOverFrom = owner;
    }
    const resumed = existing && existing.status !== 'completed' && args.mode !== 'replace' ? existing : undefined;
    let loadId: string;
    if (resumed) {
      loadId = resumed.loadId;
      await ledger.markRunning(tx, loadId);
    } else {
      // A stale running load this one does not resume (replace mode) must not stay 'running'.
      if (existing?.status === 'running')
        await ledger.failLoad(tx, existing.loadId, 'abandoned: its process is gone; a later load took over');
      loadId = await ledger.createLoad(tx, {
        identity: args.identity,
        table: args.table,
        mode: args.mode,
        batchSize: args.batchSize,
        details: args.details,
      });
    }
    await ledger.mergeDetails(tx, loadId, { owner: me, ...(takenOverFrom ? { takenOverFrom } : {}) });
    return { kind: 'claimed' as const, loadId, resumed, takenOverFrom };
  });
  if (outcome.kind === 'completed') return outcome;
  claimedHere.add(key);
  const heartbeat = setInterval(() => {
    ledger.touchLoad(engine, outcome.loadId).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    ...outcome,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      claimedHere.delete(key);
    },
  };
}

function ownerOf(load: ledger.LoadRecord): LoadOwner | undefined {
  const o = (load.details as { owner?: LoadOwner } | null)?.owner;
  return o && typeof o.pid === 'number' && typeof o.host === 'string' ? o : undefined;
}

/**
 * Whether the owner of a running load is still at work. This process: only while its claim is
 * registered. Another process on this host: while its pid lives. Another host (or an owner
 * unknown, from a version before owners were recorded): while the heartbeat is fresh.
 */
function ownerAlive(owner: LoadOwner | undefined, heartbeatAgeMs: number, key: string): boolean {
  if (owner && owner.host === os.hostname()) {
    if (owner.pid === process.pid) return claimedHere.has(key);
    return pidAlive(owner.pid);
  }
  return heartbeatAgeMs < STALE_AFTER_MS;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
