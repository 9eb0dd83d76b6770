/**
 * Exact NUMERIC handling: decimal text / JS numbers / DBN fixed point → scaled bigint
 * (value × 10^scale, the representation of src/schema/types.ts), and scaled bigint →
 * PostgreSQL's binary NUMERIC.
 *
 * No value ever passes through a binary float multiplication. Whenever a value has more
 * decimals than the target scale it is rounded **half away from zero** on its magnitude,
 * which is what PostgreSQL's NUMERIC input does for a DECIMAL(p,s) column
 * (0.123456785 → 0.12345679, 0.123456775 → 0.12345678, -0.123456785 → -0.12345679).
 *
 * Binary NUMERIC (numeric_send / numeric_recv):
 *   int16 ndigits, int16 weight, int16 sign (0x0000 positive, 0x4000 negative),
 *   int16 dscale, then ndigits int16 base-10000 digits, most significant first.
 *   value = Σ digit[i] × 10000^(weight − i). No leading or trailing zero digits;
 *   zero is ndigits 0, weight 0, sign positive. dscale is the number of decimals shown.
 */

import { DecimalError } from './errors.js';
import { HI, I32, I64, LO, U32 } from './int64.js';

/** Largest scale accepted (PostgreSQL's NUMERIC_MAX_DISPLAY_SCALE / max typmod scale). */
export const MAX_NUMERIC_SCALE = 1000;
/** Largest DECIMAL(p, s) precision PostgreSQL accepts (NUMERIC_MAX_PRECISION). */
export const MAX_NUMERIC_PRECISION = 1000;

/**
 * Largest |exponent| accepted in exponent notation ("1e-8"). PostgreSQL rejects exponents
 * beyond its maximum precision (1000) as well; the bound also keeps a hostile input such as
 * "1e999999999" from building a gigantic bigint.
 */
export const MAX_DECIMAL_EXPONENT = 1000;

const NBASE = 10000;
const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;

/** 10^k as exact doubles, k = 0..15 (all below 2^53). */
const POW10: readonly number[] = Array.from({ length: 16 }, (_, k) => 10 ** k);
/** Cache of 10^k as bigint. */
const POW10N: bigint[] = [];
function pow10n(k: number): bigint {
  let p = POW10N[k];
  if (p === undefined) {
    p = 10n ** BigInt(k);
    if (k <= 2 * MAX_NUMERIC_SCALE + 2) POW10N[k] = p;
  }
  return p;
}

function checkScale(scale: number, what = 'scale'): void {
  if (!Number.isInteger(scale) || scale < 0 || scale > MAX_NUMERIC_SCALE) {
    throw new RangeError(`${what} must be an integer in 0..${MAX_NUMERIC_SCALE}, got ${scale}`);
  }
}

/** Whitespace PostgreSQL's numeric input skips around a value (C isspace). */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function syntaxError(text: string): DecimalError {
  const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
  return new DecimalError('DECIMAL_SYNTAX', text, `invalid decimal number: ${JSON.stringify(shown)}`);
}

/**
 * Parses decimal text into value × 10^scale, rounding digits beyond `scale` half away from
 * zero. Accepts surrounding whitespace, an optional sign, digits with an optional point
 * ("1", "1.", ".5", "-0.25") and an optional exponent ("1e-8", "1.5E3", "2e+21").
 * Rejects anything else (NaN, Infinity, hex, underscores, empty) with a DecimalError.
 */
