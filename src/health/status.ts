/**
 * `status`: what this database is, what it can do, and what it holds. Feature states say how
 * each seed feature is served here: natively, by tickvault's fallback, or not at all.
 */
import { tickvaultVersion } from '../config/version.js';
import type { Capabilities, Engine, EngineKind, HostState, Tier } from '../engine/types.js';
import { formatHost } from './hosts.js';
import { LATEST_VERSION, schemaVersion } from '../schema/migrate.js';
import { MARKET_TABLES } from '../schema/tables.js';
import { HOURLY_VIEW } from '../schema/rollups.js';
import { ident } from '../sql/ident.js';
import { readPolicies, type TablePolicies } from '../timescale/policies.js';

export type FeatureState = 'native' | 'fallback' | 'unavailable';

export interface FeatureReport {
  readonly name: string;
  readonly state: FeatureState;
  readonly detail: string;
}

export interface TableReport {
  readonly table: string;
  readonly rows: number | null;
  readonly chunks: number | null;
  readonly error?: string;
}

export interface StatusReport {
  /** This tickvault's version (package.json). */
  readonly tickvaultVersion: string;
  readonly engine: EngineKind;
  readonly location: string;
  readonly postgresVersion: string;
  readonly timescaledbVersion: string | null;
  readonly timescaledbEdition: 'community' | 'apache' | null;
  readonly tier: Tier;
  readonly schemaVersion: number;
  readonly latestSchemaVersion: number;
  readonly features: readonly FeatureReport[];
  readonly tables: readonly TableReport[];
  /** Retention and compression of each hypertable: setting, live job, who runs it (empty before init). */
  readonly policies: readonly TablePolicies[];
  readonly policyNotes: readonly string[];
  /** Primary + replicas: each host's role, lag and state (empty for a single host). */
  readonly hosts?: readonly HostState[];
}

export async function collectStatus(engine: Engine): Promise<StatusReport> {
  const caps = await engine.capabilities({ refresh: true });
  const version = await schemaVersion(engine);
  const cagg = caps.continuousAggregates && version > 0 ? await isContinuousAggregate(engine) : false;
  const policies = version > 0 && caps.hypertables ? await readPolicies(engine) : undefined;
  return {
    tickvaultVersion: tickvaultVersion(),
    engine: engine.kind,
    location: engine.location,
    postgresVersion: caps.postgresVersion,
    timescaledbVersion: caps.timescaledbVersion,
    timescaledbEdition: caps.timescaledbLicense === null ? null : caps.timescaledbLicense === 'apache' ? 'apache' : 'community',
    tier: caps.tier,
    schemaVersion: version,
    latestSchemaVersion: LATEST_VERSION,
    features: featureStates(caps, cagg),
    tables: version > 0 ? await tableReports(engine, caps) : [],
    policies: policies?.tables ?? [],
    policyNotes: policies?.notes ?? [],
    hosts: engine.hosts ? await engine.hosts() : [],
  };
}

export function featureStates(caps: Capabilities, hourlyIsContinuous: boolean): FeatureReport[] {
  const scheduler = caps.jobScheduler ? 'run by the TimescaleDB job scheduler' : 'run by `tickvault maintain` (no job scheduler here)';
  return [
    caps.hypertables
      ? { name: 'hypertables', state: 'native', detail: 'time-partitioned chunks' }
      : { name: 'hypertables', state: 'unavailable', detail: 'plain tables (no TimescaleDB)' },
    caps.compression
      ? { name: 'compression', state: 'native', detail: `segment by symbol, order by timestamp DESC; policy ${scheduler}` }
      : { name: 'compression', state: 'unavailable', detail: `not offered by the ${caps.timescaledbLicense ?? 'PostgreSQL'} edition` },
    caps.policies
      ? { name: 'retention', state: 'native', detail: `add_retention_policy, ${scheduler}` }
      : caps.hypertables
        ? { name: 'retention', state: 'fallback', detail: 'drop_chunks run by `tickvault maintain`' }
        : { name: 'retention', state: 'unavailable', detail: 'needs TimescaleDB' },
    hourlyIsContinuous
      ? { name: 'continuous_aggregates', state: 'native', detail: `${HOURLY_VIEW} continuous aggregate (real-time), refresh ${scheduler}` }
      : caps.hypertables
        ? {
            name: 'continuous_aggregates',
            state: 'fallback',
            detail: `${HOURLY_VIEW} materialized view refreshed by \`tickvault maintain\``,
          }
        : { name: 'continuous_aggregates', state: 'unavailable', detail: 'needs TimescaleDB' },
    caps.jobScheduler
      ? { name: 'background_jobs', state: 'native', detail: 'TimescaleDB background workers' }
      : caps.policies
        ? { name: 'background_jobs', state: 'fallback', detail: 'due policies run by `tickvault maintain`' }
        : { name: 'background_jobs', state: 'unavailable', detail: 'no policy jobs on this tier' },
    caps.multipleConnections
      ? { name: 'parallel_workers', state: 'native', detail: 'one COPY connection per worker' }
      : { name: 'parallel_workers', state: 'fallback', detail: 'single session: workers take turns' },
  ];
}

