/**
 * COPY binary encoder throughput: 5,000,000 synthetic trade rows
 * (timestamptz, int4, varchar symbol, numeric(20,8) price, int8 size, char(1) side, varchar trade_id).
 *
 * Build and run:  npx tsc -p . && node dist/bench/encode-bench.js [rows]
 *
 * Variants, all on one core, chunks produced and dropped (no I/O):
 *   generic  – CellValue[] rows through createRowEncoder (what a table description gives you)
 *   typed    – a loader calling the writer's field methods directly (no row arrays)
 *   stream   – rows through the async chunk generator encodeRowChunks, from a sync source
 *   async    – the same from an async generator of rows (one await per row: avoid)
 *   batches  – encodeBatchChunks from an async generator of 1,000-row batches
 *   numeric  – BinaryCopyWriter.numeric alone, ns per value
 *   dbn      – rescaleFixed(1e-9 price → scale 8) + BinaryCopyWriter.numeric, ns per value
 * The input rows are pre-generated (a pool of 65,536 rows cycled) so only encoding is timed.
 * Wall-clock rates are printed with the process's CPU time next to them: on a shared
 * machine the rate per CPU-second is the number to compare.
 */

import { pathToFileURL } from 'node:url';
import { BinaryCopyWriter, createRowEncoder } from '../src/copy/index.js';
import { encodeBatchChunks, encodeRowChunks } from '../src/copy/copy-stream.js';
import { rescaleFixed } from '../src/copy/numeric.js';
import { t, type CellValue } from '../src/schema/types.js';

export const TRADE_COLUMNS = [
  { name: 'timestamp', type: t.timestamptz },
  { name: 'instrument_id', type: t.int4 },
  { name: 'symbol', type: t.varchar(50) },
  { name: 'price', type: t.numeric(20, 8) },
  { name: 'size', type: t.int8 },
  { name: 'side', type: t.char(1) },
  { name: 'trade_id', type: t.varchar(100) },
] as const;

type TradeRow = [bigint, number, string, bigint, bigint, string, string];

const POOL = 65_536;

function makePool(): TradeRow[] {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const symbols = ['ESH4', 'NQH4', 'CLJ4', 'GCJ4', 'ZNH4', 'AAPL', 'MSFT', 'SPY', 'QQQ', 'ESM4.C.5000'];
  const rows: TradeRow[] = [];
  let ts = 1_710_489_600_000_000n; // 2024-03-15T08:00:00Z in µs
  for (let i = 0; i < POOL; i++) {
    ts += BigInt(1 + Math.floor(rnd() * 2000));
    const sym = i % symbols.length;
    // prices like 5123.25000000, 78.43000000, 2154.10000000: scaled by 1e8, tick-aligned
    const price = BigInt(Math.floor(10 + rnd() * 6000)) * 100_000_000n + BigInt(Math.floor(rnd() * 100)) * 1_000_000n;
    rows.push([ts, 1000 + sym, symbols[sym]!, price, BigInt(1 + Math.floor(rnd() * 50)), rnd() < 0.5 ? 'B' : 'S', `T${1_000_000_000 + i}`]);
  }
  return rows;
}

export interface EncodeBenchResult {
  variant: string;
  rows: number;
  bytes: number;
  /** wall-clock seconds */
  seconds: number;
  /** CPU seconds of this process (user + system): robust when other processes compete for the cores */
  cpuSeconds: number;
  rowsPerSec: number;
  rowsPerCpuSec: number;
  mbPerSec: number;
}

interface Clock {
  wall: bigint;
  cpu: NodeJS.CpuUsage;
}

function start(): Clock {
  return { wall: process.hrtime.bigint(), cpu: process.cpuUsage() };
}

function result(variant: string, rows: number, bytes: number, c: Clock): EncodeBenchResult {
  const seconds = Number(process.hrtime.bigint() - c.wall) / 1e9;
  const cpu = process.cpuUsage(c.cpu);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    variant,
    rows,
    bytes,
    seconds,
    cpuSeconds,
    rowsPerSec: rows / seconds,
    rowsPerCpuSec: rows / cpuSeconds,
    mbPerSec: bytes / 1e6 / seconds,
  };
}

function benchGeneric(pool: readonly TradeRow[], n: number): EncodeBenchResult {
  const w = new BinaryCopyWriter();
  const encode = createRowEncoder(TRADE_COLUMNS);
  let bytes = 0;
  const t0 = start();
  for (let i = 0; i < n; i++) {
    encode(w, pool[i & (POOL - 1)]! as readonly CellValue[]);
    const chunk = w.takeChunk();
    if (chunk) bytes += chunk.length;
  }
  bytes += w.finish().length;
  return result('generic (CellValue[] rows)', n, bytes, t0);
}

