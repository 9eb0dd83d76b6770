/**
 * Load benchmark (DESIGN.md §6): synthetic trades → trades_data (contract indexes) on a throwaway
 * PostgreSQL + TimescaleDB cluster started by this process, every variant in ONE run so that only
 * ratios matter on a noisy machine.
 *
 *   npx tsc -p . && node dist/bench/load-bench.js [--rows N] [--insert-rows N] [--embedded-rows N]
 *                                                 [--only a,b,b1,c,bulk,d,e,emb] [--no-embedded]
 *
 * Variants (TRUNCATE + CHECKPOINT between them):
 *   (a)   server-side COPY trades_data FROM '<csv file>' (FORMAT csv) — the reference; run first and
 *         again last, the mean is the reference (the spread shows how noisy the machine was)
 *   (b)   tickvault TradesLoader, one worker (binary COPY, ledger, validation; batches of 10,000,
 *         those ready ahead committed together up to 50,000 rows)
 *   (b1)  the same with one COMMIT per batch (maxRowsPerCommit = batchSize)
 *   (c)   tickvault, 2 workers
 *   (bulk) tickvault, 2 workers, bulk mode (indexes dropped, rebuilt after; rebuild included)
 *   (d)   the obvious approach: records → CSV text → COPY FROM STDIN (pg-copy-streams)
 *   (e)   tickvault useCopy:false (multi-row INSERT), on a subset (--insert-rows)
 *   (emb) the embedded engine (PGlite), on a subset (--embedded-rows)
 * Loaders are fed by a generator (syntheticTradeChunks), never an array of all rows, so the peak
 * RSS printed for (b) reflects streaming. The generator's own cost (which a DBN decoder would
 * replace) is measured alone and printed, since it runs on the same cores as the load.
 */
import { chmodSync, createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { EmbeddedEngine } from '../src/engine/embedded.js';
import { ServerEngine } from '../src/engine/server.js';
import type { Engine } from '../src/engine/types.js';
import { TradesLoader, type TradeRecord } from '../src/load/loaders.js';
import { migrate } from '../src/schema/migrate.js';
import { startServerCluster, type ServerCluster } from '../test/support/server-cluster.js';
import { refreshAfterLoad } from '../src/timescale/rollup-refresh.js';
import { resetTable, withClient } from './support.js';
import { DEFAULT_START_NS, csvLine, nsToIsoMicros, rawTrades, recordToCsvLine, syntheticTradeChunks } from './synthetic-trades.js';

interface Args {
  rows: number;
  insertRows: number;
  embeddedRows: number;
  only: Set<string> | null;
  embedded: boolean;
  chunk: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const num = (name: string, dflt: number): number => {
    const v = get(name);
    if (v === undefined) return dflt;
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
    return n;
  };
  const rows = num('--rows', 5_000_000);
  const only = get('--only');
  return {
    rows,
    insertRows: Math.min(rows, num('--insert-rows', 200_000)),
    embeddedRows: Math.min(rows, num('--embedded-rows', 500_000)),
    only: only ? new Set(only.split(',')) : null,
    embedded: !argv.includes('--no-embedded'),
    chunk: num('--chunk', 1_000),
  };
}

const COLUMNS = 'timestamp, instrument_id, symbol, price, size, side, trade_id';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

async function countRows(url: string): Promise<number> {
  return withClient(url, async (c) => Number((await c.query<{ n: string }>('SELECT count(*)::text AS n FROM trades_data')).rows[0]!.n));
}

/** Writes the CSV file the server-side COPY reads (readable by the postgres OS user). */
async function writeCsv(file: string, rows: number): Promise<void> {
  async function* lines(): AsyncGenerator<string> {
    let buf = '';
    let n = 0;
    for (const r of rawTrades({ rows })) {
      buf += csvLine(r);
      if (++n % 2_000 === 0) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  await pipeline(Readable.from(lines()), createWriteStream(file));
  chmodSync(file, 0o644);
}

interface Timing {
  rows: number;
  seconds: number;
  note?: string;
  cpuSeconds?: number;
  serverCpuSeconds?: number;
}

/**
 * CPU seconds used so far by the cluster: every live child of the postmaster (backends,
 * checkpointer, WAL writer, TimescaleDB workers) plus the postmaster itself, whose cutime/cstime
 * hold the CPU of children that already exited. Unlike wall time this hardly depends on what
 * else runs on the machine, so it tells where the cycles go even on a noisy machine.
 */
let postmasterPid: number | undefined;
const CLK_TCK = 100;
function procTimes(pid: number): { self: number; children: number; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) / CLK_TCK, children: (Number(f[13]) + Number(f[14])) / CLK_TCK };
  } catch {
    return undefined;
  }
}
function serverCpuSeconds(): number | undefined {
  if (postmasterPid === undefined || process.platform !== 'linux') return undefined;
  const pm = procTimes(postmasterPid);
  if (!pm) return undefined;
  let total = pm.self + pm.children;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const t = procTimes(Number(name));
    if (t && t.ppid === postmasterPid) total += t.self;
  }
  return total;
}
const rate = (t: Timing) => t.rows / t.seconds;

