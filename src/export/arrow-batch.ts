/**
 * A ColumnBatch as an Arrow RecordBatch, built straight from typed buffers (no per-value Arrow
 * builders): DECIMAL(p, s) → Decimal128(p, s) (two's complement, little endian, as Arrow stores
 * it), timestamps → Timestamp(MICROSECOND, 'UTC'), int8 → Int64, int4 → Int32, int2 → Int16,
 * date → Date32 (days), strings → Utf8, booleans → Bool. The Arrow IPC writer and the parquet-wasm
 * Parquet writer share this mapping.
 */
import {
  Bool,
  DateDay,
  Decimal,
  Field,
  Int16,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { ColumnBatch, Cell } from './batch.js';
import type { ExportColumn } from './columns.js';

function arrowType(col: ExportColumn): DataType {
  switch (col.kind) {
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'decimal':
      return new Decimal(col.scale, col.precision, 128);
    case 'int16':
      return new Int16();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'date':
      return new DateDay();
    case 'bool':
      return new Bool();
    case 'string':
      return new Utf8();
  }
}

/** The Arrow schema of an export: one field per column, nullability from the table description. */
export function arrowSchema(columns: readonly ExportColumn[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c), c.nullable)));
}

/** Validity bitmap (LSB first) and the null count; undefined bitmap when nothing is null. */
function validity(values: readonly Cell[]): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  for (const v of values) if (v === null) nullCount += 1;
  if (nullCount === 0) return { nullBitmap: undefined, nullCount };
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i] !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  return { nullBitmap: bitmap, nullCount };
}

function columnData(type: DataType, values: readonly Cell[]): Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validity(values);
  const base = { type, length, nullCount, nullBitmap } as const;
  if (type instanceof Decimal) {
    // 128-bit two's complement as two int64 words, low word first.
    const words = new BigInt64Array(length * 2);
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v === null) continue;
      const b = v as bigint;
      words[2 * i] = BigInt.asIntN(64, b);
      words[2 * i + 1] = b >> 64n;
    }
    return makeData({ ...base, type, data: new Uint32Array(words.buffer) });
  }
  if (type instanceof TimestampMicrosecond || type instanceof Int64) {
    const data = new BigInt64Array(length);
    for (let i = 0; i < length; i++) data[i] = (values[i] as bigint | null) ?? 0n;
    return makeData({ ...base, type, data } as never);
  }
  if (type instanceof Int32 || type instanceof DateDay) {
    const data = new Int32Array(length);
    for (let i = 0; i < length; i++) data[i] = (values[i] as number | null) ?? 0;
    return makeData({ ...base, type, data } as never);
  }
  if (type instanceof Int16) {
    const data = new Int16Array(length);
    for (let i = 0; i < length; i++) data[i] = (values[i] as number | null) ?? 0;
    return makeData({ ...base, type, data });
  }
  if (type instanceof Bool) {
    const data = new Uint8Array((length + 7) >> 3);
    for (let i = 0; i < length; i++) if (values[i] === true) data[i >> 3]! |= 1 << (i & 7);
    return makeData({ ...base, type, data });
  }
  // Utf8: offsets, then the UTF-8 bytes of every value written once into one buffer.
  const valueOffsets = new Int32Array(length + 1);
  let bytes = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v !== null) bytes += Buffer.byteLength(v as string, 'utf8');
    valueOffsets[i + 1] = bytes;
  }
  const data = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v !== null) data.write(v as string, valueOffsets[i]!, 'utf8');
  }
  return makeData({ ...base, type: type as Utf8, valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, bytes) });
}

export function toArrowBatch(schema: Schema, batch: ColumnBatch): RecordBatch {
  const children = schema.fields.map((f, i) => columnData(f.type as DataType, batch.columns[i]!));
  const struct = makeData({ type: new Struct(schema.fields), length: batch.length, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}
