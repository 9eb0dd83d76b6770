/**
 * Cost as history grows (issue 16.1, timescaledb #2863): N synthetic trades of history loaded in
 * steps into one embedded database on disk — direct-compress where the tier allows it (1M-row DBN
 * files, one day each, from 2020-01-01 on: new chunks long past compress_after), the row store
 * otherwise — and, at 0 stored rows and after each step:
 *   - the load rate of the next 1M-row history file (what the tier allows: direct-compress here),
 *   - an append of 1M fresh rows (the last day: newer than compress_after, so the row store),
 *   - the latency of a symbol-day `bars` (1-minute bars from raw trades, src/query) on the first
 *     history day and of `asOf` at its noon (median of 5),
 *   - disk per million rows of the compressed history and of the row-store appends.
 * Each measurement starts with a CHECKPOINT, timed and printed: PGlite has no checkpointer process,
 * so a checkpoint the earlier steps' writes made due runs inside whichever statement crosses
 * max_wal_size and lands on a random timed part; this way it is a column of its own.
 * A reader sees the curve: the target is the rate and the latencies at the full size within 10% of
 * those into the empty table, and peak RSS < 300 MB.
 *
 * As in direct-compress-bench.ts, the trades_candles_* rollups are dropped first: PGlite's
 * TimescaleDB 2.23.0-dev records their invalidations by trigger, which rules out direct compress.
 *
 *   npx tsc -p . && node dist/bench/growth-bench.js [--total 100000000] [--steps 10] [--file-rows 1000000] [--data-dir DIR]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import type { Engine } from '../src/engine/types.js';
import { loadDbnFile } from '../src/ingest/load-dbn.js';
import { TradesLoader } from '../src/load/loaders.js';
import { asOf, bars } from '../src/query/queries.js';
import { migrate } from '../src/schema/migrate.js';
import { writeSyntheticTradesDbn } from './synthetic-dbn.js';
import { syntheticTradeChunks } from './synthetic-trades.js';

function num(name: string, dflt: number): number {
  const a = process.argv;
  const i = a.indexOf(name);
  const v = i >= 0 ? a[i + 1] : a.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);
  if (v === undefined) return dflt;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
}

const TOTAL = num('--total', 100_000_000);
const STEPS = num('--steps', 10);
const FILE_ROWS = num('--file-rows', 1_000_000);
const DAY_NS = 86_400_000_000_000n;
const HISTORY_START_NS = 1_577_836_800_000_000_000n; // 2020-01-01T00:00:00Z
const SYMBOL = 'ESH4';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const say = (s: string) => process.stdout.write(`${s}\n`);

async function median5(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[2]!;
}

/** Bytes of compressed and of row-store chunks. */
async function diskBytes(engine: Engine): Promise<{ compressed: number; rowStore: number }> {
  const { rows } = await engine.query<{ c: string | null; r: string | null }>(
    `SELECT sum(s.total_bytes) FILTER (WHERE c.is_compressed)::text AS c, sum(s.total_bytes) FILTER (WHERE NOT c.is_compressed)::text AS r
       FROM chunks_detailed_size('trades_data') s JOIN timescaledb_information.chunks c ON c.chunk_schema = s.chunk_schema AND c.chunk_name = s.chunk_name`,
  );
  return { compressed: Number(rows[0]!.c ?? 0), rowStore: Number(rows[0]!.r ?? 0) };
}