/** Wall time, plus this process's CPU time (user + system) over the same span: the client's share of the cores. */
async function timed(rows: number, fn: () => Promise<unknown>, note?: string): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const server0 = serverCpuSeconds();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // Backends that just disconnected reach the postmaster's cutime only once it has reaped them.
  if (server0 !== undefined) await new Promise((r) => setTimeout(r, 300));
  const server1 = serverCpuSeconds();
  return {
    rows,
    seconds,
    note,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    serverCpuSeconds: server0 !== undefined && server1 !== undefined ? server1 - server0 : undefined,
  };
}

async function serverCopyFromFile(url: string, file: string, rows: number): Promise<Timing> {
  await resetTable(url);
  const t = await timed(rows, () =>
    withClient(url, (c) => c.query(`COPY trades_data (${COLUMNS}) FROM '${file.replace(/'/g, "''")}' WITH (FORMAT csv)`)),
  );
  const n = await countRows(url);
  if (n !== rows) throw new Error(`(a) loaded ${n} rows, expected ${rows}`);
  return t;
}

/**
 * One tickvault load. The rollups over trades_data are NOT refreshed here (refreshAggregates:
 * false), because the reference (a) does not maintain them either; their refresh after (b) is
 * timed separately and printed below the table.
 */
async function tickvaultLoad(
  engine: Engine,
  url: string | null,
  rows: number,
  chunk: number,
  config: { parallelWorkers?: number; useCopy?: boolean; maxRowsPerCommit?: number },
  bulk = false,
): Promise<Timing> {
  if (url) await resetTable(url);
  const loader = new TradesLoader({ engine, analyzeTables: false, ...config });
  const source = { source: 'bench', contentHash: `bench:${Date.now()}:${Math.random()}` };
  let result: Awaited<ReturnType<typeof loader.bulkLoad>> | undefined;
  const t = await timed(rows, async () => {
    result = await loader.bulkLoad(syntheticTradeChunks({ rows }, chunk), { source, bulk, refreshAggregates: false });
  });
  if (result!.recordsInserted !== rows) throw new Error(`tickvault loaded ${result!.recordsInserted} rows, expected ${rows}`);
  return t;
}

/** (d): each record → a CSV line, joined into ~64 KiB strings, streamed into COPY FROM STDIN (FORMAT csv). */
async function csvCopyFromStdin(url: string, rows: number, chunk: number): Promise<Timing> {
  await resetTable(url);
  return timed(rows, () =>
    withClient(url, async (c) => {
      const stream = c.query(copyFrom(`COPY trades_data (${COLUMNS}) FROM STDIN WITH (FORMAT csv)`));
      const done = new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
      });
      let buf = '';
      for (const records of syntheticTradeChunks({ rows }, chunk)) {
        for (const r of records as TradeRecord[]) buf += recordToCsvLine(r);
        if (buf.length >= 65_536) {
          if (!stream.write(buf)) await once(stream, 'drain');
          buf = '';
        }
      }
      if (buf) stream.write(buf);
      stream.end();
      await done;
      if (stream.rowCount !== rows) throw new Error(`(d) loaded ${stream.rowCount} rows, expected ${rows}`);
    }),
  );
}

