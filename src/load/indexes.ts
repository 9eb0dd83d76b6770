/**
 * Secondary-index management for bulk mode. Maintaining the contract's indexes row by row is the
 * dominant cost of a load (DESIGN.md §6); bulk mode drops them, loads, and builds them once.
 * `ensureIndexes` restores any contract index that is missing, so an interrupted bulk load is
 * repaired by the next load or `init`.
 */
import type { Queryable } from '../engine/types.js';
import type { TableSpec } from '../schema/tables.js';
import { createIndexSql, dropIndexSql } from '../schema/ddl.js';

export async function missingIndexes(db: Queryable, spec: TableSpec): Promise<string[]> {
  const { rows } = await db.query<{ indexname: string }>(
    'SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1',
    [spec.name],
  );
  const present = new Set(rows.map((r) => r.indexname));
  return spec.indexes.filter((i) => !present.has(i.name)).map((i) => i.name);
}

export async function ensureIndexes(db: Queryable, spec: TableSpec): Promise<string[]> {
  const missing = new Set(await missingIndexes(db, spec));
  for (const index of spec.indexes) {
    if (missing.has(index.name)) await db.query(createIndexSql(spec.name, index));
  }
  return [...missing];
}

export async function dropSecondaryIndexes(db: Queryable, spec: TableSpec): Promise<void> {
  for (const index of spec.indexes) await db.query(dropIndexSql(index));
}
