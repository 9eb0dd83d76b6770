/**
 * The tuple-at-offset field writers (tuple-fields.ts) must write exactly the bytes of the general
 * BinaryCopyWriter methods they stand in for, and appendEncoded must produce the same stream as
 * writing the rows in place, however rows, chunks and ranges interleave.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from '../../src/copy/index.js';
import { rescaleFixed } from '../../src/copy/numeric.js';
import {
  fieldWords,
  nanosTo8,
  putAsciiChar,
  putField,
  putIdPair,
  putInt4,
  putInt8U32,
  putNumeric8,
  putRowHeadAndTimestamp,
  putTimestampUs,
} from '../../src/copy/tuple-fields.js';

/** The field bytes a writer method produces (no header, row count or trailer). */
function viaWriter(fn: (w: BinaryCopyWriter) => void): string {
  const w = new BinaryCopyWriter({ chunkSize: Infinity });
  w.beginRow(1);
  fn(w);
  const all = w.finish();
  return all.subarray(21, all.length - 2).toString('hex');
}

/** The bytes a tuple writer produces at an offset inside a buffer of noise. */
function viaTuple(fn: (b: Uint8Array, d: DataView, p: number) => number): string {
  const b = new Uint8Array(512).fill(0xa5);
  const end = fn(b, new DataView(b.buffer), 7);
  return Buffer.from(b.subarray(7, end)).toString('hex');
}

const u32 = fc.integer({ min: 0, max: 4_294_967_295 });

describe('tuple field writers equal the writer methods', () => {
  it('timestamps (alone and after a row head)', () => {
    const check = (us: number) => {
      const ref = viaWriter((w) => w.timestamptz(BigInt(us)));
      expect(viaTuple((_b, d, p) => putTimestampUs(d, p, us))).toBe(ref);
      expect(viaTuple((_b, d, p) => putRowHeadAndTimestamp(d, p, 7, us))).toBe(`0007${ref}`);
    };
    for (const us of [
      0, 1, 946_684_799_999_999, 946_684_800_000_000, 946_684_800_000_001, 1_704_189_600_000_000, 7_999_999_999_999_999, 4_294_967_295,
      4_294_967_296,
    ])
      check(us);
    fc.assert(fc.property(fc.integer({ min: 0, max: 7_999_999_999_999_999 }), check), { numRuns: 3000 });
  });

  it('INTEGER, BIGINT from u32, CHAR(1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_147_483_647 }), u32, fc.constantFrom('S', 'B', 'A', 'N'), (i, n, c) => {
        expect(viaTuple((_b, d, p) => putInt4(d, p, i))).toBe(viaWriter((w) => w.int4(i)));
        expect(viaTuple((_b, d, p) => putInt8U32(d, p, n))).toBe(viaWriter((w) => w.int8(BigInt(n))));
        expect(viaTuple((_b, d, p) => putAsciiChar(d, p, c.charCodeAt(0)))).toBe(viaWriter((w) => w.char(c)));
      }),
      { numRuns: 2000 },
    );
  });

  it('NUMERIC(20,8) from positive nanos below 2^53, rounding the 9th decimal like rescaleFixed', () => {
    const check = (v: bigint) => {
      expect(
        viaTuple((_b, d, p) => putNumeric8(d, p, nanosTo8(Number(v)))),
        `value ${v}`,
      ).toBe(viaWriter((w) => w.numeric(rescaleFixed(v, 9, 8), 8)));
    };
    const edges = [
      5n,
      9n,
      10n,
      14n,
      15n,
      99_995n,
      999_999_995n,
      999_999_994n,
      1_000_000_000n,
      4_780_250_000_005n,
      4_780_250_000_004n,
      10_000_000_000_000n,
      100_000_000_000_000n,
      100_000_000_005n,
      1_000_050_000n,
      2n ** 53n - 1n,
      2n ** 53n - 5n,
      9_999_999_999_999_995n,
    ];
    for (const v of edges) if (v < 2n ** 53n) check(v);
    fc.assert(fc.property(fc.bigInt({ min: 5n, max: 2n ** 53n - 1n }), check), { numRuns: 4000 });
    fc.assert(fc.property(fc.bigInt({ min: 5n, max: 100_000_000_000_000n }), check), { numRuns: 4000 });
  });

  it('trade ids "<a>:<b>" for any two u32s', () => {
    for (const [a, b] of [
      [0, 0],
      [1, 9],
      [10, 100],
      [65535, 4_294_967_295],
      [7, 1_170_380],
      [9999, 10000],
      [4_294_967_295, 0],
    ]) {
      expect(viaTuple((_b, d, p) => putIdPair(d, p, a!, b!))).toBe(viaWriter((w) => w.text(`${a}:${b}`)));
    }
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        expect(viaTuple((_b, d, p) => putIdPair(d, p, a, b))).toBe(viaWriter((w) => w.text(`${a}:${b}`)));
      }),
      { numRuns: 3000 },
    );
  });

  it('pre-encoded fields, as words or bytes', () => {
    const field = (s: string) => {
      const w = new BinaryCopyWriter({ chunkSize: Infinity });
      w.beginRow(1);
      w.text(s);
      const all = w.finish();
      return Uint8Array.from(all.subarray(21, all.length - 2));
    };
    const strings = ['', 'E', 'ESH4', 'ESH4 C4500', 'ABCDEFGHIJKL', 'Ünïcødé', 'x'.repeat(50), '\u007f\u{1F600}\u007f\u{1F600}'];
    for (const s of strings) {
      const f = fieldWords(field(s));
      expect(
        viaTuple((b, d, p) => putField(b, d, p, f)),
        s,
      ).toBe(viaWriter((w) => w.text(s)));
    }
    // A NaN bit pattern cannot be trusted to a double: such a field falls back to bytes.
    const nan = fieldWords(new Uint8Array([0x7f, 0xf8, 0, 1, 2, 3, 4, 5, 0xff, 0xf1, 1, 1, 1, 1, 1, 1]));
    expect(viaTuple((b, d, p) => putField(b, d, p, nan))).toBe('7ff8000102030405fff1010101010101');
  });
});

