/**
 * The DBN fast path (dbn-batch.ts: encode straight from record bytes) is an optimisation only: for
 * the same records it must accept and reject exactly what the generic path (mapping + the table
 * description's validation) does, with the same reasons, and produce the same COPY bytes.
 * Random trades and quotes with edge values: UNDEF prices, zero/negative/sub-1e-8 prices, 9th
 * decimal rounding, size 0, sides A/B/N (and an unknown one, X), crossed and locked books, empty sides, ids above INTEGER.
 */
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from '../../src/copy/index.js';
import type { DbnRecord } from '../../src/dbn/records.js';
import { DbnFileSource } from '../../src/ingest/dbn-source.js';
import type { PreparedBatch } from '../../src/load/write/batch.js';
import { encodeRowRange } from '../../src/load/write/encoded-batch.js';
import { tableSpec, type TableName } from '../../src/schema/tables.js';
import { SYNTH_ID, writeSynth } from '../support/synthetic-dbn.js';
import { T0 } from '../support/time.js';
import { tmpDir } from '../support/tmp.js';

const UNDEF = 0x7fffffffffffffffn;
const dir = tmpDir('tickvault-fastpath-');
afterAll(() => dir.cleanup());

const price = fc.oneof(
  fc.constantFrom(
    UNDEF,
    0n,
    1n,
    4n,
    5n,
    9n,
    10n,
    -5n,
    -250_000_000n,
    999_999_995n,
    4_780_250_000_005n,
    4_780_250_000_004n,
    999_999_999_999_999_999n,
  ),
  fc.bigInt({ min: -10_000_000_000_000n, max: 10_000_000_000_000n }),
  fc.bigInt({ min: 1n, max: 9_000_000_000_000_000_000n }),
);
const base = fc.record({
  id: fc.oneof(fc.constant(SYNTH_ID), fc.constant(SYNTH_ID), fc.constant(2_147_483_648)),
  dt: fc.bigInt({ min: 0n, max: 80_000_000_000_000n }),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4_294_967_295 })),
  side: fc.constantFrom('A', 'B', 'N', 'X'),
  seq: fc.integer({ min: 0, max: 4_294_967_295 }),
  price,
});

async function collect(
  file: string,
  table: TableName,
  fastPath: boolean,
  open: typeof DbnFileSource.open = DbnFileSource.open.bind(DbnFileSource),
  tupleWorker?: boolean,
  batchSize = 64,
) {
  const src = await open(file, { fastPath, tupleWorker });
  const rows: string[] = [];
  const rejected: string[] = [];
  const batches: string[] = [];
  for await (const b of src.prepare(tableSpec(table), batchSize, () => false)) {
    const batch = b as PreparedBatch;
    for (let i = 0; i < batch.rowCount; i++) {
      const w = new BinaryCopyWriter({ chunkSize: Infinity });
      batch.encodeRow(w, i);
      const origin = batch.rowOrigin(i);
      rows.push(`${origin.recordIndex}:${w.finish().toString('hex')}:${origin.record}`);
    }
    // The whole stream of a batch at once too: consecutive fast rows coalesce into one range.
    const w = new BinaryCopyWriter({ chunkSize: 100 });
    const parts: Buffer[] = [];
    for (let i = 0; i < batch.rowCount; i++) {
      batch.encodeRow(w, i);
      const c = w.takeChunk();
      if (c) parts.push(Buffer.from(c));
    }
    parts.push(w.finish());
    // And in slices through encodeRows (runs of tuples appended as ranges, generic rows between):
    // the same stream. Odd slice lengths cut runs anywhere.
    const ws = new BinaryCopyWriter({ chunkSize: 100 });
    const sliced: Buffer[] = [];
    for (let i = 0; i < batch.rowCount; i += 7) {
      encodeRowRange(batch, ws, i, Math.min(batch.rowCount, i + 7));
      const c = ws.takeChunk();
      if (c) sliced.push(Buffer.from(c));
    }
    sliced.push(ws.finish());
    expect(Buffer.concat(sliced).equals(Buffer.concat(parts))).toBe(true);
    batches.push(
      `${batch.batchNo}:${batch.recordsIn}:${batch.rowCount}:${batch.minTime}:${batch.maxTime}:${[...batch.instrumentIds].sort().join(',')}:${Buffer.concat(parts).toString('hex')}`,
    );
    for (const r of batch.rejections) rejected.push(`${r.recordIndex}:${r.constraint}:${r.reason}`);
  }
  return { rows: rows.sort(), rejected: rejected.sort(), batches };
}