export function parseDecimal(text: string, scale: number): bigint {
  checkScale(scale);
  let i = 0;
  let end = text.length;
  while (i < end && isSpace(text.charCodeAt(i))) i++;
  while (end > i && isSpace(text.charCodeAt(end - 1))) end--;
  let neg = false;
  let c = text.charCodeAt(i);
  if (c === 45 /* - */) {
    neg = true;
    i++;
  } else if (c === 43 /* + */) {
    i++;
  }
  const intStart = i;
  while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < end && text.charCodeAt(i) === 46 /* . */) {
    i++;
    fracStart = i;
    while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++;
    fracEnd = i;
  }
  const intLen = intEnd - intStart;
  const fracLen = fracEnd - fracStart;
  if (intLen + fracLen === 0) throw syntaxError(text);
  let exponent = 0;
  if (i < end && ((c = text.charCodeAt(i)) === 101 || c === 69) /* e E */) {
    i++;
    let expNeg = false;
    c = text.charCodeAt(i);
    if (c === 45) {
      expNeg = true;
      i++;
    } else if (c === 43) {
      i++;
    }
    const expStart = i;
    while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
      exponent = exponent * 10 + (c - 48);
      if (exponent > MAX_DECIMAL_EXPONENT) {
        throw new DecimalError(
          'DECIMAL_RANGE',
          text,
          `decimal exponent out of range (max ±${MAX_DECIMAL_EXPONENT}): ${JSON.stringify(text.slice(0, 60))}`,
        );
      }
      i++;
    }
    if (i === expStart) throw syntaxError(text);
    if (expNeg) exponent = -exponent;
  }
  if (i !== end) throw syntaxError(text);

  // value = M × 10^(exponent − fracLen), M = the mantissa digits without the point.
  // result = M × 10^k with k = exponent − fracLen + scale.
  const nd = intLen + fracLen;
  const k = exponent - fracLen + scale;
  let mag: bigint;
  if (k >= 0) {
    if (nd + k <= 15) {
      mag = BigInt(mantissaNumber(text, intStart, intLen, fracStart, nd) * POW10[k]!);
    } else {
      mag = BigInt(mantissaString(text, intStart, intEnd, fracStart, fracEnd, nd)) * pow10n(k);
    }
  } else {
    const keep = nd + k; // mantissa digits that survive; the next one decides the rounding
    if (keep < 0) {
      mag = 0n; // first dropped digit is an implicit leading 0 → rounds down
    } else {
      const roundDigit = digitAt(text, intStart, intLen, fracStart, keep);
      if (keep <= 15) {
        mag = BigInt(mantissaNumber(text, intStart, intLen, fracStart, keep) + (roundDigit >= 5 ? 1 : 0));
      } else {
        mag = BigInt(mantissaString(text, intStart, intEnd, fracStart, fracEnd, keep));
        if (roundDigit >= 5) mag += 1n;
      }
    }
  }
  return neg ? -mag : mag;
}

/** The j-th mantissa digit (0-based, point skipped). */
function digitAt(text: string, intStart: number, intLen: number, fracStart: number, j: number): number {
  return text.charCodeAt(j < intLen ? intStart + j : fracStart + (j - intLen)) - 48;
}

/** The first `count` (≤ 15) mantissa digits as an exact double. */
function mantissaNumber(text: string, intStart: number, intLen: number, fracStart: number, count: number): number {
  let m = 0;
  const fromInt = Math.min(count, intLen);
  for (let j = 0; j < fromInt; j++) m = m * 10 + (text.charCodeAt(intStart + j) - 48);
  for (let j = 0; j < count - fromInt; j++) m = m * 10 + (text.charCodeAt(fracStart + j) - 48);
  return m;
}

/** The first `count` mantissa digits as a string (for BigInt()). */
function mantissaString(text: string, intStart: number, intEnd: number, fracStart: number, fracEnd: number, count: number): string {
  const digits = text.slice(intStart, intEnd) + text.slice(fracStart, fracEnd);
  return count === digits.length ? digits : digits.slice(0, count);
}

/**
 * Changes the scale of a fixed-point integer: value × 10^-fromScale → result × 10^-toScale,
 * rounding half away from zero when decimals are dropped. DBN prices (int64 × 1e-9) become
 * DECIMAL(20,8) values with `rescaleFixed(price, 9, 8)`.
 */
export function rescaleFixed(value: bigint, fromScale: number, toScale: number): bigint {
  if (toScale === fromScale) return value;
  checkScale(fromScale, 'fromScale');
  checkScale(toScale, 'toScale');
  if (toScale > fromScale) return value * pow10n(toScale - fromScale);
  const drop = fromScale - toScale;
  if (drop <= 15 && BigInt.asIntN(64, value) === value) {
    I64[0] = value;
    const hi = I32[HI]!;
    if (hi < 0x100000 && hi >= -0x100000) {
      // Exact double arithmetic: |x| ≤ 2^52 and p ≤ 1e15, every product below stays < 2^53.
      const x = hi * 4294967296 + U32[LO]!;
      const a = x < 0 ? -x : x;
      const p = POW10[drop]!;
      let q = Math.floor(a / p);
      let r = a - q * p;
      if (r < 0) {
        q -= 1;
        r += p;
      } else if (r >= p) {
        q += 1;
        r -= p;
      }
      if (r * 2 >= p) q += 1;
      return BigInt(x < 0 ? -q : q);
    }
  }
  const p = pow10n(drop);
  let q = value / p; // truncates toward zero
  let r = value % p; // sign of value
  if (r < 0n) r = -r;
  if (r * 2n >= p) q += value < 0n ? -1n : 1n;
  return q;
}

/**
 * Converts a JS number to value × 10^scale through its shortest round-trip decimal string
 * (`String(n)`, e.g. 0.1 → "0.1", 1e-7 → "1e-7"), never multiplying floats. Rounds half away
 * from zero beyond `scale`. NaN and ±Infinity raise a DecimalError.
 */
