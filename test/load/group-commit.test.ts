/**
 * Batches committed together (src/load/write/combined-batch.ts): when the producer is ahead, a worker
 * commits every batch already prepared in one transaction — yet each batch keeps its own ledger
 * row, a row the database rejects still ends in the quarantine alone, and the groups never mix
 * with the batches a re-run skips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefetchGroups } from '../../src/load/loader.js';
import { TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count, quarantined, reset, uniqueHash } from '../support/db.js';
import { T0 } from '../support/time.js';

const trade = (i: number, size = 1 + (i % 9)): TradeRecord =>
  ({
    timestamp: T0 + BigInt(i) * 1_000_000n,
    instrument_id: 5002,
    symbol: 'ESH4',
    price: '4780.25',
    size,
    side: i % 2 ? 'B' : 'S',
    trade_id: `t${i}`,
  }) as TradeRecord;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('prefetchGroups', () => {
  it('groups the items already prepared, up to the weight limit, in order', async () => {
    async function* ready(): AsyncGenerator<number> {
      for (let i = 1; i <= 7; i++) yield i;
    }
    const groups = await collect(prefetchGroups(ready(), 10, () => 1, 3));
    expect(groups.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(groups.every((g) => g.length <= 3)).toBe(true);
    expect(groups.length).toBeLessThan(7); // some items went together
  });

  it('never waits to fill a group: an item still in the making starts the next group', async () => {
    async function* slow(): AsyncGenerator<number> {
      for (let i = 1; i <= 4; i++) {
        await new Promise((r) => setTimeout(r, 15));
        yield i;
      }
    }
    const groups: number[][] = [];
    for await (const g of prefetchGroups(slow(), 10, () => 1, 100)) {
      groups.push(g);
      await new Promise((r) => setTimeout(r, 1)); // the consumer is quick: nothing else is ready yet
    }
    expect(groups).toEqual([[1], [2], [3], [4]]);
  });

  it('an error ends the group before it and surfaces with the next call', async () => {
    async function* failing(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw new Error('boom');
    }
    const got: number[][] = [];
    await expect(
      (async () => {
        for await (const g of prefetchGroups(failing(), 5, () => 1, 10)) got.push(g);
      })(),
    ).rejects.toThrow('boom');
    expect(got.flat()).toEqual([1, 2]);
  });
});

describe.each(ENGINE_KINDS)('group commits (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'load_groups' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  const batchRows = async (loadId: string) =>
    (
      await te.engine.query<{
        batch_no: number;
        records_in: number;
        records_inserted: number;
        records_rejected: number;
        committed: string;
      }>(
        `SELECT batch_no, records_in, records_inserted, records_rejected, committed_at::text AS committed FROM tickvault_load_batches WHERE load_id = $1::bigint ORDER BY batch_no`,
        [loadId],
      )
    ).rows;

  it('batches prepared ahead are committed together, each with its own exact ledger row', async () => {
    await reset(te.engine, ['trades_data']);
    const records = Array.from({ length: 2_000 }, (_, i) => trade(i));
    const loader = new TradesLoader({ engine: te.engine, batchSize: 100 });
    const progress: number[] = [];
    const res = await loader.bulkLoad(records, {
      source: { source: 'groups', contentHash: uniqueHash('groups') },
      onProgress: (c) => progress.push(c),
    });
    expect(res).toMatchObject({ status: 'completed', recordsInserted: 2_000, recordsRejected: 0 });
    expect(await count(te.engine, 'trades_data')).toBe(2_000);
    const rows = await batchRows(res.loadId);
    expect(rows.map((r) => [Number(r.batch_no), Number(r.records_in), Number(r.records_inserted), Number(r.records_rejected)])).toEqual(
      Array.from({ length: 20 }, (_, i) => [i, 100, 100, 0]),
    );
    // One transaction's NOW() is shared by the rows it wrote: fewer distinct commit times than
    // batches. (The embedded engine runs the database on the producer's own thread: the producer
    // never gets ahead of a COPY there, so its batches go one by one.)
    if (kind === 'server') expect(new Set(rows.map((r) => r.committed)).size).toBeLessThan(20);
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100)); // still reported batch by batch
  });

  it('maxRowsPerCommit = batchSize commits every batch on its own', async () => {
    await reset(te.engine, ['trades_data']);
    const records = Array.from({ length: 1_000 }, (_, i) => trade(i));
    const res = await new TradesLoader({ engine: te.engine, batchSize: 100, maxRowsPerCommit: 100 }).bulkLoad(records, {
      source: { source: 'no-groups', contentHash: uniqueHash('no-groups') },
    });
    expect(res.recordsInserted).toBe(1_000);
    const rows = await batchRows(res.loadId);
    expect(rows).toHaveLength(10);
    expect(new Set(rows.map((r) => r.committed)).size).toBe(10);
    expect(() => new TradesLoader({ engine: te.engine, maxRowsPerCommit: 0 })).toThrow(/maxRowsPerCommit must be a positive integer/);
  });

  describe('a row only the database rejects, inside a group', () => {
    const EXTRA = 'tv_test_group_size_limit';
    beforeAll(async () => {
      await te.engine.query(`ALTER TABLE trades_data ADD CONSTRAINT ${EXTRA} CHECK (size < 1000000)`);
    });
    afterAll(async () => {
      await te.engine.query(`ALTER TABLE trades_data DROP CONSTRAINT IF EXISTS ${EXTRA}`);
    });

    it('is quarantined alone; every other row of the group lands once and the ledger rows stay per batch', async () => {
      await reset(te.engine, ['trades_data']);
      const bad = new Set([150, 1_234]);
      const records = Array.from({ length: 2_000 }, (_, i) => trade(i, bad.has(i) ? 2_000_000 : 1));
      const res = await new TradesLoader({ engine: te.engine, batchSize: 100 }).bulkLoad(records, {
        source: { source: 'groups-bad', contentHash: uniqueHash('groups-bad') },
      });
      expect(res).toMatchObject({ status: 'completed', recordsInserted: 1_998, recordsRejected: 2 });
      expect(await count(te.engine, 'trades_data')).toBe(1_998);
      const { rows: dup } = await te.engine.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM (SELECT trade_id FROM trades_data GROUP BY trade_id HAVING count(*) > 1) d`,
      );
      expect(dup[0]!.n).toBe('0');
      const q = (await quarantined(te.engine, 'trades_data')).filter((r) => r.load_id === res.loadId);
      expect(q.map((r) => [Number(r.record_index), r.constraint_name])).toEqual([
        [150, EXTRA],
        [1_234, EXTRA],
      ]);
      const rows = await batchRows(res.loadId);
      expect(rows).toHaveLength(20);
      for (const r of rows) {
        const rejected = Number(r.batch_no) === 1 || Number(r.batch_no) === 12 ? 1 : 0;
        expect([Number(r.records_inserted), Number(r.records_rejected)]).toEqual([100 - rejected, rejected]);
      }
    });
  });
});
