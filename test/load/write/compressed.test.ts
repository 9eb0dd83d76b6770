/**
 * Backfills into compressed chunks (embedded engine: the community tier, where compression
 * exists), with both compression strategies. Each test uses its own day, so the tests share one
 * database without interfering. Layout of a day: hours 00–03 hold 60 base trades each; hours
 * 00–02 are compressed; a backfill brings new trades in hour 01 (its first batch), exact
 * duplicates and corrections of hour-01 trades, new trades in hour 00, new trades in hour 05 (no
 * chunk yet), and finally a second version of one of its own new trades.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradesLoader, type TradeRecord } from '../../../src/load/loaders.js';
import { planLoad, formatPlan, type LoadStrategy } from '../../../src/timescale/plan.js';
import { LOADS_TABLE } from '../../../src/schema/bookkeeping.js';
import { refreshRollups } from '../../../src/maintain/index.js';
import { openTestEngine, type TestEngine } from '../../support/engines.js';
import { quarantined, uniqueHash } from '../../support/db.js';
import {
  candlesVsRaw,
  chunkStates,
  compressRange,
  expectedFirstWins,
  expectedLastWins,
  trade,
  tradesIn,
} from '../../support/backfill-trades.js';

function base(day: string): TradeRecord[] {
  const out: TradeRecord[] = [];
  for (let h = 0; h < 4; h++)
    for (let k = 0; k < 60; k++) out.push(trade(day, h, k * 60, 101 + (k % 2), `b${h}-${k}`, `${100 + (k % 7)}.25`));
  return out;
}

function backfill(day: string): TradeRecord[] {
  const b = base(day);
  const out: TradeRecord[] = [];
  for (let k = 0; k < 20; k++) out.push(trade(day, 1, k * 60 + 30, 103, `n1-${k}`, '50.5')); // hour 01: new
  for (let k = 0; k < 10; k++) out.push(b[60 + k]!); // hour 01: exact duplicates
  for (let k = 10; k < 20; k++) out.push({ ...b[60 + k]!, price: `${300 + k}.5` }); // hour 01: corrections
  for (let k = 0; k < 20; k++) out.push(trade(day, 0, k * 60 + 30, 103, `n0-${k}`, '50.5')); // hour 00: new
  for (let k = 0; k < 20; k++) out.push(trade(day, 5, k * 60, 104, `f5-${k}`, '2045.1')); // hour 05: new chunk
  out.push(trade(day, 0, 30, 103, 'n0-0', '51.5')); // a later version of one of the load's own new trades
  return out;
}

const next = (day: string) => new Date(new Date(`${day}T00:00:00Z`).getTime() + 86_400_000).toISOString();
const ledgerChunks = `COALESCE(details->'decompressedChunks', '[]') || COALESCE(details->'partialChunks', '[]')`;

let te: TestEngine;
beforeAll(async () => {
  te = await openTestEngine('embedded', { name: 'backfill_compressed' });
});
afterAll(async () => {
  await te?.dispose();
});

/** Base load, hours 00–02 compressed, rollups materialized. Returns the chunk states. */
async function prepareDay(day: string) {
  const e = te.engine;
  const res = await new TradesLoader({ engine: e, batchSize: 100 }).bulkLoad(base(day), {
    source: { source: `base-${day}`, contentHash: uniqueHash(`base-${day}`) },
  });
  expect(res.recordsInserted).toBe(240);
  await compressRange(e, `${day}T00:00:00Z`, `${day}T03:00:00Z`);
  await refreshRollups(e);
  const states = await chunkStates(e, `${day}T00:00:00Z`, next(day));
  expect(states.map((s) => [s.start.slice(11), s.compressed])).toEqual([
    ['00:00', true],
    ['01:00', true],
    ['02:00', true],
    ['03:00', false],
  ]);
  return states;
}

async function expectRollupsCurrent(day: string) {
  for (const [view, width] of [
    ['trades_candles_1m', '1 minute'],
    ['trades_candles_1h', '1 hour'],
  ] as const) {
    const { view: v, raw } = await candlesVsRaw(te.engine, view, width, `${day}T00:00:00Z`, next(day));
    expect(v.length).toBeGreaterThan(0);
    expect(v).toEqual(raw);
  }
}

const compressedFlags = async (day: string) => (await chunkStates(te.engine, `${day}T00:00:00Z`, next(day))).map((s) => s.compressed);

