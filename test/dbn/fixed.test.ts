import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFixed, isI64Max, isU64Max, newFixedParts, readFixedParts, readMicros } from '../../src/dbn/index.js';

const I64_MAX = (1n << 63n) - 1n;

function viewOf(v: bigint, signed: boolean): DataView {
  const d = new DataView(new ArrayBuffer(8));
  if (signed) d.setBigInt64(0, v, true);
  else d.setBigUint64(0, v, true);
  return d;
}

describe('allocation-free 64-bit readers', () => {
  it('readFixedParts splits every i64 exactly (sign, units, nanos)', () => {
    const out = newFixedParts();
    fc.assert(
      fc.property(fc.oneof(fc.bigInt(-(1n << 63n), I64_MAX - 1n), fc.bigInt(-10_000_000_000n, 10_000_000_000n)), (v) => {
        expect(readFixedParts(viewOf(v, true), 0, out)).toBe(true);
        const [sign, units, nanos] = out;
        expect(Number.isInteger(units) && Number.isInteger(nanos) && nanos! >= 0 && nanos! < 1e9).toBe(true);
        expect(BigInt(sign!) * (BigInt(units!) * 1_000_000_000n + BigInt(nanos!))).toBe(v === 0n ? 0n : v);
        expect(`${v < 0n ? '-' : ''}${units}.${String(nanos).padStart(9, '0')}`).toBe(formatFixed(v));
      }),
      { numRuns: 5000 },
    );
  });

  it('UNDEF_PRICE is reported, not split', () => {
    const out = newFixedParts();
    expect(readFixedParts(viewOf(I64_MAX, true), 0, out)).toBe(false);
    expect(isI64Max(viewOf(I64_MAX, true), 0)).toBe(true);
    expect(isI64Max(viewOf(I64_MAX - 1n, true), 0)).toBe(false);
  });

  it('readMicros is floor(ns / 1000) for every timestamp below 2^53 µs; NaN for UNDEF', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, (1n << 53n) * 1000n - 1n), (ns) => {
        expect(readMicros(viewOf(ns, false), 0)).toBe(Number(ns / 1000n));
      }),
      { numRuns: 5000 },
    );
    expect(readMicros(viewOf((1n << 64n) - 1n, false), 0)).toBeNaN();
    expect(isU64Max(viewOf((1n << 64n) - 1n, false), 0)).toBe(true);
    // Truncation, not rounding: .0000015 s stays 1 µs.
    expect(readMicros(viewOf(1_500n, false), 0)).toBe(1);
    expect(readMicros(viewOf(1_609_160_400_099_150_057n, false), 0)).toBe(1_609_160_400_099_150);
  });
});
