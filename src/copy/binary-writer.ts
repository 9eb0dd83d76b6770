/**
 * PostgreSQL `COPY ... (FORMAT binary)` encoder.
 *
 * Stream layout (PostgreSQL docs, "COPY — Binary Format"):
 *   header  : 11-byte signature "PGCOPY\n\377\r\n\0", int32 flags (0), int32 extension length (0)
 *   per row : int16 field count, then per field int32 byte length (-1 = NULL) + the bytes of
 *             the type's binary send format
 *   trailer : int16 -1
 * All integers are big-endian (network order).
 *
 * BinaryCopyWriter owns ONE growable Buffer (grown by doubling, reused across chunks). Field
 * methods write straight into it; takeChunk() hands out a copy of the pending bytes once they
 * reach `chunkSize`, so the caller can pass the chunk to a socket that keeps a reference to it
 * while the writer goes on reusing its own memory.
 *
 * Value representations follow src/schema/types.ts: timestamptz = bigint µs since the Unix
 * epoch, int8 = bigint, numeric = bigint value × 10^scale, date = number of days since
 * 1970-01-01, strings for text types and JSON.
 */

import type { CellValue, ColumnType } from '../schema/types.js';
import { CopyEncodeError } from './errors.js';
import { HI, I32, I64, LO, U32 } from './int64.js';
import { integerDigits, numericBinarySize, numericDigits, writeNumericDigits, MAX_NUMERIC_PRECISION, MAX_NUMERIC_SCALE } from './numeric.js';

/** "PGCOPY\n\377\r\n\0" */
export const COPY_BINARY_SIGNATURE: Buffer = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]);
/** Signature + int32 flags 0 + int32 header-extension length 0 (19 bytes). */
export const COPY_BINARY_HEADER: Buffer = Buffer.concat([COPY_BINARY_SIGNATURE, Buffer.alloc(8)]);
/** int16 -1: end of data. */
export const COPY_BINARY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

/**
 * Default size at which takeChunk() releases a chunk: 256 KiB.
 *
 * Why: every chunk becomes at least one CopyData message and one socket write (or one Blob
 * part), so per-write costs (stream machinery, syscalls, message framing) must be amortized
 * over thousands of rows. With pg + pg-copy-streams, binary COPY reached 1.3–1.8 M rows/s
 * with 64 KiB writes while one write per row was ~20× slower (DESIGN.md §6); 64 KiB–1 MiB is
 * the sweet spot. Bigger chunks only add memory and latency (the server sees nothing of a
 * chunk until it is complete) and make backpressure coarser. 256 KiB sits inside that range:
 * ~3,300 trade rows (78.5 bytes each) per chunk, a few chunks in flight per COPY.
 */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

/**
 * Spare capacity allocated beyond `chunkSize`, so the row that crosses the threshold almost
 * never forces the buffer to grow. Rows larger than this simply grow the buffer (doubling).
 */
export const CHUNK_HEADROOM = 64 * 1024;

/** Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch). */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n;
/** Days between 1970-01-01 and 2000-01-01 (PostgreSQL's date epoch). */
export const PG_EPOCH_OFFSET_DAYS = 10_957;

/** PostgreSQL's valid timestamp range in µs since 2000-01-01: [MIN_TIMESTAMP, END_TIMESTAMP). */
const PG_MIN_TIMESTAMP = -211_813_488_000_000_000n; // 4714-11-24 00:00:00 BC
const PG_END_TIMESTAMP = 9_223_371_331_200_000_000n; // 294277-01-01 00:00:00
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

export interface BinaryCopyWriterOptions {
  /** takeChunk() returns a chunk once this many bytes are pending. Default DEFAULT_CHUNK_SIZE. */
  chunkSize?: number;
}

export class BinaryCopyWriter {
  /** Threshold (bytes) at which takeChunk() releases a chunk. */
  readonly chunkSize: number;
  private buf: Buffer;
  private pos = 0;
  /**
   * Rows appended by reference (appendEncoded): bytes src[refStart, refEnd) logically follow
   * buf[0, pos). Kept as a range so consecutive pre-encoded rows cost a comparison each, and
   * copied (settled) into buf only when something else is written; a chunk that is nothing
   * but such a range is handed out without a copy.
   */
  private refSrc: Uint8Array | null = null;
  private refStart = 0;
  private refEnd = 0;
  /** Offset where the current row began, or -1 when it can no longer be rolled back. */
  private rowStart = -1;
  private finished = false;
  /** Rows begun (and not aborted) since construction or reset(). */
  rowCount = 0;
  /** Bytes handed out by takeChunk()/flush()/finish() since construction or reset(). */
  bytesOut = 0;