async function main(): Promise<void> {
  const fileCount = Math.ceil(TOTAL / FILE_ROWS);
  const perStep = Math.max(1, Math.floor(fileCount / STEPS));
  const base = process.argv.includes('--data-dir')
    ? process.argv[process.argv.indexOf('--data-dir') + 1]!
    : mkdtempSync(path.join(tmpdir(), 'tv-growth-'));
  const files = mkdtempSync(path.join(tmpdir(), 'tv-growth-files-'));
  const engine = await EmbeddedEngine.open({ dataDir: path.join(base, 'data') });
  let peakRss = 0;
  const sample = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 200);
  try {
    await migrate(engine);
    await engine.query('DROP MATERIALIZED VIEW IF EXISTS trades_candles_1m CASCADE');
    process.stderr.write(
      `growth-bench: ${fmt(fileCount * FILE_ROWS)} history trades in ${fileCount} files of ${fmt(FILE_ROWS)}, measured every ${perStep} files; data in ${base}\n`,
    );
    say(
      `| history stored | next ${fmt(FILE_ROWS)}-row file: strategy | rows/s | append ${fmt(FILE_ROWS)} fresh rows (row store) rows/s | bars symbol-day ms | asOf ms | disk/M rows compressed MiB | disk/M rows row store MiB | CHECKPOINT before, ms |`,
    );
    say('|---:|---|---:|---:|---:|---:|---:|---:|---:|');
    let loaded = 0;
    let fresh = 0;
    let nextFile = 0;
    const nowMs = Date.now();
    const loadFile = async (k: number) => {
      const file = path.join(files, `day-${k}.dbn`);
      await writeSyntheticTradesDbn(file, { rows: FILE_ROWS, seed: 1000 + k, hours: 23, startNs: HISTORY_START_NS + BigInt(k) * DAY_NS });
      const t = performance.now();
      const r = await loadDbnFile(engine, file);
      const ms = performance.now() - t;
      rmSync(file);
      if (r.recordsInserted !== FILE_ROWS) throw new Error(`file ${k}: ${r.recordsInserted} of ${FILE_ROWS} stored`);
      loaded += FILE_ROWS;
      return { ms, strategy: r.strategy ?? '?' };
    };
    let measured = 0;
    while (nextFile < fileCount) {
      const before = loaded;
      const c = performance.now();
      await engine.query('CHECKPOINT');
      const checkpointMs = performance.now() - c;
      const timed = await loadFile(nextFile++);
      // Fresh rows: 0.9 h inside an hour chunk of the last day of its own per measurement (newer
      // than compress_after). Each append then meets empty chunk slots, the loader's fresh-append
      // path, at every point of the curve; windows that shared a slot with the previous append took
      // the per-batch stored-key probes instead, a cost of the occupied chunk, not of the history.
      const hourMs = 3_600_000;
      const freshStartNs = BigInt(Math.floor((nowMs - 20 * hourMs) / hourMs) * hourMs + (measured % 18) * hourMs) * 1_000_000n;
      const loader = new TradesLoader({ engine });
      const t = performance.now();
      const a = await loader.bulkLoad(
        syntheticTradeChunks({ rows: FILE_ROWS, seed: 500 + measured, hours: 0.9, startNs: freshStartNs }, 2_000),
        {
          source: { source: `fresh-${measured}`, contentHash: `growth-fresh-${measured}-${nowMs}` },
        },
      );
      const appendMs = performance.now() - t;
      fresh += a.recordsInserted;
      const dayStart = new Date(Number(HISTORY_START_NS / 1_000_000n));
      const dayEnd = new Date(dayStart.getTime() + 86_400_000);
      const barsMs = await median5(() => bars(engine, SYMBOL, dayStart, dayEnd, '1 minute', { source: 'trades', rollup: 'raw' }));
      const asOfMs = await median5(() => asOf(engine, SYMBOL, new Date(dayStart.getTime() + 12 * 3_600_000)));
      const disk = await diskBytes(engine);
      say(
        `| ${fmt(before)} | ${timed.strategy} | ${fmt((FILE_ROWS / timed.ms) * 1000)} | ${fmt((a.recordsInserted / appendMs) * 1000)} | ${barsMs.toFixed(1)} | ${asOfMs.toFixed(1)} | ${(disk.compressed / 2 ** 20 / (loaded / 1e6)).toFixed(2)} | ${(disk.rowStore / 2 ** 20 / (fresh / 1e6)).toFixed(2)} | ${fmt(checkpointMs)} |`,
      );
      measured++;
      // The rest of the step, untimed.
      for (let i = 1; i < perStep && nextFile < fileCount; i++) await loadFile(nextFile++);
    }
    say(
      `\n${fmt(loaded)} history rows (direct-compress where possible), ${fmt(fresh)} fresh rows in the row store; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (sampled; process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
    );
  } finally {
    clearInterval(sample);
    await engine.close();
    rmSync(files, { recursive: true, force: true });
    if (!process.argv.includes('--data-dir')) rmSync(base, { recursive: true, force: true });
  }
}

await main();
