/**
 * Transaction-level advisory locks per (table, chunk slot). A batch that checks for existing keys
 * (append) or merges into them (upsert) first locks every chunk-interval slot its time range
 * covers, in ascending order: two batches whose ranges share a chunk run one after the other
 * (so neither misses the other's rows), batches in different chunks run in parallel, and because
 * every transaction takes its locks in the same global order, no two can wait on each other in a
 * cycle — no deadlock. The locks are released by COMMIT / ROLLBACK.
 *
 * A batch spanning more than MAX_SLOT_LOCKS slots (sparse data, a long range in one batch) takes
 * the table-wide lock exclusively instead; every other batch holds the table-wide lock shared
 * before its slot locks, so the two granularities still exclude each other.
 */
import type { Queryable } from '../../engine/types.js';

/** Beyond this many slots in one batch, lock the whole table instead (bounded lock-table use). */
export const MAX_SLOT_LOCKS = 64;
/** Slot number meaning "the whole table" (slots are ≥ 0 for any time after 1970 … wrapped to int4). */
const TABLE_SLOT = -2147483648;

/** A stable int4 per table name, in tickvault's advisory-lock key space (FNV-1a). */
export function tableLockKey(table: string): number {
  let h = 0x811c9dc5;
  for (const ch of `tickvault:backfill:${table}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** The slots [minUs, maxUs] covers, ascending, as int4 (wrapped; -2^31 is reserved). */
export function slotsFor(minUs: bigint, maxUs: bigint, intervalUs: bigint): number[] | 'table' {
  const first = floorDiv(minUs, intervalUs);
  const last = floorDiv(maxUs, intervalUs);
  if (last - first + 1n > BigInt(MAX_SLOT_LOCKS)) return 'table';
  const out = new Set<number>();
  for (let s = first; s <= last; s++) {
    let v = Number(BigInt.asIntN(32, s));
    if (v === TABLE_SLOT) v += 1;
    out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Takes the locks for a batch's time range inside the caller's transaction. 'shared' slot locks
 * let the batches of one append load run side by side while still excluding any writer that
 * takes them exclusively (upserts, and appends that see another load at work).
 */
export async function lockSlots(
  tx: Queryable,
  table: string,
  minUs: bigint,
  maxUs: bigint,
  intervalUs: bigint,
  mode: 'exclusive' | 'shared' = 'exclusive',
): Promise<void> {
  const key = tableLockKey(table);
  const slots = slotsFor(minUs, maxUs, intervalUs);
  if (slots === 'table') {
    await tx.query(`SELECT ${mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}($1::int4, $2::int4)`, [
      key,
      TABLE_SLOT,
    ]);
    return;
  }
  await tx.query('SELECT pg_advisory_xact_lock_shared($1::int4, $2::int4)', [key, TABLE_SLOT]);
  // unnest yields the (already sorted) array in order, so the locks are taken in that order.
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`SELECT count(${fn}($1::int4, s)) FROM unnest($2::int4[]) AS s`, [key, slots]);
}