export function fromNumber(n: number, scale: number): bigint {
  if (!Number.isFinite(n)) {
    throw new DecimalError('DECIMAL_RANGE', String(n), `cannot store ${n} in a NUMERIC column`);
  }
  if (Number.isInteger(n) && scale <= 15 && scale >= 0 && Number.isInteger(scale)) {
    const p = POW10[scale]!;
    // integer × 10^scale is exact while the product stays below 2^53
    if (n < SAFE_LIMIT / p && n > -SAFE_LIMIT / p) return BigInt(n * p);
  }
  return parseDecimal(String(n), scale);
}

/**
 * Whether value × 10^-scale fits DECIMAL(precision, scale): |scaled| < 10^precision
 * (DECIMAL(20,8): up to ±999999999999.99999999, i.e. scaled ±99999999999999999999).
 */
export function fitsPrecision(scaled: bigint, precision: number, scale: number): boolean {
  checkScale(scale);
  if (!Number.isInteger(precision) || precision < 1 || precision > MAX_NUMERIC_PRECISION) {
    throw new RangeError(`precision must be an integer in 1..${MAX_NUMERIC_PRECISION}, got ${precision}`);
  }
  const lim = pow10n(precision);
  return scaled < lim && scaled > -lim;
}

/**
 * Formats value × 10^-scale with exactly `scale` decimals, as PostgreSQL prints a
 * DECIMAL(p, scale) value ("1.50000000", "-0.00000001", "0.00000000").
 */
export function formatDecimal(scaled: bigint, scale: number): string {
  checkScale(scale);
  const neg = scaled < 0n;
  let s = (neg ? -scaled : scaled).toString();
  if (scale > 0) {
    if (s.length <= scale) s = '0'.repeat(scale + 1 - s.length) + s;
    s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  }
  return neg ? `-${s}` : s;
}

// ---------------------------------------------------------------------------------------
// Binary NUMERIC
// ---------------------------------------------------------------------------------------

/** 2^52: below it, value / 10^scale splits exactly in double arithmetic (see numericDigits). */
const SAFE_LIMIT = 2 ** 52;
/** Scales up to 12 keep the padded fraction (< 10^12) exact in a double. */
const FAST_MAX_SCALE = 12;

/**
 * Base-10000 digits of a scaled value, as numericDigits() returns them: the digits are
 * `digits[offset .. offset + ndigits)`. The object and its array are reused by the next call.
 */
export interface NumericDigits {
  digits: Uint16Array;
  offset: number;
  ndigits: number;
  weight: number;
  negative: boolean;
}

const scratch: NumericDigits = { digits: new Uint16Array(64), offset: 0, ndigits: 0, weight: 0, negative: false };

/**
 * Splits value × 10^-scale into normalized base-10000 digits (no leading/trailing zero
 * digits). Hot path: values with |scaled| ≤ 2^52 and scale ≤ 12 (every DECIMAL(20,8) price
 * up to 45,035,996.27370496) use exact double arithmetic with no bigint division, no
 * Number(bigint) and no string; larger values go through the decimal string of the bigint.
 * Returns a shared scratch object.
 */
export function numericDigits(scaled: bigint, scale: number): NumericDigits {
  const out = scratch;
  if (scale <= FAST_MAX_SCALE && scale >>> 0 === scale && BigInt.asIntN(64, scaled) === scaled) {
    I64[0] = scaled;
    const hi = I32[HI]!;
    // |scaled| ≤ 2^52 ⇔ high half in [-2^20, 2^20)
    if (hi >= 0x100000 || hi < -0x100000) return numericDigitsSlow(scaled, scale, out);
    let x = hi * 4294967296 + U32[LO]!; // exact: |x| ≤ 2^52
    out.negative = x < 0;
    if (x < 0) x = -x;
    if (x === 0) {
      out.offset = 0;
      out.ndigits = 0;
      out.weight = 0;
      out.negative = false;
      return out;
    }
    const G = out.digits;
    const p = POW10[scale]!;
    let ip = Math.floor(x / p);
    let fr = x - ip * p;
    if (fr < 0) {
      ip -= 1;
      fr += p;
    } else if (fr >= p) {
      ip += 1;
      fr -= p;
    }
    // integer part: ip < 2^52 < 10^16 → at most 4 groups
    const ni = ip === 0 ? 0 : ip < 1e4 ? 1 : ip < 1e8 ? 2 : ip < 1e12 ? 3 : 4;
    for (let j = ni - 1; j >= 0; j--) {
      const q = Math.floor(ip / NBASE);
      G[j] = ip - q * NBASE;
      ip = q;
    }
    // fraction part, right-padded with zeros to a multiple of 4 decimals
    const nf = (scale + 3) >> 2;
    let f = fr * POW10[(nf << 2) - scale]!;
    for (let j = ni + nf - 1; j >= ni; j--) {
      const q = Math.floor(f / NBASE);
      G[j] = f - q * NBASE;
      f = q;
    }
    let first = 0;
    while (G[first] === 0) first++; // x ≠ 0 → some digit is non-zero
    let last = ni + nf - 1;
    while (G[last] === 0) last--;
    out.offset = first;
    out.ndigits = last - first + 1;
    out.weight = ni - 1 - first;
    return out;
  }
  return numericDigitsSlow(scaled, scale, out);
}

