/**
 * Regression (issue 13.7): a record timestamped '2024-02-30T00:00:00Z' was stored as 2024-03-01
 * (Date.parse rolls impossible dates over). It is quarantined with the reason; the rest lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradesLoader } from '../../src/load/loaders.js';
import { QUARANTINE_TABLE } from '../../src/schema/bookkeeping.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

describe.each(ENGINE_KINDS)('an impossible date on the %s engine', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'impossible_date' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('is quarantined with its reason, never stored under another day', async () => {
    const loader = new TradesLoader({ engine: t.engine });
    const base = { instrument_id: 7, symbol: 'ESH4', price: '5100.25', size: 1, side: 'B' } as const;
    const r = await loader.storeBatch([
      { ...base, timestamp: '2024-02-30T00:00:00Z', trade_id: 'feb30' },
      { ...base, timestamp: '2024-02-29T00:00:00Z', trade_id: 'feb29' },
    ]);
    expect([r.recordsInserted, r.recordsRejected]).toEqual([1, 1]);
    const stored = await t.engine.query<{ trade_id: string; ts: string }>(
      `SELECT trade_id, to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS ts FROM trades_data`,
    );
    expect(stored.rows).toEqual([{ trade_id: 'feb29', ts: '2024-02-29' }]);
    const q = await t.engine.query<{ reason: string; record: string }>(`SELECT reason, record::text AS record FROM ${QUARANTINE_TABLE}`);
    expect(q.rows).toHaveLength(1);
    expect(q.rows[0]!.reason).toMatch(/2024-02-30T00:00:00Z.*day 30: 2024-02 has days 01-29/);
    expect(q.rows[0]!.record).toContain('feb30');
  });
});
