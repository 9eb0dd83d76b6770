/**
 * `tickvault load`, `inspect` and `demo` end to end: the built CLI (`node dist/src/cli/main.js`;
 * build first with `npx tsc -p .`) as a subprocess, on an embedded data directory (--data-dir)
 * and on a database of the throwaway server (--database-url). Checks the per-file summary, the
 * exit codes (0 success, 3 rows quarantined, 1 a file failed), that a non-TTY gets no progress-bar
 * escape codes, what `inspect` prints, and that `demo` runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli, type CliRun, CLI } from '../support/cli.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { ServerEngine } from '../../src/engine/server.js';
import type { Engine } from '../../src/engine/types.js';
import { ENGINE_KINDS } from '../support/engines.js';
import { createTestDatabase, type TestDatabase } from '../support/server-cluster.js';
import { fixture } from '../support/fixtures.js';
import { headerLength, synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const SLOW = 180_000;
const ESC = '\u001b[';

/** Non-TTY output: plain lines, never a cursor/colour escape sequence. */
function expectPlain(r: CliRun): void {
  expect(r.stderr.includes(ESC) || r.stdout.includes(ESC), 'escape codes in non-TTY output').toBe(false);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

const GLBX_TRADES = fixture('databento-python/GLBX.MDP3/test_data.trades.dbn.zst');
const XNAS_TRADES = fixture('databento-python/XNAS.ITCH/test_data.trades.dbn.zst');
const GLBX_OHLCV_GLOB = fixture('databento-python/GLBX.MDP3/test_data.ohlcv-*.dbn.zst');
const XNAS_OHLCV_1D = fixture('databento-python/XNAS.ITCH/test_data.ohlcv-1d.dbn.zst');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p .)`);
});

describe.each(ENGINE_KINDS)('tickvault load on the %s engine', (kind) => {
  let target: string[];
  let tmp: ReturnType<typeof tmpDir>;
  let db: TestDatabase | undefined;
  let truncated: string;
  let truncatedAt: number;

  beforeAll(async () => {
    tmp = tmpDir('tickvault-load-cli-');
    if (kind === 'embedded') target = ['--data-dir', path.join(tmp.dir, 'data')];
    else {
      db = await createTestDatabase(inject('serverUrl'), 'cli_load');
      target = ['--database-url', db.url];
    }
    const bytes = (await writeSynth(synthTrades(30)))!;
    truncatedAt = headerLength(bytes) + 17 * 48;
    truncated = path.join(tmp.dir, 'cut.trades.dbn');
    writeFileSync(truncated, bytes.subarray(0, truncatedAt + 11));
  });
  afterAll(async () => {
    await db?.drop();
    tmp?.cleanup();
  });

  async function open(): Promise<Engine> {
    return kind === 'embedded' ? EmbeddedEngine.open({ dataDir: path.join(tmp.dir, 'data') }) : new ServerEngine({ url: db!.url });
  }

  it(
    'loads files and globs: a summary line per file, exit 0',
    async () => {
      const r = await cli([...target, 'load', GLBX_TRADES, GLBX_OHLCV_GLOB]);
      expectPlain(r);
      expect(r.code, r.stderr).toBe(0);
      // Results on stdout (`tickvault load f > log` logs them), nothing on stderr off a terminal.
      expect(r.stderr).toBe('');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(5);
      expect(lines[0]).toMatch(
        new RegExp(`^${GLBX_TRADES.replace(/[.]/g, '\\.')} → trades_data: 4 inserted, 0 rejected, \\d+\\.\\d\\d s \\(load \\d+\\)$`),
      ); // no rows/s for 4 rows
      for (const [i, g, n] of [
        [1, '1d', 1],
        [2, '1h', 4],
        [3, '1m', 4],
        [4, '1s', 4],
      ] as const) {
        expect(lines[i]).toMatch(new RegExp(`test_data\\.ohlcv-${g}\\.dbn\\.zst → ohlcv_data: ${n} inserted, 0 rejected, `));
      }
    },
    SLOW,
  );

  it(
    'rows quarantined: exit 3 and the top reasons in the summary',
    async () => {
      // XNAS trades (one side N) are all stored since schema version 6; unnamed statistics are not.
      const stored = await cli([...target, 'load', XNAS_TRADES]);
      expect(stored.code, stored.stderr).toBe(0);
      expect(stored.stdout).toMatch(/test_data\.trades\.dbn\.zst → trades_data: 4 inserted, 0 rejected, /);
      const r = await cli([...target, 'load', fixture('test_data.statistics.dbn')]);
      expectPlain(r);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toMatch(
        /test_data\.statistics\.dbn → statistics_data: 0 inserted, 2 rejected \(symbol_not_null ×2: no symbol is known for the instrument id\), /,
      );
    },
    SLOW,
  );

  it(
    'a truncated or missing file fails (exit 1, byte offset named) while the other files still load; a re-run is a no-op',
    async () => {
      const missing = path.join(tmp.dir, 'missing.dbn');
      const r = await cli([...target, 'load', GLBX_TRADES, truncated, missing, XNAS_OHLCV_1D]);
      expectPlain(r);
      expect(r.code, r.stderr).toBe(1);
      // Results on stdout, failures on stderr.
      const done = r.stdout.trimEnd().split('\n');
      expect(done).toHaveLength(2);
      expect(done[0]).toMatch(/test_data\.trades\.dbn\.zst: already loaded \(load \d+, 4 records\); nothing to do$/);
      expect(done[1]).toMatch(/XNAS\.ITCH\/test_data\.ohlcv-1d\.dbn\.zst → ohlcv_data: 1 inserted, 0 rejected, /);
      const failed = r.stderr.trimEnd().split('\n');
      expect(failed).toHaveLength(2);
      expect(failed[0]).toBe(`${truncated}: FAILED: truncated record at byte offset ${truncatedAt}: needs 48 bytes, 11 available`);
      expect(failed[1]).toMatch(new RegExp(`^${missing.replace(/[.]/g, '\\.')}: FAILED: .*ENOENT`));
    },
    SLOW,
  );

  it(
    '--replace --json on a DBN file: replaces the previous load, JSON result',
    async () => {
      const r = await cli([...target, 'load', '--replace', '--json', GLBX_TRADES]);
      expectPlain(r);
      expect(r.code, r.stderr).toBe(0);
      const [res] = JSON.parse(r.stdout) as {
        file: string;
        table: string;
        status: string;
        recordsInserted: number;
        replacedLoadId: string | null;
      }[];
      expect(res).toMatchObject({ file: GLBX_TRADES, table: 'trades_data', status: 'completed', recordsInserted: 4 });
      expect(res!.replacedLoadId).toMatch(/^\d+$/);

      const engine = await open();
      try {
        const { rows } = await engine.query<{ symbol: string; n: string }>(
          `SELECT symbol, count(*)::text AS n FROM trades_data GROUP BY 1 ORDER BY 1`,
        );
        expect(rows).toEqual([
          { symbol: 'ESH1', n: '4' },
          { symbol: 'NVDA', n: '4' },
        ]); // NVDA's side-N trade is stored
        const loads = await engine.query<{ status: string; n: string }>(
          `SELECT status, count(*)::text AS n FROM tickvault_loads GROUP BY 1 ORDER BY 1`,
        );
        // The truncated and the missing file failed before any ledger row was written; the first GLBX load was superseded.
        // (8: the XNAS trades and the unnamed statistics are two loads of the quarantine test.)
        expect(loads.rows).toEqual([
          { status: 'completed', n: '8' },
          { status: 'superseded', n: '1' },
        ]);
        expect((await engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM ohlcv_data`)).rows[0]!.n).toBe('14');
      } finally {
        await engine.close();
      }
    },
    SLOW,
  );

  it(
    'on a TTY (a pty from script(1)) the live progress bar IS drawn — the non-TTY checks above are not vacuous',
    async () => {
      if (kind !== 'server' || spawnSync('script', ['--version']).status !== 0) return; // once is enough; needs util-linux script
      const cmd = [process.execPath, CLI, ...target, 'load', fixture('databento-python/XNAS.ITCH/test_data.ohlcv-1h.dbn.zst')]
        .map((a) => `'${a}'`)
        .join(' ');
      // A wide terminal: the bar drops fields to fit narrower ones (test/cli/progress.test.ts).
      const r = spawnSync('script', ['-qec', `stty cols 200; ${cmd}`, '/dev/null'], { encoding: 'utf8', timeout: SLOW - 10_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`${ESC}?25l`); // cursor hidden while the bar runs
      // percentage, records of the file's total, MB, rate and ETA (the total is known after the structure pre-pass)
      expect(r.stdout).toMatch(
        /test_data\.ohlcv-1h\.dbn\.zst \|[^|]*\| 100% \| 4\/4 records \| [\d.]+\/[\d.]+ MB \| \d+ rows\/s \| ETA \d+s/,
      );
      expect(r.stdout).toMatch(/→ ohlcv_data: 4 inserted, 0 rejected/);
    },
    SLOW,
  );
});