describe.each([
  ['write-recompress', '2024-02'],
  ['decompress-recompress', '2024-03'],
] as const)('backfill into compressed chunks, strategy %s (embedded)', (strategy: LoadStrategy, month) => {
  it('upsert: exact contents (corrections applied, every row once), touched chunks compressed again, rollups refreshed; a re-run changes nothing', async () => {
    const e = te.engine;
    const day = `${month}-05`;
    const before = await prepareDay(day);
    const loader = new TradesLoader({ engine: e, batchSize: 20 });
    const identity = { source: `fix-${day}`, contentHash: uniqueHash('upsert') };
    const res = await loader.bulkLoad(backfill(day), { source: identity, mode: 'upsert', strategy });
    expect(res).toMatchObject({ status: 'completed', strategy, recordsInserted: 60, recordsRejected: 0, recordsUpdated: 11 });
    // Only the chunks the load touched (hours 00 and 01) were taken over; hour 02 was not.
    expect(res.backfill!.chunksRecompressed).toEqual([before[0]!.chunk, before[1]!.chunk].sort()); // sorted by name, as the summary lists them
    expect(res.backfill!.chunksDecompressed).toEqual(
      strategy === 'decompress-recompress' ? [before[0]!.chunk, before[1]!.chunk].sort() : [],
    );
    expect(res.backfill!.unchanged).toBe(10);
    const expected = expectedLastWins([...base(day), ...backfill(day)]);
    expect(expected).toHaveLength(300);
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expected);
    const after = await chunkStates(e, `${day}T00:00:00Z`, next(day));
    expect(after.map((s) => [s.start.slice(11), s.compressed])).toEqual([
      ['00:00', true],
      ['01:00', true],
      ['02:00', true],
      ['03:00', false],
      ['05:00', false],
    ]);
    expect(after.slice(0, 4).map((s) => s.chunk)).toEqual(before.map((s) => s.chunk));
    await expectRollupsCurrent(day);
    const { rows } = await e.query<{ d: unknown }>(`SELECT ${ledgerChunks} AS d FROM ${LOADS_TABLE} WHERE load_id = $1::bigint`, [
      res.loadId,
    ]);
    expect(rows[0]!.d).toEqual([]);

    // The same load again: the ledger knows it. The same rows under another name: nothing changes.
    expect((await loader.bulkLoad(backfill(day), { source: identity, mode: 'upsert', strategy })).status).toBe('already-loaded');
    const again = await loader.bulkLoad(backfill(day), {
      source: { source: 'copy', contentHash: uniqueHash('upsert2') },
      mode: 'upsert',
      strategy,
    });
    expect(again).toMatchObject({ status: 'completed', recordsInserted: 0, recordsRejected: 0 });
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expected);
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
    await expectRollupsCurrent(day);
  });

  it("append: duplicates of stored rows (and of the load's own earlier rows) are quarantined, never stored twice; chunks compressed again", async () => {
    const e = te.engine;
    const day = `${month}-06`;
    await prepareDay(day);
    const loader = new TradesLoader({ engine: e, batchSize: 20 });
    const res = await loader.bulkLoad(backfill(day), { source: { source: `append-${day}`, contentHash: uniqueHash('append') }, strategy });
    expect(res).toMatchObject({ status: 'completed', strategy, recordsInserted: 60, recordsRejected: 21, duplicates: 21 });
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expectedFirstWins([...base(day), ...backfill(day)]));
    const q = (await quarantined(e, 'trades_data')).filter((r) => r.load_id === res.loadId);
    expect(new Set(q.map((r) => r.reason))).toEqual(
      new Set(['duplicate of an existing row (natural key instrument_id, publisher_id, timestamp, trade_id)']),
    );
    expect(q.map((r) => Number(r.record_index))).toEqual([...Array.from({ length: 20 }, (_, i) => 20 + i), 80]);
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
    await expectRollupsCurrent(day);

    const again = await loader.bulkLoad(backfill(day), { source: { source: 'again', contentHash: uniqueHash('append2') }, strategy });
    expect(again).toMatchObject({ recordsInserted: 0, duplicates: 81 });
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expectedFirstWins([...base(day), ...backfill(day)]));
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
  });

  it('a load killed after its first batch into a compressed chunk, re-run: the ledger named the chunk, the re-run resumes and ends compressed and exact', async () => {
    const e = te.engine;
    const day = `${month}-07`;
    const before = await prepareDay(day);
    const loader = new TradesLoader({ engine: e, batchSize: 20 });
    const identity = { source: `killed-${day}`, contentHash: uniqueHash('killed') };
    const decompressed: string[] = [];
    // "Killed": the process dies after the first batch; nothing recompresses (leaveDecompressedOnFailure).
    const err = await loader
      .bulkLoad(backfill(day), {
        source: identity,
        mode: 'upsert',
        strategy,
        leaveDecompressedOnFailure: true,
        onDecompressed: (c) => decompressed.push(...c),
        onProgress: () => {
          throw new Error('killed');
        },
      })
      .catch((x: unknown) => x);
    expect(String(err)).toMatch(/killed/);
    expect(decompressed).toEqual(strategy === 'decompress-recompress' ? [before[1]!.chunk] : []);
    const { rows } = await e.query<{ status: string; d: string[] }>(
      `SELECT status, ${ledgerChunks} AS d FROM ${LOADS_TABLE} WHERE source = $1`,
      [identity.source],
    );
    expect(rows).toEqual([{ status: 'failed', d: [before[1]!.chunk] }]);
    expect(await compressedFlags(day)).toEqual([true, false, true, false]);

    const res = await loader.bulkLoad(backfill(day), { source: identity, mode: 'upsert', strategy });
    expect(res.status).toBe('completed');
    expect(res.batchesResumed).toBe(1);
    expect(res.backfill!.chunksRecompressed).toEqual([before[0]!.chunk, before[1]!.chunk].sort()); // sorted by name, as the summary lists them
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expectedLastWins([...base(day), ...backfill(day)]));
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
    const after = await e.query<{ d: unknown }>(`SELECT ${ledgerChunks} AS d FROM ${LOADS_TABLE} WHERE load_id = $1::bigint`, [res.loadId]);
    expect(after.rows[0]!.d).toEqual([]);
    await expectRollupsCurrent(day);
  });

  it('any later load recompresses what an interrupted load left; by default a failed load recompresses at once', async () => {
    const e = te.engine;
    const day = `${month}-08`;
    const before = await prepareDay(day);
    const loader = new TradesLoader({ engine: e, batchSize: 20 });
    const identity = { source: `left-${day}`, contentHash: uniqueHash('left') };
    await expect(
      loader.bulkLoad(backfill(day), {
        source: identity,
        strategy,
        leaveDecompressedOnFailure: true,
        onProgress: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow(/killed/);
    expect(await compressedFlags(day)).toEqual([true, false, true, false]);
    // An unrelated load (another day) starts: it recompresses the left-over chunk first.
    const other = await loader.bulkLoad([trade(`${month}-20`, 1, 0, 101, 'x', '1.5')], {
      source: { source: 'other', contentHash: uniqueHash('other') },
    });
    expect(other.backfill!.recoveredFromInterruptedLoads).toEqual([
      expect.objectContaining({ chunks: [before[1]!.chunk], status: 'failed' }),
    ]);
    expect(await compressedFlags(day)).toEqual([true, true, true, false]);

    // Default: the failure path recompresses immediately.
    await expect(
      loader.bulkLoad(backfill(day), {
        source: identity,
        strategy,
        onProgress: (n) => {
          if (n >= 40) throw new Error('again');
        },
      }),
    ).rejects.toThrow(/again/);
    expect(await compressedFlags(day)).toEqual([true, true, true, false]);
    const res = await loader.bulkLoad(backfill(day), { source: identity, strategy });
    expect(res.status).toBe('completed');
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expectedFirstWins([...base(day), ...backfill(day)]));
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
  });

  it('replace: the previous load of the source is swapped atomically, chunks it was deleted from are compressed again', async () => {
    const e = te.engine;
    const day = `${month}-09`;
    await prepareDay(day);
    const v2 = [
      ...base(day)
        .filter((r) => !String(r.trade_id).startsWith('b2-'))
        .map((r) => (String(r.trade_id).startsWith('b1-') ? { ...r, price: '77.5' } : r)),
      ...Array.from({ length: 10 }, (_, k) => trade(day, 5, k * 60, 104, `f5-${k}`, '2045.1')),
    ];
    const res = await new TradesLoader({ engine: e, batchSize: 20 }).bulkLoad(v2, {
      source: { source: `base-${day}`, contentHash: uniqueHash('v2') },
      mode: 'replace',
      strategy,
    });
    expect(res).toMatchObject({ status: 'completed', recordsInserted: 190, duplicates: 0 });
    expect(res.replacedLoadId).not.toBeNull();
    expect(await tradesIn(e, `${day}T00:00:00Z`, next(day))).toEqual(expectedFirstWins(v2));
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
    await expectRollupsCurrent(day);
  });
});

