/**
 * How each stored column leaves the database, derived from the one table description
 * (schema/tables.ts) so an export never names a column or a type of its own: the SELECT
 * expression that reads it exactly (decimals and int8 as text, timestamps as epoch microseconds)
 * and the typed kind the writers map to Parquet, Arrow and CSV.
 */
import { QueryError } from '../errors.js';
import { ident } from '../sql/ident.js';
import { usExpr } from '../sql/time.js';
import { MARKET_TABLES, type Column, type TableName, type TableSpec } from '../schema/tables.js';

export type ExportKind = 'timestamp' | 'decimal' | 'int16' | 'int32' | 'int64' | 'string' | 'bool' | 'date';

export interface ExportColumn {
  readonly name: string;
  readonly kind: ExportKind;
  readonly nullable: boolean;
  /** DECIMAL(precision, scale); 0 for other kinds. */
  readonly precision: number;
  readonly scale: number;
}

/**
 * A row as the cursor returns it: one value per column, keyed by column name. Timestamps are
 * epoch microseconds and int8/decimals are text (both engines agree on text, never a float),
 * int2/int4 are numbers, booleans booleans, dates days since 1970-01-01.
 */
export type RawCell = string | number | boolean | null;
export type RawRow = Readonly<Record<string, RawCell>>;

function kindOf(c: Column): Pick<ExportColumn, 'kind' | 'precision' | 'scale'> {
  const t = c.type;
  switch (t.kind) {
    case 'timestamptz':
      return { kind: 'timestamp', precision: 0, scale: 0 };
    case 'numeric':
      return { kind: 'decimal', precision: t.precision, scale: t.scale };
    case 'int2':
      return { kind: 'int16', precision: 0, scale: 0 };
    case 'int4':
      return { kind: 'int32', precision: 0, scale: 0 };
    case 'int8':
      return { kind: 'int64', precision: 0, scale: 0 };
    case 'bool':
      return { kind: 'bool', precision: 0, scale: 0 };
    case 'date':
      return { kind: 'date', precision: 0, scale: 0 };
    case 'varchar':
    case 'char':
    case 'text':
    case 'jsonb':
      return { kind: 'string', precision: 0, scale: 0 };
  }
}

/** Trusted SQL that reads a column the way RawRow says (identifier quoted, no input spliced). */
export function selectOf(name: string, kind: ExportKind): string {
  const col = ident(name);
  switch (kind) {
    // int8 microseconds as text: a JS number cannot hold every one exactly.
    case 'timestamp':
      return `${usExpr(col)}::text AS ${col}`;
    case 'decimal':
    case 'int64':
      return `${col}::text AS ${col}`;
    case 'date':
      return `(${col} - DATE '1970-01-01') AS ${col}`;
    // CHAR(n) is read as text so its padding is what was stored, not what the driver adds.
    case 'string':
      return `${col}::text AS ${col}`;
    default:
      return col;
  }
}

/**
 * A column as CSV text computed by the server (for `COPY (SELECT …) TO STDOUT (FORMAT csv)`),
 * the same text CsvWriter makes of selectOf's value: timestamps ISO 8601 UTC with six fraction
 * digits, dates YYYY-MM-DD, booleans true/false; the rest is the column's own text.
 */
export function csvSelectOf(name: string, kind: ExportKind): string {
  const col = ident(name);
  switch (kind) {
    case 'timestamp':
      return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${col}`;
    case 'date':
      return `to_char(${col}, 'YYYY-MM-DD') AS ${col}`;
    case 'bool':
      return `CASE WHEN ${col} THEN 'true' WHEN NOT ${col} THEN 'false' END AS ${col}`;
    default:
      return selectOf(name, kind);
  }
}

/** The exported columns of `spec`, in table order (generated columns included: they are data). */
export function exportColumns(spec: TableSpec): readonly ExportColumn[] {
  return spec.columns.map((c) => {
    const k = kindOf(c);
    return { name: c.name, nullable: c.nullable || c.generated !== undefined, ...k };
  });
}

/** The table description of an exportable table; anything else is a QueryError naming the choices. */
export function exportTableSpec(table: string): TableSpec {
  const spec = MARKET_TABLES.find((s) => s.name === table);
  if (!spec) throw new QueryError(`unknown table ${JSON.stringify(table)}; expected one of ${MARKET_TABLES.map((s) => s.name).join(', ')}`);
  return spec;
}

export const EXPORT_TABLES: readonly TableName[] = MARKET_TABLES.map((s) => s.name);
