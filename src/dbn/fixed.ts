/**
 * Allocation-free readers for DBN's 64-bit integers. BigInt reads allocate one heap object per
 * call, which is what the hot path must avoid; these helpers split the value with exact double
 * arithmetic instead (every intermediate stays below 2^53).
 */

/** Scratch layout filled by {@link readFixedParts}: [sign (1 | -1), whole units, nanos 0..999_999_999]. */
export type FixedParts = Float64Array;
export function newFixedParts(): FixedParts {
  return new Float64Array(3);
}

/** True when the i64 at `off` is i64::MAX (UNDEF_PRICE, UNDEF_STAT_QUANTITY). */
export function isI64Max(view: DataView, off: number): boolean {
  return view.getInt32(off + 4, true) === 0x7fffffff && view.getUint32(off, true) === 0xffffffff;
}

/** True when the u64 at `off` is u64::MAX (UNDEF_TIMESTAMP). */
export function isU64Max(view: DataView, off: number): boolean {
  return view.getUint32(off + 4, true) === 0xffffffff && view.getUint32(off, true) === 0xffffffff;
}

/**
 * Splits the fixed-point (1e-9) i64 at `off` into sign, whole units and nanos, exactly.
 * Returns false (and leaves `out` untouched) for UNDEF_PRICE. This is the form a NUMERIC
 * encoder wants: base-10000 digits come from two exact doubles, no BigInt, no float rounding.
 */
export function readFixedParts(view: DataView, off: number, out: FixedParts): boolean {
  let lo = view.getUint32(off, true);
  let hi = view.getInt32(off + 4, true);
  if (hi === 0x7fffffff && lo === 0xffffffff) return false;
  let sign = 1;
  if (hi < 0) {
    // Two's-complement negate across both halves; hi becomes the unsigned magnitude (i64::MIN ok).
    sign = -1;
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  // |v| = hh*2^48 + hl*2^32 + lo with 2^48 = 281474*1e9 + 976710656 and 2^32 = 4*1e9 + 294967296,
  // so the remainder term stays below 5.2e13 (< 2^53) and everything is exact.
  const hh = hi >>> 16;
  const hl = hi & 0xffff;
  const r = hh * 976710656 + hl * 294967296 + lo;
  // floor(r / 1e9) is exact: r < 2^53 and r/1e9 can never round up to the next integer.
  // (Not `r % 1e9`: on doubles V8 calls fmod, which was ~3x slower in bench/decode-bench.ts.)
  const q = Math.floor(r / 1e9);
  out[0] = sign;
  out[1] = hh * 281474 + hl * 4 + q;
  out[2] = r - q * 1e9;
  return true;
}

/**
 * u64 nanoseconds at `off` -> microseconds (floor), as an exact double; NaN for UNDEF_TIMESTAMP.
 * Exact for every timestamp below 2^53 µs (year 2255). PostgreSQL TIMESTAMPTZ keeps µs, and
 * the reference asks for explicit truncation (ns // 1000) rather than the server's rounding.
 */
export function readMicros(view: DataView, off: number): number {
  const lo = view.getUint32(off, true);
  const hi = view.getUint32(off + 4, true);
  if (hi === 0xffffffff && lo === 0xffffffff) return NaN;
  // ns = hi*2^32 + lo and 2^32 = 4294967*1000 + 296.
  const t = hi * 296 + lo;
  return hi * 4294967 + Math.floor(t / 1000);
}

/** Unsigned 64-bit as a double: exact up to 2^53, otherwise rounded (callers check). */
export function readU64Number(view: DataView, off: number): number {
  return view.getUint32(off + 4, true) * 4294967296 + view.getUint32(off, true);
}

/** Signed 64-bit as a double: exact within ±2^53. */
export function readI64Number(view: DataView, off: number): number {
  return view.getInt32(off + 4, true) * 4294967296 + view.getUint32(off, true);
}

/** Exact text of a 1e-9 fixed-point value: "-12.345000000" style (9 decimals), for display/tests. */
export function formatFixed(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const whole = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, '0');
  return `${neg ? '-' : ''}${whole}.${frac}`;
}