describe('load plans (embedded)', () => {
  it('the plan for a known layout names the touched chunks, their state, the rows already there and the strategy', async () => {
    const e = te.engine;
    const day = '2024-04-09';
    const states = await prepareDay(day);
    const plan = await planLoad(e, 'trades_data', `${day}T00:30:00Z`, `${day}T02:30:00Z`);
    expect(plan.chunks.map((c) => [c.chunk, c.compressed, c.existingRows])).toEqual([
      [states[0]!.chunk, true, 30],
      [states[1]!.chunk, true, 60],
      [states[2]!.chunk, true, 31],
    ]);
    // TimescaleDB 2.23 writes into compressed chunks segment-wise: the default is write-recompress.
    expect(plan).toMatchObject({ strategy: 'write-recompress', newChunks: 0, compressedChunks: 3, existingRows: 121, tier: 'timescaledb' });
    const text = formatPlan(plan);
    for (const s of states.slice(0, 3)) expect(text).toContain(s.chunk);
    expect(text).toMatch(/strategy: write-recompress/);

    const later = await planLoad(e, 'trades_data', `${day}T03:30:00Z`, `${day}T06:10:00Z`);
    expect(later.chunks.map((c) => [c.chunk, c.compressed, c.existingRows])).toEqual([[states[3]!.chunk, false, 30]]);
    expect(later).toMatchObject({ strategy: 'direct', newChunks: 3, compressedChunks: 0 });
    const forced = await planLoad(e, 'trades_data', `${day}T00:30:00Z`, `${day}T00:40:00Z`, { strategy: 'decompress-recompress' });
    expect(forced.strategy).toBe('decompress-recompress');
    expect(forced.reason).toMatch(/forced/);
  });

  it("without a strategy option the load uses the plan's choice", async () => {
    const day = '2024-04-10';
    await prepareDay(day);
    const res = await new TradesLoader({ engine: te.engine, batchSize: 20 }).bulkLoad(backfill(day), {
      source: { source: 'default', contentHash: uniqueHash('default') },
    });
    expect(res).toMatchObject({ strategy: 'write-recompress', recordsInserted: 60, duplicates: 21 });
    expect(await compressedFlags(day)).toEqual([true, true, true, false, false]);
  });
});

