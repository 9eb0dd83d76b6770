/**
 * `tickvault export` and `tickvault query … --format parquet|arrow` as a user runs them (the built
 * CLI as a subprocess; build with `npx tsc -p .` first), each file read back by DuckDB or the
 * Arrow reader and compared with the database.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Engine } from '../../src/engine/types.js';
import { exportColumns } from '../../src/export/index.js';
import { TBBOLoader, TradesLoader } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { tradesData } from '../../src/schema/tables.js';
import { QUERY_COLUMNS } from '../../src/cli/commands/query-file.js';
import { cli } from '../support/cli.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { dbRows, duckRows, readArrow, readParquet } from '../support/read-back.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'tickvault-export-cli-'));

async function seed(engine: Engine): Promise<void> {
  await new TradesLoader({ engine }).storeBatch(
    Array.from({ length: 300 }, (_, i) => ({
      timestamp: new Date(Date.UTC(2024, 2, 1, 14, 0, 0) + i * 1000),
      instrument_id: i % 2 ? 1 : 2,
      symbol: i % 2 ? 'ESH4' : 'NQH4',
      price: `${5100 + (i % 13)}.${String(i % 100).padStart(2, '0')}123456`,
      size: 1 + (i % 4),
      side: i % 3 ? 'B' : 'S',
      trade_id: `c-${i}`,
    })),
  );
  await new TBBOLoader({ engine }).storeBatch([
    {
      timestamp: '2024-03-01T14:00:30Z',
      instrument_id: 1,
      symbol: 'ESH4',
      bid_px_00: '5100.25',
      ask_px_00: '5100.50',
      bid_sz_00: 1,
      ask_sz_00: 2,
    },
  ]);
}

describe.each(ENGINE_KINDS)('tickvault export CLI on %s', (kind) => {
  let t: TestEngine | undefined;
  let target: string[];
  let dataDir: string | undefined;
  // The embedded database is reopened by the test only between CLI runs (one process at a time).
  const withDb = async <T>(fn: (e: Engine) => Promise<T>): Promise<T> => {
    if (t) return fn(t.engine);
    const e = await EmbeddedEngine.open({ dataDir: dataDir! });
    try {
      return await fn(e);
    } finally {
      await e.close();
    }
  };

  beforeAll(async () => {
    if (kind === 'embedded') {
      dataDir = mkdtempSync(path.join(os.tmpdir(), 'tickvault-export-cli-db-'));
      const e = await EmbeddedEngine.open({ dataDir });
      await migrate(e);
      await seed(e);
      await e.close();
      target = ['--data-dir', dataDir];
    } else {
      t = await openTestEngine(kind, { name: 'export_cli' });
      await seed(t.engine);
      target = ['--database-url', t.url];
    }
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('export --format parquet: exit 0, one summary line, the file equals the table', async () => {
    const file = path.join(out, `${kind}-trades.parquet`);
    const r = await cli([
      ...target,
      'export',
      'trades_data',
      '--format',
      'parquet',
      '--out',
      file,
      '--symbols',
      'ESH4,NQH4',
      '--start',
      '2024-03-01T14:00:00Z',
      '--end',
      '2024-03-02',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim()).toMatch(/^tickvault: exported 300 rows of trades_data to .* \(parquet, [\d,]+ bytes/);
    const columns = exportColumns(tradesData);
    const want = await withDb((e) => dbRows(e, 'trades_data', columns, '"timestamp", instrument_id, publisher_id, trade_id'));
    expect(await readParquet(file, columns)).toEqual(want);
  });

  it('export --format csv --out - writes the CSV to stdout; --symbols filters', async () => {
    const r = await cli([...target, 'export', 'trades_data', '--format', 'csv', '--out', '-', '--symbols', 'ESH4']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('timestamp,instrument_id,symbol,price,size,side,trade_id,publisher_id,created_at');
    expect(lines).toHaveLength(151);
    expect(lines[1]).toMatch(/^2024-03-01T14:00:01\.000000Z,1,ESH4,5101\.01123456,2,B,c-1,0,/);
  });

  it('unknown table, bad format, missing --out: exit 2 with one line', async () => {
    const bad = await cli([...target, 'export', 'trade_data', '--format', 'parquet', '--out', path.join(out, 'x.parquet')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([
      'tickvault: error [QUERY]: unknown table "trade_data"; expected one of ohlcv_data, trades_data, tbbo_data, statistics_data, instrument_definitions',
    ]);
    const fmt = await cli([...target, 'export', 'trades_data', '--format', 'xlsx', '--out', path.join(out, 'x.xlsx')]);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr.split('\n')[0]).toMatch(/argument 'xlsx' is invalid\. Allowed choices are parquet, csv, arrow/);
    const time = await cli([
      ...target,
      'export',
      'trades_data',
      '--format',
      'csv',
      '--out',
      path.join(out, 'x.csv'),
      '--start',
      '2024-02-30',
    ]);
    expect(time.code).toBe(2);
    expect(time.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(path.join(out, 'x.csv'))).toBe(false);
    const noOut = await cli([
      ...target,
      'query',
      'volume',
      '--symbol',
      'ESH4',
      '--start',
      '2024-03-01',
      '--end',
      '2024-03-02',
      '--interval',
      '1 hour',
      '--format',
      'parquet',
    ]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--format parquet writes a file: give --out FILE/);
  });

  it('query bars --format parquet and asof --format arrow write typed files with the printed values', async () => {
    const args = ['--symbol', 'ESH4', '--start', '2024-03-01T14:00:00Z', '--end', '2024-03-01T15:00:00Z', '--interval', '1 minute'];
    const csv = await cli([...target, 'query', 'bars', ...args, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const file = path.join(out, `${kind}-bars.parquet`);
    const pq = await cli([...target, 'query', 'bars', ...args, '--format', 'parquet', '--out', file]);
    expect(pq.code, pq.stderr).toBe(0);
    const types = Object.fromEntries((await duckRows(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [r[0], r[1]]));
    expect(types).toMatchObject({ time: 'TIMESTAMP WITH TIME ZONE', open: 'DECIMAL(20,8)', volume: 'BIGINT' });
    const back = await duckRows(
      `SELECT strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ'), publisher::VARCHAR, open::VARCHAR, high::VARCHAR, low::VARCHAR, close::VARCHAR, volume::VARCHAR, trades::VARCHAR FROM read_parquet('${file}')`,
    );
    expect(back.map((r) => r.join(','))).toEqual(csv.stdout.trim().split('\n').slice(1));
    const arrowFile = path.join(out, `${kind}-asof.arrow`);
    const asof = await cli([
      ...target,
      'query',
      'asof',
      '--symbol',
      'ESH4',
      '--at',
      '2024-03-01T14:01:00Z',
      '--format',
      'arrow',
      '--out',
      arrowFile,
    ]);
    expect(asof.code, asof.stderr).toBe(0);
    const a = readArrow(arrowFile, QUERY_COLUMNS.asof);
    expect(a.rows).toHaveLength(2);
    expect(a.rows[0]!.slice(0, 6)).toEqual(['trade', String(Date.UTC(2024, 2, 1, 14, 0, 59) * 1000), '1', '0', '5107.59123456', '4']);
    expect(a.rows[1]!.slice(0, 1).concat(a.rows[1]!.slice(8))).toEqual(['quote', '5100.25000000', '5100.50000000', '1', '2', '0.25000000']);
    expect(readFileSync(arrowFile).subarray(0, 6).toString()).toBe('ARROW1');
  });
});
