/**
 * Direct-to-columnstore loads (issue 16.1), one run, one file: a historical DBN trades file
 * (bench/synthetic-dbn.ts; 2024-01-02, 23 one-hour chunks, 10 symbols, long past trades_data's
 * compress_after of 1 day) into trades_data, each variant in its own process (its own peak RSS,
 * its own database):
 *
 *   embedded (PGlite, TimescaleDB 2.23.0-dev community):
 *     dc        tickvault loadDbnFile, strategy direct-compress (each batch sorted by symbol, time DESC)
 *     row       tickvault loadDbnFile into the row store (directCompress: false), then compress_chunk
 *               on every chunk (what the compression policy does), timed apart
 *     copy      server-side COPY trades_data FROM a CSV of the same rows into the row store — the
 *               reference. PGlite has no server file system: its COPY reads '/dev/blob', the file's
 *               bytes handed over at once, parsed by the server (the closest to COPY FROM 'file')
 *     copy-dc   the same COPY with timescaledb.enable_direct_compress_copy on (no client sort:
 *               the file is in time order across symbols) — the server's own direct compress
 *   server (throwaway cluster, TimescaleDB Apache build): tickvault loadDbnFile (falls back to the
 *     row store; the reason names the tier) and server-side COPY FROM the CSV file.
 *
 * PGlite's TimescaleDB snapshot records continuous-aggregate invalidations by a row trigger, and
 * TimescaleDB does not compress on COPY into a table with triggers: the embedded variants drop
 * the trades_candles_* rollups first (printed, with the plan's reason on the unaltered schema).
 * Every variant reports rows/s, on-disk size (hypertable_size), chunks compressed, the median
 * latency of one symbol-day query (1-minute bars from raw trades, src/query) and a fingerprint of
 * the stored rows — equal fingerprints = identical data and query answers.
 *
 *   npx tsc -p . && node dist/bench/direct-compress-bench.js [--rows 1000000] [--no-server]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import { ServerEngine } from '../src/engine/server.js';
import type { Engine } from '../src/engine/types.js';
import { loadDbnFile, planDbnFile } from '../src/ingest/load-dbn.js';
import { bars } from '../src/query/queries.js';
import { migrate } from '../src/schema/migrate.js';
import { startServerCluster } from '../test/support/server-cluster.js';
import { CSV_COLUMNS, writeSyntheticTradesCsv, writeSyntheticTradesDbn } from './synthetic-dbn.js';

const FILE_OPTS = (rows: number) => ({ rows, seed: 3, hours: 23 });
const DAY = ['2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z'] as const;
const SYMBOL = 'ESH4';

interface Result {
  variant: string;
  engine: string;
  rows: number;
  ms: number;
  compressMs?: number;
  bytes: number;
  bytesAfterCompress?: number;
  chunks: number;
  compressed: number;
  queryMs: number;
  queryMsAfterCompress?: number;
  fingerprint: string;
  strategy: string;
  reason: string;
  maxRssMiB: number;
  /** maxRSS right after opening the engine and migrating (PGlite's WebAssembly heap is most of it). */
  baseRssMiB: number;
}

function arg(name: string): string | undefined {
  const a = process.argv;
  const i = a.indexOf(name);
  return i >= 0 ? a[i + 1] : a.find((x) => x.startsWith(`${name}=`))?.slice(name.length + 1);
}

async function dropTradesRollups(engine: Engine): Promise<void> {
  await engine.query('DROP MATERIALIZED VIEW IF EXISTS trades_candles_1m CASCADE');
}

async function measure(engine: Engine): Promise<{ bytes: number; chunks: number; compressed: number; fingerprint: string }> {
  const { rows } = await engine.query<{ bytes: string; chunks: string; compressed: string }>(
    `SELECT hypertable_size('trades_data')::text AS bytes, count(*)::text AS chunks, count(*) FILTER (WHERE is_compressed)::text AS compressed
       FROM timescaledb_information.chunks WHERE hypertable_name = 'trades_data'`,
  );
  const fp = await engine.query<{ fp: string }>(
    `SELECT count(*) || ' rows, size ' || sum(size) || ', notional ' || sum(price * size) || ', ids ' || count(DISTINCT trade_id) || ', md5 ' ||
            md5(string_agg(symbol || side || price::text || size::text || trade_id || to_char("timestamp" AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS'), ',' ORDER BY symbol, "timestamp", trade_id)) AS fp
       FROM trades_data`,
  );
  return {
    bytes: Number(rows[0]!.bytes),
    chunks: Number(rows[0]!.chunks),
    compressed: Number(rows[0]!.compressed),
    fingerprint: fp.rows[0]!.fp,
  };
}

/** Median of 5 runs (after one warm-up) of one symbol-day of 1-minute bars from the raw trades. */
async function queryMs(engine: Engine): Promise<number> {
  const run = () => bars(engine, SYMBOL, DAY[0], DAY[1], '1 minute', { source: 'trades', rollup: 'raw' });
  await run();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2]!;
}

