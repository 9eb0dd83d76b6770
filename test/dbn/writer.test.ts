import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DbnFormatError,
  type DbnRecord,
  type DbnVersion,
  type TradeRecord,
  type WriteDbnOptions,
  TradeCursor,
  newFixedParts,
  openDbn,
  writeDbn,
  zstdCliAvailable,
} from '../../src/dbn/index.js';
import { fixture, fixtureFiles, readAll } from '../support/fixtures.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'tickvault-dbn-writer-'));
const hasZstd = zstdCliAvailable();

/** Rewrites a decoded file with writeDbn, keeping its metadata. */
async function rewrite(
  file: string,
  version: DbnVersion,
  extra: Partial<WriteDbnOptions> = {},
): Promise<{ records: DbnRecord[]; out: Uint8Array }> {
  const { records, decoder } = await readAll(fixture(file));
  const md = decoder.metadata;
  const res = await writeDbn({
    version,
    schema: md.schema,
    records,
    dataset: md.dataset,
    start: md.start,
    end: md.end,
    limit: md.limit,
    stypeIn: md.stypeIn,
    stypeOut: md.stypeOut,
    symbols: md.symbols,
    partial: md.partial,
    notFound: md.notFound,
    mappings: md.mappings,
    ...extra,
  });
  return { records, out: res.bytes! };
}

