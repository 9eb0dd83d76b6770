/**
 * Batches encoded ahead (src/load/write/encoded-batch.ts): the bytes are exactly what the COPY path
 * would have encoded row by row, and the repeated-key check answers the same either way.
 */
import { describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from '../../src/copy/index.js';
import type { PreparedBatch } from '../../src/load/write/batch.js';
import { encodeAhead, encodedBatch, mayRepeatKey } from '../../src/load/write/encoded-batch.js';
import { yieldToIo } from '../../src/load/pacer.js';
import { RecordSource } from '../../src/load/record-source.js';
import { loadedColumns, tradesData } from '../../src/schema/tables.js';
import type { TradeRecord } from '../../src/load/loaders.js';

const columns = loadedColumns(tradesData);

function trades(n: number, repeatAt?: number): TradeRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const k = repeatAt !== undefined && i === repeatAt ? 0 : i;
    return {
      timestamp: new Date(Date.UTC(2024, 0, 2) + k),
      instrument_id: 5002,
      symbol: 'ESH4',
      price: `4780.${String(i % 100).padStart(2, '0')}`,
      size: 1 + (i % 7),
      side: i % 2 ? 'B' : 'S',
      trade_id: `t${k}`,
    } as TradeRecord;
  });
}

async function batchOf(records: TradeRecord[]): Promise<PreparedBatch> {
  for await (const b of new RecordSource<TradeRecord>([records]).prepare(tradesData, records.length, () => false)) {
    if (!('skipped' in b)) return b;
  }
  throw new Error('no batch');
}

function rowByRow(batch: PreparedBatch): Buffer {
  const w = new BinaryCopyWriter({ chunkSize: Number.POSITIVE_INFINITY });
  for (let r = 0; r < batch.rowCount; r++) batch.encodeRow(w, r);
  return w.finish();
}

describe('encodeAhead', () => {
  it('a batch of JS records carries its COPY bytes from production: the same bytes as encoding its rows again', async () => {
    const batch = await batchOf(trades(5_000));
    const enc = encodedBatch(
      batch,
      columns.map((c) => c.name),
    );
    expect(enc).toBeDefined();
    expect(Buffer.compare(enc!.bytes, rowByRow(batch))).toBe(0); // rowByRow re-normalizes each original record
    // Encoded for other columns (a staging table with another column list): not used.
    expect(
      encodedBatch(
        batch,
        columns.slice(1).map((c) => c.name),
      ),
    ).toBeUndefined();
  });

  it('encodes a batch its producer did not encode, in slices, to the same bytes', async () => {
    const source = await batchOf(trades(5_000));
    const bare: PreparedBatch = {
      batchNo: 0,
      recordsIn: source.recordsIn,
      rowCount: source.rowCount,
      rejections: [],
      minTime: source.minTime,
      maxTime: source.maxTime,
      instrumentIds: source.instrumentIds,
      encodeRow: (w, i) => source.encodeRow(w, i),
      rowValues: (i) => source.rowValues(i),
      rowOrigin: (i) => source.rowOrigin(i),
    };
    expect(
      encodedBatch(
        bare,
        columns.map((c) => c.name),
      ),
    ).toBeUndefined();
    let paces = 0;
    await encodeAhead(bare, columns, tradesData.naturalKey, () => {
      paces += 1;
      return yieldToIo();
    });
    const enc = encodedBatch(
      bare,
      columns.map((c) => c.name),
    );
    expect(Buffer.compare(enc!.bytes, rowByRow(source))).toBe(0);
    expect(enc!.mayRepeatKey).toBe(false);
    expect(paces).toBeGreaterThanOrEqual(2); // 5,000 rows are encoded in several slices
  });

  it('answers "may two rows share the natural key" like the uncached check', async () => {
    for (const repeatAt of [undefined, 1, 999]) {
      const cached = await batchOf(trades(1_000, repeatAt));
      const plain = await batchOf(trades(1_000, repeatAt));
      await encodeAhead(cached, columns, tradesData.naturalKey, yieldToIo);
      expect(
        encodedBatch(
          cached,
          columns.map((c) => c.name),
        )!.mayRepeatKey,
      ).toBe(repeatAt !== undefined);
      expect(mayRepeatKey(cached, columns, tradesData.naturalKey)).toBe(repeatAt !== undefined);
      expect(mayRepeatKey(plain, columns, tradesData.naturalKey)).toBe(repeatAt !== undefined);
    }
  });
});
