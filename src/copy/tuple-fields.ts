/**
 * COPY binary fields written at an explicit offset of a caller-held buffer (a block of whole
 * tuples, later appended with BinaryCopyWriter.appendEncoded), each returning the offset after
 * the field. These are the bytes of the writer's own field methods for the value ranges stated on
 * each function, without a method call, an `ensure` and a `pos` update per field: at ~10 M rows
 * that overhead cost more than the bytes. test/copy/tuple-fields.test.ts pins each one to the
 * general writer method it shortcuts.
 *
 * All values arrive as doubles holding exact integers: no BigInt anywhere.
 */

const TWO_POW_32 = 4294967296;
/** µs between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch), exact in a double. */
const PG_EPOCH_US = 946_684_800_000_000;
/** "0000".."9999" as big-endian uint32s: four ASCII digits in one 32-bit store. */
const DIGITS4 = new Uint32Array(10000);
for (let i = 0; i < 10000; i++) {
  DIGITS4[i] =
    (((48 + Math.floor(i / 1000)) << 24) |
      ((48 + (Math.floor(i / 100) % 10)) << 16) |
      ((48 + (Math.floor(i / 10) % 10)) << 8) |
      (48 + (i % 10))) >>>
    0;
}

/** Largest µs since 1970 this module encodes exactly (years 1716–2223; |t| well below 2^53). */
export const TUPLE_TS_LIMIT_US = 8e15;

/** A tuple's int16 field count followed by its first field, a TIMESTAMPTZ (see putTimestampUs). */
export function putRowHeadAndTimestamp(d: DataView, p: number, fields: number, us: number): number {
  const t = us - PG_EPOCH_US;
  const hi = Math.floor(t / TWO_POW_32);
  d.setUint32(p, fields << 16); // count, then the high half of the length word 8
  d.setUint16(p + 4, 8);
  d.setInt32(p + 6, hi);
  d.setUint32(p + 10, t - hi * TWO_POW_32);
  return p + 14;
}

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

/**
 * A pre-encoded field (length word included) also held as big-endian 8-byte words, so that
 * putField writes a typical symbol field in one or two stores instead of a byte loop.
 */
export interface FieldWords {
  readonly bytes: Uint8Array;
  /** null when some word is a NaN bit pattern, which a double need not carry unchanged. */
  readonly words: Float64Array | null;
}

export function fieldWords(bytes: Uint8Array): FieldWords {
  const n = Math.ceil(bytes.length / 8);
  const padded = new Uint8Array(n * 8);
  padded.set(bytes);
  const dv = new DataView(padded.buffer);
  const words = new Float64Array(n);
  for (let k = 0; k < n; k++) words[k] = dv.getFloat64(8 * k);
  // Prove the round trip rather than reason about NaN payloads.
  const back = new DataView(new ArrayBuffer(n * 8));
  for (let k = 0; k < n; k++) back.setFloat64(8 * k, words[k]!);
  const same = new Uint8Array(back.buffer).every((x, i) => x === padded[i]);
  return { bytes, words: same ? words : null };
}

/**
 * Writes a FieldWords field; returns the offset after it. May write up to 7 bytes of padding
 * beyond that offset, which the next field overwrites (callers reserve room for them).
 */
export function putField(b: Uint8Array, d: DataView, p: number, f: FieldWords): number {
  const w = f.words;
  if (w === null) return putFieldBytes(b, p, f.bytes);
  for (let k = 0; k < w.length; k++) d.setFloat64(p + 8 * k, w[k]!);
  return p + f.bytes.length;
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
  if (r < 0) {
    q -= 1;
    r += 10;
  } else if (r >= 10) {
    q += 1;
    r -= 10;
  }
  return r >= 5 ? q + 1 : q;
}

/**
 * NUMERIC with dscale 8 of x × 1e-8 for an integer 0 < x < 2^50 (every positive DBN price
 * below 2^53 nanos after nanosTo8): what writer.numeric(BigInt(x), 8) writes.
 */
export function putNumeric8(d: DataView, p: number, x: number): number {
  let units = Math.floor(x / 1e8);
  let frac = x - units * 1e8;
  if (frac < 0) {
    units -= 1;
    frac += 1e8;
  } else if (frac >= 1e8) {
    units += 1;
    frac -= 1e8;
  }
  // units < 2^50 / 1e8 < 2^24 and frac < 1e8: int32 from here on. Base-10000 groups, weight
  // 1 for g1 down to -2 for f2; NUMERIC keeps those from the first to the last non-zero one.
  const g1 = (units / 10000) | 0;
  const g0 = units - g1 * 10000;
  const f1 = (frac / 10000) | 0;
  const f2 = frac - f1 * 10000;
  const first = g1 !== 0 ? 0 : g0 !== 0 ? 1 : f1 !== 0 ? 2 : 3;
  const last = f2 !== 0 ? 3 : f1 !== 0 ? 2 : g0 !== 0 ? 1 : 0; // x > 0: first ≤ last
  const n = last - first + 1;
  d.setInt32(p, 8 + 2 * n);
  d.setUint32(p + 4, (n << 16) | ((1 - first) & 0xffff)); // ndigits, weight
  d.setInt32(p + 8, 8); // sign 0 (positive), dscale 8
  let o = p + 12;
  if (first === 0) {
    d.setUint16(o, g1);
    o += 2;
  }
  if (first <= 1 && last >= 1) {
    d.setUint16(o, g0);
    o += 2;
  }
  if (first <= 2 && last >= 2) {
    d.setUint16(o, f1);
    o += 2;
  }
  if (last === 3) {
    d.setUint16(o, f2);
    o += 2;
  }
  return o;
}

/** Number of decimal digits of an unsigned 32-bit integer. */
function digitCount(v: number): number {
  return v < 100000
    ? v < 100
      ? v < 10
        ? 1
        : 2
      : v < 1000
        ? 3
        : v < 10000
          ? 4
          : 5
    : v < 10000000
      ? v < 1000000
        ? 6
        : 7
      : v < 100000000
        ? 8
        : v < 1000000000
          ? 9
          : 10;
}

/**
 * Writes the digits of an unsigned 32-bit integer so that they end at `end`, four at a time from
 * the right. The leading group is stored whole too, so up to 3 bytes before the first digit are
 * overwritten with '0's: callers write whatever precedes the number afterwards.
 */
function putU32DigitsBefore(d: DataView, end: number, v: number): void {
  while (v >= 10000) {
    const q = Math.floor(v / 10000);
    end -= 4;
    d.setUint32(end, DIGITS4[v - q * 10000]!);
    v = q;
  }
  d.setUint32(end - 4, DIGITS4[v]!);
}

/**
 * TEXT "<a>:<b>" for two unsigned 32-bit integers (DBN trade ids: publisher and sequence).
 * Written right to left (b, ':', a, then the length word) because each number's leading group
 * spills up to 3 bytes to its left: b's spill lands on ':' and a's digits, a's on the length
 * word, each written afterwards.
 */
export function putIdPair(d: DataView, p: number, a: number, c: number): number {
  const start = p + 4;
  const colon = start + digitCount(a);
  const end = colon + 1 + digitCount(c);
  putU32DigitsBefore(d, end, c);
  d.setUint8(colon, 58); // ':'
  putU32DigitsBefore(d, colon, a);
  d.setInt32(p, end - start);
  return end;
}
