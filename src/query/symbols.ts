/**
 * Symbol lookups over the stored symbol history (every source: definitions, DBN symbol mappings):
 * which symbol an instrument id had at a time, and which instrument a symbol named.
 */
import type { Queryable } from '../engine/types.js';
import { SYMBOL_HISTORY_TABLE } from '../schema/bookkeeping.js';
import { ident } from '../sql/ident.js';
import { microsToIso, toMicros } from '../values/time.js';

/** The symbol instrument `instrumentId` had at `at` (history of every source), or null. */
export async function resolveSymbol(db: Queryable, instrumentId: number, at: Date | string | bigint): Promise<string | null> {
  const { rows } = await db.query<{ symbol: string }>(
    `SELECT symbol FROM ${ident(SYMBOL_HISTORY_TABLE)}
     WHERE instrument_id = $1 AND valid_from <= $2::timestamptz AND (valid_to IS NULL OR valid_to > $2::timestamptz)
     ORDER BY valid_from DESC LIMIT 1`, [instrumentId, microsToIso(toMicros(at))]);
  return rows[0]?.symbol ?? null;
}

/** The instrument that was `symbol` at `at` (history of every source), or null. */
export async function resolveInstrument(db: Queryable, symbol: string, at: Date | string | bigint): Promise<number | null> {
  const { rows } = await db.query<{ instrument_id: number }>(
    `SELECT instrument_id FROM ${ident(SYMBOL_HISTORY_TABLE)}
     WHERE symbol = $1 AND valid_from <= $2::timestamptz AND (valid_to IS NULL OR valid_to > $2::timestamptz)
     ORDER BY valid_from DESC LIMIT 1`, [symbol, microsToIso(toMicros(at))]);
  const id = rows[0]?.instrument_id;
  return id === undefined ? null : Number(id);
}