/** The generator alone (what a DBN decoder would replace): its cost is shared by every client-side variant. */
function generatorOnly(rows: number, chunk: number): Timing {
  const t0 = performance.now();
  let n = 0;
  for (const c of syntheticTradeChunks({ rows }, chunk)) n += c.length;
  return { rows: n, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const want = (v: string) => args.only === null || args.only.has(v);
  process.stderr.write(`load-bench: ${fmt(args.rows)} synthetic trades, 23 h, 10 symbols; starting a throwaway cluster…\n`);
  let cluster: ServerCluster | undefined;
  const results: { key: string; label: string; t: Timing }[] = [];
  let rssDuringB = 0;
  let maxRssAfterB = 0;
  let refreshB: Timing | undefined;
  try {
    cluster = await startServerCluster({ tmpPrefix: 'tv-bench-' });
    const url = cluster.url;
    try {
      postmasterPid = Number(readFileSync(path.join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      /* no server CPU column */
    }
    const engine = new ServerEngine({ url, pool: { poolSize: 4, maxOverflow: 4 } });
    await migrate(engine);
    const caps = await engine.capabilities();
    const csv = path.join(cluster.dir, 'trades.csv');
    const step = (s: string) => process.stderr.write(`  ${s}…\n`);
    if (want('a')) {
      step('writing the CSV file for (a)');
      await writeCsv(csv, args.rows);
    }

    const gen = generatorOnly(Math.min(args.rows, 1_000_000), args.chunk);
    if (want('a')) {
      step('(a) server-side COPY FROM file');
      results.push({ key: 'a', label: '(a) server COPY FROM file (reference)', t: await serverCopyFromFile(url, csv, args.rows) });
    }
    if (want('b')) {
      step('(b) tickvault, 1 worker');
      const sampler = setInterval(() => {
        rssDuringB = Math.max(rssDuringB, process.memoryUsage().rss);
      }, 50);
      try {
        results.push({
          key: 'b',
          label: '(b) tickvault, 1 worker',
          t: await tickvaultLoad(engine, url, args.rows, args.chunk, { parallelWorkers: 1 }),
        });
      } finally {
        clearInterval(sampler);
      }
      maxRssAfterB = process.resourceUsage().maxRSS * 1024;
      // What a default bulkLoad adds after the rows are in: refreshing the rollups over the range.
      const lo = nsToIsoMicros(DEFAULT_START_NS);
      const hi = nsToIsoMicros(DEFAULT_START_NS + 23n * 3_600_000_000_000n);
      refreshB = await timed(args.rows, () => refreshAfterLoad(engine, 'trades_data', lo, hi));
    }
    if (want('b1')) {
      step('(b) tickvault, 1 worker, one COMMIT per 10,000-row batch');
      results.push({
        key: 'b1',
        label: '(b) 1 worker, one COMMIT per batch',
        t: await tickvaultLoad(engine, url, args.rows, args.chunk, { parallelWorkers: 1, maxRowsPerCommit: 10_000 }),
      });
    }
    if (want('c')) {
      step('(c) tickvault, 2 workers');
      results.push({
        key: 'c',
        label: '(c) tickvault, 2 workers',
        t: await tickvaultLoad(engine, url, args.rows, args.chunk, { parallelWorkers: 2 }),
      });
    }
    if (want('bulk')) {
      step('(c) tickvault, 2 workers, bulk mode');
      results.push({
        key: 'bulk',
        label: '(c) tickvault, 2 workers, bulk mode',
        t: await tickvaultLoad(engine, url, args.rows, args.chunk, { parallelWorkers: 2 }, true),
      });
    }
    if (want('d')) {
      step('(d) records → CSV text → COPY FROM STDIN');
      results.push({ key: 'd', label: '(d) records → CSV → COPY STDIN', t: await csvCopyFromStdin(url, args.rows, args.chunk) });
    }
    if (want('e')) {
      step(`(e) multi-row INSERT on ${fmt(args.insertRows)} rows`);
      results.push({
        key: 'e',
        label: `(e) multi-row INSERT (${fmt(args.insertRows)} rows)`,
        t: await tickvaultLoad(engine, url, args.insertRows, args.chunk, { useCopy: false }),
      });
    }
    if (want('a')) {
      step('(a) again, to bracket the noise');
      results.push({ key: 'a2', label: '(a) server COPY FROM file, again', t: await serverCopyFromFile(url, csv, args.rows) });
    }
    await engine.close();

    if (args.embedded && want('emb')) {
      step(`embedded engine on ${fmt(args.embeddedRows)} rows`);
      const emb = await EmbeddedEngine.open({ dataDir: 'memory://' });
      try {
        await migrate(emb);
        results.push({
          key: 'emb',
          label: `embedded (PGlite), ${fmt(args.embeddedRows)} rows`,
          t: await tickvaultLoad(emb, null, args.embeddedRows, args.chunk, {}),
        });
      } finally {
        await emb.close();
      }
    }

    // ---- report -------------------------------------------------------------------------------
    const ref = results.filter((r) => r.key === 'a' || r.key === 'a2').map((r) => rate(r.t));
    const refRate = ref.length ? ref.reduce((a, b) => a + b, 0) / ref.length : NaN;
    const byKey = new Map(results.map((r) => [r.key, rate(r.t)]));
    const target: Record<string, string> = { b: '≥ 0.90 × (a)', bulk: '≥ 1.30 × (a)', d: '< (b)' };
    const verdict = (key: string, r: number): string => {
      const ratio = r / refRate;
      if (Number.isNaN(ratio) && key !== 'd') return '(no reference run)';
      if (key === 'b') return ratio >= 0.9 ? 'met' : 'NOT met';
      if (key === 'bulk') return ratio >= 1.3 ? 'met' : 'NOT met';
      if (key === 'd') return byKey.has('b') ? (byKey.get('b')! > r ? 'met ((b) faster)' : 'NOT met') : '';
      return '';
    };
    const lines: string[] = [];
    lines.push(
      `tickvault load benchmark — ${fmt(args.rows)} synthetic trades over 23 h, 10 symbols, trades_data with the contract's 3 indexes`,
    );
    lines.push(
      `server: PostgreSQL ${caps.postgresVersion}, TimescaleDB ${caps.timescaledbVersion} (${caps.timescaledbLicense}); client and server share this machine's cores`,
    );
    lines.push('');
    lines.push(`| variant | rows | seconds | rows/s | × (a) | target | | client CPU s | server CPU s | CPU µs/row (client+server) |`);
    lines.push(`|---|---:|---:|---:|---:|---|---|---:|---:|---:|`);
    for (const r of results) {
      const rr = rate(r.t);
      lines.push(
        `| ${r.label} | ${fmt(r.t.rows)} | ${r.t.seconds.toFixed(2)} | ${fmt(rr)} | ${Number.isNaN(refRate) ? '—' : (rr / refRate).toFixed(2)} | ${target[r.key] ?? ''} | ${verdict(r.key, rr)} | ${r.t.cpuSeconds?.toFixed(2) ?? ''} | ${r.key === 'emb' ? '(in process)' : (r.t.serverCpuSeconds?.toFixed(2) ?? '')} | ${r.key === 'emb' ? (((r.t.cpuSeconds ?? 0) * 1e6) / r.t.rows).toFixed(1) : r.t.serverCpuSeconds === undefined ? '' : ((((r.t.cpuSeconds ?? 0) + r.t.serverCpuSeconds) * 1e6) / r.t.rows).toFixed(1)} |`,
      );
    }
    lines.push('');
    if (ref.length === 2)
      lines.push(
        `reference (a) = mean of its two runs: ${fmt(refRate)} rows/s (runs differ by ${((Math.abs(ref[0]! - ref[1]!) / refRate) * 100).toFixed(0)}%: the machine's noise)`,
      );
    if (rssDuringB > 0) {
      const peak = Math.max(rssDuringB, maxRssAfterB);
      lines.push(
        `peak RSS during (b): ${mb(rssDuringB)} sampled; process maxRSS after (b): ${mb(maxRssAfterB)} — target < 300 MB: ${peak < 300 * 1048576 ? 'met' : 'NOT met'}`,
      );
    }
    if (refreshB) {
      const b = results.find((r) => r.key === 'b')!.t;
      lines.push(
        `rollup refresh after (b) (part of a default bulkLoad, excluded above): ${refreshB.seconds.toFixed(2)} s, server CPU ${refreshB.serverCpuSeconds?.toFixed(2) ?? '?'} s; (b) including it: ${fmt(b.rows / (b.seconds + refreshB.seconds))} rows/s = ${(b.rows / (b.seconds + refreshB.seconds) / refRate).toFixed(2)} × (a)`,
      );
    }
    lines.push(`synthetic generator alone (shared by (b)–(e), stands in for the DBN decoder): ${fmt(rate(gen))} records/s`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await cluster?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`load-bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
