/**
 * Names the records of a DBN file, decoder batch by decoder batch: the file's own mappings first
 * (metadata, symbol-mapping records), then — for ids the file cannot name — a SymbolHistory (the
 * stored definitions, load/symbol-history.ts), each id asked once. Records that stay unnamed get
 * null, never a made-up symbol.
 */
import type { RecordBatch } from '../dbn/batch.js';
import type { DbnMetadata } from '../dbn/metadata.js';
import { SymbolMap, type SymbolIndexing } from '../dbn/symbology.js';

/** One instrument's symbol over [fromUs, toUs) (µs since the epoch; toUs null = still valid). */
export interface SymbolInterval {
  readonly instrumentId: number;
  readonly symbol: string;
  readonly fromUs: number;
  readonly toUs: number | null;
}

/** Where symbols the file lacks come from. */
export interface SymbolHistory {
  intervalsFor(ids: readonly number[]): Promise<readonly SymbolInterval[]>;
}

export class BatchSymbolResolver {
  private readonly symbols = new SymbolMap();
  /** Ids already asked of the history (found or not). */
  private readonly asked = new Set<number>();

  constructor(
    metadata: DbnMetadata,
    private readonly history?: SymbolHistory,
  ) {
    this.symbols.addMetadata(metadata);
  }

  /**
   * Fills resolved[i] with the symbol of record i (null when unknown); with `indexing`, also the
   * caller's index of it (see SymbolIndexing), for the records whose rtype wants one.
   */
  async resolve(batch: RecordBatch, resolved: (string | null)[], indexing?: SymbolIndexing): Promise<void> {
    const missing = this.symbols.resolveBatch(batch, resolved, indexing);
    if (missing > 0 && this.history) await this.fillFromHistory(batch, resolved, indexing);
  }

  /** One history question per batch, for the ids the file could not name. */
  private async fillFromHistory(batch: RecordBatch, resolved: (string | null)[], indexing?: SymbolIndexing): Promise<void> {
    const ids = new Set<number>();
    // Records with a symbol entry are resolved whatever `resolved` holds for them (resolveBatch).
    const unresolved: number[] = [];
    for (let i = 0; i < batch.count; i++) {
      if (resolved[i] !== null || (indexing && indexing.out[i]! >= 0)) continue;
      unresolved.push(i);
      const id = batch.view.getUint32(batch.offsets[i]! + 4, true);
      if (!this.asked.has(id)) ids.add(id);
    }
    if (ids.size > 0) {
      for (const r of await this.history!.intervalsFor([...ids])) {
        this.symbols.addInterval(r.instrumentId, r.fromUs, r.toUs === null ? Number.MAX_SAFE_INTEGER : r.toUs, r.symbol);
      }
      for (const id of ids) this.asked.add(id);
    }
    for (const i of unresolved) {
      const o = batch.offsets[i]!;
      const id = batch.view.getUint32(o + 4, true);
      const tsUs = Number(batch.view.getBigUint64(o + 8, true) / 1000n);
      const symbol = (resolved[i] = this.symbols.resolve(id, tsUs));
      if (indexing && symbol !== null && indexing.rtypes[batch.rtypes[i]!] === 1) indexing.out[i] = indexing.indexOf(symbol, id);
    }
  }
}
