/**
 * A flat Parquet column chunk decoded straight into a compact column: a typed array when the chunk
 * has no nulls, a plain array (nulls as null) when it has some, strings as a plain array of the
 * dictionary's strings. hyparquet boxes every OPTIONAL column (DuckDB's and pyarrow's default) into
 * a plain array with two definition-level arrays beside it, even without a single null; for a row
 * group of 100k+ rows those are large-object-space arrays of BigInts that outlive the young
 * generation, and they were most of a Parquet load's memory.
 *
 * Handled: PLAIN and dictionary (PLAIN_DICTIONARY, RLE_DICTIONARY) values of INT32, INT64, FLOAT,
 * DOUBLE and BYTE_ARRAY (as UTF-8 text), V1 and V2 data pages, RLE definition levels of a flat
 * column, codecs UNCOMPRESSED, SNAPPY, GZIP, BROTLI and ZSTD. Anything else (DELTA or
 * BYTE_STREAM_SPLIT encodings, BOOLEAN, INT96, FIXED_LEN_BYTE_ARRAY, DATE and TIME annotations,
 * a timestamp whose nanoseconds leave int64) returns undefined, and the caller decodes that column
 * with hyparquet. Values are what hyparquet gives for the same column with the reader's parsers
 * (test/ingest/parquet-pages.test.ts holds the two paths equal).
 */
import { endianness } from 'node:os';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { snappyUncompress, type ColumnMetaData, type Compressors, type SchemaElement } from 'hyparquet';

/**
 * Codecs hyparquet leaves to the caller (it has SNAPPY built in): ZSTD (DuckDB's and polars'
 * default, common for pyarrow too) by fzstd, which the project already uses for DBN; GZIP and
 * BROTLI by zlib. LZ4 is not supported: such a file fails with hyparquet's message naming the codec.
 */
