/**
 * The decoder-facing writer methods (no BigInt per value) must produce exactly the bytes of the
 * general methods they shortcut.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BinaryCopyWriter } from '../../src/copy/binary-writer.js';
import { rescaleFixed } from '../../src/copy/numeric.js';

function bytes(fn: (w: BinaryCopyWriter) => void): Buffer {
  const w = new BinaryCopyWriter({ chunkSize: Infinity });
  w.beginRow(1);
  fn(w);
  return w.finish();
}

function parts(v: bigint): [number, number, number] {
  const sign = v < 0n ? -1 : 1;
  const m = v < 0n ? -v : v;
  return [sign, Number(m / 1_000_000_000n), Number(m % 1_000_000_000n)];
}

const INT64_MAX = 2n ** 63n - 2n; // i64::MAX itself is DBN's UNDEF_PRICE, never encoded

describe('numericFromNanoParts', () => {
  const check = (v: bigint) => {
    const [s, u, n] = parts(v);
    expect(bytes((w) => w.numericFromNanoParts(s, u, n)).toString('hex'), `value ${v}`)
      .toBe(bytes((w) => w.numeric(rescaleFixed(v, 9, 8), 8)).toString('hex'));
  };

  it('matches numeric(rescaleFixed(v, 9, 8), 8) at the edges', () => {
    const edges = [0n, 1n, 4n, 5n, 9n, 10n, -4n, -5n, -15n, 999_999_995n, 999_999_994n, -999_999_995n,
      1_000_000_000n, 10_000_000_000_000n, 123_456_785n, 123_456_775n, 100_000_000_000_000n,
      999_999_999_999_999_999_990n / 1000n, INT64_MAX, -INT64_MAX, 372_025_000_000_000n, 10_000n, 100_000n, 1_000_050_000n];
    for (const v of edges) check(v);
  });

  it('matches for random 64-bit fixed-point values', () => {
    fc.assert(fc.property(fc.bigInt({ min: -INT64_MAX, max: INT64_MAX }), (v) => { check(v); }), { numRuns: 3000 });
    fc.assert(fc.property(fc.bigInt({ min: -10_000_000_000_000n, max: 10_000_000_000_000n }), (v) => { check(v); }), { numRuns: 3000 });
  });
});

describe('timestamptzNumber and int8Number', () => {
  it('match the bigint methods', () => {
    fc.assert(fc.property(fc.integer({ min: -8_000_000_000_000_000, max: 8_000_000_000_000_000 }), (us) => {
      const n = Math.trunc(us);
      expect(bytes((w) => w.timestamptzNumber(n))).toEqual(bytes((w) => w.timestamptz(BigInt(n))));
      expect(bytes((w) => w.int8Number(n))).toEqual(bytes((w) => w.int8(BigInt(n))));
    }), { numRuns: 3000 });
    for (const n of [0, 1, -1, 946_684_800_000_000, 4294967295, 4294967296, -4294967296, 8_000_000_000_000_000, -8_000_000_000_000_000]) {
      expect(bytes((w) => w.timestamptzNumber(n))).toEqual(bytes((w) => w.timestamptz(BigInt(n))));
    }
    for (const n of [0, 1, -1, 4294967295, 4294967296, -4294967296, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
      expect(bytes((w) => w.int8Number(n))).toEqual(bytes((w) => w.int8(BigInt(n))));
    }
  });
});

describe('textIdPair', () => {
  it('matches text(`${a}:${b}`)', () => {
    for (const [a, b] of [[0, 0], [1, 9], [10, 100], [65535, 4294967295], [7, 1170380], [Number.MAX_SAFE_INTEGER, 12]]) {
      expect(bytes((w) => w.textIdPair(a!, b!))).toEqual(bytes((w) => w.text(`${a}:${b}`)));
    }
    fc.assert(fc.property(fc.nat(), fc.nat(), (a, b) => {
      expect(bytes((w) => w.textIdPair(a, b))).toEqual(bytes((w) => w.text(`${a}:${b}`)));
    }), { numRuns: 2000 });
  });
});
