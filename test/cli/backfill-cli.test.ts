import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli } from '../support/cli.js';
import { writeDbn } from '../../src/dbn/writer.js';
import type { DbnRecord } from '../../src/dbn/records.js';
import { ServerEngine } from '../../src/engine/server.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { adviseChunkIntervals, formatAdvice } from '../../src/maintain/advise.js';
import { createTestDatabase, type TestDatabase } from '../support/server-cluster.js';
import { openTestEngine } from '../support/engines.js';
import { chunkStates } from '../support/backfill-trades.js';

const SLOW = 180_000;

const DAY_NS = BigInt(Date.UTC(2026, 10, 2)) * 1_000_000n;

/** n trades over 4 hours from 2026-11-02T00:00Z; `priceOffset` makes a corrected version. */
async function tradesFile(file: string, n: number, priceOffset = 0n): Promise<void> {
  function* gen(): Generator<DbnRecord> {
    const step = (4n * 3600n * 1_000_000_000n) / BigInt(n);
    for (let i = 0; i < n; i++) {
      const ts = DAY_NS + BigInt(i) * step;
      yield {
        kind: 'trade',
        rtype: 0,
        publisherId: 1,
        instrumentId: 101 + (i % 2),
        tsEvent: ts,
        tsRecv: ts + 5000n,
        tsInDelta: 1000,
        price: (6000n + BigInt(i % 13) + priceOffset) * 1_000_000_000n,
        size: 1 + (i % 5),
        action: 'T',
        side: i % 2 ? 'A' : 'B',
        flags: 0,
        depth: 0,
        sequence: i + 1,
      };
    }
  }
  await writeDbn({
    version: 3,
    schema: 'trades',
    dataset: 'GLBX.MDP3',
    start: DAY_NS,
    path: file,
    stypeIn: 1,
    stypeOut: 0,
    symbols: ['ESZ6', 'NQZ6'],
    mappings: [
      ['ESZ6', 101],
      ['NQZ6', 102],
    ].map(([s, id]) => ({ rawSymbol: String(s), intervals: [{ startDate: 20261102, endDate: 20261103, symbol: String(id) }] })),
    records: gen(),
  });
}

