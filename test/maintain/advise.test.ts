// `advise` sizes chunks from what is measured (issue 15.13): the busiest hour, not a day's rows
// spread evenly over 24 hours; and on the embedded engine the WebAssembly memory limit, not the
// host's RAM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_MEMORY_LIMIT, adviseChunkIntervals } from '../../src/maintain/advise.js';
import { openTestEngine, type TestEngine } from '../support/engines.js';

const INTERVAL_US: Record<string, number> = { minute: 60e6, minutes: 60e6, hour: 3600e6, hours: 3600e6, day: 86400e6, days: 86400e6 };
const us = (interval: string) => {
  const [n, unit] = interval.split(' ');
  return Number(n) * INTERVAL_US[unit!]!;
};

/** 7 days of 20,000 trades a day: in one session hour, or evenly over the day. */
async function seed(t: TestEngine, session: boolean): Promise<void> {
  const step = session ? "(j * 180) || ' ms'" : "(j * 4320) || ' ms'"; // 20,000 × 180 ms = 1 hour; × 4,320 ms = 24 hours
  const start = session ? '2024-05-06 14:00:00+00' : '2024-05-06 00:00:00+00';
  await t.engine.query(`INSERT INTO trades_data (timestamp, instrument_id, symbol, price, size, side, trade_id)
    SELECT '${start}'::timestamptz + (d || ' days')::interval + (${step})::interval, 7, 'X', 1.5, 1, 'B', d || '-' || j
      FROM generate_series(0, 6) d, generate_series(0, 19999) j`);
}

describe('advise on measured intraday concentration (server)', () => {
  let session: TestEngine;
  let even: TestEngine;
  beforeAll(async () => {
    session = await openTestEngine('server', { name: 'advise_session' });
    even = await openTestEngine('server', { name: 'advise_even' });
    await seed(session, true);
    await seed(even, false);
  });
  afterAll(async () => {
    await session?.dispose();
    await even?.dispose();
  });

  it('a day traded in one hour gets shorter chunks than the same rows spread over 24 hours', async () => {
    const memoryBytes = 8 * 1024 ** 2;
    const [s] = (await adviseChunkIntervals(session.engine, { table: 'trades_data', memoryBytes })).tables;
    const [e] = (await adviseChunkIntervals(even.engine, { table: 'trades_data', memoryBytes })).tables;
    expect(s!.rowsPerDay).toBe(20_000);
    expect(e!.rowsPerDay).toBe(20_000);
    expect(s!.peakHourRows).toBe(20_000);
    expect(e!.peakHourRows).toBeLessThan(1_000);
    expect(us(s!.recommendedInterval!)).toBeLessThan(us(e!.recommendedInterval!));
    // The recommended chunk, filled at the busiest hour's pace, stays within 25% of memory.
    expect(s!.recommendedChunkBytes!).toBeLessThanOrEqual(memoryBytes / 4);
    const atPeakPace = Math.min(20_000, 20_000 * (us(s!.recommendedInterval!) / 3600e6)) * s!.bytesPerRow; // bytesPerRow is rounded
    expect(Math.abs(s!.recommendedChunkBytes! - atPeakPace) / atPeakPace).toBeLessThan(0.01);
    expect(s!.reason).toMatch(/busiest hour 20,000 rows \(100% of a day\)/);
  });
});

describe('advise on the embedded engine', () => {
  it('sizes against the WebAssembly memory limit, not the host RAM', async () => {
    const t = await openTestEngine('embedded');
    try {
      const a = await adviseChunkIntervals(t.engine, { table: 'trades_data' });
      expect(a.memoryBytes).toBeLessThanOrEqual(EMBEDDED_MEMORY_LIMIT);
      expect(a.memorySource).toMatch(/WebAssembly memory limit|os\.totalmem/);
    } finally {
      await t.dispose();
    }
  });
});
