/**
 * Retention that protects loads (issue 13.2), through the library on both engines, on the test's
 * clock (`now`): policies set per table are stored and — on the community tier — live policy jobs;
 * a load past the window is refused before anything is written, and `allowExpired` loads it;
 * maintain names the completed loads a drop deletes and drops only if `confirm` says yes; the
 * ledger then knows the load's rows are gone, and a replace loads them again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { loadDbnFile, planDbnFile } from '../../src/ingest/load-dbn.js';
import { loadFile, planTabularFile } from '../../src/ingest/load-file.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { RetentionExpiredError } from '../../src/load/retention-guard.js';
import { maintain, type RetentionQuestion } from '../../src/maintain/index.js';
import { applyPolicyChanges, readPolicies } from '../../src/timescale/policies.js';
import { LOADS_TABLE } from '../../src/schema/bookkeeping.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count } from '../support/db.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

/** The synthetic trades are from 2024-01-02: past a 1-year window on this day, inside a 3-year one. */
const NOW = new Date('2026-06-01T00:00:00Z');
const ROWS = 300;

let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('tickvault-retention-');
});
afterAll(() => tmp?.cleanup());

async function jobs(t: TestEngine): Promise<Record<string, string>> {
  const { rows } = await t.engine.query<{ k: string; after: string }>(
    `SELECT proc_name || ' ' || hypertable_name AS k, COALESCE(config->>'drop_after', config->>'compress_after') AS after
       FROM timescaledb_information.jobs WHERE proc_name IN ('policy_retention', 'policy_compression') AND hypertable_schema = current_schema()`,
  );
  return Object.fromEntries(rows.map((r) => [r.k, r.after]));
}