export const COMPRESSORS: Compressors = {
  ZSTD: (input, outputLength) => zstdDecompress(input, new Uint8Array(outputLength)),
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

/** Thrown inside the decoder for what it does not handle (or a page it cannot read); never escapes decodeFlatChunk. */
class Unhandled extends Error {}

/** An unsigned LEB128 varint at `at.pos` (thrift's integers, the RLE hybrid's run headers); moves `at.pos` past it. */
function readVarint(b: Uint8Array, at: { pos: number }): number {
  let result = 0;
  let scale = 1;
  for (;;) {
    const x = b[at.pos++];
    if (x === undefined) throw new Unhandled('varint truncated');
    result += (x & 0x7f) * scale;
    if ((x & 0x80) === 0) return result;
    scale *= 128;
    if (scale > 2 ** 63) throw new Unhandled('varint too long');
  }
}

// ---- Thrift compact protocol: enough to read a PageHeader, unknown fields skipped ----

type ThriftStruct = Record<number, unknown>;

class ThriftReader {
  constructor(
    private readonly b: Uint8Array,
    public pos: number,
  ) {}

  private byte(): number {
    const x = this.b[this.pos++];
    if (x === undefined) throw new Unhandled('page header truncated');
    return x;
  }

  varint(): number {
    return readVarint(this.b, this);
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  struct(): ThriftStruct {
    const out: ThriftStruct = {};
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const type = h & 0x0f;
      const delta = h >> 4;
      const id = delta === 0 ? this.zigzag() : last + delta;
      last = id;
      out[id] = type === 1 ? true : type === 2 ? false : this.value(type);
    }
  }

  private value(type: number): unknown {
    switch (type) {
      case 1:
      case 2:
      case 3:
        return this.byte();
      case 4:
      case 5:
      case 6:
        return this.zigzag();
      case 7:
        this.skip(8);
        return undefined;
      case 8: {
        const len = this.varint();
        this.skip(len);
        return undefined;
      }
      case 9:
      case 10: {
        const h = this.byte();
        const size = h >> 4 === 15 ? this.varint() : h >> 4;
        for (let i = 0; i < size; i++) this.value(h & 0x0f);
        return undefined;
      }
      case 11: {
        const size = this.varint();
        if (size > 0) {
          const kv = this.byte();
          for (let i = 0; i < size; i++) {
            this.value(kv >> 4);
            this.value(kv & 0x0f);
          }
        }
        return undefined;
      }
      case 12:
        return this.struct();
      default:
        throw new Unhandled(`thrift type ${type}`);
    }
  }

  private skip(n: number): void {
    if (this.pos + n > this.b.length) throw new Unhandled('page header truncated');
    this.pos += n;
  }
}

const int = (s: ThriftStruct | undefined, id: number): number => {
  const v = s?.[id];
  if (typeof v !== 'number') throw new Unhandled(`page header field ${id} missing`);
  return v;
};

// Parquet's enums as the page header holds them.
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENC_PLAIN = 0;
const ENC_PLAIN_DICTIONARY = 2;
const ENC_RLE = 3;
const ENC_RLE_DICTIONARY = 8;

// ---- RLE / bit-packed hybrid (definition levels, dictionary indices) ----

/** `count` values of `bitWidth` bits from b[pos, end) into out. */
function readHybrid(b: Uint8Array, pos: number, end: number, bitWidth: number, out: Uint8Array | Uint32Array, count: number): void {
  if (bitWidth === 0) {
    out.fill(0, 0, count);
    return;
  }
  if (bitWidth > 32) throw new Unhandled(`bit width ${bitWidth}`);
  const byteWidth = (bitWidth + 7) >> 3;
  const at = { pos };
  let i = 0;
  while (i < count) {
    if (at.pos >= end) throw new Unhandled('RLE data truncated');
    const header = readVarint(b, at);
    if (header % 2 === 1) {
      const groups = (header - 1) / 2;
      const runEnd = at.pos + groups * bitWidth;
      if (runEnd > end) throw new Unhandled('bit-packed run truncated');
      const n = Math.min(groups * 8, count - i);
      let p = at.pos;
      if (bitWidth <= 24) {
        const mask = (1 << bitWidth) - 1;
        let acc = 0;
        let bits = 0;
        for (let k = 0; k < n; k++) {
          while (bits < bitWidth) {
            acc |= b[p++]! << bits;
            bits += 8;
          }
          out[i++] = acc & mask;
          acc >>>= bitWidth;
          bits -= bitWidth;
        }
      } else {
        const div = 2 ** bitWidth;
        let acc = 0;
        let scale = 1;
        for (let k = 0; k < n; k++) {
          while (scale < div) {
            acc += b[p++]! * scale;
            scale *= 256;
          }
          out[i++] = acc % div;
          acc = Math.floor(acc / div);
          scale /= div;
        }
      }
      at.pos = runEnd;
    } else {
      const n = Math.min(header / 2, count - i);
      let v = 0;
      for (let k = 0; k < byteWidth; k++) v += b[at.pos + k]! * 2 ** (8 * k);
      at.pos += byteWidth;
      out.fill(v, i, i + n);
      i += n;
    }
  }
}

// ---- Values ----

type Physical = 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY';
type NumericArray = Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;
type Values = NumericArray | string[];

/** How a column's stored values become cells: the physical layout, signedness, a timestamp's unit. */
interface ValueKind {
  readonly physical: Physical;
  readonly unsigned: boolean;
  /** Multiplier to epoch nanoseconds for a TIMESTAMP column (1n for NANOS). */
  readonly toNanos?: bigint;
}

/** The kind hyparquet's conversion gives this element, or undefined for what only it handles. */
function valueKind(e: SchemaElement): ValueKind | undefined {
  const ct = e.converted_type;
  const lt = e.logical_type;
  switch (e.type) {
    case 'INT32': {
      if (ct !== undefined && !['INT_8', 'INT_16', 'INT_32', 'UINT_8', 'UINT_16', 'UINT_32'].includes(ct)) return undefined;
      if (lt !== undefined && lt.type !== 'INTEGER') return undefined;
      const unsigned = ct === 'UINT_32' || (lt?.type === 'INTEGER' && lt.bitWidth === 32 && !lt.isSigned);
      return { physical: 'INT32', unsigned };
    }
    case 'INT64': {
      if (ct === 'TIMESTAMP_MILLIS') return { physical: 'INT64', unsigned: false, toNanos: 1_000_000n };
      if (ct === 'TIMESTAMP_MICROS') return { physical: 'INT64', unsigned: false, toNanos: 1_000n };
      if (ct !== undefined && ct !== 'INT_64' && ct !== 'UINT_64') return undefined;
      if (lt?.type === 'TIMESTAMP') {
        const toNanos = lt.unit === 'MILLIS' ? 1_000_000n : lt.unit === 'MICROS' ? 1_000n : 1n;
        return { physical: 'INT64', unsigned: false, toNanos };
      }
      if (lt !== undefined && lt.type !== 'INTEGER') return undefined;
      const unsigned = ct === 'UINT_64' || (lt?.type === 'INTEGER' && lt.bitWidth === 64 && !lt.isSigned);
      return { physical: 'INT64', unsigned };
    }
    case 'FLOAT':
      return lt === undefined && ct === undefined ? { physical: 'FLOAT', unsigned: false } : undefined;
    case 'DOUBLE':
      return lt === undefined && ct === undefined ? { physical: 'DOUBLE', unsigned: false } : undefined;
    case 'BYTE_ARRAY':
      // hyparquet reads an unannotated BYTE_ARRAY as UTF-8 too (its utf8 option's default).
      if (ct !== undefined && ct !== 'UTF8' && ct !== 'ENUM') return undefined;
      if (lt !== undefined && lt.type !== 'STRING' && lt.type !== 'ENUM') return undefined;
      return { physical: 'BYTE_ARRAY', unsigned: false };
    default:
      return undefined;
  }
}

const WIDTH: Record<Exclude<Physical, 'BYTE_ARRAY'>, number> = { INT32: 4, INT64: 8, FLOAT: 4, DOUBLE: 8 };

function numericArray(kind: ValueKind, n: number): NumericArray {
  switch (kind.physical) {
    case 'INT32':
      return kind.unsigned ? new Uint32Array(n) : new Int32Array(n);
    case 'INT64':
      return kind.unsigned ? new BigUint64Array(n) : new BigInt64Array(n);
    case 'FLOAT':
      return new Float32Array(n);
    default:
      return new Float64Array(n);
  }
}

const utf8 = new TextDecoder();

/** `n` PLAIN values from b[pos, end). */
function readPlain(kind: ValueKind, b: Uint8Array, pos: number, end: number, n: number): Values {
  if (kind.physical === 'BYTE_ARRAY') {
    const out: string[] = new Array(n);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let p = pos;
    for (let i = 0; i < n; i++) {
      if (p + 4 > end) throw new Unhandled('BYTE_ARRAY values truncated');
      const len = view.getUint32(p, true);
      p += 4;
      if (p + len > end) throw new Unhandled('BYTE_ARRAY values truncated');
      out[i] = utf8.decode(b.subarray(p, p + len));
      p += len;
    }
    return out;
  }
  const bytes = n * WIDTH[kind.physical];
  if (pos + bytes > end) throw new Unhandled('values truncated');
  const out = numericArray(kind, n);
  // A copy (aligned, and the page's buffer is not kept alive by the column).
  new Uint8Array(out.buffer).set(b.subarray(pos, pos + bytes));
  return out;
}

/** Dictionary indices (bit width byte, then the hybrid) looked up into a page's values. */
function readIndexed(kind: ValueKind, dict: Values, b: Uint8Array, pos: number, end: number, n: number): Values {
  if (pos >= end && n > 0) throw new Unhandled('dictionary indices truncated');
  const idx = new Uint32Array(n);
  if (n > 0) readHybrid(b, pos + 1, end, b[pos]!, idx, n);
  const size = dict.length;
  if (Array.isArray(dict)) {
    const out: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      if (k >= size) throw new Unhandled('dictionary index out of range');
      out[i] = dict[k]!;
    }
    return out;
  }
  const out = numericArray(kind, n);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    const d = dict as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      if (k >= size) throw new Unhandled('dictionary index out of range');
      out[i] = d[k]!;
    }
  } else {
    const d = dict as Float64Array;
    const o = out as Float64Array;
    for (let i = 0; i < n; i++) {
      const k = idx[i]!;
      if (k >= size) throw new Unhandled('dictionary index out of range');
      o[i] = d[k]!;
    }
  }
  return out;
}

