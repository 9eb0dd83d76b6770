/**
 * The field encoders: one method per PostgreSQL type, each writing the field's int32 byte length
 * (-1 = NULL) and then the bytes of the type's binary send format (PostgreSQL docs, "COPY —
 * Binary Format"), big-endian, straight into the byte buffer.
 *
 * Value representations follow src/schema/types.ts: timestamptz = bigint µs since the Unix
 * epoch, int8 = bigint, numeric = bigint value × 10^scale, date = number of days since
 * 1970-01-01, strings for text types and JSON. fieldWriterFor() picks the encoder of a column
 * type and checks the cell's JS type against it.
 */

import type { CellValue, ColumnType } from '../schema/types.js';
import { ChunkBuffer } from './byte-buffer.js';
import { CopyEncodeError } from './errors.js';
import { HI, I32, I64, LO, U32 } from './int64.js';
import {
  integerDigits,
  numericBinarySize,
  numericDigits,
  writeNumericDigits,
  MAX_NUMERIC_PRECISION,
  MAX_NUMERIC_SCALE,
} from './numeric.js';
import { PG_END_TIMESTAMP, PG_EPOCH_OFFSET_DAYS, PG_EPOCH_OFFSET_MICROS, PG_MIN_TIMESTAMP } from './pg-limits.js';

const TWO_POW_32 = 4294967296;
/** The epoch offset split into 32-bit halves, for a borrow-propagating int64 subtraction. */
const EPOCH_HI = Number(PG_EPOCH_OFFSET_MICROS >> 32n);
const EPOCH_LO = Number(PG_EPOCH_OFFSET_MICROS & 0xffffffffn);
/** High halves strictly inside which a shifted timestamp is certainly in PostgreSQL's range. */
const TS_MIN_HI = Number(PG_MIN_TIMESTAMP >> 32n);
const TS_END_HI = Number(PG_END_TIMESTAMP >> 32n);

/**
 * Strings up to this many UTF-16 units are copied by a JS loop that also detects non-ASCII;
 * longer ones go to Buffer#write (native). Measured on Node 20: the loop costs ~20 ns for 4
 * chars and ~40 ns for 11 (typical symbols and trade ids) where Buffer#write costs 80–150 ns;
 * from ~24 chars on the native encoder wins.
 */
const ASCII_LOOP_MAX = 16;