describe('backfill CLI', () => {
  let dir: string;
  let db: TestDatabase;
  let file: string;
  let fixed: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tv-backfill-cli-'));
    file = path.join(dir, 'day.trades.dbn');
    fixed = path.join(dir, 'day.trades.fixed.dbn');
    await tradesFile(file, 2000);
    await tradesFile(fixed, 2000, 1n);
    db = await createTestDatabase(inject('serverUrl'), 'backfill_cli');
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('load --plan names the touched chunks and rows and writes nothing; load --upsert applies a corrected file (server)', {
    timeout: SLOW,
  }, async () => {
    const url = ['--database-url', db.url];
    expect((await cli([...url, 'init'])).code).toBe(0);
    const load = await cli([...url, 'load', file]);
    expect(load.code, load.stderr).toBe(0);
    const engine = new ServerEngine({ url: db.url });
    try {
      const states = await chunkStates(engine, '2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z');
      expect(states).toHaveLength(4);
      const loads = async () => Number((await engine.query<{ n: string }>('SELECT count(*)::text AS n FROM tickvault_loads')).rows[0]!.n);
      const before = await loads();

      const plan = await cli([...url, 'load', '--plan', '--upsert', fixed]);
      expect(plan.code, plan.stderr).toBe(0);
      for (const s of states) expect(plan.stdout).toContain(s.chunk);
      expect(plan.stdout).toMatch(/2000 trades_data records, 2 instruments, 1 day/);
      expect(plan.stdout).toMatch(/chunks touched: 4 existing \(0 compressed\), 0 new; rows already in range: 2000/);
      expect(plan.stdout).toMatch(/write mode: upsert/);
      expect(plan.stdout).toMatch(/strategy: direct — tier timescaledb-apache has no compression/);
      expect(await loads()).toBe(before); // nothing written

      const json = JSON.parse((await cli([...url, 'load', '--plan', '--json', fixed])).stdout) as {
        plan: { chunks: { chunk: string; existingRows: number }[] };
      }[];
      expect(json[0]!.plan.chunks.map((c) => c.chunk)).toEqual(states.map((s) => s.chunk));
      expect(json[0]!.plan.chunks.reduce((a, c) => a + c.existingRows, 0)).toBe(2000);

      const up = await cli([...url, 'load', '--upsert', fixed]);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/0 inserted, 0 rejected, 2000 updated/);
      const { rows } = await engine.query<{ n: string; bad: string }>(
        `SELECT count(*)::text AS n, count(*) FILTER (WHERE price <> 6001 + ((split_part(trade_id, ':', 2)::int - 1) % 13))::text AS bad FROM trades_data`,
      );
      expect(rows[0]).toEqual({ n: '2000', bad: '0' });

      const dup = await cli([...url, 'load', fixed]); // the upserted file again, append mode: the ledger knows it
      expect(dup.stdout).toMatch(/already loaded/);
      expect((await cli([...url, 'load', '--upsert', '--replace', fixed])).code).not.toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('advise recommends an interval from rows/day, bytes/row and memory; --file reads a DBN file (server)', { timeout: SLOW }, async () => {
    const url = ['--database-url', db.url];
    const a = await cli([...url, 'advise', '--table', 'trades_data', '--memory', '64MB']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/memory: 64\.0 MiB \(given\) → one chunk of recent data should stay ≤ 16\.0 MiB/);
    expect(a.stdout).toMatch(/trades_data: 4 chunks, current interval 1 hour/);
    expect(a.stdout).toMatch(/recommended: \S+ (hours?|days?) — 2,000 rows\/day/);
    const f = JSON.parse((await cli([...url, 'advise', '--file', file, '--json'])).stdout) as {
      memorySource: string;
      file: { records: number };
      tables: { table: string; basis: string; rowsPerDay: number }[];
    };
    expect(f.memorySource).toMatch(/^shared_buffers/);
    expect(f.file.records).toBe(2000);
    expect(f.tables).toEqual([expect.objectContaining({ table: 'trades_data', basis: 'file', rowsPerDay: 2000 })]);
  });

  it('load --plan on an embedded database with compressed chunks says which are compressed and picks write-recompress', {
    timeout: SLOW,
  }, async () => {
    const dataDir = path.join(dir, 'emb');
    const d = ['--data-dir', dataDir];
    expect((await cli([...d, 'init'])).code).toBe(0);
    expect((await cli([...d, 'load', file])).code).toBe(0);
    const engine = await EmbeddedEngine.open({ dataDir });
    try {
      const { rows } = await engine.query<{ c: string }>(`SELECT c::text AS c FROM show_chunks('trades_data') c`);
      expect(rows).toHaveLength(4);
      for (const r of rows.slice(0, 2)) await engine.query('SELECT compress_chunk($1::regclass)', [r.c]);
    } finally {
      await engine.close();
    }
    const plan = await cli([...d, 'load', '--plan', fixed]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/chunks touched: 4 existing \(2 compressed\)/);
    expect(plan.stdout.match(/ yes +\d+/g)).toHaveLength(2);
    expect(plan.stdout).toMatch(/strategy: write-recompress/);
  });
});

describe('adviseChunkIntervals warnings', () => {
  it('> 1,000 chunks and a recent chunk over 25% of memory are reported (server)', { timeout: SLOW }, async () => {
    const te = await openTestEngine('server', { name: 'backfill_advise' });
    try {
      const e = te.engine;
      await e.query(`SELECT set_chunk_time_interval('trades_data', INTERVAL '1 minute')`);
      await e.query(`INSERT INTO trades_data (timestamp, instrument_id, symbol, price, size, side, trade_id)
        SELECT '2024-05-01'::timestamptz + (i || ' minutes')::interval + (j || ' ms')::interval, 7, 'X', 1.5, 1, 'B', i || '-' || j
          FROM generate_series(0, 1000) i, generate_series(0, 1) j`);
      await e.query(`INSERT INTO trades_data (timestamp, instrument_id, symbol, price, size, side, trade_id)
        SELECT '2024-05-02'::timestamptz + (j || ' ms')::interval, 7, 'X', 1.5, 1, 'B', 'big-' || j FROM generate_series(0, 2999) j`);
      const advice = await adviseChunkIntervals(e, { table: 'trades_data', memoryBytes: 256 * 1024 });
      const t = advice.tables[0]!;
      expect(t.chunks).toBe(1002);
      expect(t.warnings.join('\n')).toMatch(/has 1002 chunks \(> 1000\)/);
      expect(t.warnings.join('\n')).toMatch(/a recent chunk of trades_data is .* more than 25% of memory/);
      expect(t.bytesPerRowMeasured).toBe(true);
      expect(formatAdvice(advice)).toMatch(/WARNING: trades_data has 1002 chunks/);
      // 3,000 rows arrived within one hour: at that pace nothing longer than the current minute fits.
      expect(t.recommendedInterval).toBe('1 minute');
      expect(advice.applySql).toEqual([]);
    } finally {
      await te.dispose();
    }
  });
});
