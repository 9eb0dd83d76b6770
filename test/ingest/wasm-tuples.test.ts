/**
 * The WebAssembly tuple kernels (assembly/tuple-kernels.ts) against the JS codecs they replace
 * (encodeTupleBlock + fastCodecFor, themselves proven equal to the generic path in
 * fast-path.test.ts): the same tuple bytes, `ends` and `timeUs` for any records, edge values
 * included, at any offsets, with symbols of every length and a symbol list that grows between calls.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTupleBlock, fastCodecFor, SymbolFields } from '../../src/ingest/fast-codecs.js';
import { wasmTupleEncoder, wasmTuplesAvailable } from '../../src/ingest/wasm-tuples.js';
import { tupleBlockEncoder } from '../../src/ingest/tuple-encoder.js';

const I64_MAX = 0x7fffffffffffffffn;
/** Mostly values the fast path takes (so both outcomes are common), then edge and wild values. */
const often = <T>(usual: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: usual, weight: 9 }, { arbitrary: rare, weight: 1 });
const price = often(
  fc.oneof(
    fc.bigInt({ min: 4_000_000_000_000n, max: 5_000_000_000_000n }).map((v) => v - (v % 250_000_000n)),
    fc.bigInt({ min: 5n, max: 2n ** 53n - 1n }),
  ),
  fc.oneof(
    fc.constantFrom(
      I64_MAX,
      -I64_MAX - 1n,
      0n,
      1n,
      4n,
      5n,
      6n,
      9n,
      10n,
      14n,
      15n,
      95n,
      -5n,
      999_999_995n,
      4_780_250_000_005n,
      4_780_250_000_004n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 53n - 5n,
      2n ** 53n - 6n,
      10_000_000_000_000n,
      99_999_999_999_995n,
    ),
    fc.bigInt({ min: -I64_MAX - 1n, max: I64_MAX }),
  ),
);
const u32 = fc.oneof(
  fc.constantFrom(0, 1, 9, 10, 9999, 10000, 99_999_999, 100_000_000, 2_147_483_647, 2_147_483_648, 4_294_967_295),
  fc.integer({ min: 0, max: 4_294_967_295 }),
);
const positive = often(fc.integer({ min: 1, max: 100_000 }), u32);
const record = fc.record({
  id: often(fc.integer({ min: 0, max: 2_147_483_647 }), u32),
  ts: often(
    fc.bigInt({ min: 0n, max: 7_999_999_999_999_999_999n }),
    fc.oneof(
      fc.constantFrom(0n, 999n, 1000n, 7_999_999_999_999_999_999n, 8_000_000_000_000_000_000n, 2n ** 64n - 1n),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    ),
  ),
  price,
  ask: price,
  size: positive,
  bidSz: positive,
  askSz: positive,
  side: often(fc.constantFrom(65, 66, 78), fc.constantFrom(97, 0, 64, 67, 79)), // A, B, N stored; others go generic
  publisher: fc.integer({ min: 0, max: 65_535 }),
  sequence: u32,
  gap: fc.constantFrom(0, 0, 0, 4, 8, 12),
  sym: often(fc.integer({ min: 0, max: 7 }), fc.constant(-1)),
});
type Rec = typeof record extends fc.Arbitrary<infer T> ? T : never;

const SYMBOLS = ['ESH4', 'A', 'ES.c.0 ~|{}()', 'ABCDEFGHIJK', 'ABCDEFGHIJKL', 'Ünïcødé €', 'Z'.repeat(50), 'NQM4 C18000'];

/** Records laid out back to back (with gaps), trades (48 bytes) or MBP-1 (80 bytes). */
function layOut(rs: Rec[], size: 48 | 80): { bytes: Uint8Array; offsets: Int32Array } {
  const total = rs.reduce((n, r) => n + size + r.gap, 0);
  const b = Buffer.alloc(total);
  const offsets = new Int32Array(rs.length);
  let o = 0;
  rs.forEach((r, i) => {
    o += r.gap;
    offsets[i] = o;
    b[o] = size / 4;
    b[o + 1] = size === 48 ? 0 : 1;
    b.writeUInt16LE(r.publisher, o + 2);
    b.writeUInt32LE(r.id, o + 4);
    b.writeBigUInt64LE(r.ts, o + 8);
    b.writeBigInt64LE(r.price, o + 16);
    b.writeUInt32LE(r.size, o + 24);
    b[o + 28] = 84;
    b[o + 29] = r.side;
    b.writeBigUInt64LE(r.ts, o + 32);
    b.writeUInt32LE(r.sequence, o + 44);
    if (size === 80) {
      b.writeBigInt64LE(r.price, o + 48);
      b.writeBigInt64LE(r.ask, o + 56);
      b.writeUInt32LE(r.bidSz, o + 64);
      b.writeUInt32LE(r.askSz, o + 68);
    }
    o += size;
  });
  return { bytes: b, offsets };
}