  constructor(options: BinaryCopyWriterOptions = {}) {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!(chunkSize >= 1)) throw new RangeError(`chunkSize must be >= 1, got ${chunkSize}`);
    this.chunkSize = chunkSize;
    const initial = (Number.isFinite(chunkSize) ? Math.min(chunkSize, 64 * 1024 * 1024) : DEFAULT_CHUNK_SIZE) + CHUNK_HEADROOM;
    this.buf = Buffer.allocUnsafe(initial);
    this.writeHeader();
  }

  /** Bytes written and not yet handed out. */
  get pendingBytes(): number {
    return this.pos + (this.refEnd - this.refStart);
  }

  /** Current capacity of the internal buffer (for tests and memory accounting). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Starts a new COPY stream (header included), keeping the allocated buffer. */
  reset(): void {
    this.pos = 0;
    this.refSrc = null;
    this.refStart = this.refEnd = 0;
    this.rowStart = -1;
    this.rowCount = 0;
    this.bytesOut = 0;
    this.finished = false;
    this.writeHeader();
  }

  private writeHeader(): void {
    COPY_BINARY_HEADER.copy(this.buf, this.pos);
    this.pos += COPY_BINARY_HEADER.length;
  }

  private ensure(n: number): void {
    if (this.refSrc !== null) this.settle();
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Copies the pending by-reference range into buf, so buf alone holds every pending byte. */
  private settle(): void {
    const src = this.refSrc!;
    const n = this.refEnd - this.refStart;
    this.refSrc = null;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(src.subarray(this.refStart, this.refEnd), this.pos);
    this.pos += n;
    this.refStart = this.refEnd = 0;
  }

  private grow(n: number): void {
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  // ---- rows -------------------------------------------------------------------------

  /** Starts a row of `fieldCount` fields; exactly that many field calls must follow. */
  beginRow(fieldCount: number): void {
    if (this.finished) throw new Error('BinaryCopyWriter: finish() was called; reset() to start a new stream');
    this.ensure(2);
    const p = this.pos;
    this.rowStart = p;
    this.buf[p] = fieldCount >> 8;
    this.buf[p + 1] = fieldCount;
    this.pos = p + 2;
    this.rowCount++;
  }

  /**
   * Discards the row begun by the last beginRow() (e.g. after a field threw), so the stream
   * stays valid and the caller can skip or quarantine the row. Not possible once a chunk
   * was taken after beginRow().
   */
  abortRow(): void {
    if (this.rowStart < 0) throw new Error('BinaryCopyWriter.abortRow: no row to abort (or a chunk was taken since beginRow)');
    this.pos = this.rowStart;
    this.rowStart = -1;
    this.rowCount--;
  }

  /**
   * Appends complete tuples encoded elsewhere: bytes src[start, end), which the caller must never
   * modify afterwards (chunks may be views of them). Counts as one row; a range that continues
   * the previous one in the same `src` just extends it, so a batch of pre-encoded rows costs a
   * few comparisons per row and one copy (or none) per chunk.
   */
  appendEncoded(src: Uint8Array, start: number, end: number, rows = 1): void {
    if (this.finished) throw new Error('BinaryCopyWriter: finish() was called; reset() to start a new stream');
    if (src === this.refSrc && start === this.refEnd) {
      this.refEnd = end;
    } else {
      if (this.refSrc !== null) this.settle();
      this.refSrc = src;
      this.refStart = start;
      this.refEnd = end;
    }
    this.rowStart = -1;
    this.rowCount += rows;
  }

  // ---- fields -------------------------------------------------------------------------

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
   * With `precision`, a value that does not fit DECIMAL(precision, scale) throws (TV_COPY_VALUE)
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

  // ---- chunks -------------------------------------------------------------------------

  /** The pending bytes as a new Buffer once at least `chunkSize` are pending, else null. */
  takeChunk(): Buffer | null {
    return this.pos + (this.refEnd - this.refStart) >= this.chunkSize ? this.flush() : null;
  }

  /** The pending bytes as a new Buffer regardless of the threshold (null if none). */
  flush(): Buffer | null {
    const src = this.refSrc;
    if (src !== null) {
      if (this.pos === 0) {
        // Only pre-encoded rows are pending: hand out a view of them, no copy (never modified).
        const out = Buffer.from(src.buffer, src.byteOffset + this.refStart, this.refEnd - this.refStart);
        this.refSrc = null;
        this.refStart = this.refEnd = 0;
        this.rowStart = -1;
        this.bytesOut += out.length;
        return out;
      }
      this.settle();
    }
    const n = this.pos;
    if (n === 0) return null;
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, 0, n);
    this.pos = 0;
    this.rowStart = -1;
    this.bytesOut += n;
    return out;
  }

  /** Appends the trailer and returns every byte not yet handed out. Call reset() to reuse. */
  finish(): Buffer {
    if (this.finished) throw new Error('BinaryCopyWriter: finish() called twice');
    this.ensure(2);
    this.buf[this.pos] = 0xff;
    this.buf[this.pos + 1] = 0xff;
    this.pos += 2;
    this.finished = true;
    return this.flush()!;
  }

  // ---- primitives -------------------------------------------------------------------

  private put32(p: number, v: number): void {
    const b = this.buf;
    b[p] = v >> 24;
    b[p + 1] = v >> 16;
    b[p + 2] = v >> 8;
    b[p + 3] = v;
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
  return new CopyEncodeError('TV_COPY_VALUE', message);
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
export type FieldWriter = (w: BinaryCopyWriter, value: CellValue) => void;

/** Writes one row (array of cells, one per column) as a complete COPY tuple. */
export type RowEncoder = (w: BinaryCopyWriter, row: readonly CellValue[]) => void;

/** A table description: the COPY column list, in order. Only `type` is used here. */
export type CopyColumns = readonly { readonly type: ColumnType }[];

function describe(v: CellValue): string {
  return v === null ? 'null' : typeof v;
}

function typeError(kind: string, expected: string, v: CellValue): CopyEncodeError {
  return new CopyEncodeError('TV_COPY_TYPE', `${kind} column expects ${expected}, got ${describe(v)}`);
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
 * cell's JS type (TV_COPY_TYPE) and the checks the server would fail the whole COPY on
 * (TV_COPY_VALUE): integer ranges, DECIMAL precision, VARCHAR/CHAR length, NUL bytes.
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
      if (!Number.isInteger(precision) || precision < 1 || precision > MAX_NUMERIC_PRECISION) throw new RangeError(`unsupported NUMERIC precision ${precision}`);
      return (w, v) => {
        if (typeof v === 'bigint') w.numeric(v, scale, precision); else if (v === null) w.null();
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

/**
 * A row encoder for a table description. On a bad cell it rolls the partial row back
 * (the writer stays valid) and throws a CopyEncodeError whose `column` is the cell's index.
 */
export function createRowEncoder(columns: CopyColumns): RowEncoder {
  const writers = columns.map((c) => fieldWriterFor(c.type));
  const n = writers.length;
  return (w, row) => {
    if (row.length !== n) {
      throw new CopyEncodeError('TV_COPY_ROW_SHAPE', `row has ${row.length} cells, table has ${n} columns`);
    }
    w.beginRow(n);
    let i = 0;
    try {
      for (; i < n; i++) writers[i]!(w, row[i]!);
    } catch (err) {
      w.abortRow();
      if (err instanceof CopyEncodeError && err.column === undefined) err.column = i;
      throw err;
    }
  };
}

/**
 * Encodes rows into one complete COPY binary payload (header, rows, trailer). For large inputs
 * use the chunked helpers of copy-stream.ts instead. Errors carry the 0-based `row` index.
 */
export function encodeRows(columns: CopyColumns, rows: Iterable<readonly CellValue[]>): Buffer {
  const w = new BinaryCopyWriter({ chunkSize: Infinity });
  const encode = createRowEncoder(columns);
  let index = 0;
  for (const row of rows) {
    try {
      encode(w, row);
    } catch (err) {
      if (err instanceof CopyEncodeError) err.row = index;
      throw err;
    }
    index++;
  }
  return w.finish();
}
