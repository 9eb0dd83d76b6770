/**
 * Loading modes give the same table: parallel workers vs one (server), the INSERT path vs COPY,
 * and bulk mode, which drops the secondary indexes during the load and leaves exactly the
 * contract's indexes afterwards — also after an interrupted bulk load, repaired by the next one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSecondaryIndexes, ensureIndexes, missingIndexes } from '../../src/load/indexes.js';
import * as ledger from '../../src/load/ledger.js';
import { TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { tradesData } from '../../src/schema/tables.js';
import { syntheticTradeChunks, syntheticTrades } from '../../bench/synthetic-trades.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count, indexNames, ledgerRows, reset, snapshot, uniqueHash } from '../support/db.js';

const CONTRACT_INDEXES = tradesData.indexes.map((i) => i.name).sort();

describe('parallel workers (server)', () => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine('server', { name: 'load_parallel' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it('4 workers store exactly what 1 worker stores', async () => {
    const ROWS = 30_000;
    const load = async (workers: number) => {
      await reset(te.engine, ['trades_data']);
      const loader = new TradesLoader({ engine: te.engine, batchSize: 1_000, parallelWorkers: workers });
      const progress: number[] = [];
      const res = await loader.bulkLoad(syntheticTradeChunks({ rows: ROWS, seed: 7 }, 500), {
        source: { source: `par-${workers}`, contentHash: uniqueHash(`par${workers}`) },
        total: ROWS,
        onProgress: (c) => progress.push(c),
      });
      expect(res).toMatchObject({ status: 'completed', recordsInserted: ROWS, totalRecords: ROWS });
      expect(progress.at(-1)).toBe(ROWS);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      const [entry] = await ledgerRows(te.engine, 'trades_data');
      expect(entry).toMatchObject({ status: 'completed', batches: String(ROWS / 1_000), records_inserted: String(ROWS) });
      return snapshot(te.engine, tradesData);
    };
    const one = await load(1);
    const four = await load(4);
    expect(one).toHaveLength(ROWS);
    expect(four).toEqual(one);
  });

  it('a failing worker stops the load; a re-run completes it exactly', async () => {
    await reset(te.engine, ['trades_data']);
    const ROWS = 20_000;
    const identity = { source: 'par-fail', contentHash: uniqueHash('parfail') };
    const loader = new TradesLoader({ engine: te.engine, batchSize: 1_000, parallelWorkers: 4 });
    function* failing(): Generator<TradeRecord> {
      for (const r of syntheticTrades({ rows: ROWS, seed: 3 })) {
        if (r.trade_id === '12345') throw new Error('source broke');
        yield r;
      }
    }
    await expect(loader.bulkLoad(failing(), { source: identity })).rejects.toThrow(/source broke/);
    const res = await loader.bulkLoad(syntheticTrades({ rows: ROWS, seed: 3 }), { source: identity });
    expect(res.batchesResumed).toBeGreaterThan(0);
    expect(await count(te.engine, 'trades_data')).toBe(ROWS);
    const { rows } = await te.engine.query<{ d: string }>('SELECT count(DISTINCT trade_id)::text AS d FROM trades_data');
    expect(rows[0]!.d).toBe(String(ROWS));
  });
});

describe.each(ENGINE_KINDS)('INSERT path and bulk mode (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'load_modes' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  const ROWS = 6_000;
  const records = () => syntheticTradeChunks({ rows: ROWS, seed: 11 }, 250);
  let reference: string[][];

  it('COPY reference load', async () => {
    await reset(te.engine, ['trades_data']);
    const res = await new TradesLoader({ engine: te.engine, batchSize: 2_000 }).bulkLoad(records());
    expect(res.recordsInserted).toBe(ROWS);
    reference = await snapshot(te.engine, tradesData);
    expect(reference).toHaveLength(ROWS);
  });

  it('useCopy:false (multi-row INSERT) stores identical contents', async () => {
    await reset(te.engine, ['trades_data']);
    const res = await new TradesLoader({ engine: te.engine, batchSize: 2_000, useCopy: false }).bulkLoad(records());
    expect(res.recordsInserted).toBe(ROWS);
    expect(await snapshot(te.engine, tradesData)).toEqual(reference);
  });

  it("bulk mode drops the secondary indexes during the load and restores exactly the contract's", async () => {
    await reset(te.engine, ['trades_data']);
    const before = await indexNames(te.engine, 'trades_data');
    expect(before.filter((n) => CONTRACT_INDEXES.includes(n))).toEqual(CONTRACT_INDEXES);
    let during: string[] | undefined;
    const engine = te.engine;
    async function* watched(): AsyncGenerator<TradeRecord[]> {
      let n = 0;
      for (const chunk of records()) {
        yield chunk;
        n += chunk.length;
        if (n === 3_000) during = await indexNames(engine, 'trades_data'); // mid-load, between batches
      }
    }
    const res = await new TradesLoader({ engine: te.engine, batchSize: 2_000 }).bulkLoad(watched(), {
      bulk: true,
      source: { source: 'bulk', contentHash: uniqueHash('bulk') },
    });
    expect(res.recordsInserted).toBe(ROWS);
    expect(during).toBeDefined();
    expect(during!.filter((n) => CONTRACT_INDEXES.includes(n))).toEqual([]);
    expect(await indexNames(te.engine, 'trades_data')).toEqual(before);
    expect(await missingIndexes(te.engine, tradesData)).toEqual([]);
    expect(await snapshot(te.engine, tradesData)).toEqual(reference);
    const load = await ledger.getLoad(te.engine, res.loadId);
    expect(load!.details).toMatchObject({ bulk: true, indexesDropped: false });
    // the rebuilt indexes are the contract's definitions
    const { rows } = await te.engine.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'trades_data' AND indexname = ANY($1) ORDER BY indexname`,
      [CONTRACT_INDEXES],
    );
    expect(rows.map((r) => r.indexdef.replace(/^.* USING btree /, ''))).toEqual([
      '(side, "timestamp" DESC)',
      '(symbol, price, "timestamp" DESC)',
      '(symbol, "timestamp" DESC)',
    ]);
  });

  it('an interrupted bulk load (indexes dropped, ledger row failed) is repaired by the next bulkLoad', async () => {
    await reset(te.engine, ['trades_data']);
    const before = await indexNames(te.engine, 'trades_data');
    // What a process killed in the middle of a bulk load leaves behind:
    const loadId = await ledger.createLoad(te.engine, {
      identity: { source: 'killed-bulk', contentHash: uniqueHash('kb') },
      table: 'trades_data',
      mode: 'append',
      batchSize: 2_000,
      details: { bulk: true },
    });
    await ledger.mergeDetails(te.engine, loadId, { indexesDropped: true });
    await dropSecondaryIndexes(te.engine, tradesData);
    await ledger.failLoad(te.engine, loadId, 'killed');
    expect((await missingIndexes(te.engine, tradesData)).sort()).toEqual(CONTRACT_INDEXES);

    const res = await new TradesLoader({ engine: te.engine, batchSize: 2_000 }).bulkLoad(records(), {
      source: { source: 'next', contentHash: uniqueHash('next') },
    });
    expect(res.recordsInserted).toBe(ROWS);
    expect(await indexNames(te.engine, 'trades_data')).toEqual(before);
    expect(await snapshot(te.engine, tradesData)).toEqual(reference);
  });

  it('ensureIndexes repairs an interrupted bulk load by itself and reports what it rebuilt', async () => {
    const before = await indexNames(te.engine, 'trades_data');
    await dropSecondaryIndexes(te.engine, tradesData);
    expect((await ensureIndexes(te.engine, tradesData)).sort()).toEqual(CONTRACT_INDEXES);
    expect(await ensureIndexes(te.engine, tradesData)).toEqual([]);
    expect(await indexNames(te.engine, 'trades_data')).toEqual(before);
  });

  it("a bulk load that fails still leaves the contract's indexes in place", async () => {
    await reset(te.engine, ['trades_data']);
    const before = await indexNames(te.engine, 'trades_data');
    function* failing(): Generator<TradeRecord> {
      let i = 0;
      for (const chunk of records())
        for (const r of chunk) {
          if (++i === 4_500) throw new Error('cut');
          yield r;
        }
    }
    await expect(new TradesLoader({ engine: te.engine, batchSize: 2_000 }).bulkLoad(failing(), { bulk: true })).rejects.toThrow(/cut/);
    expect(await indexNames(te.engine, 'trades_data')).toEqual(before);
  });

  it('bulk mode resumes like any other load and ends with the indexes', async () => {
    await reset(te.engine, ['trades_data']);
    const identity = { source: 'bulk-resume', contentHash: uniqueHash('br') };
    function* failing(): Generator<TradeRecord> {
      let i = 0;
      for (const chunk of records())
        for (const r of chunk) {
          if (++i === 4_500) throw new Error('cut');
          yield r;
        }
    }
    await expect(
      new TradesLoader({ engine: te.engine, batchSize: 2_000 }).bulkLoad(failing(), { bulk: true, source: identity }),
    ).rejects.toThrow(/cut/);
    const res = await new TradesLoader({ engine: te.engine, batchSize: 2_000 }).bulkLoad(records(), { bulk: true, source: identity });
    expect(res).toMatchObject({ status: 'completed', batchesResumed: 2, recordsInserted: ROWS });
    expect(await missingIndexes(te.engine, tradesData)).toEqual([]);
    expect(await snapshot(te.engine, tradesData)).toEqual(reference);
  });
});