describe('BinaryCopyWriter.appendEncoded', () => {
  const tuple = (k: number): Buffer => {
    const w = new BinaryCopyWriter({ chunkSize: Infinity });
    w.beginRow(2);
    w.int4(k);
    w.text(`row ${k}`);
    const all = w.finish();
    return all.subarray(19, all.length - 2);
  };

  it('streams the same bytes as writing the rows in place, whatever the mix and chunk size', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ how: fc.constantFrom('inplace', 'blockA', 'blockB'), k: fc.nat(1000) }), { maxLength: 60 }),
        fc.constantFrom(1, 7, 40, 1 << 20),
        (rows, chunkSize) => {
          // Two blocks of pre-encoded tuples; rows refer to consecutive or scattered ranges of them.
          const blocks = { blockA: rows.map((r) => tuple(r.k)), blockB: rows.map((r) => tuple(r.k + 1)) };
          const flat = { blockA: Buffer.concat(blocks.blockA), blockB: Buffer.concat(blocks.blockB) };
          const starts = (list: Buffer[]) => {
            let p = 0;
            return list.map((b) => {
              const s = p;
              p += b.length;
              return s;
            });
          };
          const at = { blockA: starts(blocks.blockA), blockB: starts(blocks.blockB) };
          const ref = new BinaryCopyWriter({ chunkSize: Infinity });
          const w = new BinaryCopyWriter({ chunkSize });
          const chunks: Buffer[] = [];
          rows.forEach((r, i) => {
            if (r.how === 'inplace') {
              ref.beginRow(2);
              ref.int4(r.k);
              ref.text(`row ${r.k}`);
              w.beginRow(2);
              w.int4(r.k);
              w.text(`row ${r.k}`);
            } else {
              const t = blocks[r.how][i]!;
              ref.beginRow(2);
              ref.int4(r.how === 'blockA' ? r.k : r.k + 1);
              ref.text(`row ${r.how === 'blockA' ? r.k : r.k + 1}`);
              w.appendEncoded(flat[r.how], at[r.how][i]!, at[r.how][i]! + t.length);
            }
            const c = w.takeChunk();
            if (c) chunks.push(Buffer.from(c));
          });
          expect(w.rowCount).toBe(rows.length);
          chunks.push(w.finish());
          expect(Buffer.concat(chunks).toString('hex')).toBe(ref.finish().toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('hands out a run of pre-encoded rows without copying it, and counts it as pending', () => {
    const block = Buffer.concat([tuple(1), tuple(2), tuple(3)]);
    const w = new BinaryCopyWriter({ chunkSize: 16 });
    w.beginRow(2);
    w.int4(0);
    w.text('x');
    expect(w.takeChunk()!.length).toBe(19 + 2 + 8 + 5); // header + the in-place row
    const t1 = tuple(1).length;
    w.appendEncoded(block, 0, t1);
    w.appendEncoded(block, t1, block.length, 2);
    expect(w.pendingBytes).toBe(block.length);
    expect(w.rowCount).toBe(4);
    const c = w.takeChunk()!;
    expect(c.buffer).toBe(block.buffer); // a view, not a copy
    expect(c.toString('hex')).toBe(block.toString('hex'));
    expect(() => w.abortRow()).toThrow();
    expect(w.finish().toString('hex')).toBe('ffff');
  });
});
