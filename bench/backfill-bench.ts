/**
 * Backfill benchmark (issue 6): N synthetic trades backfilled into a day whose chunks already hold
 * 5×N rows, all compressed — on the embedded engine, since compression needs the community tier.
 * Every variant starts from an identical, freshly built state (its own in-memory database; the
 * build is not timed) and is timed from the first row to the last chunk back in its final state.
 *
 *   npx tsc -p . && node dist/bench/backfill-bench.js [--rows N] [--base-factor 5] [--batch 10000] [--fresh-rows N]
 *
 * Variants:
 *   (a) tickvault append, chosen strategy (write-recompress on TimescaleDB ≥ 2.11): staged
 *       duplicate check + INSERT … SELECT straight into the compressed chunks, then compress_chunk
 *       on the touched chunks (ledger first) — chunks end fully compressed
 *   (b) tickvault upsert, same strategy (UPDATE … FROM staging + INSERT … WHERE NOT EXISTS)
 *   (c) tickvault append, strategy 'decompress-recompress': decompress the touched chunks, load
 *       into plain heaps, compress again (the fallback for servers without DML on compressed chunks)
 *   (d) plain multi-row INSERT into the compressed chunks (no duplicate check) — the obvious way;
 *       printed twice: the INSERTs alone (chunks left partially compressed) and with the
 *       compress_chunk needed to bring them back to fully compressed
 *   (e) a vendor re-issue: upsert of N rows already stored (the last N of the base), every 10th
 *       corrected — UPDATE … FROM staging on compressed chunks, then recompress
 * Rollup refresh (refreshAfterLoad over the day) is left out of every variant (any backfill needs
 * it, whatever the write path) and timed once on its own.
 * Then the cost of the duplicate check itself on a fresh append (no overlap), per batch: plain
 *   COPY; append's fast path (in-batch key check in JS + one overlap probe, then the same COPY);
 *   COPY into staging + INSERT … SELECT … WHERE NOT EXISTS (what append does only when a batch's
 *   range overlaps stored rows for its instruments).
 */
import { EmbeddedEngine } from '../src/engine/embedded.js';
import type { Engine } from '../src/engine/types.js';
import { TradesLoader, type TradeRecord } from '../src/load/loaders.js';
import { RecordSource } from '../src/load/record-source.js';
import type { PreparedBatch } from '../src/load/write/batch.js';
import { writeBatch } from '../src/load/write/write-batch.js';
import { writeMerged } from '../src/load/write/merge.js';
import { loadedColumns, tradesData } from '../src/schema/tables.js';
import { refreshAfterLoad } from '../src/timescale/rollup-refresh.js';
import { migrate } from '../src/schema/migrate.js';
import { syntheticTradeChunks } from './synthetic-trades.js';

interface Args {
  rows: number;
  baseFactor: number;
  batch: number;
  freshRows: number;
}

function parseArgs(argv: string[]): Args {
  const num = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    const v = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    if (v === undefined) return dflt;
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
    return n;
  };
  const rows = num('--rows', 1_000_000);
  return {
    rows,
    baseFactor: num('--base-factor', 5),
    batch: num('--batch', 10_000),
    freshRows: num('--fresh-rows', Math.min(rows, 200_000)),
  };
}

const args = parseArgs(process.argv.slice(2));
const DAY = '2024-01-02';
const baseRows = args.rows * args.baseFactor;
// Base and backfill: same day, 23 hours, different streams (seeds), so the backfill's keys are new.
const baseStream = () => syntheticTradeChunks({ rows: baseRows, seed: 1, hours: 23 }, 2_000);
const backfillStream = () => syntheticTradeChunks({ rows: args.rows, seed: 2, hours: 23 }, 2_000);

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function buildBase(): Promise<Engine> {
  const engine = await EmbeddedEngine.open({ dataDir: 'memory://' });
  await migrate(engine);
  const t0 = performance.now();
  const res = await new TradesLoader({ engine, batchSize: args.batch }).bulkLoad(baseStream(), { refreshAggregates: false });
  if (res.recordsInserted !== baseRows) throw new Error(`base load stored ${res.recordsInserted} of ${baseRows}`);
  await engine.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('trades_data') c`);
  process.stderr.write(`  base: ${fmt(baseRows)} rows loaded and compressed in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return engine;
}

async function chunkState(engine: Engine): Promise<{ chunks: number; compressed: number; partial: number; rows: number }> {
  const { rows } = await engine.query<{ chunks: string; compressed: string; partial: string }>(
    `SELECT count(*)::text AS chunks, count(*) FILTER (WHERE is_compressed)::text AS compressed,
            (SELECT count(*) FROM _timescaledb_catalog.chunk c JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
              WHERE h.table_name = 'trades_data' AND NOT c.dropped AND (c.status & 8) <> 0)::text AS partial
       FROM timescaledb_information.chunks WHERE hypertable_name = 'trades_data'`,
  );
  const n = await engine.query<{ n: string }>('SELECT count(*)::text AS n FROM trades_data');
  return {
    chunks: Number(rows[0]!.chunks),
    compressed: Number(rows[0]!.compressed),
    partial: Number(rows[0]!.partial),
    rows: Number(n.rows[0]!.n),
  };
}

