/** Writes rejected rows, with their reason and origin, into the quarantine table. */
import type { Connection } from '../engine/types.js';
import { QUARANTINE_TABLE } from '../schema/bookkeeping.js';
import type { Rejection } from './write/batch.js';

/** Rows per INSERT statement: 7 parameters each, well below PostgreSQL's 65,535-parameter limit. */
const ROWS_PER_STATEMENT = 1000;

export async function quarantine(
  conn: Connection,
  table: string,
  loadId: string | null,
  source: string | null,
  rejections: readonly Rejection[],
): Promise<void> {
  for (let start = 0; start < rejections.length; start += ROWS_PER_STATEMENT) {
    const slice = rejections.slice(start, start + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    const tuples = slice.map((r) => {
      const b = params.length;
      params.push(loadId, table, r.reason, r.constraint, source, r.recordIndex, r.record);
      return `($${b + 1}::bigint, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::bigint, $${b + 7}::jsonb)`;
    });
    await conn.query(
      `INSERT INTO ${QUARANTINE_TABLE} (load_id, target_table, reason, constraint_name, source, record_index, record) VALUES ${tuples.join(', ')}`,
      params,
    );
  }
}
