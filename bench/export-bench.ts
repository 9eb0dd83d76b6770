/**
 * Export benchmark (issue 17, item 3: which library writes each format).
 *
 *   npx tsc -p . && node dist/bench/export-bench.js [--rows N] [--db-rows N] [--no-db | --db-only]
 *
 * Part 1, no database: N synthetic trades (bench/synthetic-trades.ts, as trades_data rows the way
 * the cursor returns them: decimals and int8 as text) → a file, each candidate in its own process
 * so each peak RSS is its own: CSV (tickvault's writer), Arrow IPC (apache-arrow), Parquet via
 * hyparquet-writer (zstd through the zstd program; snappy, its built-in codec, for reference) and
 * via parquet-wasm (zstd built in). Every Parquet/Arrow file is read back by DuckDB: the price's
 * type and the exact sum of prices against the generator's own BigInt sum.
 *
 * Part 2, end to end (throwaway server cluster): trades_data → Parquet with exportTable against
 * `COPY (SELECT …) TO STDOUT (FORMAT csv)` into a file (the reference) and exportTable CSV.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { to as copyTo } from 'pg-copy-streams';
import { exportColumns, type RawRow } from '../src/export/columns.js';
import { ArrowWriter } from '../src/export/arrow-writer.js';
import { CsvWriter } from '../src/export/csv-writer.js';
import { ParquetExportWriter } from '../src/export/parquet-writer.js';
import { fileSink } from '../src/export/sink.js';
import type { FormatWriter } from '../src/export/format.js';
import { exportTable } from '../src/export/export.js';
import { tradesData } from '../src/schema/tables.js';
import { ServerEngine } from '../src/engine/server.js';
import { TradesLoader } from '../src/load/loaders.js';
import { migrate } from '../src/schema/migrate.js';
import { startServerCluster } from '../test/support/server-cluster.js';
import { HyparquetWriter } from './hyparquet-writer.js';
import { nsToIsoMicros, priceText, rawTrades, syntheticTradeChunks } from './synthetic-trades.js';
import { withClient } from './support.js';

const here = fileURLToPath(import.meta.url);
const columns = exportColumns(tradesData);
const CANDIDATES = ['csv', 'arrow', 'parquet-hyparquet-zstd', 'parquet-hyparquet-snappy', 'parquet-wasm-zstd'] as const;
type Candidate = (typeof CANDIDATES)[number];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const num = (name: string, d: number) => Number((arg(name) ?? String(d)).replace(/_/g, ''));

function writerFor(c: Candidate, out: string): FormatWriter {
  const sink = fileSink(out);
  const w =
    c === 'csv'
      ? new CsvWriter(columns, sink)
      : c === 'arrow'
        ? new ArrowWriter(columns, sink)
        : c === 'parquet-hyparquet-zstd'
          ? new HyparquetWriter(columns, sink)
          : c === 'parquet-hyparquet-snappy'
            ? new HyparquetWriter(columns, sink, { codec: 'SNAPPY' })
            : new ParquetExportWriter(columns, sink);
  return {
    write: (r) => w.write(r),
    finish: async () => {
      await w.finish();
      await sink.close();
    },
  };
}

/** Child: one candidate, rows generated in batches of 10,000 (as the cursor would deliver them). */
async function child(c: Candidate, rows: number, out: string): Promise<void> {
  const created = '2024-03-05T00:00:00.000000+00';
  let sum = 0n;
  let batch: RawRow[] = [];
  const w = writerFor(c, out);
  const t0 = performance.now();
  for (const r of rawTrades({ rows })) {
    sum += r.price / 10n;
    batch.push({
      timestamp: String(r.ts / 1000n),
      instrument_id: r.ins.instrumentId,
      symbol: r.ins.symbol,
      price: priceText(r.price),
      size: String(r.size),
      side: r.side,
      trade_id: String(r.seq),
      publisher_id: 1,
      created_at: String(1709596800000000n),
    });
    if (batch.length === 10_000) {
      await w.write(batch);
      batch = [];
    }
  }
  if (batch.length) await w.write(batch);
  await w.finish();
  const ms = performance.now() - t0;
  void created;
  void nsToIsoMicros;
  process.stdout.write(
    JSON.stringify({ ms, bytes: (await stat(out)).size, rssMb: process.resourceUsage().maxRSS / 1024, sum: sum.toString() }),
  );
}

async function dbChild(kind: string, url: string, out: string): Promise<void> {
  const t0 = performance.now();
  let rows = 0;
  if (kind === 'copy-csv') {
    await withClient(url, async (c) => {
      const stream = c.query(
        copyTo(
          `COPY (SELECT "timestamp", instrument_id, symbol, price, size, side, trade_id, publisher_id, created_at FROM trades_data ORDER BY "timestamp", instrument_id, publisher_id, trade_id) TO STDOUT (FORMAT csv, HEADER)`,
        ),
      );
      await pipeline(stream, createWriteStream(out));
      rows = Number((stream as unknown as { rowCount: number }).rowCount);
    });
  } else {
    const engine = new ServerEngine({ url });
    try {
      rows = (await exportTable(engine, { table: 'trades_data', format: kind as 'parquet' | 'csv', out })).rows;
    } finally {
      await engine.close();
    }
  }
  process.stdout.write(
    JSON.stringify({ ms: performance.now() - t0, bytes: (await stat(out)).size, rssMb: process.resourceUsage().maxRSS / 1024, rows }),
  );
}

