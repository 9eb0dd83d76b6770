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
export { collectStatus, formatStatus, type StatusReport, type FeatureState } from './health/status.js';

export { BaseLoader, type LoaderConfig, type BulkLoadOptions, type BulkLoadResult, type StoreBatchResult } from './load/loader.js';
export { OHLCVLoader, TradesLoader, TBBOLoader, StatisticsLoader, type OhlcvRecord, type TradeRecord, type TbboRecord, type StatisticsRecord } from './load/loaders.js';
export { DefinitionsLoader, type DefinitionRecord } from './load/definitions.js';
export type { FixedPoint } from './load/normalize.js';

export { openDbn, DbnDecoder, DbnFormatError, SymbolMap, writeDbn } from './dbn/index.js';
export { DbnFileSource } from './ingest/dbn-source.js';
export { loadDbnFile, planDbnFile, type LoadFileOptions, type LoadFileResult, type FilePlan } from './ingest/load-dbn.js';

export * from './query/index.js';
export * from './maintain/index.js';
// Backfills and corrections on live, compressed hypertables: load plans, chunk operations, the
// write session and its merge modes, chunk-interval advice.
export { planLoad, formatPlan, chooseStrategy, dmlOnCompressedChunks, type LoadPlan, type PlannedChunk, type LoadStrategy, type PlanOptions } from './timescale/plan.js';
export { listChunks, chunkIntervalUs, recoverDecompressedChunks, type ChunkInfo, type RecoveredLoad, type RecoverOptions } from './timescale/chunks.js';
export { writeMerged, duplicateReason, type WriteMode, type MergeOutcome, type MergeOptions } from './load/write/merge.js';
export { WriteSession, type WriteSessionOptions, type WriteSummary } from './load/write/session.js';
export type { LoadMode } from './schema/bookkeeping.js';
export { lockSlots, slotsFor, tableLockKey, MAX_SLOT_LOCKS } from './load/write/slot-locks.js';
export { scanDbnFile, type DbnScan } from './ingest/dbn-scan.js';
export { adviseChunkIntervals, formatAdvice, parseBytes, formatBytes, CHUNK_MEMORY_FRACTION, MAX_CHUNKS, type Advice, type TableAdvice, type AdviseOptions } from './maintain/advise.js';
export { HealthMonitor, formatHealth, type HealthReport } from './health/monitor.js';
export { createRoles } from './security/roles.js';

export {
  TickvaultError, ConfigError, ConnectionError, CapabilityError, MigrationError, RecordShapeError, LoadError, QueryError, redactUrl,
} from './errors.js';
