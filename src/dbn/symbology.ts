/**
 * instrument_id -> symbol, by time (reference §6).
 *
 * THE RULE (what symbol a row gets), chosen to match Databento's own `map_symbols`:
 *  1. Metadata mappings with stype_out = instrument_id (the usual historical file): each mapping
 *     key is the symbol that was REQUESTED in stype_in, and each interval's `symbol` is an
 *     instrument_id in decimal. A row gets the requested symbol. So a file requested as `ESH1`
 *     (raw_symbol) labels rows `ESH1`; a file requested as `ES.c.0` (continuous) or `ES.FUT`
 *     (parent) labels rows `ES.c.0` / `ES.FUT`, whatever contract the id was that day. The
 *     contract's own raw symbol is not in the metadata; it comes from definition records.
 *  2. Metadata mappings with stype_in = instrument_id: the key is the id and the interval symbol
 *     is the output symbol; a row gets that output symbol.
 *  3. Any other metadata pairing names no instrument_id and is ignored (counted in `ignored`).
 *  4. SymbolMappingMsg records in the stream (live captures): a row gets `stype_in_symbol`, the
 *     symbol that was REQUESTED (subscribed), as rule 1 gives for a historical file of the same
 *     request — one request, one name, whichever way the file was made; when it is empty or all
 *     digits (a request by instrument_id, as rule 2) the row gets `stype_out_symbol`; valid from
 *     start_ts to end_ts (UNDEF/0 = open-ended), from the moment the record is seen.
 * Intervals: metadata dates are UTC days, start inclusive, end exclusive; a record is placed by
 * its index timestamp: ts_recv where the record has one (and it is defined), else ts_event.
 * When intervals overlap, the one added last wins (later metadata entries, then stream records).
 * An id with no interval covering the time resolves to null and is recorded in unresolvedIds():
 * never a made-up symbol.
 */
import type { RecordBatch } from './batch.js';
import { RTYPE, STYPE, UNDEF_TIMESTAMP } from './constants.js';
import { readMicros } from './fixed.js';
import { layoutFor } from './layouts.js';
import type { DbnMetadata } from './metadata.js';
import { readField } from './records.js';

interface Interval {
  readonly startUs: number;
  readonly endUs: number;
  readonly symbol: string;
}

const DIGITS = /^[0-9]+$/;
/** Slots of SymbolMap's last-hit cache (a power of two). */
const HIT_SLOTS = 1024;

/** YYYYMMDD (UTC) -> µs since epoch at 00:00 of that day. */
export function yyyymmddToMicros(d: number): number {
  const y = Math.floor(d / 10000);
  const m = Math.floor(d / 100) % 100;
  return Date.UTC(y, m - 1, d % 100) * 1000;
}

/**
 * Offset of the index timestamp per rtype: ts_recv where the record's layout has one (same
 * offset in every version), else ts_event (@8; OHLCV, symbol mappings, unknown rtypes).
 */
const INDEX_TS_OFFSET = (() => {
  const t = new Uint8Array(256).fill(8);
  for (let r = 0; r < 256; r++) {
    const f = layoutFor(r, 3)?.fields.find((x) => x.name === 'tsRecv');
    if (f) t[r] = f.off;
  }
  return t;
})();

function tsToMicros(ts: bigint, open: number): number {
  return ts === UNDEF_TIMESTAMP || ts === 0n ? open : Number(ts / 1000n);
}

/** hitIndex value of a slot whose symbol has not been indexed yet. */
const NO_INDEX = -2;
/** See SymbolMap.hitLoNs: above the double rounding of both sides (≤ 1,024 ns each below 2^64). */
const NS_MARGIN = 4096;

/**
 * What resolveBatch can also produce, per record: the caller's own index of its symbol (e.g. a
 * table of pre-encoded symbol fields), looked up once per cached interval instead of per record.
 */
export interface SymbolIndexing {
  /** Per rtype: 1 when its records want an index; others get -1. */
  readonly rtypes: Uint8Array;
  /** The caller's index of a symbol as an instrument's (any integer ≥ -1). */
  indexOf(symbol: string, instrumentId: number): number;
  /** Filled by resolveBatch: out[i] for record i; -1 when unresolved or not wanted. */
  out: Int32Array;
}

