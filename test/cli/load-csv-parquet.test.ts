/**
 * `tickvault load` of CSV and Parquet files: a Databento CSV and Parquet file load with no
 * options, a vendor CSV with --map / --map-file, the second run says "already loaded", --dry-run
 * counts what a load does, --plan writes nothing, --max-rejects stops the load (exit 1), and a CSV
 * load killed with SIGKILL mid-way, re-run, ends with exactly one copy of every row.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ServerEngine } from '../../src/engine/server.js';
import { count } from '../support/db.js';
import { CLI, cleanEnv, cli } from '../support/cli.js';
import { ENGINE_KINDS } from '../support/engines.js';
import { FIXTURES } from '../support/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/server-cluster.js';
import { tmpDir } from '../support/tmp.js';
import { recordsWithSymbols, toCsv, toParquet } from '../support/databento-tabular.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Engine } from '../../src/engine/types.js';

const TRADES = path.join(FIXTURES, 'databento-python/GLBX.MDP3/test_data.trades.dbn.zst');

describe.each(ENGINE_KINDS)('tickvault load CSV/Parquet (%s)', (kind) => {
  let target: string[];
  let tmp: ReturnType<typeof tmpDir>;
  let db: TestDatabase | undefined;
  let csv: string;
  let parquet: string;

  beforeAll(async () => {
    tmp = tmpDir('tickvault-load-tabular-');
    if (kind === 'embedded') target = ['--data-dir', path.join(tmp.dir, 'data')];
    else {
      db = await createTestDatabase(inject('serverUrl'), 'cli_tabular');
      target = ['--database-url', db.url];
    }
    const { records, symbols } = await recordsWithSymbols(TRADES);
    csv = path.join(tmp.dir, 'trades.csv');
    writeFileSync(csv, toCsv(records, symbols, 'pretty'));
    parquet = path.join(tmp.dir, 'trades.parquet');
    await toParquet(records, symbols, parquet, true);
    expect((await cli(['init', ...target])).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    tmp?.cleanup();
  });

  async function withDb<T>(f: (e: Engine) => Promise<T>): Promise<T> {
    const e = kind === 'embedded' ? await EmbeddedEngine.open({ dataDir: path.join(tmp.dir, 'data') }) : new ServerEngine({ url: db!.url });
    try {
      return await f(e);
    } finally {
      await e.close();
    }
  }

  it('a Databento CSV loads with no options; the second run says already loaded', async () => {
    const first = await cli(['load', csv, ...target]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/trades\.csv → trades_data: 4 inserted, 0 rejected/);
    const again = await cli(['load', csv, ...target]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/trades\.csv: already loaded \(load \d+, 4 records\); nothing to do/);
  });

  it('a Databento Parquet file loads with no options; --dry-run and --plan write nothing', async () => {
    const dry = await cli(['load', '--dry-run', parquet]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/trades\.parquet → trades_data \(dry run\): 4 records, 4 valid, 0 would be quarantined/);
    const plan = await cli(['load', '--plan', parquet, ...target]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/Databento encoding detected/);
    const r = await cli(['load', parquet, ...target, '--upsert']);
    expect(r.code).toBe(0);
    // The CSV stored these rows already: upsert changes nothing, rejects nothing.
    expect(r.stdout).toMatch(/trades\.parquet → trades_data: 0 inserted, 0 rejected/);
    expect(await withDb((e) => count(e, 'trades_data'))).toBe(4);
  });

  it('a vendor CSV with --map and --map-file; a header that maps nothing is exit 2 naming the columns', async () => {
    const file = path.join(tmp.dir, 'vendor.csv');
    writeFileSync(
      file,
      'time,ticker,px,qty,aggr\n2024-03-04T10:00:00.000001Z,NQH4,18000.5,2,S\n2024-03-04T10:00:00.000002Z,NQH4,18000.75,1,B\n',
    );
    const r = await cli([
      'load',
      file,
      ...target,
      '--table',
      'trades_data',
      '--map',
      'timestamp=time:iso,symbol=ticker,price=px:decimal,size=qty,side=aggr,instrument_id=const:99',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/vendor\.csv → trades_data: 2 inserted, 0 rejected/);
    const mapFile = path.join(tmp.dir, 'map.json');
    writeFileSync(
      mapFile,
      JSON.stringify({
        table: 'trades_data',
        columns: { timestamp: 'time:iso', symbol: 'ticker', price: 'px', size: 'qty', side: 'aggr', instrument_id: 'const:98' },
      }),
    );
    const viaFile = await cli(['load', file, ...target, '--map-file', mapFile, '--replace']);
    expect(viaFile.code).toBe(0);
    expect(await withDb((e) => count(e, 'trades_data', 'instrument_id = 98'))).toBe(2);
    const none = await cli(['load', file, ...target, '--table', 'trades_data']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /map nothing to timestamp, instrument_id, symbol, price, size, side .*file columns: time, ticker, px, qty, aggr/,
    );
  });

  it('--max-rejects stops the load (exit 1) before it quarantines more', async () => {
    const file = path.join(tmp.dir, 'rejects.csv');
    const rows = ['timestamp,symbol,instrument_id,price,size,side'];
    for (let i = 0; i < 50; i++) rows.push(`2024-03-05T10:00:${String(i).padStart(2, '0')}Z,ESH4,1,${i % 5 === 0 ? 'x' : '10.25'},1,B`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const r = await cli(['load', file, ...target, '--max-rejects', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/max rejects 3/);
    const ok = await cli(['load', file, ...target]);
    expect(ok.code).toBe(3); // resumed and finished: 10 rows quarantined
    expect(ok.stdout).toMatch(/40 inserted, 10 rejected/);
  });
});

describe('kill -9 during a CSV load, then re-run (server)', () => {
  let db: TestDatabase;
  let tmp: ReturnType<typeof tmpDir>;
  beforeAll(async () => {
    db = await createTestDatabase(inject('serverUrl'), 'cli_tabular_kill');
    tmp = tmpDir('tickvault-csv-kill-');
    expect((await cli(['init', '--database-url', db.url])).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    tmp?.cleanup();
  });

  it('ends with exactly one copy of every row', async () => {
    const ROWS = 300_000;
    const file = path.join(tmp.dir, 'big.csv');
    const lines = ['ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,sequence,symbol'];
    const t0 = 1709546400000000000n;
    for (let i = 0; i < ROWS; i++) {
      const ts = (t0 + BigInt(i) * 1000n).toString();
      lines.push(`${ts},${ts},0,1,42,T,${i % 2 ? 'A' : 'B'},0,${5000_250000000 + (i % 100) * 250000000},${1 + (i % 7)},0,0,${i},TESTH4`);
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const engine = new ServerEngine({ url: db.url });
    try {
      const child = spawn(process.execPath, [CLI, 'load', file, '--database-url', db.url], {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, signal) => resolve(signal)));
      const deadline = Date.now() + 120_000;
      for (;;) {
        const { rows } = await engine.query<{ n: string }>('SELECT count(*)::text AS n FROM tickvault_load_batches');
        if (Number(rows[0]!.n) >= 3) break;
        if (child.exitCode !== null) throw new Error(`the load ended before it was killed: ${out}`);
        if (Date.now() > deadline) throw new Error(`no batches committed in time: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const partial = await count(engine, 'trades_data');
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(ROWS);
      const rerun = await cli(['load', file, '--database-url', db.url]);
      expect(rerun.stderr).not.toMatch(/FAILED/);
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toMatch(/resumed after \d+ committed batches/);
      expect(await count(engine, 'trades_data')).toBe(ROWS);
      const { rows } = await engine.query<{ n: string }>('SELECT count(DISTINCT trade_id)::text AS n FROM trades_data');
      expect(Number(rows[0]!.n)).toBe(ROWS);
    } finally {
      await engine.close();
    }
  }, 300_000);
});
