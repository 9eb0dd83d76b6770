/**
 * Write modes on the server cluster (Apache tier: no compression, several sessions): upsert with
 * 4 parallel workers over overlapping instruments and chunks (shuffled input, so every batch
 * spans many chunks) never deadlocks and ends exactly as one worker would; append of overlapping
 * data quarantines the duplicates; the plan names the chunks and picks the direct path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradesLoader, type TradeRecord } from '../../../src/load/loaders.js';
import { formatPlan, planLoad } from '../../../src/timescale/plan.js';
import { lockSlots } from '../../../src/load/write/slot-locks.js';
import { openTestEngine, type TestEngine } from '../../support/engines.js';
import { quarantined, reset, uniqueHash } from '../../support/db.js';
import { candlesVsRaw, chunkStates, expectedFirstWins, expectedLastWins, trade, tradesIn } from '../../support/backfill-trades.js';

const DAY = '2024-03-11';
const END = '2024-03-12T00:00:00Z';

function base(): TradeRecord[] {
  const out: TradeRecord[] = [];
  for (let h = 0; h < 8; h++)
    for (let k = 0; k < 200; k++) out.push(trade(DAY, h, k * 17, 101 + (k % 4), `b${h}-${k}`, `${100 + (k % 9)}.5`));
  return out;
}

/** Corrections of every 3rd base row, new rows in every hour, a few keys twice; deterministically shuffled. */
function corrections(seed: number): TradeRecord[] {
  const b = base();
  const out: TradeRecord[] = [];
  b.forEach((r, i) => {
    if (i % 3 === 0) out.push({ ...r, price: `${200 + (i % 11)}.25`, size: 2 });
  });
  for (let h = 0; h < 9; h++) for (let k = 0; k < 60; k++) out.push(trade(DAY, h, k * 50 + 7, 101 + (k % 4), `n${h}-${k}`, '99.75'));
  for (let i = 0; i < 40; i++) out.push({ ...b[i * 37]!, price: `${400 + i}.125`, size: 3 }); // second versions of some keys
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('write modes on the server (Apache tier)', () => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine('server', { name: 'backfill_server' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  async function deadlocks(): Promise<number> {
    const { rows } = await te.engine.query<{ n: string }>(
      'SELECT deadlocks::text AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]!.n);
  }

  async function loadBase(): Promise<void> {
    await reset(te.engine, ['trades_data']);
    const res = await new TradesLoader({ engine: te.engine, batchSize: 500 }).bulkLoad(base(), {
      source: { source: 'base', contentHash: uniqueHash('base') },
    });
    expect(res.recordsInserted).toBe(1600);
  }

  it('upsert with 4 parallel workers over overlapping instruments and chunks: no deadlock, exact last-write-wins contents, same as 1 worker', async () => {
    const input = corrections(42);
    const expected = expectedLastWins([...base(), ...input]);
    const results: string[][] = [];
    for (const workers of [4, 1]) {
      await loadBase();
      const d0 = await deadlocks();
      const res = await new TradesLoader({ engine: te.engine, batchSize: 50, parallelWorkers: workers }).bulkLoad(input, {
        source: { source: `upsert-${workers}`, contentHash: uniqueHash('up') },
        mode: 'upsert',
      });
      expect(res).toMatchObject({ status: 'completed', strategy: 'direct', recordsInserted: 540, recordsRejected: 0 });
      // 534 distinct corrected keys changed (some twice: in input order, so the later version wins).
      expect(res.recordsUpdated).toBeGreaterThanOrEqual(534);
      expect(await deadlocks()).toBe(d0);
      const got = await tradesIn(te.engine, `${DAY}T00:00:00Z`, END);
      expect(got).toEqual(expected);
      results.push(got);
      const { view, raw } = await candlesVsRaw(te.engine, 'trades_candles_1h', '1 hour', `${DAY}T00:00:00Z`, END);
      expect(view).toEqual(raw);
    }
    expect(results[0]).toEqual(results[1]);
  });

  it('time-ordered upsert with 4 workers (batches in different chunks run in parallel) ends exact', async () => {
    await loadBase();
    const input = corrections(3).sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
    const d0 = await deadlocks();
    await new TradesLoader({ engine: te.engine, batchSize: 40, parallelWorkers: 4 }).bulkLoad(input, {
      source: { source: 'sorted', contentHash: uniqueHash('sorted') },
      mode: 'upsert',
    });
    expect(await deadlocks()).toBe(d0);
    expect(await tradesIn(te.engine, `${DAY}T00:00:00Z`, END)).toEqual(expectedLastWins([...base(), ...input]));
  });

  it('two loads at once (separate loaders, 2 workers each) appending overlapping rows: every row stored once, the overlap quarantined once', async () => {
    await loadBase();
    const rows = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) =>
        trade(DAY, 8 + ((from + i) % 3), (from + i) * 3, 101 + ((from + i) % 4), `c${from + i}`, '10.5'),
      );
    // Same order in both, so the same keys are in flight in both loads at the same moment.
    const a = rows(0, 600);
    const b = rows(0, 900);
    const d0 = await deadlocks();
    const [ra, rb] = await Promise.all([
      new TradesLoader({ engine: te.engine, batchSize: 25, parallelWorkers: 2 }).bulkLoad(a, {
        source: { source: 'a', contentHash: uniqueHash('a') },
      }),
      new TradesLoader({ engine: te.engine, batchSize: 25, parallelWorkers: 2 }).bulkLoad(b, {
        source: { source: 'b', contentHash: uniqueHash('b') },
      }),
    ]);
    expect(await deadlocks()).toBe(d0);
    expect(ra.recordsInserted + rb.recordsInserted).toBe(900);
    expect((ra.duplicates ?? 0) + (rb.duplicates ?? 0)).toBe(600);
    expect(await tradesIn(te.engine, `${DAY}T00:00:00Z`, END)).toEqual(expectedFirstWins([...base(), ...a, ...b]));
  });

  it('a batch checks for existing keys under its chunk lock: rows another session commits meanwhile are seen, not duplicated', async () => {
    await loadBase();
    const rows = Array.from({ length: 100 }, (_, k) => trade(DAY, 8, k * 5, 101 + (k % 4), `l${k}`, '10.5'));
    const hourUs = 3_600_000_000n;
    const slotStart = BigInt(Date.parse(`${DAY}T08:00:00Z`)) * 1000n;
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    // Another load (registered in the ledger, as every tickvault load is) holds hour 08's lock
    // while it writes 30 of the same rows.
    await te.engine.query(
      `INSERT INTO tickvault_loads (source, content_hash, target_table, mode, status, batch_size) VALUES ('other', $1, 'trades_data', 'append', 'running', 100)`,
      [uniqueHash('other')],
    );
    const other = te.engine.transaction(async (tx) => {
      await lockSlots(tx, 'trades_data', slotStart, slotStart + 1n, hourUs);
      await tx.query(
        `INSERT INTO trades_data (timestamp, instrument_id, symbol, price, size, side, trade_id)
        SELECT (r->>'timestamp')::timestamptz, (r->>'instrument_id')::int, r->>'symbol', (r->>'price')::numeric, (r->>'size')::bigint, r->>'side', r->>'trade_id'
          FROM jsonb_array_elements($1::jsonb) r`,
        [JSON.stringify(rows.slice(0, 30))],
      );
      locked();
      await released;
    });
    await isLocked;
    let finished = false;
    const load = new TradesLoader({ engine: te.engine, batchSize: 100 })
      .bulkLoad(rows, { source: { source: 'locked', contentHash: uniqueHash('locked') } })
      .finally(() => {
        finished = true;
      });
    await new Promise((r) => setTimeout(r, 400));
    expect(finished).toBe(false); // waiting for the chunk lock
    release();
    await other;
    const res = await load;
    expect(res).toMatchObject({ recordsInserted: 70, duplicates: 30 });
    expect(await tradesIn(te.engine, `${DAY}T08:00:00Z`, `${DAY}T09:00:00Z`)).toEqual(expectedFirstWins(rows));
  });

  it('upsert re-run of the same rows under another name changes nothing', async () => {
    await loadBase();
    const input = corrections(7);
    const loader = new TradesLoader({ engine: te.engine, batchSize: 50, parallelWorkers: 4 });
    await loader.bulkLoad(input, { source: { source: 'u1', contentHash: uniqueHash('u1') }, mode: 'upsert' });
    const first = await tradesIn(te.engine, `${DAY}T00:00:00Z`, END);
    const again = await loader.bulkLoad(input, { source: { source: 'u2', contentHash: uniqueHash('u2') }, mode: 'upsert' });
    expect(again.recordsInserted).toBe(0);
    expect(await tradesIn(te.engine, `${DAY}T00:00:00Z`, END)).toEqual(first);
  });

  it('append of overlapping data (4 workers): stored keys and repeated keys are quarantined as duplicates, the rest lands once', async () => {
    await loadBase();
    const input = corrections(99);
    const res = await new TradesLoader({ engine: te.engine, batchSize: 50, parallelWorkers: 4 }).bulkLoad(input, {
      source: { source: 'append-overlap', contentHash: uniqueHash('ap') },
    });
    const dupCount = input.length - 540;
    expect(res).toMatchObject({ status: 'completed', recordsInserted: 540, recordsRejected: dupCount, duplicates: dupCount });
    expect(await tradesIn(te.engine, `${DAY}T00:00:00Z`, END)).toEqual(expectedFirstWins([...base(), ...input]));
    const q = await quarantined(te.engine, 'trades_data');
    expect(q).toHaveLength(dupCount);
    expect(
      q.every(
        (r) =>
          r.reason === 'duplicate of an existing row (natural key instrument_id, publisher_id, timestamp, trade_id)' &&
          r.constraint_name === 'natural_key',
      ),
    ).toBe(true);
    // Fresh appends (no overlap) stay on the plain COPY path.
    const fresh = await new TradesLoader({ engine: te.engine, batchSize: 50 }).bulkLoad(
      Array.from({ length: 200 }, (_, k) => trade('2024-03-13', 1, k, 101, `f${k}`, '1.5')),
      { source: { source: 'fresh', contentHash: uniqueHash('fr') } },
    );
    expect(fresh.backfill).toMatchObject({ batchesCopied: 4, batchesStaged: 0, duplicates: 0 });
  });

  it('append: a batch whose range overlaps stored rows but none of their keys stays on the plain COPY path; one stored key sends it to staging', async () => {
    await loadBase();
    // Same instruments and hours as the base, at times between its trades: the ranges overlap, the keys do not.
    const interleaved = Array.from({ length: 100 }, (_, k) => trade(DAY, 2, k * 17 + 8, 101 + (k % 4), `i${k}`, '55.5'));
    const loader = new TradesLoader({ engine: te.engine, batchSize: 50 });
    const a = await loader.bulkLoad(interleaved, { source: { source: 'interleaved', contentHash: uniqueHash('il') } });
    expect(a).toMatchObject({ recordsInserted: 100, duplicates: 0 });
    expect(a.backfill).toMatchObject({ batchesCopied: 2, batchesStaged: 0 });
    const withDup = [
      ...Array.from({ length: 49 }, (_, k) => trade(DAY, 3, k * 17 + 8, 101 + (k % 4), `j${k}`, '55.5')),
      base()[3 * 200 + 10]!,
    ];
    const b = await loader.bulkLoad(withDup, { source: { source: 'with-dup', contentHash: uniqueHash('wd') } });
    expect(b).toMatchObject({ recordsInserted: 49, duplicates: 1 });
    expect(b.backfill).toMatchObject({ batchesCopied: 0, batchesStaged: 1 });
    expect(await tradesIn(te.engine, `${DAY}T00:00:00Z`, END)).toEqual(expectedFirstWins([...base(), ...interleaved, ...withDup]));
  });

  it('the plan names the touched chunks and rows; no compression on this tier: direct path', async () => {
    await loadBase();
    const states = await chunkStates(te.engine, `${DAY}T00:00:00Z`, END);
    expect(states).toHaveLength(8);
    const plan = await planLoad(te.engine, 'trades_data', `${DAY}T06:30:00Z`, `${DAY}T09:15:00Z`);
    expect(plan.chunks.map((c) => [c.chunk, c.compressed])).toEqual([
      [states[6]!.chunk, false],
      [states[7]!.chunk, false],
    ]);
    expect(plan.chunks.map((c) => c.existingRows)).toEqual([94, 200]);
    expect(plan).toMatchObject({ strategy: 'direct', newChunks: 2, tier: 'timescaledb-apache' });
    expect(plan.reason).toMatch(/no compression/);
    expect(formatPlan(plan)).toContain(states[6]!.chunk);
  });
});