/** One data page's values and, when the page has nulls, its definition levels. */
interface PageValues {
  readonly count: number;
  readonly values: Values;
  readonly levels?: Uint8Array;
}

export type Decompress = (codec: string, input: Uint8Array, outputLength: number) => Uint8Array;

/** A page's bytes uncompressed: COMPRESSORS' codecs and hyparquet's SNAPPY (any other is left to hyparquet). */
export const decompress: Decompress = (codec, input, outputLength) => {
  if (codec === 'UNCOMPRESSED') return input;
  if (codec === 'SNAPPY') {
    const out = new Uint8Array(outputLength);
    snappyUncompress(input, out);
    return out;
  }
  const f = COMPRESSORS[codec as keyof Compressors];
  if (!f) throw new Unhandled(`codec ${codec}`);
  const out = f(input, outputLength);
  if (out.length !== outputLength) throw new Unhandled('decompressed size differs from the page header');
  return out;
};

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Whether decodeFlatChunk may take this column at all (its type, annotation and repetition):
 * asked before the chunk's bytes are read, so a column left to hyparquet is read once.
 */
export function decodesFlat(element: SchemaElement, meta: ColumnMetaData): boolean {
  return LITTLE_ENDIAN && element.repetition_type !== 'REPEATED' && meta.type === element.type && valueKind(element) !== undefined;
}

