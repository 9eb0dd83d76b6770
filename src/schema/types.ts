/**
 * Column types tickvault stores, and the in-memory representation of each value between
 * validation and the COPY encoder. One representation per type keeps every path exact:
 * prices never pass through a binary float, timestamps never lose microseconds.
 *
 * | type        | JS value                                                   |
 * |-------------|------------------------------------------------------------|
 * | timestamptz | bigint: microseconds since 1970-01-01T00:00:00Z             |
 * | int2, int4  | number (integer)                                           |
 * | int8        | bigint                                                     |
 * | numeric     | bigint: the value × 10^scale (exact fixed point, rounded)  |
 * | varchar/char/text | string                                               |
 * | bool        | boolean                                                    |
 * | date        | number: days since 1970-01-01                              |
 * | jsonb       | string: JSON text                                          |
 * | any, NULL   | null                                                       |
 */
export type ColumnType =
  | { readonly kind: 'timestamptz' }
  | { readonly kind: 'int2' }
  | { readonly kind: 'int4' }
  | { readonly kind: 'int8' }
  | { readonly kind: 'numeric'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'varchar'; readonly length: number }
  | { readonly kind: 'char'; readonly length: number }
  | { readonly kind: 'text' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'date' }
  | { readonly kind: 'jsonb' };

export type ColumnKind = ColumnType['kind'];

export type CellValue = bigint | number | string | boolean | null;

export const t = {
  timestamptz: { kind: 'timestamptz' } as const,
  int2: { kind: 'int2' } as const,
  int4: { kind: 'int4' } as const,
  int8: { kind: 'int8' } as const,
  numeric: (precision: number, scale: number) => ({ kind: 'numeric', precision, scale }) as const,
  varchar: (length: number) => ({ kind: 'varchar', length }) as const,
  char: (length: number) => ({ kind: 'char', length }) as const,
  text: { kind: 'text' } as const,
  bool: { kind: 'bool' } as const,
  date: { kind: 'date' } as const,
  jsonb: { kind: 'jsonb' } as const,
};

/** SQL spelling of a column type, as the DDL writes it. */
export function sqlType(type: ColumnType): string {
  switch (type.kind) {
    case 'timestamptz':
      return 'TIMESTAMPTZ';
    case 'int2':
      return 'SMALLINT';
    case 'int4':
      return 'INTEGER';
    case 'int8':
      return 'BIGINT';
    case 'numeric':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'varchar':
      return `VARCHAR(${type.length})`;
    case 'char':
      return `CHAR(${type.length})`;
    case 'text':
      return 'TEXT';
    case 'bool':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'jsonb':
      return 'JSONB';
  }
}
