/**
 * `tickvault query asof-join` on both engines: the library's rows in each format, markout
 * columns, and usage errors (exit 2, one line).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Engine } from '../../src/engine/types.js';
import { TBBOLoader, TradesLoader } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { END, ES, NQ, QUOTES, START, TRADES } from '../support/asof-join-data.js';
import { duckRows } from '../support/read-back.js';

const SLOW = 180_000;

async function seed(engine: Engine): Promise<void> {
  await new TBBOLoader({ engine }).storeBatch(QUOTES.map(({ ts, ...q }) => ({ timestamp: ts, ...q })));
  await new TradesLoader({ engine }).storeBatch(TRADES.map(({ ts, ...x }) => ({ timestamp: ts, ...x })));
  // A symbol of its own: trade ids that are an empty string and NULL, for the CSV rule.
  const base = { instrument_id: 9, symbol: EMPTY_IDS, price: '5.5', size: 1, side: 'B' as const };
  await new TradesLoader({ engine }).storeBatch([
    { ...base, timestamp: new Date('2024-03-04T10:00:00Z'), trade_id: '' },
    { ...base, timestamp: new Date('2024-03-04T10:00:01Z'), trade_id: null },
  ]);
}
const EMPTY_IDS = 'EMPTY.IDS';

describe.each(ENGINE_KINDS)('tickvault query asof-join on %s', (kind) => {
  let t: TestEngine | undefined;
  let dir: string | undefined;
  let target: string[];

  beforeAll(async () => {
    if (kind === 'embedded') {
      dir = mkdtempSync(path.join(os.tmpdir(), 'tickvault-asofjoin-cli-'));
      const e = await EmbeddedEngine.open({ dataDir: dir });
      await migrate(e);
      await seed(e);
      await e.close();
      target = ['--data-dir', dir];
    } else {
      t = await openTestEngine('server', { name: 'asofjoincli' });
      await seed(t.engine);
      target = ['--database-url', t.url];
    }
  }, SLOW);
  afterAll(async () => {
    await t?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const join = (...extra: string[]) =>
    cli([...target, 'query', 'asof-join', '--symbols', `${ES},${NQ}`, '--start', START, '--end', END, ...extra]);

  it(
    'csv: every trade with its quote, exact mids, markout columns; the count on stderr',
    async () => {
      const r = await join('--markouts', '1s,2s', '--format', 'csv');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n')).toEqual([
        'time,symbol,instrument_id,publisher,price,size,side,trade_id,quote_time,bid,ask,bid_size,ask_size,sequence,age_us,mid,mid_1s,mid_2s',
        `2024-03-04T09:59:58.000000Z,${ES},1,1,100.25000000,1,B,1:100,,,,,,,,,100.37500000,100.37500000`,
        `2024-03-04T10:00:00.000001Z,${ES},1,2,100.75000000,3,S,2:50,2024-03-04T09:59:59.500000Z,100.00000001,100.75000000,1,2,3,500001,100.375000005,100.375000005,100.375000005`,
        `2024-03-04T10:00:00.000001Z,${ES},1,1,100.50000000,2,B,1:101,2024-03-04T09:59:59.000000Z,100.25000000,100.50000000,5,6,10,1000001,100.37500000,100.50000000,100.50000000`,
        `2024-03-04T10:00:01.000000Z,${ES},1,1,100.50000000,5,S,1:99,2024-03-04T10:00:01.000000Z,100.00000000,101.00000000,7,8,21,0,100.50000000,100.50000000,`,
        `2024-03-04T10:00:01.000000Z,${ES},1,1,100.75000000,4,B,1:102,2024-03-04T10:00:01.000000Z,100.00000000,101.00000000,7,8,21,0,100.50000000,100.50000000,`,
        `2024-03-04T10:00:01.000000Z,${NQ},2,1,18000.50000000,1,B,1:7,,,,,,,,,18000.37500000,18000.37500000`,
        `2024-03-04T10:00:03.500000Z,${ES},1,1,101.00000000,7,B,1:103,2024-03-04T10:00:03.000000Z,101.00000000,,9,,30,500000,,,`,
        `2024-03-04T10:00:04.000000Z,${ES},1,2,100.75000000,6,N,2:51,2024-03-04T09:59:59.500000Z,100.00000001,100.75000000,1,2,3,4500000,100.375000005,100.87500000,100.87500000`,
      ]);
      expect(r.stderr).toMatch(/^tickvault: 8 trades joined with the last quote\n$/);
    },
    SLOW,
  );

  it(
    'parquet: the same rows typed for DuckDB (exact mids as DECIMAL(21,9), UTC timestamps); --out with a text format is exit 2',
    async () => {
      const out = mkdtempSync(path.join(os.tmpdir(), 'tickvault-asofjoin-parquet-'));
      try {
        const file = path.join(out, 'join.parquet');
        const r = await join('--markouts', '1s', '--format', 'parquet', '--out', file);
        expect(r.code, r.stderr).toBe(0);
        const rows = await duckRows(
          `SELECT trade_id, mid::VARCHAR, mid_1s::VARCHAR, typeof(mid), typeof("time"), typeof(price) FROM read_parquet('${file}')`,
        );
        expect(rows.map((x) => x.slice(0, 3))).toEqual([
          ['1:100', null, '100.375000000'],
          ['2:50', '100.375000005', '100.375000005'],
          ['1:101', '100.375000000', '100.500000000'],
          ['1:99', '100.500000000', '100.500000000'],
          ['1:102', '100.500000000', '100.500000000'],
          ['1:7', null, '18000.375000000'],
          ['1:103', null, null],
          ['2:51', '100.375000005', '100.875000000'],
        ]);
        expect(rows[0]!.slice(3)).toEqual(['DECIMAL(21,9)', 'TIMESTAMP WITH TIME ZONE', 'DECIMAL(20,8)']);
        const bad = await join('--format', 'csv', '--out', file);
        expect(bad.code).toBe(2);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    SLOW,
  );

  it(
    'json with --forward --tolerance --publisher --limit; table',
    async () => {
      const r = await join('--forward', '--tolerance', '1s', '--publisher', '1', '--limit', '2', '--format', 'json');
      expect(r.code, r.stderr).toBe(0);
      const rows = JSON.parse(r.stdout) as Record<string, string | null>[];
      expect(rows.map((x) => [x.trade_id, x.quote_time, x.sequence, x.age_us, x.mid])).toEqual([
        ['1:100', '2024-03-04T09:59:59.000000Z', '10', '-1000000', '100.37500000'],
        ['1:101', '2024-03-04T10:00:01.000000Z', '20', '-999999', '100.62500000'],
      ]);
      const table = await join('--format', 'table', '--symbols', NQ);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(/^time\s+symbol\s+instrument_id\s+publisher\s+price/);
      expect(table.stdout).toContain('1:7');
    },
    SLOW,
  );

  it(
    'csv: an empty trade id is `""`, a NULL one an empty field (as the export writes them)',
    async () => {
      const r = await join('--format', 'csv', '--symbols', EMPTY_IDS);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n').slice(1)).toEqual([
        `2024-03-04T10:00:00.000000Z,${EMPTY_IDS},9,0,5.50000000,1,B,"",,,,,,,,`,
        `2024-03-04T10:00:01.000000Z,${EMPTY_IDS},9,0,5.50000000,1,B,,,,,,,,,`,
      ]);
    },
    SLOW,
  );

  it(
    'usage errors are one line and exit 2',
    async () => {
      for (const [args, message] of [
        [['--tolerance', 'soon'], /tolerance must be an interval/],
        [['--markouts', '1s,,5s'], /--markouts must be a comma-separated list/],
        [['--symbols', 'ES.FUT,NOPE'], /no symbol "NOPE" is stored in trades_data/],
        [['--limit', '0'], /--limit must be a positive integer/],
        [['--start', 'yesterday'], /start: "yesterday" is not an ISO 8601 timestamp/],
      ] as const) {
        const r = await join(...args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trimEnd().split('\n')[0]).toMatch(message);
      }
    },
    SLOW,
  );
});