const pick = (r: DbnRecord, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(keys.map((k) => [k, (r as unknown as Record<string, unknown>)[k]]));

describe('writeDbn round trips through the decoder', () => {
  const files = fixtureFiles();
  it.each(files)('%s: byte-identical DBN when rewritten in its own version', async (file) => {
    const { decoder } = await readAll(fixture(file));
    const { out } = await rewrite(file, decoder.metadata.version);
    const original = file.endsWith('.zst')
      ? (await import('node:child_process')).execFileSync('zstd', ['-dc', fixture(file)])
      : readFileSync(fixture(file));
    const expected = Buffer.from(original);
    if (decoder.metadata.version === 1 && decoder.metadata.schemaName === 'definition') {
      // v1 InstrumentDefMsg has a reserved i32 at 156 that upstream files fill with i32::MAX; we write 0.
      for (let o = decoder.metadata.headerLength; o < expected.length; o += 360) expected.fill(0, o + 156, o + 160);
    }
    expect(Buffer.from(out).equals(expected)).toBe(true);
    const again = await readAll(out);
    expect(again.records).toEqual((await readAll(fixture(file))).records);
    expect({ ...again.decoder.metadata }).toEqual({ ...decoder.metadata });
  });

  it.each([1, 2, 3] as const)('every record kind converts to v%i and back with the same common fields', async (v) => {
    for (const file of [
      'test_data.definition.v3.dbn.zst',
      'test_data.statistics.v3.dbn.zst',
      'databento-python/LIVE/test_data.live.dbn.zst',
      'test_data.imbalance.v3.dbn.zst',
      'test_data.status.v3.dbn.zst',
      'test_data.tbbo.v3.dbn.zst',
      'test_data.ohlcv-1m.v3.dbn.zst',
    ]) {
      const { records, out } = await rewrite(file, v);
      const back = (await readAll(out)).records;
      expect(back.length).toBe(records.length);
      expect(out[3]).toBe(v);
      back.forEach((r, i) => {
        // v1 symbol-mapping records have no stype bytes: they read back as null.
        const keys = Object.keys(r).filter((k) => k in records[i]! && !(v === 1 && (k === 'stypeIn' || k === 'stypeOut')));
        expect(pick(r, keys), `${file} #${i}`).toEqual(pick(records[i]!, keys));
      });
    }
  });

  it('ts_out: each record carries 8 more bytes and the value reads back on both paths', async () => {
    const recs = (await readAll(fixture('test_data.trades.v3.dbn.zst'))).records.map((r, i) => ({
      ...r,
      tsOut: 1700000000000000000n + BigInt(i),
    }));
    for (const v of [1, 2, 3] as const) {
      const { bytes } = await writeDbn({ version: v, schema: 'trades', records: recs, tsOut: true });
      const d = await openDbn(bytes!);
      expect(d.metadata.tsOut).toBe(true);
      const c = new TradeCursor();
      for await (const b of d.batches()) {
        c.reset(b);
        expect(b.tsOut).toBe(true);
        c.at(1);
        expect([c.length, c.tsOut, c.tsOutUs, c.price, c.size, c.sequence]).toEqual([
          56,
          1700000000000000001n,
          1700000000000000,
          3720250000000n,
          21,
          1170414,
        ]);
      }
      expect((await readAll(bytes!)).records).toEqual(recs);
    }
  });

  it.runIf(hasZstd)('multi-frame zstd decodes across every frame with both engines', async () => {
    const recs = synthTrades(5000);
    const p = path.join(tmp, 'multi.dbn.zst');
    const res = await writeDbn({
      version: 3,
      schema: 'trades',
      records: recs,
      compress: 'zstd',
      multiFrame: true,
      frameBytes: 10_000,
      path: p,
    });
    expect(res.frames).toBe(Math.ceil(res.dbnBytes / 10_000));
    expect(res.frames).toBeGreaterThan(20);
    const file = readFileSync(p);
    let magics = 0;
    for (let i = 0; i + 3 < file.length; i++)
      if (file[i] === 0x28 && file[i + 1] === 0xb5 && file[i + 2] === 0x2f && file[i + 3] === 0xfd) magics++;
    expect(magics).toBeGreaterThanOrEqual(res.frames);
    for (const engine of ['cli', 'js'] as const) {
      for (const input of [p, new Uint8Array(file)]) {
        const got = (await readAll(input, { zstd: engine, batchBytes: 4096, readChunkBytes: 777 })).records;
        expect(got.length).toBe(5000);
        expect(got).toEqual(recs);
      }
    }
  });

  it.runIf(hasZstd)('streams a larger file to disk and reads it back through the worker reader', async () => {
    const n = 300_000;
    const p = path.join(tmp, 'big.dbn.zst');
    const res = await writeDbn({ version: 3, schema: 'trades', records: synthTradesLazy(n), compress: 'zstd', zstdLevel: 1, path: p });
    expect(res.records).toBe(n);
    expect(statSync(p).size).toBeGreaterThan(1 << 20); // large enough for the worker-thread path
    const d = await openDbn(p);
    const c = new TradeCursor();
    const parts = newFixedParts();
    let count = 0;
    let seqSum = 0;
    let ok = true;
    for await (const b of d.batches()) {
      c.reset(b);
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        const seq = c.sequence;
        c.priceParts(parts);
        ok &&=
          parts[0]! * (parts[1]! * 1e9 + parts[2]!) === Number(tradePrice(seq)) && c.tsRecvUs === Number((tradeTs(seq) + 500n) / 1000n);
        seqSum += seq;
        count++;
      }
    }
    expect(ok).toBe(true);
    expect(count).toBe(n);
    expect(seqSum).toBe((n * (n - 1)) / 2);
    expect(d.rtypeCounts()).toEqual({ 0: n });

    // Stopping early ends the reader (no hang, no leaked worker or child).
    const early = await openDbn(p);
    for await (const b of early.batches()) {
      expect(b.count).toBeGreaterThan(0);
      break;
    }
    // A truncated big file fails through the worker path with a typed error, after the whole part.
    const cut = path.join(tmp, 'big-cut.dbn.zst');
    writeFileSync(cut, readFileSync(p).subarray(0, statSync(p).size - 1000));
    const partial = await openDbn(cut);
    let got = 0;
    const err = await (async () => {
      try {
        for await (const b of partial.batches()) got += b.count;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DbnFormatError);
    expect((err as DbnFormatError).code).toMatch(/DBN_ZSTD|DBN_TRUNCATED_RECORD/);
    expect(got).toBeGreaterThan(n / 2);
  });

  it('negative, zero and extreme prices survive exactly', async () => {
    const prices = [0n, -1n, 1n, -250000000n, 999999999n, -9223372036854775808n, 9223372036854775806n, 123456789012345678n];
    const recs = prices.map((price, i) => ({ ...synthTrades(1)[0]!, price, sequence: i }));
    const { bytes } = await writeDbn({ version: 2, schema: 'trades', records: recs });
    const d = await openDbn(bytes!);
    const c = new TradeCursor();
    const parts = newFixedParts();
    const got: bigint[] = [];
    for await (const b of d.batches()) {
      c.reset(b);
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        c.priceParts(parts);
        got.push(BigInt(parts[0]!) * (BigInt(parts[1]!) * 1_000_000_000n + BigInt(parts[2]!)));
        expect(c.price).toBe(prices[i]);
      }
    }
    expect(got).toEqual(prices);
  });

  it('refuses values the target version cannot hold', async () => {
    const [stat] = (await readAll(fixture('databento-python/LIVE/test_data.live.dbn.zst'))).records.filter((r) => r.kind === 'stat');
    await expect(writeDbn({ version: 1, schema: 'statistics', records: [{ ...stat!, quantity: 1n << 40n } as DbnRecord] })).rejects.toThrow(
      /i32/,
    );
    await expect(writeDbn({ version: 1, schema: 'trades', records: [], symbols: ['X'.repeat(30)] })).rejects.toThrow(/does not fit/);
  });
});

function tradeTs(i: number): bigint {
  return 1704067200000000000n + BigInt(i) * 1_000_123n;
}
function tradePrice(i: number): bigint {
  return 4_500_000_000_000n + BigInt(i % 997) * 250_000_000n - (i % 3 === 0 ? 7n : 0n);
}
function synthTrades(n: number): TradeRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    kind: 'trade',
    rtype: 0,
    publisherId: 1,
    instrumentId: 42 + (i % 3),
    tsEvent: tradeTs(i),
    price: tradePrice(i),
    size: 1 + (i % 100),
    action: 'T',
    side: i % 2 ? 'A' : 'B',
    flags: 128,
    depth: 0,
    tsRecv: tradeTs(i) + 500n,
    tsInDelta: 1000,
    sequence: i,
  }));
}
/** One reused object: the writer encodes each record before asking for the next. */
function* synthTradesLazy(n: number): Generator<TradeRecord> {
  const r = synthTrades(1)[0]!;
  for (let i = 0; i < n; i++) {
    r.tsEvent = tradeTs(i);
    r.tsRecv = r.tsEvent + 500n;
    r.price = tradePrice(i);
    r.sequence = i;
    yield r;
  }
}