describe.each(ENGINE_KINDS)('retention guard and policies (%s)', (kind) => {
  let t: TestEngine;
  let file: string;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'retention' });
    file = `${tmp.dir}/old-${kind}.trades.dbn`;
    await writeSynth(synthTrades(ROWS), { file });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('policies set per table are stored and live (community: timescaledb_information.jobs; Apache: said to have none)', async () => {
    const caps = await t.engine.capabilities();
    expect((await readPolicies(t.engine)).tables.every((p) => p.retention === null)).toBe(true);
    const changes = await applyPolicyChanges(t.engine, {
      retainFor: { trades_data: '3 years', tbbo_data: '1y' },
      compressAfter: { trades_data: '7d' },
    });
    expect(changes.map((c) => [c.policy, c.table, c.from, c.to, c.status])).toEqual([
      ['retention', 'trades_data', null, '3 years', 'changed'],
      ['retention', 'tbbo_data', null, '1y', 'changed'],
      ['compression', 'trades_data', '1 day', '7d', 'changed'],
    ]);
    const report = await readPolicies(t.engine);
    const trades = report.tables.find((p) => p.table === 'trades_data')!;
    expect([trades.retention, trades.compressAfter]).toEqual(['3 years', '7d']);
    if (caps.policies) {
      expect(await jobs(t)).toMatchObject({
        'policy_retention trades_data': '3 years',
        'policy_retention tbbo_data': '1 year',
        'policy_compression trades_data': '7 days',
      });
      expect(trades.retentionJob).not.toBeNull();
    } else {
      expect(await jobs(t)).toEqual({});
      expect(changes[0]!.detail).toMatch(/no policy jobs.*tickvault maintain/);
      expect(changes[2]!.detail).toMatch(/compression is unavailable/);
      expect(report.notes.join(' ')).toMatch(/policies do not exist in this edition/);
    }
    // Again: nothing changes; none removes the job.
    expect((await applyPolicyChanges(t.engine, { retainFor: { trades_data: '36 months' } }))[0]!.status).toBe('unchanged');
    await applyPolicyChanges(t.engine, { retainFor: { tbbo_data: 'none' } });
    expect(Object.keys(await jobs(t)).filter((k) => k.includes('tbbo'))).toEqual(caps.policies ? ['policy_compression tbbo_data'] : []);
    // The file is inside the 3-year window: the plan says so.
    const plan = await planDbnFile(t.engine, file, { now: NOW });
    expect(plan.retention?.expired).toBe(false);
  });

  it('a load past the window is refused before anything is written; --allow-expired loads it', { timeout: 120_000 }, async () => {
    await applyPolicyChanges(t.engine, { retainFor: { trades_data: '1 year' } });
    const plan = await planDbnFile(t.engine, file, { now: NOW });
    expect(plan.retention?.expired).toBe(true);
    expect(plan.plan!.notes.join('\n')).toMatch(/REFUSED/);

    const err = await loadDbnFile(t.engine, file, { now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionExpiredError);
    const e = err as RetentionExpiredError;
    expect(e.code).toBe('RETENTION_EXPIRED');
    expect(e.message).toContain('trades_data');
    expect(e.message).toContain('1 year');
    expect(e.message).toContain('2024-01-02T10:00:00');
    expect(e.message).toContain('--allow-expired');
    expect(e.message).toContain('tickvault policy --retention trades_data=');
    expect(await count(t.engine, 'trades_data')).toBe(0);
    expect(Number((await t.engine.query<{ n: string }>(`SELECT count(*) AS n FROM ${LOADS_TABLE}`)).rows[0]!.n)).toBe(0);

    // The loaders check each batch: records from an iterable, and storeBatch.
    const records = synthTrades(5).map((r, i) => ({
      timestamp: r.tsEvent,
      instrument_id: 7,
      symbol: 'OLD',
      price: '10.5',
      size: 1,
      side: 'B' as const,
      trade_id: `o-${i}`,
    }));
    const loader = new TradesLoader({ engine: t.engine, now: NOW });
    await expect(loader.storeBatch(records)).rejects.toMatchObject({ code: 'RETENTION_EXPIRED' });
    await expect(loader.bulkLoad(records, { source: { source: 'old', contentHash: 'h-old' } })).rejects.toMatchObject({
      code: 'RETENTION_EXPIRED',
    });
    expect(await count(t.engine, 'trades_data')).toBe(0);

    const loaded = await loadDbnFile(t.engine, file, { now: NOW, allowExpired: true });
    expect(loaded.recordsInserted).toBe(ROWS);
    expect(await count(t.engine, 'trades_data')).toBe(ROWS);
  });

  it('maintain names the load a drop deletes and asks; no keeps the rows, yes drops them; the re-run says they are gone; replace reloads', {
    timeout: 120_000,
  }, async () => {
    const asked: RetentionQuestion[] = [];
    const declined = await maintain(t.engine, {
      now: NOW,
      confirm: (q) => {
        asked.push(q);
        return false;
      },
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.loadRows).toBe(ROWS);
    expect(asked[0]!.actions[0]!.loads!.map((l) => [l.source.endsWith(`old-${kind}.trades.dbn`), l.rows])).toEqual([[true, ROWS]]);
    expect(declined.retention.map((a) => [a.hypertable, a.status])).toEqual([['trades_data', 'declined']]);
    expect(await count(t.engine, 'trades_data')).toBe(ROWS);

    const dryRun = await maintain(t.engine, {
      now: NOW,
      dryRun: true,
      confirm: () => {
        throw new Error('a dry run asks nothing');
      },
    });
    expect(dryRun.retention[0]!.loads![0]!.rows).toBe(ROWS);

    const done = await maintain(t.engine, { now: NOW, confirm: () => true });
    expect(done.retention.map((a) => [a.hypertable, a.status, a.loads!.map((l) => l.rows)])).toEqual([['trades_data', 'done', [ROWS]]]);
    expect(await count(t.engine, 'trades_data')).toBe(0);

    const rerun = await loadDbnFile(t.engine, file, { now: NOW });
    expect(rerun.status).toBe('already-loaded');
    expect(rerun.rowsGone).toMatchObject({ rows: ROWS, inserted: ROWS, all: true, lastDrop: { olderThan: '1 year' } });

    // Replace is guarded like any load, and with allowExpired loads the file again.
    await expect(loadDbnFile(t.engine, file, { now: NOW, mode: 'replace' })).rejects.toMatchObject({ code: 'RETENTION_EXPIRED' });
    const replaced = await loadDbnFile(t.engine, file, { now: NOW, mode: 'replace', allowExpired: true });
    expect([replaced.status, replaced.recordsInserted]).toEqual(['completed', ROWS]);
    expect(await count(t.engine, 'trades_data')).toBe(ROWS);
    expect((await loadDbnFile(t.engine, file, { now: NOW })).rowsGone).toBeUndefined();
  });

  it('a drop not made by maintain (policy job, manual drop_chunks) is seen from the chunk catalog', { timeout: 60_000 }, async () => {
    await t.engine.query(`SELECT drop_chunks('trades_data', older_than => $1::timestamptz)`, ['2025-01-01T00:00:00Z']);
    const rerun = await loadDbnFile(t.engine, file, { now: NOW });
    expect(rerun.rowsGone).toMatchObject({ rows: ROWS, all: true });
  });
});

describe.each(ENGINE_KINDS)('retention guard of CSV and Parquet files (%s)', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'retention_tabular' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('a CSV file reaching past the window is refused whole, before its first batch; allowExpired loads it', async () => {
    // The newest rows come first: a check per batch alone would commit them before it met the
    // old row at the end.
    await applyPolicyChanges(t.engine, { retainFor: { trades_data: '1 year' } });
    const csv = `${tmp.dir}/old-${kind}.csv`;
    const rows = ['2026-05-01T10:00:00Z', '2026-05-01T10:00:01Z', '2026-05-01T10:00:02Z', '2024-01-02T10:00:00Z'];
    writeFileSync(
      csv,
      `timestamp,instrument_id,symbol,price,size,side,trade_id\n${rows.map((ts, i) => `${ts},9,CSVT,10.5,1,B,c-${i}`).join('\n')}\n`,
    );
    const err = await loadFile(t.engine, csv, { now: NOW, batchSize: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionExpiredError);
    expect((err as RetentionExpiredError).message).toContain('2024-01-02T10:00:00');
    expect(await count(t.engine, 'trades_data', "symbol = 'CSVT'")).toBe(0);
    expect(await planTabularFile(t.engine, csv, { now: NOW })).toMatchObject({ retention: { expired: true } });

    const loaded = await loadFile(t.engine, csv, { now: NOW, batchSize: 1, allowExpired: true });
    expect(loaded.recordsInserted).toBe(rows.length);
    expect(await count(t.engine, 'trades_data', "symbol = 'CSVT'")).toBe(rows.length);
  });
});
