/**
 * The DBN end-to-end benchmark's trades (bench/dbn-e2e-bench.ts), shared with the CSV/Parquet
 * source benchmark (bench/source-bench.ts) so both measure the same rows.
 */
import type { TradeRecord } from '../src/dbn/index.js';

export const START_NS = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z
export const INSTRUMENTS = [
  { id: 5482, symbol: 'ESH4' },
  { id: 5483, symbol: 'ESM4' },
  { id: 5484, symbol: 'NQH4' },
  { id: 5485, symbol: 'NQM4' },
];

/** One trade per ~4 ms over ~11 h of 2024-01-01 for 10M records; sides A/B only, so every row loads. */
export function* trades(n: number): Generator<TradeRecord & { symbolIndex: number }> {
  const r = {
    kind: 'trade' as const,
    rtype: 0,
    publisherId: 1,
    instrumentId: 5482,
    tsEvent: 0n,
    price: 0n,
    size: 1,
    action: 'T',
    side: 'A',
    flags: 130,
    depth: 0,
    tsRecv: 0n,
    tsInDelta: 14_000,
    sequence: 0,
    symbolIndex: 0,
  };
  let ts = START_NS;
  let ticks = 19_000; // 4750.00 in 0.25 ticks
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // exact 32-bit LCG (a plain * loses low bits past 2^53)
    ts += BigInt(1 + (seed % 8_000_000)); // ~4 ms apart on average, nanosecond jitter
    ticks += ((seed >>> 8) % 3) - 1;
    r.symbolIndex = (seed >>> 12) % 4;
    r.instrumentId = INSTRUMENTS[r.symbolIndex]!.id;
    r.tsEvent = ts;
    r.tsRecv = ts + BigInt(10_000 + ((seed >>> 4) % 9000));
    r.price = BigInt(ticks) * 250_000_000n;
    r.size = 1 + ((seed >>> 16) % 7 === 0 ? (seed >>> 20) % 200 : (seed >>> 20) % 4);
    r.side = seed & 1 ? 'A' : 'B';
    r.sequence = i;
    yield r;
  }
}