async function isContinuousAggregate(engine: Engine): Promise<boolean> {
  const { rows } = await engine.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM timescaledb_information.continuous_aggregates WHERE view_name = $1',
    [HOURLY_VIEW],
  );
  return rows[0]!.n > 0;
}

async function tableReports(engine: Engine, caps: Capabilities): Promise<TableReport[]> {
  const chunkCounts = new Map<string, number>();
  if (caps.hypertables) {
    const { rows } = await engine.query<{ hypertable_name: string; n: number }>(
      `SELECT hypertable_name, count(*)::int AS n FROM timescaledb_information.chunks
        WHERE hypertable_schema = current_schema() GROUP BY hypertable_name`,
    );
    for (const r of rows) chunkCounts.set(r.hypertable_name, r.n);
  }
  const reports: TableReport[] = [];
  for (const spec of MARKET_TABLES) {
    try {
      const { rows } = await engine.query<{ n: string }>(`SELECT count(*) AS n FROM ${ident(spec.name)}`);
      reports.push({
        table: spec.name,
        rows: Number(rows[0]!.n),
        chunks: spec.hypertable && caps.hypertables ? (chunkCounts.get(spec.name) ?? 0) : null,
      });
    } catch (err) {
      reports.push({ table: spec.name, rows: null, chunks: null, error: (err as Error).message });
    }
  }
  return reports;
}

export function formatStatus(s: StatusReport): string {
  const lines = [
    `tickvault:    ${s.tickvaultVersion}`,
    `engine:       ${s.engine} (${s.location})`,
    ...(s.hosts && s.hosts.length > 0 ? ['hosts:', ...s.hosts.map((h) => `  ${formatHost(h)}`)] : []),
    `PostgreSQL:   ${s.postgresVersion}`,
    `TimescaleDB:  ${s.timescaledbVersion ? `${s.timescaledbVersion} (${s.timescaledbEdition} edition)` : 'not installed'}`,
    `tier:         ${s.tier}`,
    `schema:       version ${s.schemaVersion} of ${s.latestSchemaVersion}${s.schemaVersion === 0 ? ' (run `tickvault init`)' : ''}`,
    'features:',
    ...s.features.map((f) => `  ${f.name.padEnd(22)} ${f.state.padEnd(11)} ${f.detail}`),
  ];
  if (s.tables.length > 0) {
    lines.push('tables:');
    for (const t of s.tables) {
      lines.push(
        t.error
          ? `  ${t.table.padEnd(24)} ERROR ${t.error}`
          : `  ${t.table.padEnd(24)} ${String(t.rows).padStart(12)} rows${t.chunks === null ? '' : `  ${t.chunks} chunks`}`,
      );
    }
  }
  if (s.policies.length > 0) {
    lines.push('policies:');
    for (const p of s.policies) {
      lines.push(`  ${p.table.padEnd(24)} retention ${(p.retention ?? 'none').padEnd(10)} ${p.retentionRunsBy}`);
      lines.push(`  ${''.padEnd(24)} compress  ${(p.compressAfter ?? 'none').padEnd(10)} ${p.compressionRunsBy}`);
    }
    for (const n of s.policyNotes) lines.push(`  note: ${n}`);
  }
  return lines.join('\n');
}
