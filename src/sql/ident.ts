/**
 * Identifier quoting. Every identifier that reaches SQL text goes through `ident`; values always
 * travel as bound parameters. Identifiers are validated against PostgreSQL's limits, so a name
 * taken from input either quotes cleanly or is rejected.
 */
import { QueryError } from '../errors.js';

const MAX_IDENTIFIER_BYTES = 63;

export function ident(name: string): string {
  if (name.length === 0) throw new QueryError('an SQL identifier cannot be empty');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new QueryError(`identifier "${name.slice(0, 20)}…" is longer than ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  if (name.includes('\0')) throw new QueryError('an SQL identifier cannot contain a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/** schema.name, each part quoted. */
export function qualified(schema: string | undefined, name: string): string {
  return schema ? `${ident(schema)}.${ident(name)}` : ident(name);
}

/** A SQL string literal, for the few places PostgreSQL does not accept a parameter (DDL). */
export function literal(value: string): string {
  if (value.includes('\0')) throw new QueryError('an SQL literal cannot contain a NUL byte');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Comma-separated quoted identifiers. */
export function identList(names: readonly string[]): string {
  return names.map(ident).join(', ');
}