describe('tickvault inspect', () => {
  it('prints the metadata and the record counts by type (LIVE: mixed stream)', async () => {
    const r = await cli(['inspect', fixture('databento-python/LIVE/test_data.live.dbn.zst')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^file: +.*test_data\.live\.dbn\.zst \(zstd\)$/m);
    expect(r.stdout).toMatch(/^DBN: +v3, dataset GLBX\.MDP3, schema mixed$/m);
    expect(r.stdout).toMatch(/^records: +46$/m);
    for (const [name, n] of [
      ['mbp_0', 2],
      ['mbp_1', 2],
      ['mbp_10', 2],
      ['instrument_def', 2],
      ['symbol_mapping', 20],
      ['statistics', 9],
      ['ohlcv_1s', 2],
      ['ohlcv_1m', 2],
      ['mbo', 5],
    ] as const) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +${n}$`, 'm'));
    }
  });

  it('--json on set A v1 statistics: version, schema, no mappings', async () => {
    const r = await cli(['inspect', '--json', fixture('test_data.statistics.v1.dbn.zst')]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      version: 1,
      compressed: true,
      dataset: 'GLBX.MDP3',
      schema: 'statistics',
      stypeIn: 0,
      mappings: 0,
      records: 2,
      recordsByType: { statistics: 2 },
    });
  });

  it('a wrong-magic file: one clean error line, exit 1', async () => {
    const tmp = tmpDir();
    try {
      const f = path.join(tmp.dir, 'x.dbn');
      writeFileSync(f, 'PK\u0003\u0004 definitely not DBN');
      const r = await cli(['inspect', f]);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^tickvault: error \[DBN_BAD_MAGIC\]: .*byte offset 0/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('tickvault demo', () => {
  it(
    'runs on a fresh embedded database and prints what landed and the queries',
    async () => {
      const r = await cli(['demo']); // as the README runs it (200,000 generated trades)
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^tickvault demo — embedded PGlite \+ TimescaleDB in /);
      expect(r.stdout).toMatch(/== load: 12 DBN files/); // 9 GLBX.MDP3 fixtures (status has no table), IFEU trades, unnamed statistics, the generated file
      expect(r.stdout).toMatch(/synthetic\.trades\.dbn\.zst +-> trades_data +200000 inserted +0 quarantined +\d+ rows\/s/);
      // Files of the same name from different datasets are told apart; a rate only where it means something.
      expect(r.stdout).toMatch(/GLBX\.MDP3\/test_data\.trades\.dbn\.zst +-> trades_data +4 inserted +0 quarantined$/m);
      expect(r.stdout).toContain('== hourly bars built from trades (ESZ6, first 5 hours): tickvault query bars --symbol ESZ6');
      expect(r.stdout).toContain('== volume by symbol');
      // The query command's table format, not console.table.
      expect(r.stdout).toMatch(/^time +open +high +low +close +volume +trades\n-+ +-+/m);
      expect(r.stdout).toMatch(/^ESZ6 +\d+ +\d+$/m);
      expect(r.stdout).not.toMatch(/\(index\)|│/);
      // IFEU's four side-N trades are stored; the statistics no mapping names are quarantined, and the demo shows them.
      expect(r.stdout).toMatch(/IFEU\.IMPACT\/test_data\.trades\.dbn\.zst +-> trades_data +4 inserted +0 quarantined$/m);
      expect(r.stdout).toMatch(/dbn\/test_data\.statistics\.dbn +-> statistics_data +0 inserted +2 quarantined$/m);
      expect(r.stdout.match(/^statistics_data +symbol_not_null +.*symbol unresolved for instrument_id 146945.* +1$/gm)).toHaveLength(2);
      // The database is kept, with the commands to explore it (and removed here).
      const kept = /and remove it with: rm -rf (\S+)$/m.exec(r.stdout)?.[1];
      expect(kept && existsSync(path.join(kept, 'data'))).toBe(true);
      expect(r.stdout).toContain(`tickvault --data-dir ${path.join(kept!, 'data')} status`);
      rmSync(kept!, { recursive: true, force: true });
    },
    SLOW,
  );
});
