/**
 * Regression (issue 13.6): a file of bad rows filled the quarantine without end (2 M rows,
 * 787 MB) and nothing could stop it. `--max-rejects N|P%` (library: maxRejects) stops the load
 * before the batch that would pass the limit (exit 1, MAX_REJECTS), says how far it got, keeps
 * what it committed, and leaves the load resumable (a re-run continues) and replaceable
 * (--replace deletes what the stopped load stored and loads the file anew).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradesLoader } from '../../src/load/loaders.js';
import { MaxRejectsError } from '../../src/load/max-rejects.js';
import { QUARANTINE_TABLE } from '../../src/schema/bookkeeping.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { loadRows, reset, count } from '../support/db.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';
import { cli } from '../support/cli.js';

// 120,000 trades in three 50,000-record checkpoint batches (the DBN trades batch size): the first
// 60,000 good, the rest without a price (UNDEF → NULL into NOT NULL price: quarantined).
const N = 120_000;
const GOOD = 60_000;
let tmp: ReturnType<typeof tmpDir>;
let file: string;

beforeAll(async () => {
  tmp = tmpDir('tickvault-max-rejects-');
  file = path.join(tmp.dir, 'bad.trades.dbn');
  const records = synthTrades(N, { stepNs: 1_000_000n }).map((r, i) => (i < GOOD ? r : { ...r, price: 0x7fffffffffffffffn }));
  await writeSynth(records, { file });
}, 60_000);
afterAll(() => tmp?.cleanup());

async function quarantined(t: TestEngine): Promise<number> {
  return count(t.engine, QUARANTINE_TABLE);
}

describe.each(ENGINE_KINDS)('--max-rejects on the %s engine', (kind) => {
  let t: TestEngine;
  let target: string[];
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'max_rejects' });
    target = kind === 'embedded' ? ['--data-dir', path.join(tmp.dir, 'data')] : ['--database-url', t.url];
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  /** Runs the CLI, then reads the database (embedded: reopened after the CLI closed it). */
  async function read<T>(fn: (x: TestEngine) => Promise<T>): Promise<T> {
    if (kind === 'server') return fn(t);
    const { EmbeddedEngine } = await import('../../src/engine/embedded.js');
    const engine = await EmbeddedEngine.open({ dataDir: path.join(tmp.dir, 'data') });
    try {
      return await fn({ engine, url: '', dispose: async () => undefined });
    } finally {
      await engine.close();
    }
  }

  it('stops at the limit with exit 1, says how far it got; a re-run resumes, --replace starts over', async () => {
    const stop = await cli(['load', file, '--max-rejects', '1000', ...target, '--lock-wait', '0']);
    expect(stop.code, stop.stderr).toBe(1);
    expect(stop.stderr).toMatch(
      /past the limit \(max rejects 1000\)\. So far: 50000 rows stored and 0 quarantined, in 1 committed batch \(last committed batch 0, 50000 records read\)/,
    );
    expect(stop.stderr.split(file).length - 1, stop.stderr).toBe(1); // the path once
    await read(async (x) => {
      expect(await count(x.engine, 'trades_data')).toBe(50_000);
      expect(await quarantined(x)).toBe(0);
      expect((await loadRows(x.engine, 'trades_data')).map((r) => r.status)).toEqual(['failed']);
    });

    // Resumable: without the limit the same load continues after its committed batch.
    const resume = await cli(['load', file, ...target, '--lock-wait', '0']);
    // This run's counts, then the load's totals (issue 14.4).
    expect(resume.stdout).toMatch(
      /10000 inserted, 60000 rejected this run \(load total: 60000 inserted, 60000 rejected\) \(price_not_null ×60000\), resumed after 1 committed batches/,
    );
    expect(resume.code).toBe(3);
    await read(async (x) => {
      expect(await count(x.engine, 'trades_data')).toBe(GOOD);
      expect((await loadRows(x.engine, 'trades_data')).map((r) => r.status)).toEqual(['completed']);
    });

    // Replace under a limit: one transaction, so the stop leaves the old contents as they were.
    const replaceStop = await cli(['load', file, '--replace', '--max-rejects', '5%', ...target, '--lock-wait', '0']);
    expect(replaceStop.code).toBe(1);
    expect(replaceStop.stderr).toContain('max rejects 5%');
    await read(async (x) => {
      expect(await count(x.engine, 'trades_data')).toBe(GOOD);
      expect(await quarantined(x)).toBe(N - GOOD);
    });
  }, 300_000);

  it('a stopped load is replaceable: --replace deletes what it stored and loads the file anew', async () => {
    await read((x) => reset(x.engine));
    expect((await cli(['load', file, '--max-rejects', '0', ...target, '--lock-wait', '0'])).code).toBe(1);
    const replace = await cli(['load', file, '--replace', ...target, '--lock-wait', '0']);
    expect(replace.stdout, replace.stdout + replace.stdout).toMatch(/60000 inserted, 60000 rejected/);
    expect(replace.code).toBe(3);
    await read(async (x) => {
      expect(await count(x.engine, 'trades_data')).toBe(GOOD);
      // No duplicates of the stopped load's 50,000 rows: only the 60,000 unresolved ones.
      expect(await quarantined(x)).toBe(N - GOOD);
      expect((await loadRows(x.engine, 'trades_data')).map((r) => r.status)).toEqual(['superseded', 'completed']);
    });
    const bad = await cli(['load', file, '--max-rejects', 'lots', ...target, '--lock-wait', '0']);
    expect(bad.code).toBe(2);
  }, 300_000);

  it('library: maxRejects on JS records stops with MaxRejectsError and resumes', async () => {
    await reset(t.engine);
    const loader = new TradesLoader({ engine: t.engine, batchSize: 100 });
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      timestamp: new Date(Date.UTC(2024, 0, 2, 10, 0, 0, i)),
      instrument_id: 7,
      symbol: 'ESH4',
      price: '5100.25',
      size: i >= 300 ? -1 : 1,
      side: 'B' as const,
      trade_id: `t${i}`,
    }));
    const source = { source: 'js-records', contentHash: 'max-rejects-js' };
    const err = await loader.bulkLoad(rows, { source, maxRejects: '10%' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxRejectsError);
    expect((err as MaxRejectsError).code).toBe('MAX_REJECTS');
    // 10% of the records seen: batch 3 (all bad) would make 100 of 400 — the load stops after 3 batches.
    expect((err as MaxRejectsError).progress).toMatchObject({ batches: 3, lastBatch: 2, recordsInserted: 300, recordsRejected: 0 });
    expect(await count(t.engine, 'trades_data')).toBe(300);
    const done = await loader.bulkLoad(rows, { source });
    expect(done).toMatchObject({ status: 'completed', batchesResumed: 3, recordsInserted: 300, recordsRejected: 700 });
    await expect(loader.bulkLoad(rows, { source: { ...source, contentHash: 'x' }, maxRejects: '1e3' })).rejects.toThrow(
      /maxRejects must be/,
    );
  });
});
