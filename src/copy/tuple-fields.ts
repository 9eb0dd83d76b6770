/**
 * COPY binary fields written at an explicit offset of a caller-held buffer (BinaryCopyWriter's
 * beginTuple), each returning the offset after the field. These are the bytes of the writer's
 * own field methods for the value ranges stated on each function, without a method call, an
 * `ensure` and a `pos` update per field: at ~10 M rows the per-call overhead cost more than the
 * bytes. test/copy/tuple-fields.test.ts pins each one to the general writer method it shortcuts.
 *
 * All values arrive as doubles holding exact integers: no BigInt anywhere.
 */

const TWO_POW_32 = 4294967296;
/** µs between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch), exact in a double. */
const PG_EPOCH_US = 946_684_800_000_000;
/** ASCII digit pairs "00".."99": two digits per division when printing integers. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** Largest µs since 1970 this module encodes exactly (years 1716–2223; |t| well below 2^53). */
export const TUPLE_TS_LIMIT_US = 8e15;

/** TIMESTAMPTZ from whole µs since 1970 (|µs| ≤ TUPLE_TS_LIMIT_US). */
export function putTimestampUs(d: DataView, p: number, us: number): number {
  const t = us - PG_EPOCH_US;
  const hi = Math.floor(t / TWO_POW_32);
  d.setInt32(p, 8);
  d.setInt32(p + 4, hi);
  d.setUint32(p + 8, t - hi * TWO_POW_32);
  return p + 12;
}

/** INTEGER (the caller guarantees an int32). */
export function putInt4(d: DataView, p: number, v: number): number {
  d.setInt32(p, 4);
  d.setInt32(p + 4, v);
  return p + 8;
}

/** BIGINT from an unsigned 32-bit value (DBN sizes). */
export function putInt8U32(d: DataView, p: number, v: number): number {
  d.setInt32(p, 8);
  d.setInt32(p + 4, 0);
  d.setUint32(p + 8, v);
  return p + 12;
}

/** A field whose complete bytes (length word included) were encoded once, e.g. a symbol. */
export function putFieldBytes(b: Uint8Array, p: number, field: Uint8Array): number {
  // A loop beats TypedArray#set (a native call) for the 8–20 bytes of a symbol field.
  const n = field.length;
  for (let i = 0; i < n; i++) b[p + i] = field[i]!;
  return p + n;
}

/** CHAR(1)/TEXT of one ASCII character code. */
export function putAsciiChar(d: DataView, p: number, code: number): number {
  d.setInt32(p, 1);
  d.setUint8(p + 4, code);
  return p + 5;
}

/**
 * Rounds a positive 1e-9 fixed-point value (< 2^53) to 1e-8 units, the 9th decimal half away
 * from zero: what rescaleFixed(v, 9, 8) does, in exact double arithmetic.
 */
export function nanosTo8(v: number): number {
  let q = Math.floor(v / 10);
  let r = v - q * 10;
  // v/10 is a correctly rounded quotient; near 2^53 it can land on the neighbouring integer.
  if (r < 0) { q -= 1; r += 10; } else if (r >= 10) { q += 1; r -= 10; }
  return r >= 5 ? q + 1 : q;
}

/** Scratch for putNumeric8's base-10000 digits. */
const G = new Int32Array(4);

/**
 * NUMERIC with dscale 8 of x × 1e-8 for an integer 0 < x < 2^50 (every positive DBN price
 * below 2^53 nanos after nanosTo8): what writer.numeric(BigInt(x), 8) writes.
 */
export function putNumeric8(d: DataView, p: number, x: number): number {
  let units = Math.floor(x / 1e8);
  let frac = x - units * 1e8;
  if (frac < 0) { units -= 1; frac += 1e8; } else if (frac >= 1e8) { units += 1; frac -= 1e8; }
  // units < 2^50 / 1e8 < 2^24 and frac < 1e8: int32 from here on.
  const g1 = (units / 10000) | 0;
  const g0 = units - g1 * 10000;
  const f1 = (frac / 10000) | 0;
  const f2 = frac - f1 * 10000;
  let n = 0;
  let weight: number;
  if (g1 !== 0) { G[n++] = g1; G[n++] = g0; weight = 1; } else if (g0 !== 0) { G[n++] = g0; weight = 0; } else weight = -1;
  if (n === 0 && f1 === 0) weight = -2; else G[n++] = f1;
  G[n++] = f2;
  while (G[n - 1] === 0) n--; // x > 0: some digit is non-zero
  d.setInt32(p, 8 + 2 * n);
  d.setInt16(p + 4, n);
  d.setInt16(p + 6, weight);
  d.setInt32(p + 8, 8); // sign 0 (positive), dscale 8
  let o = p + 12;
  for (let j = 0; j < n; j++, o += 2) d.setUint16(o, G[j]!);
  return o;
}

/** Decimal digits of an unsigned 32-bit integer at `p`; returns the end offset. */
function putU32Digits(b: Uint8Array, p: number, v: number): number {
  const len = v < 100000
    ? (v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : v < 10000 ? 4 : 5)
    : (v < 10000000 ? (v < 1000000 ? 6 : 7) : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10);
  let e = p + len;
  while (v >= 100) {
    const q = (v / 100) >>> 0;
    const r = (v - q * 100) << 1;
    b[--e] = DIGIT_PAIRS[r + 1]!;
    b[--e] = DIGIT_PAIRS[r]!;
    v = q;
  }
  if (v >= 10) {
    b[--e] = DIGIT_PAIRS[(v << 1) + 1]!;
    b[--e] = DIGIT_PAIRS[v << 1]!;
  } else {
    b[--e] = 48 + v;
  }
  return p + len;
}

/** TEXT "<a>:<b>" for two unsigned 32-bit integers (DBN trade ids: publisher and sequence). */
export function putIdPair(b: Uint8Array, d: DataView, p: number, a: number, c: number): number {
  const start = p + 4;
  let e = putU32Digits(b, start, a);
  b[e++] = 58; // ':'
  e = putU32Digits(b, e, c);
  d.setInt32(p, e - start);
  return e;
}