describe('WebAssembly tuple kernels', () => {
  it('are built (npm run build) and used by default for trades and tbbo', () => {
    expect(wasmTuplesAvailable()).toBe(true);
    expect(wasmTupleEncoder('trades_data')).toBeTypeOf('function');
    expect(wasmTupleEncoder('tbbo_data')).toBeTypeOf('function');
    expect(wasmTupleEncoder('ohlcv_data')).toBeUndefined();
  });

  for (const [table, size] of [
    ['trades_data', 48],
    ['tbbo_data', 80],
  ] as const) {
    it(`${table}: the same bytes, ends and timeUs as the JS codec`, () => {
      const wasm = wasmTupleEncoder(table)!;
      const codec = fastCodecFor(table)!;
      const symbols = new SymbolFields();
      let calls = 0;
      let tuples = 0;
      let declined = 0;
      fc.assert(
        fc.property(fc.array(record, { minLength: 0, maxLength: 300, size: 'max' }), (rs) => {
          // The symbol list grows as the run goes on, as it does over a file.
          const known = Math.min(SYMBOLS.length, 2 + (calls++ >> 2));
          const syms = Int32Array.from(rs, (r) => (r.sym < 0 ? -1 : symbols.indexOf(SYMBOLS[r.sym % known]!)));
          const { bytes, offsets } = layOut(rs, size);
          const js = encodeTupleBlock(codec, bytes, offsets, syms, symbols.all);
          const got = wasm(bytes, offsets, syms, symbols.all, new Float64Array(rs.length + 3));
          expect(Buffer.from(got.bytes).equals(Buffer.from(js.bytes))).toBe(true);
          expect([...got.ends]).toEqual([...js.ends]);
          expect([...got.timeUs]).toEqual([...js.timeUs]);
          if (js.ends.length > 0) expect([got.minUs, got.maxUs]).toEqual([js.minUs, js.maxUs]);
          const taken = [...js.timeUs].filter((t) => t >= 0);
          if (taken.length > 0) expect([js.minUs, js.maxUs]).toEqual([Math.min(...taken), Math.max(...taken)]);
          tuples += js.ends.length;
          declined += rs.length - js.ends.length;
        }),
        { numRuns: 300 },
      );
      // Both outcomes were exercised, plenty of each.
      expect(tuples).toBeGreaterThan(2000);
      expect(declined).toBeGreaterThan(2000);
    });
  }

  it('a symbol list growing to thousands of instruments (the entry table is laid out again as it fills)', () => {
    const wasm = wasmTupleEncoder('trades_data')!;
    const codec = fastCodecFor('trades_data')!;
    const symbols = new SymbolFields();
    for (let step = 0; step < 12; step++) {
      const rs: Rec[] = Array.from({ length: 400 }, (_, i) => ({
        id: 1000 + step * 400 + i,
        ts: 1_704_067_200_000_000_000n + BigInt(i),
        price: 1_000_000_000n * BigInt(1 + i),
        ask: 0n,
        size: 1,
        bidSz: 0,
        askSz: 0,
        side: 66,
        publisher: 1,
        sequence: i,
        gap: 0,
        sym: 0,
      }));
      // 400 new instruments per call, symbols of every length up to 50.
      const syms = Int32Array.from(rs, (r) => symbols.indexOf(`S${r.id}`.padEnd(1 + (r.id % 50), 'x'), r.id));
      const { bytes, offsets } = layOut(rs, 48);
      const js = encodeTupleBlock(codec, bytes, offsets, syms, symbols.all);
      const got = wasm(bytes, offsets, syms, symbols.all);
      expect(Buffer.from(got.bytes).equals(Buffer.from(js.bytes))).toBe(true);
      expect(got.ends.length).toBe(400);
    }
    expect(symbols.all.length).toBe(4800);
  });

  it('grows its memory for a large batch and keeps earlier blocks intact', () => {
    const wasm = wasmTupleEncoder('trades_data')!;
    const codec = fastCodecFor('trades_data')!;
    const symbols = new SymbolFields();
    const syms = new Int32Array(200_000).fill(symbols.indexOf('ESH4'));
    const rs: Rec[] = Array.from({ length: 200_000 }, (_, i) => ({
      id: 5482,
      ts: 1_704_067_200_000_000_000n + BigInt(i) * 4_000_123n,
      price: 4_750_250_000_000n + BigInt(i % 40) * 250_000_000n,
      ask: 0n,
      size: 1 + (i % 200),
      bidSz: 0,
      askSz: 0,
      side: i % 2 ? 65 : 66,
      publisher: 1,
      sequence: i * 7919,
      gap: 0,
      sym: 0,
    }));
    const small = layOut(rs.slice(0, 10), 48);
    const first = wasm(small.bytes, small.offsets, syms.subarray(0, 10), symbols.all);
    const firstCopy = Buffer.from(first.bytes);
    const big = layOut(rs, 48);
    const got = wasm(big.bytes, big.offsets, syms, symbols.all);
    const js = encodeTupleBlock(codec, big.bytes, big.offsets, syms, symbols.all);
    expect(got.ends.length).toBe(200_000);
    expect(Buffer.from(got.bytes).equals(Buffer.from(js.bytes))).toBe(true);
    expect(Buffer.from(first.bytes).equals(firstCopy)).toBe(true);
  });

  it('TICKVAULT_WASM=0 falls back to the JS codec', () => {
    const before = process.env.TICKVAULT_WASM;
    process.env.TICKVAULT_WASM = '0';
    try {
      expect(wasmTupleEncoder('trades_data')).toBeUndefined();
      expect(tupleBlockEncoder('trades_data')).toBeTypeOf('function');
    } finally {
      if (before === undefined) delete process.env.TICKVAULT_WASM;
      else process.env.TICKVAULT_WASM = before;
    }
  });
});