/**
 * Column chunk bytes → its `rows` cells as a compact column, or undefined where hyparquet must
 * decode it (see the module comment). `chunk` starts at the chunk's first page.
 */
export function decodeFlatChunk(
  element: SchemaElement,
  meta: ColumnMetaData,
  chunk: Uint8Array,
  rows: number,
): ArrayLike<unknown> | undefined {
  if (!decodesFlat(element, meta)) return undefined;
  const maxDef = element.repetition_type === 'REQUIRED' ? 0 : 1;
  try {
    return decode(valueKind(element)!, maxDef, meta, chunk, rows);
  } catch {
    // What it does not handle, and a damaged page too: hyparquet reads the column again and a
    // damaged one fails there, with the message the reader reports for any unreadable group.
    return undefined;
  }
}

function decode(kind: ValueKind, maxDef: number, meta: ColumnMetaData, chunk: Uint8Array, rows: number): ArrayLike<unknown> {
  const pages: PageValues[] = [];
  let dict: Values | undefined;
  let seen = 0;
  let pos = 0;
  while (seen < rows) {
    if (pos >= chunk.length) throw new Unhandled('column chunk ends before its rows');
    const reader = new ThriftReader(chunk, pos);
    const header = reader.struct();
    const type = int(header, 1);
    const uncompressed = int(header, 2);
    const compressed = int(header, 3);
    const body = reader.pos;
    const next = body + compressed;
    if (next > chunk.length) throw new Unhandled('page truncated');
    pos = next;
    if (type === PAGE_DICTIONARY) {
      const h = header[7] as ThriftStruct | undefined;
      const enc = int(h, 2);
      if (enc !== ENC_PLAIN && enc !== ENC_PLAIN_DICTIONARY) throw new Unhandled(`dictionary encoding ${enc}`);
      const data = decompress(meta.codec, chunk.subarray(body, next), uncompressed);
      dict = readPlain(kind, data, 0, data.length, int(h, 1));
    } else if (type === PAGE_DATA) {
      const h = header[5] as ThriftStruct | undefined;
      const count = int(h, 1);
      const data = decompress(meta.codec, chunk.subarray(body, next), uncompressed);
      let p = 0;
      let levels: Uint8Array | undefined;
      if (maxDef > 0) {
        if (int(h, 3) !== ENC_RLE) throw new Unhandled('definition levels not RLE');
        if (p + 4 > data.length) throw new Unhandled('definition levels truncated');
        const len = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
        levels = new Uint8Array(count);
        readHybrid(data, p + 4, p + 4 + len, 1, levels, count);
        p += 4 + len;
      }
      pages.push(pageValues(kind, dict, int(h, 2), data, p, count, levels));
      seen += count;
    } else if (type === PAGE_DATA_V2) {
      const h = header[8] as ThriftStruct | undefined;
      const count = int(h, 1);
      const defLen = int(h, 5);
      const repLen = int(h, 6);
      if (repLen !== 0) throw new Unhandled('repetition levels in a flat column');
      let levels: Uint8Array | undefined;
      if (maxDef > 0) {
        levels = new Uint8Array(count);
        readHybrid(chunk, body, body + defLen, 1, levels, count);
      }
      const raw = chunk.subarray(body + defLen, next);
      const data = h?.[7] === false ? raw : decompress(meta.codec, raw, uncompressed - defLen);
      pages.push(pageValues(kind, dict, int(h, 4), data, 0, count, levels));
      seen += count;
    } else {
      // An index page (never written in practice) or one this decoder does not know.
      if (type !== 1) throw new Unhandled(`page type ${type}`);
    }
  }
  if (seen !== rows) throw new Unhandled('pages hold more values than the row group has rows');
  return assemble(kind, pages, rows);
}

