import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Engine } from '../../src/engine/types.js';
import { TBBOLoader, TradesLoader } from '../../src/load/loaders.js';
import { bars, spreadAnalysis } from '../../src/query/index.js';
import { migrate } from '../../src/schema/migrate.js';
import { microsToIso } from '../../src/values/time.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { SYMBOL, iso, makeQuotes, makeTrades } from '../support/query-data.js';

const SLOW = 180_000;

async function seed(engine: Engine): Promise<void> {
  await new TradesLoader({ engine }).storeBatch(
    makeTrades().map((x) => ({
      timestamp: iso(x.us),
      instrument_id: 101,
      symbol: x.symbol,
      price: x.price,
      size: x.size,
      side: x.side,
      trade_id: x.tradeId,
    })),
  );
  await new TBBOLoader({ engine }).storeBatch(
    makeQuotes().map((q) => ({
      timestamp: iso(q.us),
      instrument_id: 101,
      symbol: q.symbol,
      bid_px_00: q.bid,
      ask_px_00: q.ask,
    })),
  );
}

describe.each(ENGINE_KINDS)('tickvault query/maintain CLI on %s', (kind) => {
  let t: TestEngine | undefined;
  let dir: string | undefined;
  let target: string[];
  let engine: Engine;

  beforeAll(async () => {
    if (kind === 'embedded') {
      // The subprocess opens the same data directory, so the test's own engine is closed before each run.
      dir = mkdtempSync(path.join(os.tmpdir(), 'tickvault-query-cli-'));
      const e = await EmbeddedEngine.open({ dataDir: dir });
      await migrate(e);
      await seed(e);
      await e.close();
      target = ['--data-dir', dir];
    } else {
      t = await openTestEngine('server', { name: 'querycli' });
      await seed(t.engine);
      target = ['--database-url', t.url];
    }
  }, SLOW);
  afterAll(async () => {
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function withLibrary<T>(fn: (e: Engine) => Promise<T>): Promise<T> {
    if (t) return fn(t.engine);
    engine = await EmbeddedEngine.open({ dataDir: dir! });
    try {
      return await fn(engine);
    } finally {
      await engine.close();
    }
  }

  it(
    "bars --format csv prints the library's bars exactly; the message goes to stderr",
    async () => {
      const args = [SYMBOL, '2024-03-04T09:00:00Z', '2024-03-04T12:30:00.5Z', '15 minutes'] as const;
      const want = await withLibrary((e) => bars(e, ...args, { source: 'trades' }));
      const r = await cli([
        ...target,
        'query',
        'bars',
        '--symbol',
        SYMBOL,
        '--start',
        args[1],
        '--end',
        args[2],
        '--interval',
        args[3],
        '--format',
        'csv',
        '--batch-size',
        '4',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('time,publisher,open,high,low,close,volume,trades');
      expect(lines.slice(1)).toEqual(
        want.map((b) => [microsToIso(b.timeUs), b.publisherId, b.open, b.high, b.low, b.close, b.volume, b.tradeCount].join(',')),
      );
      expect(want.length).toBeGreaterThan(10);
      expect(r.stderr).toMatch(new RegExp(`^tickvault: ${want.length} bars from trades_data`));
    },
    SLOW,
  );

  it(
    'spread --format json and volume --format csv; errors are one clean line on stderr',
    async () => {
      const want = await withLibrary((e) => spreadAnalysis(e, SYMBOL, '2024-03-04T09:00:00Z', '2024-03-04T12:00:00Z'));
      const r = await cli([
        ...target,
        'query',
        'spread',
        '--symbol',
        SYMBOL,
        '--start',
        '2024-03-04T09:00:00Z',
        '--end',
        '2024-03-04T12:00:00Z',
        '--format',
        'json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual([
        {
          symbol: SYMBOL,
          quotes: String(want.quotes),
          spreads: String(want.count),
          avg: want.avg,
          median: want.median,
          min: want.min,
          max: want.max,
        },
      ]);

      // A symbol no row carries is pointed out (issue 15.9); a stored one with nothing in range is an empty answer.
      const unknown = await cli([
        ...target,
        'query',
        'volume',
        '--symbol',
        'NOPE',
        '--start',
        '2024-03-04',
        '--end',
        '2024-03-05',
        '--interval',
        '1 hour',
        '--format',
        'csv',
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no symbol "NOPE" is stored in trades_data \(closest: /);
      const empty = await cli([
        ...target,
        'query',
        'volume',
        '--symbol',
        SYMBOL,
        '--start',
        '2030-03-04',
        '--end',
        '2030-03-05',
        '--interval',
        '1 hour',
        '--format',
        'csv',
      ]);
      expect(empty.code).toBe(0);
      expect(empty.stdout).toBe('time,volume,buy_volume,sell_volume,trades\n');

      const bad = await cli([
        ...target,
        'query',
        'volume',
        '--symbol',
        SYMBOL,
        '--start',
        '2024-03-04',
        '--end',
        '2024-03-05',
        '--interval',
        "1 hour'; DROP TABLE trades_data; --",
        '--format',
        'csv',
      ]);
      expect(bad.code).toBe(2); // a bad argument is a usage error (issue 15.9)
      expect(bad.stdout).toBe('');
      expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/^tickvault: error \[QUERY\]: bucket must be an interval/);
    },
    SLOW,
  );

  it(
    'maintain --dry-run --json reports the plan',
    async () => {
      const r = await cli([...target, 'maintain', '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as {
        dryRun: boolean;
        retention: { hypertable: string; status: string }[];
        refreshed: { view: string }[];
      };
      expect(report.dryRun).toBe(true);
      expect(report.refreshed.map((x) => x.view)).toContain('trades_candles_1d');
      // No default retention (no default deletes history): the 2024 fixture rows are not due.
      expect(report.retention).toEqual([]);
    },
    SLOW,
  );
});
