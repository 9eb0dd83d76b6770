/**
 * The stored symbol history (tickvault_symbol_history) as a source of symbol intervals for ids a
 * DBN file cannot name itself: what ingest/dbn-symbols.ts asks through its SymbolHistory interface.
 */
import type { Queryable } from '../engine/types.js';
import { SYMBOL_HISTORY_TABLE } from '../schema/bookkeeping.js';
import { ident } from '../sql/ident.js';

export interface StoredSymbolInterval {
  readonly instrumentId: number;
  readonly symbol: string;
  /** µs since the epoch, [fromUs, toUs); toUs null = still valid. */
  readonly fromUs: number;
  readonly toUs: number | null;
}

export class StoredSymbolHistory {
  constructor(private readonly db: Queryable) {}

  /** Every stored interval of these ids (ids above INTEGER cannot be stored and are not asked). */
  async intervalsFor(ids: readonly number[]): Promise<StoredSymbolInterval[]> {
    const asked = ids.filter((id) => id <= 0x7fffffff);
    if (asked.length === 0) return [];
    const { rows } = await this.db.query<{ instrument_id: number; symbol: string; f: string; t: string | null }>(
      `SELECT instrument_id, symbol, (extract(epoch FROM valid_from) * 1000000)::bigint::text AS f,
              (extract(epoch FROM valid_to) * 1000000)::bigint::text AS t
         FROM ${ident(SYMBOL_HISTORY_TABLE)} WHERE instrument_id = ANY($1::int[]) AND valid_from > '-infinity'`,
      [asked],
    );
    return rows.map((r) => ({
      instrumentId: Number(r.instrument_id),
      symbol: r.symbol,
      fromUs: Number(r.f),
      toUs: r.t === null ? null : Number(r.t),
    }));
  }
}

/**
 * The stored intervals of a known set of ids, read once up front and answered from memory. A load
 * that holds the embedded engine's only connection in one transaction (mode 'replace') cannot ask
 * the database mid-load: the question would wait behind the transaction it is part of.
 */
export class PreloadedSymbolHistory {
  private constructor(private readonly byId: ReadonlyMap<number, readonly StoredSymbolInterval[]>) {}

  static async load(db: Queryable, ids: readonly number[]): Promise<PreloadedSymbolHistory> {
    const byId = new Map<number, StoredSymbolInterval[]>();
    for (const r of await new StoredSymbolHistory(db).intervalsFor(ids)) {
      const list = byId.get(r.instrumentId);
      if (list) list.push(r);
      else byId.set(r.instrumentId, [r]);
    }
    return new PreloadedSymbolHistory(byId);
  }

  async intervalsFor(ids: readonly number[]): Promise<StoredSymbolInterval[]> {
    return ids.flatMap((id) => this.byId.get(id) ?? []);
  }
}
