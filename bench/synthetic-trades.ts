/**
 * Realistic synthetic trades for the load benchmark and the load tests.
 *
 * - ~10 instruments with uneven activity (Zipf-like weights: the front ES contract trades far
 *   more often than the 6E one), each with its real tick size and a plausible price level;
 * - prices move as a random walk in whole ticks, so every price is a multiple of the tick;
 * - timestamps spread over `hours` (default 23) in increasing order, nanosecond resolution
 *   (as DBN delivers them), sizes skewed small (mostly 1–5 lots, rare blocks), sides B/S;
 * - trade_id is the sequence number of the trade in the stream.
 *
 * Deterministic for a given seed: the same options give byte-identical records, which is what
 * a resumed load needs (the ledger numbers batches by input position) and what lets the
 * benchmark feed the same rows to every variant. Records are produced lazily (a generator), so
 * a 5,000,000-row stream never exists in memory at once.
 */
import type { TradeRecord } from '../src/load/loaders.js';

export interface SyntheticInstrument {
  readonly symbol: string;
  readonly instrumentId: number;
  /** Tick size as a fixed-point integer at scale 9 (DBN's price scale). */
  readonly tick: bigint;
  /** Starting price in ticks. */
  readonly startTicks: number;
  /** Relative activity (Zipf-like: weight ∝ 1/rank). */
  readonly weight: number;
}

const PX_SCALE = 9;
const ONE = 1_000_000_000n; // 1.0 at scale 9

/** Ten instruments, most active first; weights ∝ 1/rank^1.1. */
export const INSTRUMENTS: readonly SyntheticInstrument[] = [
  { symbol: 'ESH4', instrumentId: 5002, tick: ONE / 4n, startTicks: 4_780 * 4 }, // ES  0.25 index pts
  { symbol: 'NQH4', instrumentId: 5003, tick: ONE / 4n, startTicks: 16_850 * 4 }, // NQ  0.25
  { symbol: 'AAPL', instrumentId: 38, tick: ONE / 100n, startTicks: 185_40 }, // equities 0.01
  { symbol: 'CLJ4', instrumentId: 5101, tick: ONE / 100n, startTicks: 72_35 }, // CL  0.01 $/bbl
  { symbol: 'SPY', instrumentId: 15144, tick: ONE / 100n, startTicks: 476_20 },
  { symbol: 'ZNH4', instrumentId: 5202, tick: ONE / 64n, startTicks: 111 * 64 + 16 }, // ZN  1/64 = 0.015625
  { symbol: 'GCJ4', instrumentId: 5301, tick: ONE / 10n, startTicks: 2_045_3 }, // GC  0.10 $/oz
  { symbol: 'MSFT', instrumentId: 10451, tick: ONE / 100n, startTicks: 374_55 },
  { symbol: 'QQQ', instrumentId: 13340, tick: ONE / 100n, startTicks: 409_12 },
  { symbol: '6EH4', instrumentId: 5401, tick: ONE / 20_000n, startTicks: 1_0950 * 2 }, // 6E  0.00005 $/€
].map((ins, rank) => ({ ...ins, weight: 1 / (rank + 1) ** 1.1 }));

export interface SyntheticTradesOptions {
  /** Number of trades (default 5,000,000). */
  readonly rows?: number;
  /** PRNG seed (default 1). */
  readonly seed?: number;
  /** First trade time, epoch nanoseconds (default 2024-01-02T00:00:00Z). */
  readonly startNs?: bigint;
  /** Span of the stream in hours (default 23). */
  readonly hours?: number;
  /** Index of the first trade to produce (to generate a slice of the stream). Default 0. */
  readonly from?: number;
}

export const DEFAULT_START_NS = 1_704_153_600_000_000_000n; // 2024-01-02T00:00:00Z

/** mulberry32: tiny, fast, good enough for synthetic market data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A trade as the generator's internal state produces it (shared by the record and CSV forms). */
export interface RawTrade {
  /** epoch nanoseconds */
  ts: bigint;
  ins: SyntheticInstrument;
  /** price at scale 9 */
  price: bigint;
  size: number;
  side: 'B' | 'S';
  seq: number;
}