function benchTyped(pool: readonly TradeRow[], n: number): EncodeBenchResult {
  const w = new BinaryCopyWriter();
  let bytes = 0;
  const t0 = start();
  for (let i = 0; i < n; i++) {
    const r = pool[i & (POOL - 1)]!;
    w.beginRow(7);
    w.timestamptz(r[0]);
    w.int4(r[1]);
    w.text(r[2]);
    w.numeric(r[3], 8);
    w.int8(r[4]);
    w.char(r[5]);
    w.text(r[6]);
    const chunk = w.takeChunk();
    if (chunk) bytes += chunk.length;
  }
  bytes += w.finish().length;
  return result('typed (direct field calls)', n, bytes, t0);
}

async function benchStream(pool: readonly TradeRow[], n: number): Promise<EncodeBenchResult> {
  function* rows(): Generator<readonly CellValue[]> {
    for (let i = 0; i < n; i++) yield pool[i & (POOL - 1)]!;
  }
  let bytes = 0;
  const t0 = start();
  for await (const chunk of encodeRowChunks(TRADE_COLUMNS, rows())) bytes += chunk.length;
  return result('stream (encodeRowChunks, sync source)', n, bytes, t0);
}

async function benchAsyncRows(pool: readonly TradeRow[], n: number): Promise<EncodeBenchResult> {
  async function* rows(): AsyncGenerator<readonly CellValue[]> {
    for (let i = 0; i < n; i++) yield pool[i & (POOL - 1)]!;
  }
  let bytes = 0;
  const t0 = start();
  for await (const chunk of encodeRowChunks(TRADE_COLUMNS, rows())) bytes += chunk.length;
  return result('async (async source, await per row)', n, bytes, t0);
}

async function benchAsyncBatches(pool: readonly TradeRow[], n: number): Promise<EncodeBenchResult> {
  async function* batches(): AsyncGenerator<(readonly CellValue[])[]> {
    for (let i = 0; i < n; i += 1000) {
      const batch: (readonly CellValue[])[] = [];
      for (let k = i; k < Math.min(n, i + 1000); k++) batch.push(pool[k & (POOL - 1)]!);
      yield batch;
    }
  }
  let bytes = 0;
  const t0 = start();
  for await (const chunk of encodeBatchChunks(TRADE_COLUMNS, batches())) bytes += chunk.length;
  return result('batches (async source, 1,000 rows/item)', n, bytes, t0);
}

/** CPU nanoseconds since the clock started. */
function cpuNs(c: Clock): number {
  const cpu = process.cpuUsage(c.cpu);
  return (cpu.user + cpu.system) * 1000;
}

function benchNumeric(pool: readonly TradeRow[], n: number): { nsPerValue: number } {
  const w = new BinaryCopyWriter();
  const t0 = start();
  for (let i = 0; i < n; i++) {
    w.numeric(pool[i & (POOL - 1)]![3], 8);
    w.takeChunk();
  }
  w.finish();
  return { nsPerValue: cpuNs(t0) / n };
}

function benchDbnPrice(pool: readonly TradeRow[], n: number): { nsPerValue: number } {
  const prices = pool.map((r) => r[3] * 10n + 3n); // int64 × 1e-9, with a 9th decimal to round
  const w = new BinaryCopyWriter();
  const t0 = start();
  for (let i = 0; i < n; i++) {
    w.numeric(rescaleFixed(prices[i & (POOL - 1)]!, 9, 8), 8);
    w.takeChunk();
  }
  w.finish();
  return { nsPerValue: cpuNs(t0) / n };
}

export async function runEncodeBench(rows = 5_000_000): Promise<EncodeBenchResult[]> {
  const pool = makePool();
  // warm-up so every variant runs optimized code
  benchGeneric(pool, 200_000);
  benchTyped(pool, 200_000);
  await benchStream(pool, 200_000);
  await benchAsyncRows(pool, 200_000);
  await benchAsyncBatches(pool, 200_000);
  const results = [
    benchGeneric(pool, rows),
    benchTyped(pool, rows),
    await benchStream(pool, rows),
    await benchAsyncRows(pool, rows),
    await benchAsyncBatches(pool, rows),
  ];
  benchDbnPrice(pool, 200_000);
  const num = benchNumeric(pool, rows);
  const dbn = benchDbnPrice(pool, rows);
  for (const r of results) {
    console.log(
      `${r.variant.padEnd(40)} ${r.rows.toLocaleString('en-US')} rows in ${r.seconds.toFixed(2)} s: ` +
        `${(r.rowsPerSec / 1e6).toFixed(2)} M rows/s, ${r.mbPerSec.toFixed(0)} MB/s (${(r.bytes / r.rows).toFixed(1)} B/row); ` +
        `per CPU-second: ${(r.rowsPerCpuSec / 1e6).toFixed(2)} M rows`,
    );
  }
  console.log(`${'numeric(20,8) alone'.padEnd(40)} ${num.nsPerValue.toFixed(1)} CPU-ns/value`);
  console.log(`${'DBN price: rescaleFixed(9→8) + numeric'.padEnd(40)} ${dbn.nsPerValue.toFixed(1)} CPU-ns/value`);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 5_000_000);
  runEncodeBench(n).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