function numericDigitsSlow(scaled: bigint, scale: number, out: NumericDigits): NumericDigits {
  checkScale(scale);
  const neg = scaled < 0n;
  out.negative = neg;
  if (scaled === 0n) {
    out.offset = 0;
    out.ndigits = 0;
    out.weight = 0;
    out.negative = false;
    return out;
  }
  let s = (neg ? -scaled : scaled).toString();
  if (s.length <= scale) s = '0'.repeat(scale + 1 - s.length) + s;
  const intDigits = s.length - scale;
  // Left-pad the integer part and right-pad the fraction to multiples of 4 decimals.
  const leftPad = (4 - (intDigits % 4)) % 4;
  const rightPad = (4 - (scale % 4)) % 4;
  const padded = '0'.repeat(leftPad) + s + '0'.repeat(rightPad);
  const ni = (intDigits + leftPad) >> 2;
  const n = padded.length >> 2;
  if (out.digits.length < n) out.digits = new Uint16Array(Math.max(n, out.digits.length * 2));
  const G = out.digits;
  for (let j = 0; j < n; j++) {
    const o = j << 2;
    G[j] =
      (padded.charCodeAt(o) - 48) * 1000 +
      (padded.charCodeAt(o + 1) - 48) * 100 +
      (padded.charCodeAt(o + 2) - 48) * 10 +
      (padded.charCodeAt(o + 3) - 48);
  }
  let first = 0;
  while (G[first] === 0) first++;
  let last = n - 1;
  while (G[last] === 0) last--;
  const weight = ni - 1 - first;
  if (weight > 0x7fff || weight < -0x8000) {
    throw new DecimalError('DECIMAL_RANGE', formatDecimal(scaled, scale), 'value out of NUMERIC range');
  }
  out.offset = first;
  out.ndigits = last - first + 1;
  out.weight = weight;
  return out;
}

/**
 * Decimal digits before the point of the value in `d` (floor(log10|v|) + 1; negative for
 * |v| < 0.1), as PostgreSQL's apply_typmod computes it; 0 for zero. DECIMAL(p, s) holds the
 * value iff this is ≤ p − s.
 */
export function integerDigits(d: NumericDigits): number {
  if (d.ndigits === 0) return 0;
  const first = d.digits[d.offset]!;
  return d.weight * 4 + (first >= 1000 ? 4 : first >= 100 ? 3 : first >= 10 ? 2 : 1);
}

/** Encoded size in bytes of binary NUMERIC digits (without the COPY field length). */
export function numericBinarySize(d: NumericDigits): number {
  return 8 + 2 * d.ndigits;
}

/**
 * Writes binary NUMERIC (header + digits, no COPY length prefix) for `d` at `off`; `buf` must
 * have numericBinarySize(d) bytes available there. Returns the offset after the value.
 */
export function writeNumericDigits(buf: Uint8Array, off: number, d: NumericDigits, dscale: number): number {
  const n = d.ndigits;
  const w = d.weight;
  buf[off] = n >> 8;
  buf[off + 1] = n;
  buf[off + 2] = w >> 8; // Uint8Array stores mod 256: two's complement for negative weights
  buf[off + 3] = w;
  buf[off + 4] = d.negative ? NUMERIC_NEG >> 8 : NUMERIC_POS;
  buf[off + 5] = 0;
  buf[off + 6] = dscale >> 8;
  buf[off + 7] = dscale;
  let o = off + 8;
  const G = d.digits;
  for (let j = d.offset, e = d.offset + n; j < e; j++) {
    const g = G[j]!;
    buf[o] = g >> 8;
    buf[o + 1] = g;
    o += 2;
  }
  return o;
}

/**
 * PostgreSQL binary NUMERIC of value × 10^-scale with dscale = scale (the column scale),
 * as a fresh Buffer (no COPY length prefix). BinaryCopyWriter.numeric() is the allocation-free
 * form used per row.
 */
export function encodeNumericBinary(scaled: bigint, scale: number): Buffer {
  checkScale(scale);
  const d = numericDigits(scaled, scale);
  const buf = Buffer.allocUnsafe(numericBinarySize(d));
  writeNumericDigits(buf, 0, d, scale);
  return buf;
}
