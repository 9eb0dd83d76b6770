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
 * The input rows are pre-generated (a pool of 65,536 rows cycled) so only encoding is timed.
 */

import { pathToFileURL } from 'node:url';
import { BinaryCopyWriter, createRowEncoder } from '../src/copy/binary-writer.js';
import { encodeBatchChunks, encodeRowChunks } from '../src/copy/copy-stream.js';
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
  seconds: number;
  rowsPerSec: number;
  mbPerSec: number;
}

function result(variant: string, rows: number, bytes: number, ns: bigint): EncodeBenchResult {
  const seconds = Number(ns) / 1e9;
  return { variant, rows, bytes, seconds, rowsPerSec: rows / seconds, mbPerSec: bytes / 1e6 / seconds };
}

function benchGeneric(pool: readonly TradeRow[], n: number): EncodeBenchResult {
  const w = new BinaryCopyWriter();
  const encode = createRowEncoder(TRADE_COLUMNS);
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    encode(w, pool[i & (POOL - 1)]! as readonly CellValue[]);
    const chunk = w.takeChunk();
    if (chunk) bytes += chunk.length;
  }
  bytes += w.finish().length;
  return result('generic (CellValue[] rows)', n, bytes, process.hrtime.bigint() - t0);
}

function benchTyped(pool: readonly TradeRow[], n: number): EncodeBenchResult {
  const w = new BinaryCopyWriter();
  let bytes = 0;
  const t0 = process.hrtime.bigint();
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
  return result('typed (direct field calls)', n, bytes, process.hrtime.bigint() - t0);
}

async function benchStream(pool: readonly TradeRow[], n: number): Promise<EncodeBenchResult> {
  function* rows(): Generator<readonly CellValue[]> {
    for (let i = 0; i < n; i++) yield pool[i & (POOL - 1)]!;
  }
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for await (const chunk of encodeRowChunks(TRADE_COLUMNS, rows())) bytes += chunk.length;
  return result('stream (encodeRowChunks, sync source)', n, bytes, process.hrtime.bigint() - t0);
}

async function benchAsyncRows(pool: readonly TradeRow[], n: number): Promise<EncodeBenchResult> {
  async function* rows(): AsyncGenerator<readonly CellValue[]> {
    for (let i = 0; i < n; i++) yield pool[i & (POOL - 1)]!;
  }
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for await (const chunk of encodeRowChunks(TRADE_COLUMNS, rows())) bytes += chunk.length;
  return result('async (async source, await per row)', n, bytes, process.hrtime.bigint() - t0);
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
  const t0 = process.hrtime.bigint();
  for await (const chunk of encodeBatchChunks(TRADE_COLUMNS, batches())) bytes += chunk.length;
  return result('batches (async source, 1,000 rows/item)', n, bytes, process.hrtime.bigint() - t0);
}

function benchNumeric(pool: readonly TradeRow[], n: number): { nsPerValue: number } {
  const w = new BinaryCopyWriter();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    w.numeric(pool[i & (POOL - 1)]![3], 8);
    w.takeChunk();
  }
  w.finish();
  return { nsPerValue: Number(process.hrtime.bigint() - t0) / n };
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
  const num = benchNumeric(pool, rows);
  for (const r of results) {
    console.log(
      `${r.variant.padEnd(40)} ${r.rows.toLocaleString('en-US')} rows in ${r.seconds.toFixed(2)} s: ` +
        `${(r.rowsPerSec / 1e6).toFixed(2)} M rows/s, ${r.mbPerSec.toFixed(0)} MB/s (${(r.bytes / r.rows).toFixed(1)} B/row)`,
    );
  }
  console.log(`${'numeric(20,8) alone'.padEnd(40)} ${num.nsPerValue.toFixed(1)} ns/value`);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? 5_000_000);
  runEncodeBench(n).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
