/**
 * What a column can hold, derived from its type in the table description (tables.ts): integer
 * ranges, text lengths, decimal precision. One home for these rules — the record normalizer, the
 * DBN row checks, the fast tuple codecs and the COPY encoders all ask here, so "fits INTEGER"
 * cannot mean two things. (The WebAssembly kernel keeps its own byte-level copy of the few it
 * needs; property tests hold it to the JS codecs.)
 */
import type { Column } from './tables.js';
import type { CellValue, ColumnType } from './types.js';

export const INT2_MIN = -32768;
export const INT2_MAX = 32767;
export const INT4_MIN = -2147483648;
export const INT4_MAX = 2147483647;
export const INT8_MIN = -(2n ** 63n);
export const INT8_MAX = 2n ** 63n - 1n;

const SQL_NAME: Partial<Record<ColumnType['kind'], string>> = { int2: 'SMALLINT', int4: 'INTEGER', int8: 'BIGINT' };

/** [min, max] of an INTEGER or SMALLINT column. */
export function intRange(kind: 'int2' | 'int4'): readonly [number, number] {
  return kind === 'int2' ? [INT2_MIN, INT2_MAX] : [INT4_MIN, INT4_MAX];
}

/** The longest text a VARCHAR/CHAR column holds (in characters); Infinity for TEXT and others. */
export function maxTextLength(type: ColumnType): number {
  return type.kind === 'varchar' || type.kind === 'char' ? type.length : Infinity;
}

/** |value × 10^scale| < 10^precision: the scaled integer fits DECIMAL(precision, scale). */
export function fitsDecimal(scaled: bigint, precision: number): boolean {
  const limit = DECIMAL_LIMITS[precision] ?? 10n ** BigInt(precision);
  return scaled < limit && scaled > -limit;
}

/** 10^p for every precision PostgreSQL's NUMERIC allows a typmod (≤ 1000): one BigInt power per load, not per value. */
const DECIMAL_LIMITS: bigint[] = Array.from({ length: 40 }, (_, p) => 10n ** BigInt(p));

/** Why a normalized integer does not fit its column, or null. */
export function intMisfit(kind: 'int2' | 'int4' | 'int8', v: number | bigint): string | null {
  if (kind === 'int8') return (v as bigint) < INT8_MIN || (v as bigint) > INT8_MAX ? `${v} is out of range for BIGINT` : null;
  const [lo, hi] = intRange(kind);
  return (v as number) < lo || (v as number) > hi ? `${v} is out of range for ${SQL_NAME[kind]}` : null;
}

/**
 * Why text does not fit its column, or null. `raw.length` counts UTF-16 units, never fewer than
 * characters: code points are counted only when the length could matter.
 */
export function textMisfit(type: ColumnType, raw: string): string | null {
  const max = maxTextLength(type);
  return raw.length > max && [...raw].length > max ? `"${raw.slice(0, 40)}" is longer than ${max} characters` : null;
}

/** Why a normalized value does not fit its column (range, length, precision), or null. */
export function columnMisfit(col: Column, v: CellValue): string | null {
  if (v === null) return null;
  const type = col.type;
  switch (type.kind) {
    case 'int2':
    case 'int4':
    case 'int8':
      return intMisfit(type.kind, v as number | bigint);
    case 'varchar':
    case 'char':
      return textMisfit(type, v as string);
    case 'numeric':
      return fitsDecimal(v as bigint, type.precision) ? null : `does not fit DECIMAL(${type.precision},${type.scale})`;
    default:
      return null;
  }
}
