/**
 * `tickvault demo`: the zero-setup tour. An embedded database in a fresh temporary directory;
 * init; the real Databento sample files when they are beside the checkout (../shared/fixtures);
 * a generated DBN trades file; then what landed and a few queries, printed as `tickvault query`
 * prints them. The database is kept, with the commands to explore it.
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
import { bars } from '../../query/index.js';
import { microsToIso } from '../../values/time.js';
import { expandFiles } from './load.js';
import { RowWriter } from './query.js';
import { packageRoot } from '../../config/version.js';

const SYMBOLS = [
  { symbol: 'ESZ6', id: 101, px: 6_000_25n, tick: 25n, weight: 6 },
  { symbol: 'NQZ6', id: 102, px: 21_000_00n, tick: 25n, weight: 3 },
  { symbol: 'CLF7', id: 103, px: 70_15n, tick: 1n, weight: 1 },
];

function* syntheticTrades(n: number, dayStartNs: bigint): Generator<DbnRecord> {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
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
      kind: 'trade',
      rtype: 0,
      publisherId: 1,
      instrumentId: s.id,
      tsEvent: ts,
      tsRecv: ts + 5000n,
      tsInDelta: 1000,
      price: px[k]! * 10_000_000n,
      size: 1 + Math.floor(rnd() ** 3 * 20),
      action: 'T',
      side: rnd() < 0.5 ? 'A' : 'B',
      flags: 0,
      depth: 0,
      sequence: i + 1,
    };
  }
}

/** Prints rows the way `tickvault query` prints a table. */
function table(columns: readonly string[], rows: readonly Record<string, string | null>[]): void {
  const w = new RowWriter('table', columns);
  for (const r of rows) w.row(r);
  w.end();
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
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
        // Beside the checkout, wherever the command runs from.
        const fixtures = path.resolve(packageRoot() ?? process.cwd(), '../shared/fixtures/dbn/databento-python/GLBX.MDP3');
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
          version: 3,
          schema: 'trades',
          dataset: 'GLBX.MDP3',
          start: day,
          path: generated,
          compress: 'zstd',
          stypeIn: 1,
          stypeOut: 0,
          symbols: SYMBOLS.map((s) => s.symbol),
          mappings: SYMBOLS.map((s) => ({
            rawSymbol: s.symbol,
            intervals: [{ startDate: 20261102, endDate: 20261103, symbol: String(s.id) }],
          })),
          records: syntheticTrades(Number(opts.trades), day),
        });
        files.push(generated);
        say(`\n== load: ${files.length} DBN files`);
        // Sample files of several datasets share names: the dataset folder tells them apart.
        const label = (f: string) => (f === generated ? path.basename(f) : `${path.basename(path.dirname(f))}/${path.basename(f)}`);
        const width = Math.max(...files.map((f) => label(f).length));
        for (const f of files) {
          const r = await loadDbnFile(engine, f);
          const rate = r.recordsInserted >= 10_000 ? `  ${Math.round(r.recordsPerSecond)} rows/s` : '';
          say(
            `  ${label(f).padEnd(width)} -> ${r.table.padEnd(22)} ${String(r.recordsInserted).padStart(8)} inserted ${String(r.recordsRejected).padStart(4)} quarantined${rate}`,
          );
        }
        say('\n== status');
        say(formatStatus(await collectStatus(engine)));
        const first = microsToIso(day / 1000n);
        const fifth = microsToIso(day / 1000n + 5n * 3_600_000_000n);
        say(
          `\n== hourly bars built from trades (ESZ6, first 5 hours): tickvault query bars --symbol ESZ6 --start ${first} --end ${fifth} --interval '1 hour'`,
        );
        table(
          ['time', 'open', 'high', 'low', 'close', 'volume', 'trades'],
          (await bars(engine, 'ESZ6', first, fifth, '1 hour', { source: 'trades' })).map((b) => ({
            time: microsToIso(b.timeUs),
            open: b.open,
            high: b.high,
            low: b.low,
            close: b.close,
            volume: String(b.volume),
            trades: b.tradeCount === null ? null : String(b.tradeCount),
          })),
        );
        say('\n== volume by symbol');
        const vol = await engine.query<{ symbol: string; trades: string; volume: string }>(
          'SELECT symbol, count(*)::text AS trades, sum(size)::text AS volume FROM trades_data GROUP BY symbol ORDER BY count(*) DESC, symbol',
        );
        table(['symbol', 'trades', 'volume'], vol.rows);
        say('\n== quarantined rows (nothing is dropped silently)');
        const q = await engine.query<{ target_table: string; constraint_name: string | null; reason: string; n: string }>(
          'SELECT target_table, constraint_name, reason, count(*)::text AS n FROM tickvault_quarantine GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1, 2',
        );
        if (q.rows.length === 0) say('  (none)');
        else table(['target_table', 'constraint_name', 'reason', 'n'], q.rows);
      } finally {
        await engine.close();
      }
      say(`\n== the demo database is kept in ${dir}; explore it with`);
      say(`  tickvault --data-dir ${path.join(dir, 'data')} status`);
      say(
        `  tickvault --data-dir ${path.join(dir, 'data')} query bars --symbol NQZ6 --start 2026-11-02 --end 2026-11-03 --interval '4 hours'`,
      );
      say(`and remove it with: rm -rf ${dir}`);
    });
}
