/**
 * CSV and Parquet sources vs DBN, one run, one table (issue 17 item 3: which libraries):
 * the same N generated trades as a Databento CSV (`dbn --csv` raw: ns timestamps, 1e-9 prices),
 * a Parquet file of the same columns (DuckDB-written, BIGINT, default row groups) and a .dbn.zst.
 *
 *   read     rows/s of the file → cells, no mapping: csv-parse vs a hand-written splitter (no
 *            quotes); Parquet row group by row group by tickvault's flat page decoder
 *            (parquet-pages: typed arrays) and by hyparquet alone, vs parquet-wasm (whole file → Arrow);
 *   records  rows/s of the file → validated COPY batches (TabularFileSource / DbnFileSource), no database;
 *   e2e      rows/s of `loadFile` / `loadDbnFile` into trades_data of a throwaway server cluster.
 * Each step runs in a child process: its peak RSS is its own.
 *
 *   npx tsc -p . && node dist/bench/source-bench.js [--rows N] [--e2e-rows M] [--no-db] [--files-only]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { writeDbn } from '../src/dbn/index.js';
import { ServerEngine } from '../src/engine/server.js';
import { DbnFileSource } from '../src/ingest/dbn-source.js';
import { loadDbnFile } from '../src/ingest/load-dbn.js';
import { loadFile, openTabular } from '../src/ingest/load-file.js';
import { TabularFileSource } from '../src/ingest/tabular-source.js';
import { ParquetReader } from '../src/ingest/parquet-source.js';
import { migrate } from '../src/schema/migrate.js';
import { tradesData } from '../src/schema/tables.js';
import { startServerCluster } from '../test/support/server-cluster.js';
import { INSTRUMENTS, START_NS, TABLE_CSV_COLUMNS, trades, writeTableCsv } from './e2e-trades.js';
import { resetTable, withClient } from './support.js';

const HEADER = 'ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,sequence,symbol';

async function generate(n: number): Promise<{ csv: string; parquet: string; dbn: string }> {
  const base = path.join(tmpdir(), `tickvault-source-bench-${n}`);
  const files = { csv: `${base}.csv`, parquet: `${base}.parquet`, dbn: `${base}.dbn.zst` };
  if (!existsSync(files.csv)) {
    const ws = createWriteStream(`${files.csv}.part`);
    let buf = `${HEADER}\n`;
    for (const r of trades(n)) {
      buf += `${r.tsRecv},${r.tsEvent},0,1,${r.instrumentId},T,${r.side},0,${r.price},${r.size},130,14000,${r.sequence},${INSTRUMENTS[r.symbolIndex]!.symbol}\n`;
      if (buf.length >= 1 << 16) {
        if (!ws.write(buf)) await once(ws, 'drain');
        buf = '';
      }
    }
    ws.end(buf);
    await once(ws, 'close');
    renameSync(`${files.csv}.part`, files.csv);
  }
  if (!existsSync(files.parquet)) {
    // Imported here, not at the top: the step processes must not carry DuckDB's native library in their RSS.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const types =
      "{'ts_recv':'UBIGINT','ts_event':'UBIGINT','rtype':'UTINYINT','publisher_id':'USMALLINT','instrument_id':'UINTEGER','action':'VARCHAR','side':'VARCHAR','depth':'UTINYINT','price':'BIGINT','size':'UINTEGER','flags':'UTINYINT','ts_in_delta':'INTEGER','sequence':'UINTEGER','symbol':'VARCHAR'}";
    await con.run(
      `COPY (SELECT * FROM read_csv('${files.csv}', header = true, columns = ${types})) TO '${files.parquet}.part' (FORMAT parquet, COMPRESSION zstd)`,
    );
    renameSync(`${files.parquet}.part`, files.parquet);
  }
  if (!existsSync(files.dbn)) {
    await writeDbn({
      version: 3,
      schema: 'trades',
      dataset: 'GLBX.MDP3',
      start: START_NS,
      records: trades(n),
      compress: 'zstd',
      path: `${files.dbn}.part`,
      stypeIn: 1,
      stypeOut: 0,
      symbols: INSTRUMENTS.map((x) => x.symbol),
      mappings: INSTRUMENTS.map((x) => ({
        rawSymbol: x.symbol,
        intervals: [{ startDate: 20240101, endDate: 20240201, symbol: String(x.id) }],
      })),
    });
    renameSync(`${files.dbn}.part`, files.dbn);
  }
  return files;
}

/** One measured step (in this child process): rows it produced. */
async function variant(name: string, file: string, url?: string): Promise<number> {
  if (name.startsWith('e2e ')) {
    // One load into the (emptied) trades_data of the server at `url`, in a process of its own.
    const engine = new ServerEngine({ url: url! });
    try {
      const r = name === 'e2e dbn' ? await loadDbnFile(engine, file) : await loadFile(engine, file);
      return r.recordsInserted;
    } finally {
      await engine.close();
    }
  }
  switch (name) {
    case 'csv-parse': {
      let n = 0;
      const p = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(parse({ relax_column_count: true, info: true }));
      for await (const _r of p) n++;
      return n - 1;
    }
    case 'csv-split': {
      // The hand-written alternative: no quoting, one split per line.
      let n = 0;
      let rest = '';
      for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const l of lines) if (l.split(',').length > 0) n++;
      }
      return n - 1;
    }
    case 'parquet-pages':
    case 'hyparquet': {
      let n = 0;
      const decoder = name === 'hyparquet' ? 'hyparquet' : 'auto';
      for await (const c of (await ParquetReader.open(file, { decoder })).chunks()) n += c.rows.length;
      return n;
    }
    case 'parquet-wasm': {
      const pw = await import('parquet-wasm');
      const { tableFromIPC } = await import('apache-arrow');
      const t = tableFromIPC(pw.readParquet(readFileSync(file)).intoIPCStream());
      let n = 0;
      const cols = t.schema.fields.map((f) => t.getChild(f.name)!);
      for (let i = 0; i < t.numRows; i++) {
        for (const c of cols) c.get(i);
        n++;
      }
      return n;
    }
    case 'csv-records':
    case 'parquet-records': {
      const { reader, mapper } = await openTabular(file, {});
      let n = 0;
      for await (const b of TabularFileSource.create(reader, mapper, { hash: false }).prepare(tradesData, 50_000, () => false))
        n += 'skipped' in b ? 0 : b.rowCount;
      return n;
    }
    case 'dbn-records': {
      const src = await DbnFileSource.open(file, { hash: false });
      let n = 0;
      for await (const b of src.prepare(tradesData, 50_000, () => false)) n += 'skipped' in b ? 0 : b.rowCount;
      return n;
    }
    default:
      throw new Error(`unknown variant ${name}`);
  }
}