export class CopyFieldWriter extends ChunkBuffer {
  /** SQL NULL (length -1). */
  null(): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0xff;
    b[p + 1] = 0xff;
    b[p + 2] = 0xff;
    b[p + 3] = 0xff;
    this.pos = p + 4;
  }

  /** SMALLINT. */
  int2(n: number): void {
    if ((n << 16) >> 16 !== n) throw valueError(`${n} is not a SMALLINT`);
    this.ensure(6);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = 2;
    b[p + 4] = n >> 8;
    b[p + 5] = n;
    this.pos = p + 6;
  }

  /** INTEGER. */
  int4(n: number): void {
    if ((n | 0) !== n) throw valueError(`${n} is not an INTEGER`);
    this.ensure(8);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0;
    b[p + 1] = 0;
    b[p + 2] = 0;
    b[p + 3] = 4;
    b[p + 4] = n >> 24;
    b[p + 5] = n >> 16;
    b[p + 6] = n >> 8;
    b[p + 7] = n;
    this.pos = p + 8;
  }

  /** BIGINT. */
  int8(v: bigint): void {
    if (BigInt.asIntN(64, v) !== v) throw valueError(`${v} is not a BIGINT`);
    this.ensure(12);
    const p = this.pos;
    I64[0] = v; // split through typed-array views: no Number(bigint), no bigint arithmetic
    this.put32(p, 8);
    this.put32(p + 4, I32[HI]!);
    this.put32(p + 8, U32[LO]!);
    this.pos = p + 12;
  }

  /** TIMESTAMPTZ from µs since 1970-01-01T00:00:00Z (binary: int64 µs since 2000-01-01). */
  timestamptz(micros: bigint): void {
    let hi: number;
    let lo: number;
    if (BigInt.asIntN(64, micros) === micros) {
      I64[0] = micros;
      // (hi, lo) − (EPOCH_HI, EPOCH_LO) with borrow; hi leaves int32 only when out of range
      lo = U32[LO]! - EPOCH_LO;
      hi = I32[HI]! - EPOCH_HI;
      if (lo < 0) {
        lo += TWO_POW_32;
        hi -= 1;
      }
    } else {
      hi = TS_END_HI; // beyond int64 µs since 1970: only the exact check below can tell
      lo = 0;
    }
    if (hi <= TS_MIN_HI || hi >= TS_END_HI) {
      // near or beyond PostgreSQL's limits (4714-11-24 BC, 294277-01-01): exact bigint check
      const t = micros - PG_EPOCH_OFFSET_MICROS;
      if (t < PG_MIN_TIMESTAMP || t >= PG_END_TIMESTAMP) throw valueError(`timestamp ${micros} µs is out of PostgreSQL's range`);
      I64[0] = t;
      hi = I32[HI]!;
      lo = U32[LO]!;
    }
    this.ensure(12);
    const p = this.pos;
    this.put32(p, 8);
    this.put32(p + 4, hi);
    this.put32(p + 8, lo);
    this.pos = p + 12;
  }

  /** DATE from days since 1970-01-01 (binary: int32 days since 2000-01-01). */
  date(days: number): void {
    const d = days - PG_EPOCH_OFFSET_DAYS;
    if ((d | 0) !== d) throw valueError(`${days} is not a valid day number`);
    this.ensure(8);
    const p = this.pos;
    this.put32(p, 4);
    this.put32(p + 4, d);
    this.pos = p + 8;
  }

  /** BOOLEAN. */
  bool(b: boolean): void {
    this.ensure(5);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = 0;
    buf[p + 1] = 0;
    buf[p + 2] = 0;
    buf[p + 3] = 1;
    buf[p + 4] = b ? 1 : 0;
    this.pos = p + 5;
  }

  /**
   * NUMERIC / DECIMAL from value × 10^scale; dscale = `scale` (pass the column scale).
   * With `precision`, a value that does not fit DECIMAL(precision, scale) throws (COPY_VALUE)
   * before anything is written — the check costs a few integer operations.
   */
  numeric(scaled: bigint, scale: number, precision?: number): void {
    const d = numericDigits(scaled, scale);
    if (precision !== undefined && integerDigits(d) > precision - scale) {
      throw valueError(`numeric value out of range for DECIMAL(${precision},${scale}) (scaled ${scaled})`);
    }
    const size = numericBinarySize(d);
    this.ensure(4 + size);
    const p = this.pos;
    this.put32(p, size);
    this.pos = writeNumericDigits(this.buf, p + 4, d, scale);
  }

  /** TEXT / VARCHAR as UTF-8. Rejects NUL characters and lone surrogates (PostgreSQL cannot store them). */
  text(s: string): void {
    this.ensure(4 + 3 * s.length);
    const p = this.pos;
    const len = this.putString(s, p + 4);
    this.put32(p, len);
    this.pos = p + 4 + len;
  }

  /** CHAR(n) (bpchar): same wire format as text; the server pads to n. */
  char(s: string): void {
    this.text(s);
  }

  /** JSONB from JSON text: version byte 1 + the UTF-8 text (the server parses and normalizes it). */
  jsonb(json: string): void {
    this.ensure(5 + 3 * json.length);
    const p = this.pos;
    this.buf[p + 4] = 1;
    const len = this.putString(json, p + 5) + 1;
    this.put32(p, len);
    this.pos = p + 4 + len;
  }

  /** A field whose bytes are already in the type's binary format (e.g. BYTEA). */
  raw(bytes: Uint8Array): void {
    this.ensure(4 + bytes.length);
    const p = this.pos;
    this.put32(p, bytes.length);
    this.buf.set(bytes, p + 4);
    this.pos = p + 4 + bytes.length;
  }

  /** Writes s as UTF-8 at `at` (capacity for 3 bytes per UTF-16 unit ensured); returns bytes written. */
  private putString(s: string, at: number): number {
    const n = s.length;
    if (n <= ASCII_LOOP_MAX) {
      const b = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80 || c === 0) break;
        b[at + i] = c;
      }
      if (i === n) return n;
    }
    return this.putStringSlow(s, at);
  }

  private putStringSlow(s: string, at: number): number {
    if (s.includes('\0')) throw valueError('text contains a NUL character, which PostgreSQL cannot store');
    const bytes = this.buf.write(s, at, 'utf8');
    if (bytes !== s.length) checkWellFormed(s); // non-ASCII: Buffer#write would silently replace lone surrogates
    return bytes;
  }
}

