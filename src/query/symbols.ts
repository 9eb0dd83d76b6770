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
     ORDER BY valid_from DESC LIMIT 1`,
    [instrumentId, microsToIso(toMicros(at))],
  );
  return rows[0]?.symbol ?? null;
}

/** The instrument that was `symbol` at `at` (history of every source), or null. */
export async function resolveInstrument(db: Queryable, symbol: string, at: Date | string | bigint): Promise<number | null> {
  const { rows } = await db.query<{ instrument_id: number }>(
    `SELECT instrument_id FROM ${ident(SYMBOL_HISTORY_TABLE)}
     WHERE symbol = $1 AND valid_from <= $2::timestamptz AND (valid_to IS NULL OR valid_to > $2::timestamptz)
     ORDER BY valid_from DESC LIMIT 1`,
    [symbol, microsToIso(toMicros(at))],
  );
  const id = rows[0]?.instrument_id;
  return id === undefined ? null : Number(id);
}

/** Whether any row of `table` carries `symbol` (one index probe). */
export async function symbolStored(db: Queryable, table: string, symbol: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM ${ident(table)} WHERE symbol = $1 LIMIT 1`, [symbol]);
  return rows.length > 0;
}

/**
 * The stored symbols of `table` closest to `symbol` (edit distance, case ignored), at most `n`.
 * The distinct symbols are read by a skip scan over the symbol index — one probe per symbol, not a
 * pass over the rows — and at most 10,000 of them are compared.
 */
export async function closestSymbols(db: Queryable, table: string, symbol: string, n = 3): Promise<string[]> {
  const t = ident(table);
  const { rows } = await db.query<{ sym: string }>(
    `WITH RECURSIVE s(sym) AS (
       (SELECT symbol FROM ${t} ORDER BY symbol LIMIT 1)
       UNION ALL
       SELECT (SELECT symbol FROM ${t} WHERE symbol > s.sym ORDER BY symbol LIMIT 1) FROM s WHERE s.sym IS NOT NULL
     ) SELECT sym FROM s WHERE sym IS NOT NULL LIMIT 10000`,
  );
  const target = symbol.toUpperCase();
  return rows
    .map((r) => ({ sym: r.sym, d: editDistance(target, r.sym.toUpperCase()) }))
    .sort((a, b) => a.d - b.d || a.sym.localeCompare(b.sym))
    .slice(0, n)
    .map((x) => x.sym);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
