/**
 * Reads what a database offers. Both engines use the same probe; only the facts that depend on
 * the process model (several sessions? a job scheduler? a streamed COPY TO?) are passed in by the engine.
 */
import type { Capabilities, Queryable, Tier } from './types.js';

export interface ProcessModel {
  readonly multipleConnections: boolean;
  readonly sharedAccess: boolean;
  /** Whether TimescaleDB's background workers can run jobs in this process model at all. */
  readonly backgroundWorkers: boolean;
  readonly streamingCopyOut: boolean;
}

export async function detectCapabilities(db: Queryable, model: ProcessModel): Promise<Capabilities> {
  const { rows } = await db.query<{
    server_version: string;
    num: string;
    ext: string | null;
    license: string | null;
    workers: string | null;
  }>(
    `SELECT current_setting('server_version') AS server_version,
            current_setting('server_version_num') AS num,
            (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS ext,
            current_setting('timescaledb.license', true) AS license,
            current_setting('timescaledb.max_background_workers', true) AS workers`,
  );
  const row = rows[0]!;
  const tsdb = row.ext ?? null;
  const license = tsdb === null ? null : row.license === 'apache' ? 'apache' : 'timescale';
  const community = license === 'timescale';
  const tier: Tier = tsdb === null ? 'postgres' : community ? 'timescaledb' : 'timescaledb-apache';
  return {
    postgresVersion: row.server_version,
    postgresVersionNum: Number(row.num),
    timescaledbVersion: tsdb,
    timescaledbLicense: license,
    tier,
    hypertables: tsdb !== null,
    compression: community,
    continuousAggregates: community,
    policies: community,
    jobScheduler: community && model.backgroundWorkers && Number(row.workers ?? 0) > 0,
    multipleConnections: model.multipleConnections,
    sharedAccess: model.sharedAccess,
    streamingCopyOut: model.streamingCopyOut,
  };
}
