/**
 * `tickvault demo`: the zero-setup tour. An embedded database in a fresh temporary directory;
 * init; the real Databento sample files when they are beside the checkout (../shared/fixtures);
 * a generated DBN trades file; then what landed and a few queries.
 */
import type { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../engine/embedded.js';
import { migrate } from '../../schema/migrate.js';
import { collectStatus, formatStatus } from '../../health/status.js';
import { loadDbnFile } from '../../ingest/load-dbn.js';
import { writeDbn } from '../../dbn/writer.js';
import type { DbnRecord } from '../../dbn/records.js';
import { expandFiles } from './load.js';

const SYMBOLS = [
  { symbol: 'ESZ6', id: 101, px: 6_000_25n, tick: 25n, weight: 6 },
  { symbol: 'NQZ6', id: 102, px: 21_000_00n, tick: 25n, weight: 3 },
  { symbol: 'CLF7', id: 103, px: 70_15n, tick: 1n, weight: 1 },
];

function* syntheticTrades(n: number, dayStartNs: bigint): Generator<DbnRecord> {
  let seed = 42;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };
  const total = SYMBOLS.reduce((a, s) => a + s.weight, 0);
  const px = SYMBOLS.map((s) => s.px);
  const stepNs = (23n * 3600n * 1_000_000_000n) / BigInt(n);
  for (let i = 0; i < n; i++) {
    let pick = rnd() * total;
    let k = 0;
    while ((pick -= SYMBOLS[k]!.weight) > 0) k++;
    const s = SYMBOLS[k]!;
    px[k] = px[k]! + (rnd() < 0.5 ? -s.tick : s.tick);
    const ts = dayStartNs + BigInt(i) * stepNs;
    yield {
      kind: 'trade', rtype: 0, publisherId: 1, instrumentId: s.id, tsEvent: ts, tsRecv: ts + 5000n, tsInDelta: 1000,
      price: px[k]! * 10_000_000n, size: 1 + Math.floor(rnd() ** 3 * 20), action: 'T', side: rnd() < 0.5 ? 'A' : 'B', flags: 0, depth: 0, sequence: i + 1,
    };
  }
}

export function registerDemo(program: Command): void {
  program.command('demo')
    .description('zero-setup tour on the embedded engine: init, load sample DBN data, show status and queries')
    .option('--trades <n>', 'synthetic trades to generate', '200000')
    .action(async (opts: { trades: string }) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickvault-demo-'));
      const say = (s: string) => process.stdout.write(`${s}\n`);
      say(`tickvault demo — embedded PGlite + TimescaleDB in ${dir}`);
      const engine = await EmbeddedEngine.open({ dataDir: path.join(dir, 'data') });
      try {
        const init = await migrate(engine);
        say(`\n== init: schema version ${init.fromVersion} -> ${init.toVersion}`);
        const files: string[] = [];
        const fixtures = path.resolve(process.cwd(), '../shared/fixtures/dbn/databento-python/GLBX.MDP3');
        if (fs.existsSync(fixtures)) files.push(...expandFiles([path.join(fixtures, '*.dbn.zst')]).filter((f) => !/status/.test(f)));
        // Real ICE trades with side 'N' (no aggressor): stored as they are (schema version 6).
        const ifeu = path.resolve(fixtures, '../IFEU.IMPACT/test_data.trades.dbn.zst');
        if (fs.existsSync(ifeu)) files.push(ifeu);
        // Statistics whose instrument no mapping names: quarantined with the reason, never given a
        // made-up symbol — the quarantine at work.
        const unnamed = path.resolve(fixtures, '../../test_data.statistics.dbn');
        if (fs.existsSync(unnamed)) files.push(unnamed);
        const day = BigInt(Date.UTC(2026, 10, 2)) * 1_000_000n;
        const generated = path.join(dir, 'synthetic.trades.dbn.zst');
        await writeDbn({
          version: 3, schema: 'trades', dataset: 'GLBX.MDP3', start: day, path: generated, compress: 'zstd',
          stypeIn: 1, stypeOut: 0, symbols: SYMBOLS.map((s) => s.symbol),
          mappings: SYMBOLS.map((s) => ({ rawSymbol: s.symbol, intervals: [{ startDate: 20261102, endDate: 20261103, symbol: String(s.id) }] })),
          records: syntheticTrades(Number(opts.trades), day),
        });
        files.push(generated);
        say(`\n== load: ${files.length} DBN files`);
        for (const f of files) {
          const r = await loadDbnFile(engine, f);
          say(`  ${path.basename(f).padEnd(36)} -> ${r.table.padEnd(22)} ${String(r.recordsInserted).padStart(8)} inserted ${String(r.recordsRejected).padStart(4)} quarantined  ${Math.round(r.recordsPerSecond)} rows/s`);
        }
        say('\n== status');
        say(formatStatus(await collectStatus(engine)));
        say('\n== hourly bars built from trades (ESZ6, first 5 hours)');
        const bars = await engine.query<Record<string, unknown>>(
          `SELECT time_bucket('1 hour', "timestamp") AS hour, first(price, "timestamp")::text AS open, max(price)::text AS high,
                  min(price)::text AS low, last(price, "timestamp")::text AS close, sum(size)::text AS volume
             FROM trades_data WHERE symbol = $1 GROUP BY hour ORDER BY hour LIMIT 5`, ['ESZ6']);
        console.table(bars.rows.map((r) => ({ ...r, hour: (r.hour as Date).toISOString() })));
        say('== volume by symbol');
        const vol = await engine.query(`SELECT symbol, count(*)::int AS trades, sum(size)::text AS volume FROM trades_data GROUP BY symbol ORDER BY 2 DESC`);
        console.table(vol.rows);
        say('== quarantined rows (nothing is dropped silently)');
        const q = await engine.query(`SELECT target_table, constraint_name, reason, count(*)::int AS n FROM tickvault_quarantine GROUP BY 1, 2, 3 ORDER BY 4 DESC`);
        if (q.rows.length === 0) say('  (none)');
        else console.table(q.rows);
      } finally {
        await engine.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
}