/** One variant, in this (child) process: one JSON line on stdout. */
async function runVariant(variant: string, file: string, csv: string, rows: number, url?: string, dataDir = 'memory://'): Promise<void> {
  const engine: Engine = url ? new ServerEngine({ url }) : await EmbeddedEngine.open({ dataDir });
  try {
    await migrate(engine);
    const baseRssMiB = process.resourceUsage().maxRSS / 1024;
    let reason = '';
    if (!url) {
      const p = await planDbnFile(engine, file);
      reason = `unaltered schema: ${p.plan!.directCompress.reason}`;
      await dropTradesRollups(engine);
    }
    let ms = 0;
    let strategy = '';
    let compressMs: number | undefined;
    if (variant === 'dc' || variant === 'row' || variant === 'srv-tickvault') {
      const t = performance.now();
      const r = await loadDbnFile(engine, file, { directCompress: variant !== 'row' });
      ms = performance.now() - t;
      if (r.recordsInserted !== rows) throw new Error(`${variant}: ${r.recordsInserted} of ${rows} rows stored`);
      strategy = r.strategy ?? '';
      reason = r.backfill?.directCompress.reason ?? reason;
    } else {
      // Server-side COPY of the CSV, timed alone (no ledger, no validation: the reference).
      const sql = `COPY trades_data (${CSV_COLUMNS.map((c) => `"${c}"`).join(', ')}) FROM ${url ? `'${csv.replace(/'/g, "''")}'` : "'/dev/blob'"} (FORMAT csv)`;
      // The embedded engine's COPY path is binary only; the CSV blob goes to PGlite itself (bench only).
      const db = (engine as unknown as { db: { query(s: string, p: unknown[], o: { blob: Blob }): Promise<unknown> } }).db;
      const blob = url ? undefined : await openAsBlob(csv);
      const t = performance.now();
      await engine.withConnection(async (c) => {
        await c.query('BEGIN');
        if (variant === 'copy-dc') await c.query('SELECT set_config($1, $2, true)', ['timescaledb.enable_direct_compress_copy', 'on']);
        if (blob) await db.query(sql, [], { blob });
        else await c.query(sql);
        await c.query('COMMIT');
      });
      ms = performance.now() - t;
      strategy = variant === 'copy-dc' ? 'server COPY, direct compress GUC' : 'server COPY, row store';
    }
    // Peak RSS of the load itself, before the measurements (whose scans grow the engine's heap).
    const maxRssMiB = process.resourceUsage().maxRSS / 1024;
    const m = await measure(engine);
    const q = await queryMs(engine);
    const out: Result = {
      variant,
      engine: url ? 'server' : 'embedded',
      rows,
      ms,
      bytes: m.bytes,
      chunks: m.chunks,
      compressed: m.compressed,
      queryMs: q,
      fingerprint: m.fingerprint,
      strategy,
      reason,
      maxRssMiB,
      baseRssMiB,
    };
    if (variant === 'row') {
      // What the compression policy does to the row-store chunks afterwards.
      const t = performance.now();
      await engine.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('trades_data') c`);
      compressMs = performance.now() - t;
      const after = await measure(engine);
      if (after.fingerprint !== m.fingerprint) throw new Error('compress_chunk changed the data');
      out.compressMs = compressMs;
      out.bytesAfterCompress = after.bytes;
      out.queryMsAfterCompress = await queryMs(engine);
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await engine.close();
  }
}

function child(variant: string, file: string, csv: string, rows: number, target: { url: string } | { dataDir: string }): Result {
  const self = fileURLToPath(import.meta.url);
  const where = 'url' in target ? ['--url', target.url] : ['--data-dir', target.dataDir];
  const r = spawnSync(process.execPath, [self, '--variant', variant, '--file', file, '--csv', csv, '--rows', String(rows), ...where], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`variant ${variant} failed (${r.status ?? r.signal})`);
  return JSON.parse(line) as Result;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (b: number) => (b / 2 ** 20).toFixed(1);

async function main(): Promise<void> {
  const rows = Number((arg('--rows') ?? '1000000').replace(/_/g, ''));
  const variant = arg('--variant');
  if (variant) return runVariant(variant, arg('--file')!, arg('--csv')!, rows, arg('--url'), arg('--data-dir'));

  const dir = mkdtempSync(path.join(tmpdir(), 'tv-dc-bench-'));
  const say = (s: string) => process.stdout.write(`${s}\n`);
  try {
    const file = path.join(dir, 'trades.dbn.zst');
    const csv = path.join(dir, 'trades.csv');
    process.stderr.write(`direct-compress-bench: writing ${fmt(rows)} trades as DBN and CSV…\n`);
    await writeSyntheticTradesDbn(file, FILE_OPTS(rows));
    await writeSyntheticTradesCsv(csv, FILE_OPTS(rows));
    const results: Result[] = [];
    for (const v of ['copy', 'dc', 'row', 'copy-dc']) {
      process.stderr.write(`  embedded ${v}…\n`);
      // A data directory on disk, as `tickvault` uses by default; --memory: PGlite's in-memory file system.
      results.push(child(v, file, csv, rows, { dataDir: process.argv.includes('--memory') ? 'memory://' : path.join(dir, `pglite-${v}`) }));
    }
    if (!process.argv.includes('--no-server')) {
      process.stderr.write('  starting a throwaway server cluster…\n');
      const cluster = await startServerCluster({ tmpPrefix: 'tv-dc-bench-' });
      try {
        // The server process reads the CSV itself: it must be able to.
        spawnSync('chmod', ['-R', 'a+rX', dir]);
        for (const v of ['srv-copy', 'srv-tickvault']) {
          process.stderr.write(`  server ${v}…\n`);
          const db = `tv_dc_${v.replace(/-/g, '_')}`;
          const admin = new ServerEngine({ url: cluster.url });
          await admin.query(`CREATE DATABASE ${db}`);
          await admin.close();
          results.push(child(v, file, csv, rows, { url: cluster.url.replace(/\/[^/?]*(\?|$)/, `/${db}$1`) }));
        }
      } finally {
        await cluster.stop();
      }
    }
    const ref = results.find((r) => r.variant === 'copy')!;
    const srvRef = results.find((r) => r.variant === 'srv-copy');
    say(
      `\n${fmt(rows)} trades (10 symbols, 23 one-hour chunks of 2024-01-02) into trades_data, one run; query = 1-minute bars of ${SYMBOL} over the day from raw trades (median of 5)\n`,
    );
    say(
      '| engine | variant | strategy | s | rows/s | × server COPY (same engine) | on disk MiB | chunks compressed | query ms | peak RSS MiB (at open) |',
    );
    say('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
    const label: Record<string, string> = {
      copy: 'server-side COPY FROM the CSV (/dev/blob), row store — reference',
      dc: 'tickvault loadDbnFile, direct-compress',
      row: 'tickvault loadDbnFile, row store (directCompress: false)',
      'copy-dc': 'server-side COPY FROM the CSV with the direct-compress GUC (no client sort)',
      'srv-copy': "server-side COPY FROM '<csv file>', row store — reference",
      'srv-tickvault': 'tickvault loadDbnFile (falls back)',
    };
    for (const r of results) {
      const base = r.engine === 'server' ? (srvRef ?? ref) : ref;
      say(
        `| ${r.engine} | ${label[r.variant]} | ${r.strategy} | ${(r.ms / 1000).toFixed(2)} | ${fmt((r.rows / r.ms) * 1000)} | ${(base.ms / r.ms).toFixed(2)} | ${mb(r.bytes)} | ${r.compressed}/${r.chunks} | ${r.queryMs.toFixed(1)} | ${r.maxRssMiB.toFixed(0)} (${r.baseRssMiB.toFixed(0)}) |`,
      );
      if (r.variant === 'row' && r.compressMs !== undefined) {
        say(
          `| ${r.engine} | … then compress_chunk on every chunk (the policy) | | +${(r.compressMs / 1000).toFixed(2)} | ${fmt((r.rows / (r.ms + r.compressMs)) * 1000)} (load + compress) | ${(base.ms / (r.ms + r.compressMs)).toFixed(2)} | ${mb(r.bytesAfterCompress!)} | ${r.chunks}/${r.chunks} | ${r.queryMsAfterCompress!.toFixed(1)} | |`,
        );
      }
    }
    const dc = results.find((r) => r.variant === 'dc')!;
    const row = results.find((r) => r.variant === 'row')!;
    say('');
    say(
      `direct-compress vs row-store server COPY: ${(ref.ms / dc.ms).toFixed(2)}× (target ≥ 4×); vs tickvault row-store load + compress_chunk: ${((row.ms + (row.compressMs ?? 0)) / dc.ms).toFixed(2)}×`,
    );
    say(
      `compression: direct-compressed ${mb(dc.bytes)} MiB vs policy-compressed ${mb(row.bytesAfterCompress ?? 0)} MiB = ${(dc.bytes / (row.bytesAfterCompress ?? 1)).toFixed(3)} (target within 10%); row store ${mb(row.bytes)} MiB`,
    );
    const prints = new Set(results.map((r) => r.fingerprint));
    say(
      `stored data: ${prints.size === 1 ? `identical in every variant (${dc.fingerprint.slice(0, 80)}…)` : `DIFFERENT: ${[...prints].join(' | ')}`}`,
    );
    for (const r of results) if (r.reason) say(`  ${r.engine} ${r.variant}: ${r.reason}`);
    say(
      `peak RSS of a tickvault load: embedded ${Math.max(dc.maxRssMiB, row.maxRssMiB).toFixed(0)} MiB, of which ${dc.baseRssMiB.toFixed(0)} MiB is PGlite opened and migrated before any row (target < 300: the loader adds ${Math.max(dc.maxRssMiB - dc.baseRssMiB, row.maxRssMiB - row.baseRssMiB).toFixed(0)} MiB)${results.find((r) => r.variant === 'srv-tickvault') ? `; server client ${results.find((r) => r.variant === 'srv-tickvault')!.maxRssMiB.toFixed(0)} MiB` : ''}`,
    );
    if (prints.size !== 1) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