export class SymbolMap {
  private readonly byId = new Map<number, Interval[]>();
  /**
   * Last interval hit per id, direct-mapped on the id's low bits: rows of one instrument and day
   * skip the search with a few typed-array reads (a Map lookup per row cost several times more).
   * A slot holds one id at a time; a collision only means a search.
   */
  private readonly hitId = new Float64Array(HIT_SLOTS).fill(-1);
  private readonly hitStart = new Float64Array(HIT_SLOTS);
  private readonly hitEnd = new Float64Array(HIT_SLOTS);
  /**
   * The same range in nanoseconds as doubles, shrunk by NS_MARGIN at both ends: a record's u64
   * timestamp read as hi·2^32 + lo (a double within 1,024 ns of the exact value) that falls inside
   * is certainly inside the exact range, with no division to microseconds.
   */
  private readonly hitLoNs = new Float64Array(HIT_SLOTS);
  private readonly hitHiNs = new Float64Array(HIT_SLOTS);
  private readonly hitSymbol: string[] = new Array<string>(HIT_SLOTS).fill('');
  /** The caller's index of each slot's symbol (resolveBatch's SymbolIndexing); NO_INDEX until asked. */
  private readonly hitIndex = new Int32Array(HIT_SLOTS);
  /** The indexing hitIndex was filled for. */
  private indexing: SymbolIndexing | undefined;
  private readonly unresolved = new Map<number, number>();
  /** Metadata intervals that named no instrument_id (rule 3, or a non-numeric id). */
  ignored = 0;

  static fromMetadata(md: DbnMetadata): SymbolMap {
    const m = new SymbolMap();
    m.addMetadata(md);
    return m;
  }

  addMetadata(md: DbnMetadata): void {
    const idIsKey = md.stypeIn === STYPE.INSTRUMENT_ID;
    const idIsValue = !idIsKey && md.stypeOut === STYPE.INSTRUMENT_ID;
    for (const m of md.mappings) {
      for (const iv of m.intervals) {
        const idText = idIsKey ? m.rawSymbol : idIsValue ? iv.symbol : '';
        const symbol = idIsKey ? iv.symbol : m.rawSymbol;
        if (!DIGITS.test(idText) || symbol === '' || Number(idText) > 0xffffffff) {
          this.ignored++;
          continue;
        }
        this.addInterval(Number(idText), yyyymmddToMicros(iv.startDate), yyyymmddToMicros(iv.endDate), symbol);
      }
    }
  }

  /** Adds one mapping: `instrumentId` is `symbol` for µs times in [startUs, endUs). */
  addInterval(instrumentId: number, startUs: number, endUs: number, symbol: string): void {
    let list = this.byId.get(instrumentId);
    if (!list) this.byId.set(instrumentId, (list = []));
    list.push({ startUs, endUs, symbol });
    const h = instrumentId & (HIT_SLOTS - 1);
    if (this.hitId[h] === instrumentId) this.hitId[h] = -1;
  }

  /** Ingests a SymbolMappingMsg (rule 4). */
  addSymbolMapping(m: { instrumentId: number; stypeInSymbol: string; stypeOutSymbol: string; startTs: bigint; endTs: bigint }): void {
    const requested = m.stypeInSymbol;
    const symbol = requested === '' || DIGITS.test(requested) ? m.stypeOutSymbol : requested;
    if (symbol === '') return;
    this.addInterval(m.instrumentId, tsToMicros(m.startTs, -Infinity), tsToMicros(m.endTs, Infinity), symbol);
  }

  /** Symbol of `instrumentId` at `tsUs` (µs since epoch), or null (and recorded as unresolved). */
  resolve(instrumentId: number, tsUs: number): string | null {
    const h = instrumentId & (HIT_SLOTS - 1);
    if (this.hitId[h] === instrumentId && tsUs >= this.hitStart[h]! && tsUs < this.hitEnd[h]!) return this.hitSymbol[h]!;
    const list = this.byId.get(instrumentId);
    if (list) {
      // Newest first. The cached range is the hit interval minus the newer intervals skipped on
      // the way, so a later cache hit can never shadow a newer (winning) interval.
      let lo = -Infinity;
      let hi = Infinity;
      for (let k = list.length - 1; k >= 0; k--) {
        const iv = list[k]!;
        if (tsUs >= iv.startUs && tsUs < iv.endUs) {
          this.hitId[h] = instrumentId;
          this.hitStart[h] = Math.max(lo, iv.startUs);
          this.hitEnd[h] = Math.min(hi, iv.endUs);
          this.hitLoNs[h] = this.hitStart[h]! * 1000 + NS_MARGIN;
          this.hitHiNs[h] = this.hitEnd[h]! * 1000 - NS_MARGIN;
          this.hitSymbol[h] = iv.symbol;
          this.hitIndex[h] = NO_INDEX;
          return iv.symbol;
        }
        if (iv.endUs <= tsUs) lo = Math.max(lo, iv.endUs);
        else hi = Math.min(hi, iv.startUs);
      }
    }
    this.unresolved.set(instrumentId, (this.unresolved.get(instrumentId) ?? 0) + 1);
    return null;
  }