describe('rollup refresh after a load (embedded, continuous aggregates)', () => {
  it('a fresh append above the materialized horizon is left to real-time aggregation; a gap fill below it (new instrument, no stored rows) is refreshed', async () => {
    const e = te.engine;
    const day = '2024-05-14';
    await prepareDay(day); // hours 00–03 materialized
    const loader = new TradesLoader({ engine: e, batchSize: 50 });
    const later = await loader.bulkLoad(
      Array.from({ length: 30 }, (_, k) => trade('2024-05-20', 2, k * 60, 101, `L${k}`, '10.5')),
      { source: { source: 'later', contentHash: uniqueHash('later') } },
    );
    expect(later.backfill!.aggregatesRefreshed).toEqual([]);
    expect(later.backfill!.notes.join(' ')).toMatch(/above their materialized horizon/);
    // New instrument in an already materialized hour: the fast COPY path, but below the horizon.
    const gap = await loader.bulkLoad(
      Array.from({ length: 30 }, (_, k) => trade(day, 2, k * 60 + 7, 104, `G${k}`, '2040.5')),
      { source: { source: 'gap', contentHash: uniqueHash('gap') } },
    );
    expect(gap.backfill).toMatchObject({ batchesCopied: 1, batchesStaged: 0 });
    expect(gap.backfill!.aggregatesRefreshed.map((a) => a.view)).toEqual(['trades_candles_1m', 'trades_candles_1h', 'trades_candles_1d']);
    await expectRollupsCurrent(day);
    await expectRollupsCurrent('2024-05-20'); // real-time part
  });
});