let n = 0;
async function compare(records: DbnRecord[], schema: 'trades' | 'tbbo', table: TableName) {
  const file = path.join(dir.dir, `f${n++}.dbn`);
  await writeSynth(records, { file, schema });
  const fast = await collect(file, table, true);
  const generic = await collect(file, table, false);
  expect(fast.rejected).toEqual(generic.rejected);
  expect(fast.rows).toEqual(generic.rows);
  expect(fast.batches).toEqual(generic.batches);
  expect(fast.rows.length + fast.rejected.length).toBe(records.length);
}

describe('DBN fast path equals the generic path', () => {
  it('trades', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(base, { minLength: 1, maxLength: 150 }), async (rs) => {
        const records: DbnRecord[] = rs.map((r, i) => ({
          kind: 'trade',
          rtype: 0,
          publisherId: 1 + (i % 3),
          instrumentId: r.id,
          tsEvent: T0 + r.dt + BigInt(i),
          tsRecv: T0 + r.dt + 5n,
          tsInDelta: 0,
          price: r.price,
          size: r.size,
          action: 'T',
          side: r.side,
          flags: 0,
          depth: 0,
          sequence: r.seq,
        }));
        await compare(records, 'trades', 'trades_data');
      }),
      { numRuns: 25 },
    );
  });

  it('trades of many instruments and symbols, over two centuries, with large ids', async () => {
    // Symbols of every shape the fast path pre-encodes: short, a multiple of 8 bytes with the
    // length word, punctuation, exactly 50 and 51 characters (too long: generic, rejected).
    const symbols = ['ESH4', 'ESH4 C4500', 'ES.c.0 ~|{}()', 'ABCDEFGHIJKL', 'A'.repeat(50), 'B'.repeat(51), 'NQ'];
    const mappings = symbols.map((sym, k) => ({
      rawSymbol: sym,
      intervals: [{ startDate: 19700101, endDate: 99991231, symbol: String(100 + k) }],
    }));
    const rec = fc.record({
      b: base,
      k: fc.nat(symbols.length),
      ts: fc.oneof(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 8_000_000_000_000_000_000n }),
        fc.constant(2n ** 64n - 1n),
      ),
      pub: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 65_535 })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(rec, { minLength: 1, maxLength: 150 }), async (rs) => {
        const records: DbnRecord[] = rs.map((r) => ({
          kind: 'trade',
          rtype: 0,
          publisherId: r.pub,
          instrumentId: r.k === symbols.length ? 7 : 100 + r.k,
          tsEvent: r.ts,
          tsRecv: r.ts,
          tsInDelta: 0,
          price: r.b.price,
          size: r.b.size,
          action: 'T',
          side: r.b.side,
          flags: 0,
          depth: 0,
          sequence: r.b.seq,
        }));
        const file = path.join(dir.dir, `f${n++}.dbn`);
        await writeSynth(records, { file, schema: 'trades', symbols, mappings });
        const fast = await collect(file, 'trades_data', true);
        const generic = await collect(file, 'trades_data', false);
        expect(fast.rejected).toEqual(generic.rejected);
        expect(fast.rows).toEqual(generic.rows);
        expect(fast.batches).toEqual(generic.batches);
      }),
      { numRuns: 25 },
    );
  });

  it('trades that all take the fast path: whole decoder batches and cut ones, any time order', async () => {
    const ok = fc.record({
      dt: fc.bigInt({ min: 0n, max: 80_000_000_000_000n }),
      size: fc.integer({ min: 1, max: 1000 }),
      side: fc.constantFrom('A', 'B', 'N'),
      seq: fc.nat(),
      ticks: fc.integer({ min: 1, max: 100_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(ok, { minLength: 1, maxLength: 200 }), fc.constantFrom(7, 64, 1000), async (rs, batchSize) => {
        const records: DbnRecord[] = rs.map((r, i) => ({
          kind: 'trade',
          rtype: 0,
          publisherId: 1,
          instrumentId: SYNTH_ID,
          tsEvent: T0 + r.dt,
          tsRecv: T0 + BigInt(i),
          tsInDelta: 0,
          price: BigInt(r.ticks) * 250_000_000n,
          size: r.size,
          action: 'T',
          side: r.side,
          flags: 0,
          depth: 0,
          sequence: r.seq,
        }));
        const file = path.join(dir.dir, `f${n++}.dbn`);
        await writeSynth(records, { file, schema: 'trades' });
        const fast = await collect(file, 'trades_data', true, undefined, undefined, batchSize);
        const generic = await collect(file, 'trades_data', false, undefined, undefined, batchSize);
        expect(fast.rejected).toEqual([]);
        expect(fast.batches).toEqual(generic.batches);
        expect(fast.rows).toEqual(generic.rows);
      }),
      { numRuns: 25 },
    );
  });

  it('instruments sharing one symbol keep their own ids in each batch', async () => {
    // Two ids named by one requested symbol at once (e.g. a parent request), interleaved.
    const mappings = [
      { rawSymbol: 'ES.FUT', intervals: [{ startDate: 19700101, endDate: 99991231, symbol: '100' }] },
      { rawSymbol: 'ES.FUT', intervals: [{ startDate: 19700101, endDate: 99991231, symbol: '200' }] },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(100, 200, 300), { minLength: 1, maxLength: 120 }),
        fc.constantFrom(5, 64),
        async (ids, batchSize) => {
          const records: DbnRecord[] = ids.map((id, i) => ({
            kind: 'trade',
            rtype: 0,
            publisherId: 1,
            instrumentId: id,
            tsEvent: T0 + BigInt(i),
            tsRecv: T0 + BigInt(i),
            tsInDelta: 0,
            price: 4_750_250_000_000n,
            size: 1,
            action: 'T',
            side: 'B',
            flags: 0,
            depth: 0,
            sequence: i,
          }));
          const file = path.join(dir.dir, `f${n++}.dbn`);
          await writeSynth(records, { file, schema: 'trades', symbols: ['ES.FUT'], mappings });
          const fast = await collect(file, 'trades_data', true, undefined, undefined, batchSize);
          const generic = await collect(file, 'trades_data', false, undefined, undefined, batchSize);
          expect(fast.batches).toEqual(generic.batches);
          expect(fast.rejected).toEqual(generic.rejected);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('tbbo', async () => {
    const quote = fc.record({
      b: base,
      ask: price,
      bidSz: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
      askSz: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
      locked: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(quote, { minLength: 1, maxLength: 150 }), async (qs) => {
        const records: DbnRecord[] = qs.map((q, i) => ({
          kind: 'mbp1',
          rtype: 1,
          publisherId: 1,
          instrumentId: q.b.id,
          tsEvent: T0 + q.b.dt + BigInt(i),
          tsRecv: T0 + q.b.dt + 5n,
          tsInDelta: 0,
          price: q.b.price,
          size: q.b.size,
          action: 'T',
          side: q.b.side,
          flags: 0,
          depth: 0,
          sequence: q.b.seq,
          bidPx: q.b.price,
          askPx: q.locked ? q.b.price : q.ask,
          bidSz: q.bidSz,
          askSz: q.askSz,
          bidCt: 1,
          askCt: 1,
        }));
        await compare(records, 'tbbo', 'tbbo_data');
      }),
      { numRuns: 25 },
    );
  });
});

// The worker thread runs the compiled module (dist/), so this compares dist's worker path with
// dist's in-thread path: run `npx tsc -p .` first (the test is skipped without a build).
const distSource = path.resolve(__dirname, '../../dist/src/ingest/dbn-source.js');
describe.skipIf(!existsSync(distSource))('tuple encoding on the worker thread (built dist/)', () => {
  it('gives the same rows, rejections and batches as encoding in-thread', async () => {
    const { DbnFileSource: Dist } = (await import(pathToFileURL(distSource).href)) as { DbnFileSource: typeof DbnFileSource };
    const open = Dist.open.bind(Dist);
    await fc.assert(
      fc.asyncProperty(fc.array(base, { minLength: 1, maxLength: 400 }), async (rs) => {
        const records: DbnRecord[] = rs.map((r, i) => ({
          kind: 'trade',
          rtype: 0,
          publisherId: 1 + (i % 3),
          instrumentId: r.id,
          tsEvent: T0 + r.dt + BigInt(i),
          tsRecv: T0 + r.dt + 5n,
          tsInDelta: 0,
          price: r.price,
          size: r.size,
          action: 'T',
          side: r.side,
          flags: 0,
          depth: 0,
          sequence: r.seq,
        }));
        const file = path.join(dir.dir, `f${n++}.dbn`);
        await writeSynth(records, { file, schema: 'trades' });
        const worker = await collect(file, 'trades_data', true, open, true);
        const local = await collect(file, 'trades_data', true, open, false);
        const generic = await collect(file, 'trades_data', false, open);
        expect(worker).toEqual(local);
        expect(worker.rows).toEqual(generic.rows);
        expect(worker.rejected).toEqual(generic.rejected);
      }),
      { numRuns: 10 },
    );
  });
});