function pageValues(
  kind: ValueKind,
  dict: Values | undefined,
  encoding: number,
  data: Uint8Array,
  pos: number,
  count: number,
  levels: Uint8Array | undefined,
): PageValues {
  let present = count;
  if (levels) {
    present = 0;
    for (let i = 0; i < count; i++) present += levels[i]!;
  }
  let values: Values;
  if (encoding === ENC_PLAIN) values = readPlain(kind, data, pos, data.length, present);
  else if (encoding === ENC_PLAIN_DICTIONARY || encoding === ENC_RLE_DICTIONARY) {
    if (!dict) throw new Unhandled('dictionary page missing');
    values = readIndexed(kind, dict, data, pos, data.length, present);
  } else throw new Unhandled(`encoding ${encoding}`);
  return present === count ? { count, values } : { count, values, levels };
}

/** Pages → one column of the group's rows; timestamps scaled to nanoseconds. */
function assemble(kind: ValueKind, pages: readonly PageValues[], rows: number): ArrayLike<unknown> {
  const toNanos = kind.toNanos ?? 1n;
  const limit = 0x7fffffffffffffffn / toNanos;
  if (pages.every((p) => p.levels === undefined)) {
    let out: Values;
    if (pages.length === 1) out = pages[0]!.values;
    else if (kind.physical === 'BYTE_ARRAY') out = pages.flatMap((p) => p.values as string[]);
    else {
      const all = numericArray(kind, rows);
      let at = 0;
      for (const p of pages) {
        (all as Float64Array).set(p.values as Float64Array, at);
        at += p.values.length;
      }
      out = all;
    }
    if (toNanos !== 1n) {
      const ts = out as BigInt64Array;
      for (let i = 0; i < ts.length; i++) {
        const v = ts[i]!;
        // Out of int64 once in nanoseconds: hyparquet's path keeps it (and the mapping says why it is refused).
        if (v > limit || v < -limit) throw new Unhandled('timestamp out of the nanosecond range');
        ts[i] = v * toNanos;
      }
    }
    return out;
  }
  const out: unknown[] = new Array(rows);
  let at = 0;
  for (const p of pages) {
    const v = p.values as ArrayLike<unknown>;
    if (!p.levels) {
      for (let i = 0; i < p.count; i++) out[at++] = v[i];
      continue;
    }
    let k = 0;
    for (let i = 0; i < p.count; i++) out[at++] = p.levels[i] ? v[k++] : null;
  }
  if (toNanos !== 1n) {
    for (let i = 0; i < rows; i++) {
      const v = out[i] as bigint | null;
      if (v === null) continue;
      if (v > limit || v < -limit) throw new Unhandled('timestamp out of the nanosecond range');
      out[i] = v * toNanos;
    }
  }
  return out;
}
