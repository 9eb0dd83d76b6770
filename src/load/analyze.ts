/**
 * ANALYZE after a load, limited to what the load touched. On a hypertable, ANALYZE of the root
 * visits every chunk: after a daily append into years of history that is thousands of chunks for
 * one day of new rows. The planner keeps statistics per chunk, so analyzing the chunks that
 * overlap the load's time range (from its committed batches in the ledger) is what matters.
 */
import type { Engine } from '../engine/types.js';
import { LOAD_BATCHES_TABLE } from '../schema/bookkeeping.js';
import type { TableSpec } from '../schema/tables.js';
import { ident } from '../sql/ident.js';

export async function analyzeLoaded(engine: Engine, spec: TableSpec, loadId: string): Promise<number> {
  const caps = await engine.capabilities();
  if (!spec.hypertable || !caps.hypertables) {
    await engine.query(`ANALYZE ${ident(spec.name)}`);
    return 1;
  }
  const { rows } = await engine.query<{ chunk_schema: string; chunk_name: string }>(
    `SELECT c.chunk_schema, c.chunk_name
       FROM timescaledb_information.chunks c,
            (SELECT min(min_time) AS lo, max(max_time) AS hi FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $2::bigint) r
      WHERE c.hypertable_schema = current_schema() AND c.hypertable_name = $1
        AND r.lo IS NOT NULL AND c.range_end > r.lo AND c.range_start <= r.hi
      ORDER BY c.range_start`,
    [spec.name, loadId],
  );
  for (const r of rows) await engine.query(`ANALYZE ${ident(r.chunk_schema)}.${ident(r.chunk_name)}`);
  return rows.length;
}
