/**
 * Regression (issue 13.1): distinct source records collapsed onto one natural key. OPRA bars of
 * one option and minute from several venues were quarantined as duplicates in append mode (three
 * of four venues' bars) and silently superseded in upsert mode; TBBO records of distinct trades in
 * one microsecond with the same book (ICE sequences 54087–54089) kept one row. Every record is a
 * row now, in both modes. Without publisher_id / sequence in the keys this test fails.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTYPE } from '../../src/dbn/constants.js';
import type { Mbp1Record, OhlcvRecord } from '../../src/dbn/records.js';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { reset, count } from '../support/db.js';
import { SYNTH_ID, writeSynth } from '../support/synthetic-dbn.js';
import { T0 } from '../support/time.js';
import { tmpDir } from '../support/tmp.js';

const venueBars: OhlcvRecord[] = [20, 21, 22, 23].map((publisherId, k) => ({
  kind: 'ohlcv',
  rtype: RTYPE.OHLCV_1M,
  publisherId,
  instrumentId: SYNTH_ID,
  tsEvent: T0,
  open: 1_000_000_000n + BigInt(k) * 10_000_000n,
  high: 1_100_000_000n,
  low: 900_000_000n,
  close: 1_000_000_000n,
  volume: BigInt(10 + k),
}));
const sameQuote: Mbp1Record[] = [0, 4, 5].map((ns, i) => ({
  kind: 'mbp1',
  rtype: RTYPE.MBP_1,
  publisherId: 57,
  instrumentId: SYNTH_ID,
  tsEvent: T0 + 2_731_000n + BigInt(ns),
  price: 77_610_000_000n,
  size: 2,
  action: 'T',
  side: 'N',
  flags: 0,
  depth: 0,
  tsRecv: T0 + 3_000_000n,
  tsInDelta: 0,
  sequence: 54_087 + i,
  bidPx: 77_600_000_000n,
  askPx: 77_620_000_000n,
  bidSz: 5,
  askSz: 5,
  bidCt: 1,
  askCt: 1,
}));

describe.each(ENGINE_KINDS)('venues and same-microsecond quotes on the %s engine', (kind) => {
  let t: TestEngine;
  const tmp = tmpDir('tickvault-venues-regression-');
  const bars = path.join(tmp.dir, 'venues.ohlcv-1m.dbn');
  const quotes = path.join(tmp.dir, 'ice.tbbo.dbn');
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'venues_regression' });
    await writeSynth(venueBars, { schema: 'ohlcv-1m', file: bars });
    await writeSynth(sameQuote, { schema: 'tbbo', file: quotes });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
    tmp.cleanup();
  });

  for (const mode of ['append', 'upsert'] as const) {
    it(`${mode}: four venues' bars of one minute are four rows; three quotes of one µs and book are three rows`, async () => {
      await reset(t.engine);
      const b = await loadDbnFile(t.engine, bars, { mode });
      expect([b.recordsInserted, b.recordsRejected, b.backfill?.superseded ?? 0]).toEqual([4, 0, 0]);
      expect(await count(t.engine, 'ohlcv_data')).toBe(4);
      const q = await loadDbnFile(t.engine, quotes, { mode });
      expect([q.recordsInserted, q.recordsRejected, q.backfill?.superseded ?? 0]).toEqual([3, 0, 0]);
      expect(await count(t.engine, 'tbbo_data')).toBe(3);
    });
  }
});