interface Row {
  variant: string;
  seconds: number;
  rowsPerSec: number;
  chunks: string;
  note: string;
}
const results: Row[] = [];

async function variant(
  name: string,
  run: (engine: Engine) => Promise<string>,
  finish?: { name: string; run: (engine: Engine) => Promise<void> },
  expectedRows = baseRows + args.rows,
): Promise<void> {
  process.stderr.write(`${name}\n`);
  const engine = await buildBase();
  try {
    const t0 = performance.now();
    const note = await run(engine);
    const s1 = (performance.now() - t0) / 1000;
    const st = await chunkState(engine);
    if (st.rows !== expectedRows) throw new Error(`${name}: ${st.rows} rows, expected ${expectedRows}`);
    results.push({
      variant: name,
      seconds: s1,
      rowsPerSec: args.rows / s1,
      chunks: `${st.compressed}/${st.chunks} compressed, ${st.partial} partial`,
      note,
    });
    if (finish) {
      const t1 = performance.now();
      await finish.run(engine);
      const s2 = s1 + (performance.now() - t1) / 1000;
      const st2 = await chunkState(engine);
      results.push({
        variant: finish.name,
        seconds: s2,
        rowsPerSec: args.rows / s2,
        chunks: `${st2.compressed}/${st2.chunks} compressed, ${st2.partial} partial`,
        note: 'time includes the INSERTs above',
      });
    }
  } finally {
    await engine.close();
  }
}

/** JIT and WASM warm-up (not reported): the first variant would otherwise pay it alone. */
async function warmUp(columns: ReturnType<typeof loadedColumns>): Promise<void> {
  const engine = await EmbeddedEngine.open({ dataDir: 'memory://' });
  try {
    await migrate(engine);
    await new TradesLoader({ engine, batchSize: 1_000 }).bulkLoad(syntheticTradeChunks({ rows: 5_000, seed: 9, hours: 3 }, 1_000), {
      refreshAggregates: false,
    });
    await engine.query(`SELECT compress_chunk(c) FROM show_chunks('trades_data') c`);
    const more = () => syntheticTradeChunks({ rows: 2_000, seed: 8, hours: 3 }, 1_000);
    await new TradesLoader({ engine, batchSize: 1_000 }).bulkLoad(more(), { mode: 'upsert' });
    for await (const b of batches(more()))
      await engine.transaction((tx) => writeBatch(tx, b, { table: 'trades_data', columns, useCopy: false }));
  } finally {
    await engine.close();
  }
}

async function* batches(stream: Iterable<TradeRecord[]>): AsyncIterable<PreparedBatch> {
  for await (const b of new RecordSource<TradeRecord>(stream).prepare(tradesData, args.batch, () => false)) if (!('skipped' in b)) yield b;
}