/** The deterministic stream of raw trades (one mutable object, reused: copy what you keep). */
export function* rawTrades(opts: SyntheticTradesOptions = {}): Generator<RawTrade> {
  const rows = opts.rows ?? 5_000_000;
  const rnd = mulberry32(opts.seed ?? 1);
  const start = opts.startNs ?? DEFAULT_START_NS;
  const spanNs = (opts.hours ?? 23) * 3_600e9;
  const step = spanNs / Math.max(1, rows);
  const cumulative: number[] = [];
  let sum = 0;
  for (const ins of INSTRUMENTS) cumulative.push((sum += ins.weight));
  const ticks = INSTRUMENTS.map((i) => i.startTicks);
  const from = opts.from ?? 0;
  const out: RawTrade = { ts: 0n, ins: INSTRUMENTS[0]!, price: 0n, size: 0, side: 'B', seq: 0 };
  for (let i = 0; i < rows; i++) {
    // Draw everything for every row, even skipped ones, so a slice equals the same rows of the whole stream.
    const u = rnd() * sum;
    let k = 0;
    while (cumulative[k]! < u) k++;
    const move = rnd();
    const sizeU = rnd();
    const sideU = rnd();
    const jitter = rnd();
    // random walk: mostly unchanged, ±1 tick often, ±2 rarely, never below 1 tick
    const d = move < 0.6 ? 0 : move < 0.78 ? 1 : move < 0.96 ? -1 : move < 0.98 ? 2 : -2;
    ticks[k] = Math.max(1, ticks[k]! + d);
    if (i < from) continue;
    const ins = INSTRUMENTS[k]!;
    out.ins = ins;
    out.ts = start + BigInt(Math.floor(i * step + jitter * step * 0.9));
    out.price = BigInt(ticks[k]!) * ins.tick;
    // sizes skewed small: geometric-ish, with rare block trades
    out.size = sizeU > 0.999 ? 100 + (Math.floor(sizeU * 1e5) % 900) : 1 + Math.floor(-Math.log(1 - sizeU * 0.999) * 2.5);
    out.side = sideU < 0.5 ? 'B' : 'S';
    out.seq = i + 1;
    yield out;
  }
}

/** Trades as loader records: timestamp in epoch ns (bigint), price as DBN fixed point (scale 9). */
export function* syntheticTrades(opts: SyntheticTradesOptions = {}): Generator<TradeRecord> {
  for (const r of rawTrades(opts)) {
    yield {
      timestamp: r.ts,
      instrument_id: r.ins.instrumentId,
      symbol: r.ins.symbol,
      price: { value: r.price, scale: PX_SCALE },
      size: r.size,
      side: r.side,
      trade_id: String(r.seq),
    };
  }
}

/** The same stream in arrays of `chunk` records (cheaper to iterate; still streaming). */
export function* syntheticTradeChunks(opts: SyntheticTradesOptions = {}, chunk = 1000): Generator<TradeRecord[]> {
  let buf: TradeRecord[] = [];
  for (const rec of syntheticTrades(opts)) {
    buf.push(rec);
    if (buf.length >= chunk) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length > 0) yield buf;
}

/** ISO 8601 UTC with microseconds from epoch ns (truncated toward the past, as the loader does). */
export function nsToIsoMicros(ns: bigint): string {
  let us = ns / 1000n;
  if (ns < 0n && us * 1000n !== ns) us -= 1n;
  const ms = Number(us / 1000n);
  const rest = Number(us % 1000n);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

/** Scale-9 fixed point → DECIMAL(20,8) text (exact for prices on ticks ≥ 1e-8). */
export function priceText(scaled9: bigint): string {
  const s = (scaled9 / 10n).toString().padStart(9, '0'); // ticks are multiples of 1e-8 here
  return `${s.slice(0, -8)}.${s.slice(-8)}`;
}

/** One CSV line (columns: timestamp, instrument_id, symbol, price, size, side, trade_id). */
export function csvLine(r: RawTrade): string {
  return `${nsToIsoMicros(r.ts)},${r.ins.instrumentId},${r.ins.symbol},${priceText(r.price)},${r.size},${r.side},${r.seq}\n`;
}

/** A record (as produced by syntheticTrades) → CSV line: the "obvious approach" of the benchmark. */
export function recordToCsvLine(r: TradeRecord): string {
  const px = r.price as { value: bigint; scale: number };
  return `${nsToIsoMicros(r.timestamp as bigint)},${r.instrument_id},${r.symbol},${priceText(px.value)},${String(r.size)},${r.side},${r.trade_id ?? ''}\n`;
}