function valueError(message: string): CopyEncodeError {
  return new CopyEncodeError('COPY_VALUE', message);
}

function checkWellFormed(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
      } else {
        throw valueError(`text contains a lone UTF-16 surrogate at index ${i}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Column-driven encoding
// ---------------------------------------------------------------------------------------

/** Writes one cell of a known column type (a NULL for `null`). */
export type FieldWriter = (w: CopyFieldWriter, value: CellValue) => void;

function describe(v: CellValue): string {
  return v === null ? 'null' : typeof v;
}

function typeError(kind: string, expected: string, v: CellValue): CopyEncodeError {
  return new CopyEncodeError('COPY_TYPE', `${kind} column expects ${expected}, got ${describe(v)}`);
}

/** Counts code points; PostgreSQL's VARCHAR(n)/CHAR(n) limits count characters, not bytes. */
function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * PostgreSQL accepts a string longer than VARCHAR(n)/CHAR(n) only when the excess is spaces
 * (it truncates them); anything else is "value too long". Called only when s.length > n.
 */
function checkLength(s: string, n: number, kind: string): void {
  if (codePointLength(s) <= n) return;
  // s.length > n UTF-16 units; find where the n-th code point ends
  let i = 0;
  for (let cp = 0; cp < n; cp++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
  }
  for (; i < s.length; i++) {
    if (s.charCodeAt(i) !== 32) throw valueError(`value too long for ${kind}(${n})`);
  }
}

/**
 * The cell writer for a column type, following src/schema/types.ts. Each writer checks the
 * cell's JS type (COPY_TYPE) and the checks the server would fail the whole COPY on
 * (COPY_VALUE): integer ranges, DECIMAL precision, VARCHAR/CHAR length, NUL bytes.
 */
export function fieldWriterFor(type: ColumnType): FieldWriter {
  switch (type.kind) {
    case 'timestamptz':
      return (w, v) => {
        if (typeof v === 'bigint') w.timestamptz(v);
        else if (v === null) w.null();
        else throw typeError('timestamptz', 'bigint µs since 1970', v);
      };
    case 'int2':
      return (w, v) => {
        if (typeof v === 'number') w.int2(v);
        else if (v === null) w.null();
        else throw typeError('int2', 'number', v);
      };
    case 'int4':
      return (w, v) => {
        if (typeof v === 'number') w.int4(v);
        else if (v === null) w.null();
        else throw typeError('int4', 'number', v);
      };
    case 'int8':
      return (w, v) => {
        if (typeof v === 'bigint') w.int8(v);
        else if (v === null) w.null();
        else throw typeError('int8', 'bigint', v);
      };
    case 'numeric': {
      const { precision, scale } = type;
      if (!Number.isInteger(scale) || scale < 0 || scale > MAX_NUMERIC_SCALE) throw new RangeError(`unsupported NUMERIC scale ${scale}`);
      if (!Number.isInteger(precision) || precision < 1 || precision > MAX_NUMERIC_PRECISION)
        throw new RangeError(`unsupported NUMERIC precision ${precision}`);
      return (w, v) => {
        if (typeof v === 'bigint') w.numeric(v, scale, precision);
        else if (v === null) w.null();
        else throw typeError('numeric', `bigint (value × 10^${scale})`, v);
      };
    }
    case 'varchar':
    case 'char': {
      const n = type.length;
      const kind = type.kind;
      return (w, v) => {
        if (typeof v === 'string') {
          if (v.length > n) checkLength(v, n, kind);
          w.text(v);
        } else if (v === null) w.null();
        else throw typeError(kind, 'string', v);
      };
    }
    case 'text':
      return (w, v) => {
        if (typeof v === 'string') w.text(v);
        else if (v === null) w.null();
        else throw typeError('text', 'string', v);
      };
    case 'bool':
      return (w, v) => {
        if (typeof v === 'boolean') w.bool(v);
        else if (v === null) w.null();
        else throw typeError('bool', 'boolean', v);
      };
    case 'date':
      return (w, v) => {
        if (typeof v === 'number') w.date(v);
        else if (v === null) w.null();
        else throw typeError('date', 'number of days since 1970-01-01', v);
      };
    case 'jsonb':
      return (w, v) => {
        if (typeof v === 'string') w.jsonb(v);
        else if (v === null) w.null();
        else throw typeError('jsonb', 'JSON text', v);
      };
  }
}