async function main(): Promise<void> {
  process.stdout.write(
    `backfill benchmark: ${fmt(args.rows)} trades into ${DAY}, whose chunks hold ${fmt(baseRows)} compressed rows (embedded engine, community tier); batch ${fmt(args.batch)}\n`,
  );
  const columns = loadedColumns(tradesData);
  await warmUp(columns);

  await variant('(a) tickvault append, chosen strategy (duplicate check → recompress)', async (engine) => {
    const r = await new TradesLoader({ engine, batchSize: args.batch }).bulkLoad(backfillStream(), { refreshAggregates: false });
    return `strategy ${r.strategy}, ${r.backfill!.chunksRecompressed.length} chunks recompressed, ${r.backfill!.batchesStaged} batches staged, ${r.duplicates} duplicates`;
  });
  await variant('(b) tickvault upsert, chosen strategy (staged merge → recompress)', async (engine) => {
    const r = await new TradesLoader({ engine, batchSize: args.batch }).bulkLoad(backfillStream(), {
      mode: 'upsert',
      refreshAggregates: false,
    });
    return `strategy ${r.strategy}, ${r.recordsInserted} inserted, ${r.recordsUpdated} updated`;
  });
  await variant("(c) tickvault append, strategy 'decompress-recompress'", async (engine) => {
    const r = await new TradesLoader({ engine, batchSize: args.batch }).bulkLoad(backfillStream(), {
      strategy: 'decompress-recompress',
      refreshAggregates: false,
    });
    return `strategy ${r.strategy}, ${r.backfill!.chunksDecompressed.length} chunks decompressed+recompressed`;
  });
  await variant(
    '(d) plain multi-row INSERT into the compressed chunks',
    async (engine) => {
      for await (const b of batches(backfillStream()))
        await engine.transaction((tx) => writeBatch(tx, b, { table: 'trades_data', columns, useCopy: false }));
      return 'no duplicate check; chunks left partially compressed';
    },
    {
      name: '(d+) the same INSERTs + compress_chunk back to fully compressed',
      run: async (engine) => {
        await engine.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('trades_data') c`);
      },
    },
  );
  await variant(
    '(e) tickvault upsert of a re-issued slice: N stored rows, every 10th corrected',
    async (engine) => {
      // The last N trades of the base stream again (same keys), every 10th with another size.
      function* reissue(): Generator<TradeRecord[]> {
        let i = 0;
        for (const chunk of syntheticTradeChunks({ rows: baseRows, seed: 1, hours: 23, from: baseRows - args.rows }, 2_000)) {
          yield chunk.map((r) => (i++ % 10 === 0 ? { ...r, size: Number(r.size) + 1000 } : r));
        }
      }
      const r = await new TradesLoader({ engine, batchSize: args.batch }).bulkLoad(reissue(), { mode: 'upsert', refreshAggregates: false });
      if (r.recordsUpdated !== Math.ceil(args.rows / 10)) throw new Error(`(e): ${r.recordsUpdated} updated`);
      return `strategy ${r.strategy}, ${r.backfill!.chunksRecompressed.length} chunks recompressed, ${r.recordsUpdated} updated, ${r.backfill!.unchanged} unchanged, ${r.recordsInserted} inserted; no plain-SQL equivalent without a unique index`;
    },
    undefined,
    baseRows,
  );
  await variant('(r) refreshAfterLoad over the day (3 trade-candle rollups), after (a)', async (engine) => {
    await new TradesLoader({ engine, batchSize: args.batch }).bulkLoad(backfillStream(), { refreshAggregates: false });
    const t0 = performance.now();
    const actions = await refreshAfterLoad(engine, 'trades_data', `${DAY}T00:00:00Z`, `${DAY}T23:59:59Z`);
    return `refresh alone: ${((performance.now() - t0) / 1000).toFixed(2)} s (${actions.map((a) => a.view).join(', ')}); seconds/rows/s of this row = (a) + refresh`;
  });

  const w = Math.max(...results.map((r) => r.variant.length));
  process.stdout.write(
    `\n${'variant'.padEnd(w)}  ${'seconds'.padStart(8)}  ${'rows/s'.padStart(10)}  ${'vs (d)'.padStart(7)}  chunks after\n`,
  );
  const ref = results.find((r) => r.variant.startsWith('(d) '))!.rowsPerSec;
  for (const r of results) {
    process.stdout.write(
      `${r.variant.padEnd(w)}  ${r.seconds.toFixed(2).padStart(8)}  ${fmt(r.rowsPerSec).padStart(10)}  ${(r.rowsPerSec / ref).toFixed(2).padStart(6)}×  ${r.chunks}${r.note ? `  — ${r.note}` : ''}\n`,
    );
  }

  // The duplicate check's own cost on a fresh append (an empty day): plain COPY vs staged.
  const engine = await EmbeddedEngine.open({ dataDir: 'memory://' });
  try {
    await migrate(engine);
    const fresh = (seed: number, day: number) =>
      syntheticTradeChunks({ rows: args.freshRows, seed, hours: 23, startNs: BigInt(Date.UTC(2024, 1, day)) * 1_000_000n }, 2_000);
    const time = async (label: string, write: (b: PreparedBatch) => Promise<unknown>, stream: Iterable<TradeRecord[]>) => {
      const t0 = performance.now();
      for await (const b of batches(stream)) await write(b);
      const s = (performance.now() - t0) / 1000;
      return { label, s, rps: args.freshRows / s };
    };
    const copy = await time(
      'plain COPY (append fast path: no overlap)',
      (b) => engine.transaction((tx) => writeBatch(tx, b, { table: 'trades_data', columns, useCopy: true })),
      fresh(3, 5),
    );
    const checked = await time(
      'append fast path: key check + overlap probe + COPY',
      (b) => engine.transaction((tx) => writeMerged(tx, b, { spec: tradesData, columns, useCopy: true, mode: 'append' })),
      fresh(5, 9),
    );
    const staged = await time(
      'COPY to staging + INSERT … WHERE NOT EXISTS',
      (b) =>
        engine.transaction((tx) => writeMerged(tx, b, { spec: tradesData, columns, useCopy: true, mode: 'append', alwaysStage: true })),
      fresh(4, 7),
    );
    process.stdout.write(`\nduplicate check on a fresh append (${fmt(args.freshRows)} rows, empty days):\n`);
    for (const r of [copy, checked, staged])
      process.stdout.write(`  ${r.label.padEnd(52)} ${r.s.toFixed(2).padStart(7)} s ${fmt(r.rps).padStart(10)} rows/s\n`);
    process.stdout.write(
      `  fast path / plain: ${(checked.s / copy.s).toFixed(2)}× the time; staged / plain: ${(staged.s / copy.s).toFixed(2)}× — append stages only batches whose range overlaps stored rows of their instruments\n`,
    );
  } finally {
    await engine.close();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
