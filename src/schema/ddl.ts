/**
 * DDL derived from the table descriptions (schema/tables.ts). Identifiers are quoted; the few
 * expressions (defaults, CHECK bodies, generated columns) are trusted constants from that file.
 */
import { ident, identList } from '../sql/ident.js';
import type { IndexSpec, TableSpec } from './tables.js';
import { sqlType } from './types.js';

export function createTableSql(spec: TableSpec): string {
  const lines: string[] = spec.columns.map((c) => {
    let line = `${ident(c.name)} ${sqlType(c.type)}`;
    if (c.generated) line += ` GENERATED ALWAYS AS (${c.generated}) STORED`;
    if (!c.nullable) line += ' NOT NULL';
    if (c.default) line += ` DEFAULT ${c.default}`;
    return line;
  });
  if (spec.primaryKey) lines.push(`PRIMARY KEY (${identList(spec.primaryKey)})`);
  for (const u of spec.unique ?? []) lines.push(`CONSTRAINT ${ident(u.name)} UNIQUE (${identList(u.columns)})`);
  for (const ch of spec.checks) lines.push(`CONSTRAINT ${ident(ch.name)} CHECK (${ch.sql})`);
  return `CREATE TABLE ${ident(spec.name)} (\n  ${lines.join(',\n  ')}\n)`;
}

export function indexColumnsSql(index: IndexSpec): string {
  return index.columns
    .map((c) => {
      const desc = c.endsWith(' DESC');
      const name = desc ? c.slice(0, -5) : c;
      return desc ? `${ident(name)} DESC` : ident(name);
    })
    .join(', ');
}

export function createIndexSql(table: string, index: IndexSpec): string {
  return `CREATE INDEX IF NOT EXISTS ${ident(index.name)} ON ${ident(table)} (${indexColumnsSql(index)})`;
}

export function dropIndexSql(index: IndexSpec): string {
  return `DROP INDEX IF EXISTS ${ident(index.name)}`;
}
