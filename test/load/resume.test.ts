/**
 * Resumable, idempotent loads: a load killed with SIGKILL mid-way (a real child process on the
 * server engine) is finished by re-running it — exact row count, no duplicates; a failed load
 * resumes at the first uncommitted batch (both engines); a completed load re-run is a no-op;
 * replace mode swaps what an earlier load of the same source stored, atomically.
 */
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadError } from '../../src/errors.js';
import { TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { tradesData } from '../../src/schema/tables.js';
import { syntheticTradeChunks, syntheticTrades } from '../../bench/synthetic-trades.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count, ledgerRows, reset, snapshot, uniqueHash } from '../support/db.js';
import { T0 } from '../support/time.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHILD_SRC = 'test/support/kill-child.ts';
/**
 * The child runs compiled JavaScript, built privately (not into dist/, which other tests may be
 * running from at the same time). The directory sits under node_modules/ so that the compiled
 * files resolve the project's packages; its package.json makes them ES modules.
 */
const BUILD = path.join(ROOT, 'node_modules', '.cache', `tickvault-kill-test-${process.pid}`);
const CHILD = path.join(BUILD, 'test/support/kill-child.js');

/** Compiles the child and what it imports. tsc emits even when unrelated files have type errors. */
function buildChild(): void {
  rmSync(BUILD, { recursive: true, force: true });
  try {
    execFileSync(
      'npx',
      [
        'tsc',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--target',
        'ES2022',
        '--lib',
        'ES2022',
        '--types',
        'node',
        '--skipLibCheck',
        '--esModuleInterop',
        '--rootDir',
        ROOT,
        '--outDir',
        BUILD,
        CHILD_SRC,
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
  } catch {
    // type errors elsewhere in the import graph do not stop the emit; the check below decides
  }
  if (!existsSync(CHILD)) throw new Error(`could not compile ${CHILD_SRC} into ${BUILD}: run \`npx tsc -p .\` and look at its errors`);
  writeFileSync(path.join(BUILD, 'package.json'), '{ "type": "module" }\n');
}

describe('kill -9 mid-load, then re-run (server)', () => {
  let te: TestEngine;
  beforeAll(async () => {
    buildChild();
    te = await openTestEngine('server', { name: 'load_kill' });
  }, 180_000);
  afterAll(async () => {
    await te?.dispose();
    rmSync(BUILD, { recursive: true, force: true });
  });

  it('ends with exactly the rows of one complete load, no duplicates', async () => {
    const ROWS = 300_000;
    const BATCH = 5_000;
    const source = 'synthetic-300k.dbn';
    const hash = uniqueHash('kill');
    const child = spawn(process.execPath, [CHILD, te.url, String(ROWS), String(BATCH), source, hash], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );

    // Kill it once a few batches have committed (well before the end).
    const deadline = Date.now() + 90_000;
    for (;;) {
      const { rows } = await te.engine.query<{ n: string }>('SELECT count(*)::text AS n FROM tickvault_load_batches');
      if (Number(rows[0]!.n) >= 4) break;
      if (child.exitCode !== null) throw new Error(`child exited early (${child.exitCode}): ${stderr}${stdout.slice(-500)}`);
      if (Date.now() > deadline) throw new Error(`no batches committed in time: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    const exit = await exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(stdout).not.toContain('done ');

    // The killed load: still 'running' in the ledger, and its committed batches are exactly in the table.
    const [killed] = await ledgerRows(te.engine, 'trades_data');
    expect(killed).toMatchObject({ source, content_hash: hash, status: 'running' });
    const committedBatches = Number(killed!.batches);
    expect(committedBatches).toBeGreaterThanOrEqual(4);
    expect(committedBatches).toBeLessThan(ROWS / BATCH);
    const partial = await count(te.engine, 'trades_data');
    expect(partial).toBe(committedBatches * BATCH);

    // Re-run the same load in-process (a different configured batch size: the ledger's wins).
    const loader = new TradesLoader({ engine: te.engine, batchSize: 7_777 });
    const progress: number[] = [];
    const res = await loader.bulkLoad(syntheticTradeChunks({ rows: ROWS }, 1000), {
      source: { source, contentHash: hash },
      onProgress: (c) => progress.push(c),
    });
    expect(res).toMatchObject({
      status: 'completed',
      loadId: killed!.load_id,
      totalRecords: ROWS,
      recordsInserted: ROWS,
      recordsRejected: 0,
      batchesResumed: committedBatches,
    });
    // This run's counts and rate exclude what the killed run had committed (issue 14.4).
    expect(res.thisRun).toEqual({ records: ROWS - partial, recordsInserted: ROWS - partial, recordsRejected: 0 });
    expect(res.recordsPerSecond).toBeCloseTo((ROWS - partial) / res.processingTimeSeconds, 0);
    expect(progress.at(-1)).toBe(ROWS);
    expect(await count(te.engine, 'trades_data')).toBe(ROWS);
    const { rows } = await te.engine.query<{ n: string; d: string; lo: string; hi: string }>(
      'SELECT count(*)::text AS n, count(DISTINCT trade_id)::text AS d, min(trade_id::int)::text AS lo, max(trade_id::int)::text AS hi FROM trades_data',
    );
    expect(rows[0]).toEqual({ n: String(ROWS), d: String(ROWS), lo: '1', hi: String(ROWS) });
    const [done] = await ledgerRows(te.engine, 'trades_data');
    expect(done).toMatchObject({
      status: 'completed',
      records_in: String(ROWS),
      records_inserted: String(ROWS),
      batches: String(ROWS / BATCH),
    });

    // A third run of the same input is a no-op that says so.
    const again = await loader.bulkLoad(syntheticTradeChunks({ rows: ROWS }, 1000), { source: { source, contentHash: hash } });
    expect(again).toMatchObject({ status: 'already-loaded', loadId: killed!.load_id, recordsInserted: 0, totalRecords: ROWS });
    expect(await count(te.engine, 'trades_data')).toBe(ROWS);
  }, 240_000);
});

describe.each(ENGINE_KINDS)('resume, re-run and replace (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'load_resume' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it('a load that failed half-way resumes at the first uncommitted batch', async () => {
    await reset(te.engine, ['trades_data']);
    const ROWS = 5_000;
    const identity = { source: 'flaky-feed', contentHash: uniqueHash('flaky') };
    const loader = new TradesLoader({ engine: te.engine, batchSize: 1_000 });
    function* failing(): Generator<TradeRecord> {
      for (const r of syntheticTrades({ rows: ROWS })) {
        if (r.trade_id === '2501') throw new Error('feed dropped');
        yield r;
      }
    }
    const err = await loader.bulkLoad(failing(), { source: identity }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoadError);
    expect((err as Error).message).toMatch(/feed dropped.*re-run the same load to resume/);
    const [failed] = await ledgerRows(te.engine, 'trades_data');
    expect(failed).toMatchObject({ status: 'failed', batches: '2' });
    expect(await count(te.engine, 'trades_data')).toBe(2_000);
    // The ledger says why and how far it got (issue 14.4).
    const { rows: why } = await te.engine.query<{ error: string; last: number }>(
      `SELECT error, (details ->> 'lastCommittedBatch')::int AS last FROM tickvault_loads WHERE load_id = $1::bigint`,
      [failed!.load_id],
    );
    expect(why[0]).toEqual({ error: expect.stringMatching(/feed dropped/), last: 1 });

    const res = await loader.bulkLoad(syntheticTrades({ rows: ROWS }), { source: identity });
    expect(res).toMatchObject({
      status: 'completed',
      loadId: failed!.load_id,
      batchesResumed: 2,
      totalRecords: ROWS,
      recordsInserted: ROWS,
    });
    expect(res.thisRun).toEqual({ records: 3_000, recordsInserted: 3_000, recordsRejected: 0 });
    expect(await count(te.engine, 'trades_data')).toBe(ROWS);
    expect(await count(te.engine, 'trades_data', 'TRUE', [])).toBe(
      Number((await te.engine.query<{ d: string }>('SELECT count(DISTINCT trade_id)::text AS d FROM trades_data')).rows[0]!.d),
    );
  });

  it('re-running a completed load is a no-op that says so', async () => {
    await reset(te.engine, ['trades_data']);
    const identity = { source: 'day-1.dbn', contentHash: uniqueHash('day1') };
    const loader = new TradesLoader({ engine: te.engine, batchSize: 500 });
    const first = await loader.bulkLoad(syntheticTrades({ rows: 1_200 }), { source: identity });
    expect(first.status).toBe('completed');
    const before = await snapshot(te.engine, tradesData);
    const progress: number[] = [];
    const second = await loader.bulkLoad(syntheticTrades({ rows: 1_200 }), { source: identity, onProgress: (c) => progress.push(c) });
    expect(second).toMatchObject({
      status: 'already-loaded',
      loadId: first.loadId,
      totalRecords: 1_200,
      recordsInserted: 0,
      recordsRejected: 0,
    });
    expect(await snapshot(te.engine, tradesData)).toEqual(before);
    expect(await ledgerRows(te.engine, 'trades_data')).toHaveLength(1);
    // the same content under another name is recognised by its hash
    const renamed = await loader.bulkLoad(syntheticTrades({ rows: 1_200 }), {
      source: { source: 'copy-of-day-1.dbn', contentHash: identity.contentHash },
    });
    expect(renamed.status).toBe('already-loaded');
    expect(await count(te.engine, 'trades_data')).toBe(1_200);
  });

  it('replace mode swaps the earlier load of the same source for the new contents, atomically', async () => {
    await reset(te.engine, ['trades_data']);
    const loader = new TradesLoader({ engine: te.engine, batchSize: 64 });
    // A: instruments 1 and 2 over ~100 s, timestamps with µs (and ns) precision
    const at = (i: number) => T0 + BigInt(i) * 1_000_123_457n;
    const a: TradeRecord[] = Array.from({ length: 200 }, (_, i) => ({
      timestamp: at(i >> 1),
      instrument_id: 1 + (i & 1),
      symbol: i & 1 ? 'NQH4' : 'ESH4',
      price: `${100 + i}.125`,
      size: 1 + i,
      side: 'B' as const,
      trade_id: `a${i}`,
    }));
    // Other data that replace must not touch: another instrument in the same range, the same instrument outside it.
    const others: TradeRecord[] = [
      { timestamp: at(50), instrument_id: 3, symbol: 'CLJ4', price: '72.35', size: 5, side: 'S' as const, trade_id: 'o1' },
      { timestamp: at(150), instrument_id: 1, symbol: 'ESH4', price: '4780', size: 2, side: 'S' as const, trade_id: 'o2' },
      { timestamp: T0 - 1_000n, instrument_id: 2, symbol: 'NQH4', price: '16850', size: 2, side: 'B' as const, trade_id: 'o3' },
    ];
    const la = await loader.bulkLoad(a, { source: { source: 'vendor/2024-01-02.trades', contentHash: uniqueHash('A') } });
    const lo = await loader.bulkLoad(others, { source: { source: 'other-feed', contentHash: uniqueHash('O') } });
    expect(await count(te.engine, 'trades_data')).toBe(203);

    // A': corrected prices, a few rows removed, the last timestamp of A kept (µs precision at the range end).
    const a2: TradeRecord[] = a.filter((_r, i) => i % 10 !== 3).map((r, i) => ({ ...r, price: `${200 + i}.5`, trade_id: `b${i}` }));
    expect(a2.at(-1)!.timestamp).toBe(a.at(-1)!.timestamp);
    const lr = await loader.bulkLoad(a2, {
      source: { source: 'vendor/2024-01-02.trades', contentHash: uniqueHash('A2') },
      mode: 'replace',
    });
    expect(lr).toMatchObject({ status: 'completed', replacedLoadId: la.loadId, recordsInserted: a2.length });

    const ids = await te.engine.query<{ trade_id: string }>('SELECT trade_id FROM trades_data ORDER BY trade_id');
    expect(ids.rows.map((r) => r.trade_id)).toEqual([...a2.map((r) => r.trade_id!), 'o1', 'o2', 'o3'].sort());
    const ledger = await ledgerRows(te.engine, 'trades_data');
    expect(ledger.map((l) => [l.load_id, l.status, l.mode])).toEqual([
      [la.loadId, 'superseded', 'append'],
      [lo.loadId, 'completed', 'append'],
      [lr.loadId, 'completed', 'replace'],
    ]);
    // Replacing again with the same new content is fine too (replaces A' by itself).
    const again = await loader.bulkLoad(a2, {
      source: { source: 'vendor/2024-01-02.trades', contentHash: uniqueHash('A2b') },
      mode: 'replace',
    });
    expect(again.replacedLoadId).toBe(lr.loadId);
    expect(await count(te.engine, 'trades_data')).toBe(a2.length + 3);
  });

  it('a replace that fails leaves the earlier load in place', async () => {
    await reset(te.engine, ['trades_data']);
    const loader = new TradesLoader({ engine: te.engine, batchSize: 10 });
    const a = Array.from({ length: 50 }, (_, i) => ({
      timestamp: T0 + BigInt(i) * 1_000_000n,
      instrument_id: 7,
      symbol: 'GCJ4',
      price: '2045.3',
      size: 1,
      side: 'B' as const,
      trade_id: `a${i}`,
    }));
    const la = await loader.bulkLoad(a, { source: { source: 'gold', contentHash: uniqueHash('gold') } });
    const before = await snapshot(te.engine, tradesData);
    function* broken(): Generator<TradeRecord> {
      for (const [i, r] of a.entries()) {
        if (i === 35) throw new Error('disk error');
        yield { ...r, price: '1' };
      }
    }
    await expect(
      loader.bulkLoad(broken(), { source: { source: 'gold', contentHash: uniqueHash('gold2') }, mode: 'replace' }),
    ).rejects.toThrow(/disk error/);
    expect(await snapshot(te.engine, tradesData)).toEqual(before);
    const ledger = await ledgerRows(te.engine, 'trades_data');
    expect(ledger.find((l) => l.load_id === la.loadId)!.status).toBe('completed');
  });
});
