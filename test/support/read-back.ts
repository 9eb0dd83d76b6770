/**
 * Independent readers for export files: DuckDB (`@duckdb/node-api`, not the writers' libraries)
 * for Parquet and CSV; apache-arrow's IPC reader for Arrow files, with decimals decoded from the
 * raw Decimal128 words here. Every value comes back as canonical text — timestamps as epoch
 * microseconds, decimals with the column's scale — to compare with the database's own text.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { tableFromIPC } from 'apache-arrow';
import type { ExportColumn } from '../../src/export/columns.js';
import type { Engine } from '../../src/engine/types.js';

export type TextRow = (string | null)[];

let con: DuckDBConnection | undefined;
export async function duck(): Promise<DuckDBConnection> {
  if (!con) con = await (await DuckDBInstance.create(':memory:')).connect();
  return con;
}

/** A statement on the shared in-memory DuckDB (tests write their Parquet files with `COPY … TO`). */
export async function duckRun(sql: string): Promise<void> {
  await (await duck()).run(sql);
}

export async function duckRows(sql: string): Promise<TextRow[]> {
  const reader = await (await duck()).runAndReadAll(sql);
  return reader.getRowsJS().map((r) => r.map((v) => (v === null ? null : String(v))));
}

const q = (name: string) => `"${name}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

function duckText(c: ExportColumn): string {
  switch (c.kind) {
    case 'timestamp':
      return `epoch_us(${q(c.name)})::VARCHAR`;
    case 'date':
      return `strftime(${q(c.name)}, '%Y-%m-%d')`;
    case 'bool':
      return `CASE WHEN ${q(c.name)} THEN 'true' WHEN NOT ${q(c.name)} THEN 'false' END`;
    default:
      return `${q(c.name)}::VARCHAR`;
  }
}

function duckType(c: ExportColumn): string {
  switch (c.kind) {
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'decimal':
      return `DECIMAL(${c.precision},${c.scale})`;
    case 'int16':
      return 'SMALLINT';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'date':
      return 'DATE';
    case 'bool':
      return 'BOOLEAN';
    case 'string':
      return 'VARCHAR';
  }
}

export function readParquet(file: string, columns: readonly ExportColumn[]): Promise<TextRow[]> {
  return duckRows(`SELECT ${columns.map(duckText).join(', ')} FROM read_parquet(${lit(file)})`);
}

/** The CSV read with the table's types declared (no sniffing: a price must parse as the exact DECIMAL). */
export function readCsv(file: string, columns: readonly ExportColumn[]): Promise<TextRow[]> {
  const types = `{${columns.map((c) => `${lit(c.name)}: ${lit(duckType(c))}`).join(', ')}}`;
  return duckRows(
    `SELECT ${columns.map(duckText).join(', ')} FROM read_csv(${lit(file)}, header = true, columns = ${types}, timestampformat = '%Y-%m-%dT%H:%M:%S.%fZ', allow_quoted_nulls = false)`,
  );
}

/** DuckDB's view of a Parquet file's column types (`typeof` of each column). */
export async function parquetTypes(file: string, columns: readonly ExportColumn[]): Promise<Record<string, string>> {
  const rows = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`);
  const out: Record<string, string> = {};
  for (const r of rows) out[r[0]!] = r[1]!;
  void columns;
  return out;
}

function decimalText(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}${scale ? `.${digits.slice(digits.length - scale)}` : ''}`;
}

export function readArrow(
  file: string,
  columns: readonly ExportColumn[],
): { rows: TextRow[]; types: Record<string, string>; batches: number } {
  const table = tableFromIPC(readFileSync(file));
  const types: Record<string, string> = {};
  for (const f of table.schema.fields) {
    const ty = f.type as { scale?: number; precision?: number; bitWidth?: number };
    types[f.name] = String(f.type).startsWith('Decimal') ? `Decimal${ty.bitWidth}(${ty.precision},${ty.scale})` : String(f.type);
  }
  const rows: TextRow[] = Array.from({ length: table.numRows }, () => []);
  for (const c of columns) {
    const vec = table.getChild(c.name)!;
    let i = 0;
    for (const data of vec.data) {
      for (let j = 0; j < data.length; j++, i++) {
        if (!data.getValid(j)) {
          rows[i]!.push(null);
          continue;
        }
        if (c.kind === 'decimal') {
          const w = data.values as Uint32Array;
          const lo = BigInt(w[4 * j]!) | (BigInt(w[4 * j + 1]!) << 32n);
          const hi = BigInt(w[4 * j + 2]!) | (BigInt(w[4 * j + 3]!) << 32n);
          rows[i]!.push(decimalText(BigInt.asIntN(128, lo | (hi << 64n)), c.scale));
        } else if (c.kind === 'timestamp' || c.kind === 'int64') {
          rows[i]!.push(String((data.values as BigInt64Array)[j]));
        } else if (c.kind === 'date') {
          rows[i]!.push(new Date((data.values as Int32Array)[j]! * 86_400_000).toISOString().slice(0, 10));
        } else {
          rows[i]!.push(String(vec.get(i)));
        }
      }
    }
  }
  return { rows, types, batches: table.batches.length };
}

/** The database's rows of `table` as canonical text, in the export's order. */
export async function dbRows(
  engine: Engine,
  table: string,
  columns: readonly ExportColumn[],
  order: string,
  where = '',
): Promise<TextRow[]> {
  const exprs = columns.map((c) => {
    switch (c.kind) {
      case 'timestamp':
        return `(extract(epoch FROM ${q(c.name)}) * 1000000)::int8::text`;
      case 'date':
        return `to_char(${q(c.name)}, 'YYYY-MM-DD')`;
      case 'bool':
        return `CASE WHEN ${q(c.name)} THEN 'true' WHEN NOT ${q(c.name)} THEN 'false' END`;
      default:
        return `${q(c.name)}::text`;
    }
  });
  const { rows } = await engine.query<Record<string, string | null>>(
    `SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')} FROM ${q(table)} ${where} ORDER BY ${order}`,
  );
  return rows.map((r) => columns.map((_, i) => r[`c${i}`] ?? null));
}
