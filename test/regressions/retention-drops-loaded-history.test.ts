/**
 * Regression (issue 13.2): with the default policies (trades kept 2 years, measured against the
 * clock), a user who loaded 2024 history and ran `tickvault maintain` lost all of it, and a re-run
 * of the load said "already loaded; nothing to do" on an empty table. Now no default deletes
 * history: a fresh database keeps every table's rows until the user sets a retention window.
 * The clock is the test's: `now` is passed to the load and to maintain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { maintain } from '../../src/maintain/index.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count } from '../support/db.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

/** 2026-06-01: the synthetic trades (2024-01-02) are then 2 years and 5 months old. */
const NOW = new Date('2026-06-01T00:00:00Z');
const ROWS = 400;

let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('tickvault-retention-regression-');
});
afterAll(() => tmp?.cleanup());

describe.each(ENGINE_KINDS)('loaded history survives maintain with the default policies (%s)', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'retention_regression' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('load 2024 trades, run maintain: every row is still there, and a re-run says already loaded', { timeout: 120_000 }, async () => {
    const file = `${tmp.dir}/history-${kind}.trades.dbn`;
    await writeSynth(synthTrades(ROWS), { file });
    const first = await loadDbnFile(t.engine, file, { now: NOW });
    expect(first.status).toBe('completed');
    expect(first.recordsInserted).toBe(ROWS);

    const report = await maintain(t.engine, { now: NOW });
    expect(report.retention).toEqual([]);
    expect(await count(t.engine, 'trades_data')).toBe(ROWS);

    const again = await loadDbnFile(t.engine, file, { now: NOW });
    expect(again.status).toBe('already-loaded');
    expect(again.rowsGone).toBeUndefined();
    expect(await count(t.engine, 'trades_data')).toBe(ROWS);
  });
});