  /**
   * Resolves every record of `batch` into out[0..count) (null = unresolved; for symbol-mapping
   * records, the symbol they establish), ingesting symbol-mapping records in stream order so a
   * mapping applies to the records after it. Returns how many rows stayed unresolved.
   * With `indexing`, a record that gets an index ≥ 0 is left out of `out` (its symbol is the
   * caller's entry; a string store per record was a tenth of this loop).
   */
  resolveBatch(batch: RecordBatch, out: (string | null)[], indexing?: SymbolIndexing): number {
    const { view, offsets, rtypes, count } = batch;
    if (indexing && indexing !== this.indexing) {
      this.hitIndex.fill(NO_INDEX);
      this.indexing = indexing;
    }
    const indexes = indexing?.out;
    const wanted = indexing?.rtypes;
    const { hitId, hitLoNs, hitHiNs, hitSymbol, hitIndex } = this;
    let missing = 0;
    for (let i = 0; i < count; i++) {
      const o = offsets[i]!;
      const rt = rtypes[i]!;
      if (rt === RTYPE.SYMBOL_MAPPING) this.ingestMappingRecord(batch, o);
      const at = o + INDEX_TS_OFFSET[rt]!;
      const hi = view.getUint32(at + 4, true);
      const id = view.getUint32(o + 4, true);
      const h = id & (HIT_SLOTS - 1);
      // The last-hit test of resolve(), inline and in nanoseconds: the common case, once per
      // record. hi = 0xffffffff (UNDEF, or past 2554) always takes the exact path.
      const ns = hi * 4294967296 + view.getUint32(at, true);
      let s: string | null;
      if (hitId[h] === id && ns >= hitLoNs[h]! && ns < hitHiNs[h]! && hi !== 0xffffffff) {
        s = hitSymbol[h]!;
      } else {
        let us = readMicros(view, at);
        if (Number.isNaN(us)) us = readMicros(view, o + 8); // ts_recv UNDEF: fall back to ts_event
        s = this.resolve(id, us);
      }
      if (s === null) {
        missing++;
        out[i] = null;
        if (indexes) indexes[i] = -1;
      } else if (indexes) {
        // resolve() leaves the interval in slot h (a found symbol always fills it).
        const k = wanted![rt] === 0 ? -1 : hitIndex[h] !== NO_INDEX ? hitIndex[h]! : (hitIndex[h] = indexing!.indexOf(s, id));
        indexes[i] = k;
        if (k < 0) out[i] = s;
      } else {
        out[i] = s;
      }
    }
    return missing;
  }

  /** Ids that failed to resolve at least once, ascending. */
  unresolvedIds(): number[] {
    return [...this.unresolved.keys()].sort((a, b) => a - b);
  }

  /** Failed lookups per id. */
  unresolvedCounts(): ReadonlyMap<number, number> {
    return this.unresolved;
  }

  private ingestMappingRecord(batch: RecordBatch, o: number): void {
    const l = layoutFor(RTYPE.SYMBOL_MAPPING, batch.version)!;
    const f = (name: string): unknown => readField(batch.bytes, batch.view, o, l.fields.find((x) => x.name === name)!);
    this.addSymbolMapping({
      instrumentId: batch.view.getUint32(o + 4, true),
      stypeInSymbol: f('stypeInSymbol') as string,
      stypeOutSymbol: f('stypeOutSymbol') as string,
      startTs: f('startTs') as bigint,
      endTs: f('endTs') as bigint,
    });
  }
}
