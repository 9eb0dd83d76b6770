/**
 * Rows from the cursor → one typed array per column, the shape every columnar writer (Parquet,
 * Arrow) takes. Values: timestamps bigint epoch microseconds, decimals the bigint unscaled value
 * (value × 10^scale, from the text, never a float), int8 bigint, int2/int4/date numbers, strings,
 * booleans; NULL stays null.
 */
import { ExportError } from '../errors.js';
import type { ExportColumn, RawCell, RawRow } from './columns.js';
import { decimalToUnscaled } from './decimal.js';

export type Cell = bigint | number | string | boolean | null;

export interface ColumnBatch {
  readonly length: number;
  /** One array per exported column, in column order. */
  readonly columns: readonly (readonly Cell[])[];
}

function converter(col: ExportColumn): (v: RawCell) => Cell {
  switch (col.kind) {
    case 'timestamp':
    case 'int64':
      return (v) => BigInt(v as string);
    case 'decimal':
      return (v) => decimalToUnscaled(v as string, col.scale);
    case 'int16':
    case 'int32':
    case 'date':
      return (v) => Number(v);
    case 'bool':
      return (v) => Boolean(v);
    case 'string':
      return (v) => String(v);
  }
}

/** One column's cursor value → its typed cell; a NULL in a NOT NULL column is an ExportError (the schema says it cannot be). */
export function cellConverter(col: ExportColumn): (v: RawCell | undefined) => Cell {
  const conv = converter(col);
  return (v) => {
    if (v === null || v === undefined) {
      if (!col.nullable) throw new ExportError(`column ${col.name} is NULL in a row but declared NOT NULL`);
      return null;
    }
    return conv(v);
  };
}

/** Converts a run of cursor rows at once. */
export function toColumnBatch(columns: readonly ExportColumn[], rows: readonly RawRow[]): ColumnBatch {
  const out = columns.map((col) => {
    const conv = cellConverter(col);
    return rows.map((r) => conv(r[col.name]));
  });
  return { length: rows.length, columns: out };
}