interface Row {
  step: string;
  rows: number;
  ms: number;
  rssMiB: number;
}

function child(self: string, name: string, file: string, url?: string): Row {
  const r = spawnSync(process.execPath, [self, '--variant', name, '--file', file, ...(url ? ['--url', url] : [])], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Row;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (k: string) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const self = fileURLToPath(import.meta.url);
  if (get('--variant')) {
    const t0 = performance.now();
    const rows = await variant(get('--variant')!, get('--file')!, get('--url'));
    process.stdout.write(
      `${JSON.stringify({ step: get('--variant'), rows, ms: performance.now() - t0, rssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
    return;
  }
  const n = Number((get('--rows') ?? '5000000').replace(/_/g, ''));
  const e2eRows = Number((get('--e2e-rows') ?? String(n)).replace(/_/g, ''));
  const files = await generate(n);
  if (argv.includes('--files-only')) {
    process.stdout.write(`${JSON.stringify(files)}\n`);
    return;
  }
  const out: Row[] = [];
  for (const [step, file] of [
    ['csv-parse', files.csv],
    ['csv-split', files.csv],
    ['parquet-pages', files.parquet],
    ['hyparquet', files.parquet],
    ['parquet-wasm', files.parquet],
    ['csv-records', files.csv],
    ['parquet-records', files.parquet],
    ['dbn-records', files.dbn],
  ] as const) {
    process.stderr.write(`${step}…\n`);
    out.push(child(self, step, file));
  }
  if (!argv.includes('--no-db')) {
    const e2e = e2eRows === n ? files : await generate(e2eRows);
    const cluster = await startServerCluster({ tmpPrefix: 'tv-source-bench-' });
    try {
      const engine = new ServerEngine({ url: cluster.url });
      await migrate(engine);
      // The issue's reference: the server's own COPY of the same CSV (trades_data's shape, so the
      // server can read it; tickvault loads that file too, with no mapping).
      const tableCsv = path.join(cluster.dir, 'trades-table.csv');
      await writeTableCsv(tableCsv, e2eRows, { header: true });
      process.stderr.write('server COPY FROM csv…\n');
      await resetTable(cluster.url);
      const t0 = performance.now();
      await withClient(cluster.url, (c) =>
        c.query(
          `COPY trades_data (${TABLE_CSV_COLUMNS.map((c) => `"${c}"`).join(', ')}) FROM '${tableCsv.replace(/'/g, "''")}' WITH (FORMAT csv, HEADER)`,
        ),
      );
      out.push({ step: 'server COPY FROM table csv', rows: e2eRows, ms: performance.now() - t0, rssMiB: NaN });
      for (const [step, file] of [
        ['e2e table csv', tableCsv],
        ['e2e csv', e2e.csv],
        ['e2e parquet', e2e.parquet],
        ['e2e dbn', e2e.dbn],
      ] as const) {
        process.stderr.write(`${step}…\n`);
        await resetTable(cluster.url);
        out.push(child(self, step, file, cluster.url));
      }
      await engine.close();
    } finally {
      await cluster.stop();
    }
  }
  const dbnRate = (s: string) => {
    const d = out.find((r) => r.step === s);
    return d ? d.rows / (d.ms / 1000) : NaN;
  };
  const copyRate = dbnRate('server COPY FROM table csv');
  process.stdout.write(
    `\n${n.toLocaleString('en-US')} trades (e2e: ${e2eRows.toLocaleString('en-US')})\n| step | rows | s | rows/s | vs DBN | vs server COPY FROM csv | peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|\n`,
  );
  for (const r of out) {
    const rate = r.rows / (r.ms / 1000);
    const ref = r.step.startsWith('e2e') ? dbnRate('e2e dbn') : r.step.endsWith('records') ? dbnRate('dbn-records') : NaN;
    const vsCopy = r.step.startsWith('e2e') ? `${(rate / copyRate).toFixed(2)}×` : '';
    process.stdout.write(
      `| ${r.step} | ${r.rows} | ${(r.ms / 1000).toFixed(1)} | ${Math.round(rate).toLocaleString('en-US')} | ${Number.isNaN(ref) ? '' : `${(rate / ref).toFixed(2)}×`} | ${vsCopy} | ${Number.isNaN(r.rssMiB) ? '' : Math.round(r.rssMiB)} |\n`,
    );
  }
}

await main();
