/**
 * tickvault's library entry point. Everything a program needs to store market data and read it
 * back: engines, schema management, the five loaders, DBN ingestion, queries, maintenance,
 * health and the typed errors.
 */
export { openEngine } from './engine/open.js';
export { ServerEngine } from './engine/server.js';
export { EmbeddedEngine } from './engine/embedded.js';
export type { Engine, Connection, Capabilities, Tier, PoolStatus, QueryResult } from './engine/types.js';
export { withRetry, isTransientError } from './engine/retry.js';
export { resolveTarget, type ConnectionOptions, type PoolSettings, DEFAULT_POOL } from './config/connection.js';
export { DEFAULT_POLICIES, type PolicySettings, type PolicyOverrides } from './config/policies.js';

export { migrate, schemaVersion, LATEST_VERSION, type MigrateResult } from './schema/migrate.js';
export { MARKET_TABLES, tableSpec, type TableSpec, type TableName, type Column } from './schema/tables.js';
export { collectStatus, formatStatus, type StatusReport, type FeatureState } from './status.js';

export { BaseLoader, type LoaderConfig, type BulkLoadOptions, type BulkLoadResult, type StoreBatchResult } from './load/loader.js';
export { OHLCVLoader, TradesLoader, TBBOLoader, StatisticsLoader, type OhlcvRecord, type TradeRecord, type TbboRecord, type StatisticsRecord } from './load/loaders.js';
export { DefinitionsLoader, resolveSymbol, resolveInstrument, type DefinitionRecord } from './load/definitions.js';
export type { FixedPoint } from './load/normalize.js';

export { openDbn, DbnDecoder, DbnFormatError, SymbolMap, writeDbn } from './dbn/index.js';
export { DbnFileSource } from './ingest/dbn-source.js';
export { loadDbnFile, type LoadFileResult } from './ingest/load-dbn.js';

export * from './query/index.js';
export * from './maintain/index.js';
export * from './backfill/index.js';
export { HealthMonitor, formatHealth, type HealthReport } from './health/monitor.js';
export { createRoles } from './security/roles.js';

export {
  TickvaultError, ConfigError, ConnectionError, CapabilityError, MigrationError, RecordShapeError, LoadError, QueryError, redactUrl,
} from './errors.js';