interface Result {
  ms: number;
  bytes: number;
  rssMb: number;
  sum?: string;
  rows?: number;
}
function run(args: string[]): Result {
  const r = spawnSync(process.execPath, [here, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Result;
}

async function verify(file: string, kind: 'parquet' | 'arrow' | 'csv'): Promise<{ type: string; sum: string; n: string }> {
  if (kind === 'arrow') return { type: 'Decimal128(20,8) (apache-arrow)', sum: '', n: '' };
  // Imported here, not at the top: the writer processes must not carry DuckDB's native library in their RSS.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  const src =
    kind === 'parquet'
      ? `read_parquet('${file}')`
      : `read_csv('${file}', header = true, columns = {'timestamp': 'TIMESTAMPTZ', 'instrument_id': 'INTEGER', 'symbol': 'VARCHAR', 'price': 'DECIMAL(20,8)', 'size': 'BIGINT', 'side': 'VARCHAR', 'trade_id': 'VARCHAR', 'publisher_id': 'INTEGER', 'created_at': 'TIMESTAMPTZ'})`;
  const rows = (await con.runAndReadAll(`SELECT typeof(any_value(price)), sum(price)::VARCHAR, count(*)::VARCHAR FROM ${src}`)).getRowsJS();
  const [type, sum, n] = rows[0]!.map(String);
  return { type: type!, sum: sum!, n: n! };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  if (arg('--child')) return child(arg('--child') as Candidate, num('--rows', 5_000_000), arg('--out')!);
  if (arg('--db-child')) return dbChild(arg('--db-child')!, arg('--url')!, arg('--out')!);
  const rows = num('--rows', 5_000_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tv-export-bench-'));
  const lines: string[] = [
    '| candidate | rows/s | file MB | peak RSS MB | price type (DuckDB) | sum exact |',
    '|---|---:|---:|---:|---|---|',
  ];
  for (const c of process.argv.includes('--db-only') ? [] : CANDIDATES) {
    const out = path.join(dir, `${c}.${c.startsWith('parquet') ? 'parquet' : c}`);
    process.stderr.write(`export-bench: ${c}, ${fmt(rows)} rows…\n`);
    const r = run(['--child', c, '--rows', String(rows), '--out', out]);
    const kind = c.startsWith('parquet') ? 'parquet' : c === 'arrow' ? 'arrow' : 'csv';
    const v = await verify(out, kind);
    const exact =
      kind === 'arrow'
        ? 'n/a'
        : v.sum.replace(/\.?0+$/, '') === `${r.sum!.slice(0, -8)}.${r.sum!.slice(-8)}`.replace(/\.?0+$/, '') && v.n === String(rows)
          ? 'yes'
          : `NO (${v.sum})`;
    lines.push(`| ${c} | ${fmt(rows / (r.ms / 1000))} | ${(r.bytes / 1e6).toFixed(1)} | ${fmt(r.rssMb)} | ${v.type} | ${exact} |`);
    process.stderr.write(`${lines.at(-1)}\n`);
  }
  if (!process.argv.includes('--db-only'))
    process.stdout.write(`\nexport-bench, ${fmt(rows)} synthetic trades, no database\n${lines.join('\n')}\n`);
  if (process.argv.includes('--no-db')) return;
  const dbRows = num('--db-rows', rows);
  const cluster = await startServerCluster({ tmpPrefix: 'tv-export-bench-' });
  try {
    const engine = new ServerEngine({ url: cluster.url });
    await migrate(engine);
    process.stderr.write(`export-bench: loading ${fmt(dbRows)} trades…\n`);
    const loader = new TradesLoader({ engine, batchSize: 10_000, parallelWorkers: 2 });
    for (const chunk of syntheticTradeChunks({ rows: dbRows }, 50_000)) await loader.storeBatch(chunk);
    await engine.close();
    const db = ['| end to end from trades_data | rows/s | × COPY TO STDOUT | file MB | peak RSS MB |', '|---|---:|---:|---:|---:|'];
    let ref = 0;
    for (const kind of ['copy-csv', 'parquet', 'csv']) {
      process.stderr.write(`export-bench: ${kind} from the database…\n`);
      const r = run([
        '--db-child',
        kind,
        '--url',
        cluster.url,
        '--out',
        path.join(dir, `db-${kind}.${kind === 'parquet' ? 'parquet' : 'csv'}`),
      ]);
      const rate = dbRows / (r.ms / 1000);
      if (kind === 'copy-csv') ref = rate;
      const label = kind === 'copy-csv' ? '`COPY (SELECT …) TO STDOUT (FORMAT csv)` → file (reference)' : `exportTable → ${kind}`;
      db.push(`| ${label} | ${fmt(rate)} | ${(rate / ref).toFixed(2)} | ${(r.bytes / 1e6).toFixed(1)} | ${fmt(r.rssMb)} |`);
      process.stderr.write(`${db.at(-1)}\n`);
    }
    process.stdout.write(`\nexport-bench, ${fmt(dbRows)} trades from trades_data (server engine, same machine)\n${db.join('\n')}\n`);
  } finally {
    await cluster.stop();
  }
}

await main();
