/**
 * DBN decode throughput: a 10,000,000-record trades .dbn.zst (synthetic, cached in the OS temp
 * dir) decoded batch by batch while touching every record's price, ts_recv and size, against
 * `zstd -dc FILE > /dev/null` on the same file as the reference. Target: within 2x of zstd -dc.
 *
 * Build and run:  npx tsc -p . && node dist/bench/decode-bench.js [records]
 *
 * Each variant runs in its own child process so its peak RSS (maxRSS) is its own:
 *   cli-parts   zstd binary (worker-thread reader) + cursor, price via priceParts (no BigInt)
 *   cli-bigint  zstd binary + cursor, price and ts_recv as BigInt
 *   js-parts    fzstd (pure JS, in-process) + cursor, priceParts
 *   plain-parts the same data uncompressed (.dbn): the decoder's own cost, no zstd at all
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstdReference } from './support.js';
import { TradeCursor, type TradeRecord, newFixedParts, openDbn, writeDbn, zstdCliAvailable } from '../src/dbn/index.js';

const VARIANTS = ['cli-parts', 'cli-bigint', 'js-parts', 'plain-parts'] as const;
type Variant = (typeof VARIANTS)[number];

function benchFile(records: number, compressed: boolean): string {
  return path.join(tmpdir(), `tickvault-bench-trades-${records}.v3.dbn${compressed ? '.zst' : ''}`);
}

/** Deterministic trades; one reused object (the writer encodes each before the next). */
function* trades(n: number): Generator<TradeRecord> {
  const r: TradeRecord = {
    kind: 'trade',
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
  };
  let ts = 1_704_067_200_000_000_000n; // 2024-01-01
  let ticks = 19_000; // 4750.00 in 0.25 ticks
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    ts += BigInt(1 + (seed % 8_000_000)); // ~4 ms apart on average, nanosecond jitter
    ticks += ((seed >>> 8) % 3) - 1;
    r.instrumentId = 5482 + ((seed >>> 12) % 4);
    r.tsEvent = ts;
    r.tsRecv = ts + BigInt(10_000 + ((seed >>> 4) % 9000));
    r.price = BigInt(ticks) * 250_000_000n;
    r.size = 1 + ((seed >>> 16) % 7 === 0 ? (seed >>> 20) % 200 : (seed >>> 20) % 4);
    r.side = seed & 1 ? 'A' : 'B';
    r.sequence = i;
    yield r;
  }
}

async function generate(records: number): Promise<void> {
  for (const compressed of [true, false]) {
    const file = benchFile(records, compressed);
    if (existsSync(file)) continue;
    const t0 = performance.now();
    const tmp = `${file}.part`;
    await writeDbn({
      version: 3,
      schema: 'trades',
      records: trades(records),
      compress: compressed ? 'zstd' : 'none',
      path: tmp,
      symbols: ['ESH4'],
    });
    renameSync(tmp, file);
    console.log(`generated ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Runs one variant in this process and prints one JSON line. */
async function runVariant(variant: Variant, records: number): Promise<void> {
  const compressed = variant !== 'plain-parts';
  const file = benchFile(records, compressed);
  const t0 = performance.now();
  const d = await openDbn(file, { zstd: variant.startsWith('js') ? 'js' : 'cli' });
  const c = new TradeCursor();
  const parts = newFixedParts();
  let n = 0;
  let checksum = 0;
  for await (const b of d.batches()) {
    c.reset(b);
    if (variant === 'cli-bigint') {
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        checksum += Number(c.price & 0xffffn) + Number(c.tsRecv & 0xffffn) + c.size;
      }
    } else {
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        c.priceParts(parts);
        checksum += parts[1]! + parts[2]! + c.tsRecvUs + c.size;
      }
    }
    n += b.count;
  }
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ variant, records: n, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, checksum }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--variant') return runVariant(args[1] as Variant, Number(args[2]));
  const records = Number(args[0] ?? 10_000_000);
  if (!zstdCliAvailable()) throw new Error('the zstd binary is needed for the reference timing');
  await generate(records);
  const zfile = benchFile(records, true);
  const ref = zstdReference(zfile);
  const zBytes = statSync(zfile).size;
  const rawBytes = statSync(benchFile(records, false)).size;
  console.log(
    `file: ${zfile}  ${(zBytes / 2 ** 20).toFixed(1)} MiB (${(rawBytes / 2 ** 20).toFixed(1)} MiB decompressed, ratio ${(rawBytes / zBytes).toFixed(2)})`,
  );
  console.log(`reference: zstd -dc FILE > /dev/null  ${ref.toFixed(0)} ms  (${(((records / ref) * 1000) / 1e6).toFixed(2)} M records/s)`);
  console.log('variant        ms      M rows/s   x zstd -dc   peak RSS MiB');
  const self = fileURLToPath(import.meta.url);
  for (const v of VARIANTS) {
    const r = spawnSync(process.execPath, [self, '--variant', v, String(records)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${v} failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { records: number; ms: number; maxRssMiB: number };
    if (res.records !== records) throw new Error(`${v} decoded ${res.records} of ${records} records`);
    const ratio = res.ms / ref;
    console.log(
      `${v.padEnd(12)} ${res.ms.toFixed(0).padStart(6)}   ${(((res.records / res.ms) * 1000) / 1e6).toFixed(2).padStart(8)}   ${ratio.toFixed(2).padStart(9)}x   ${res.maxRssMiB.toFixed(0).padStart(10)}`,
    );
  }
  console.log('target: cli-parts within 2.00x of zstd -dc');
}

await main();
