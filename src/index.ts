/**
 * tickvault's library entry point: the names a program needs to store market data and read it
 * back, and nothing of the machinery behind them (write sessions, slot locks, byte encoders and
 * chunk internals stay private, so they can change without breaking a user).
 *
 * One way to connect: `openEngine(options)` (a server URL → the server engine, otherwise the
 * embedded one); loaders take the same options, or an engine from openEngine.
 */

// Connecting.
export { openEngine, type OpenOptions } from './engine/open.js';
export type { Engine, HostState, ReadOptions } from './engine/types.js';
export { engineForReads, ClusterEngine, type ReadRoute } from './engine/cluster.js';
export type { ConnectionOptions } from './config/connection.js';

// The schema and its policies.
export { migrate, type MigrateResult } from './schema/migrate.js';
export type { TableName } from './schema/tables.js';
export type { LoadMode } from './schema/bookkeeping.js';
export type { PolicyOverrides } from './config/policies.js';
export {
  readPolicies,
  applyPolicyChanges,
  type PoliciesReport,
  type TablePolicies,
  type PolicyChange,
  type PolicyChanges,
} from './timescale/policies.js';
export { collectStatus, type StatusReport } from './health/status.js';

// Loading records.
export {
  OHLCVLoader,
  TradesLoader,
  TBBOLoader,
  StatisticsLoader,
  type OhlcvRecord,
  type TradeRecord,
  type TradeSide,
  type TbboRecord,
  type StatisticsRecord,
} from './load/loaders.js';
export { DefinitionsLoader, type DefinitionRecord } from './load/definitions.js';
export type { LoaderConfig, BulkLoadOptions, BulkLoadResult, StoreBatchResult } from './load/loader.js';
export type { FixedPoint } from './load/normalize.js';

// Loading DBN files, and planning a load.
export {
  loadDbnFile,
  loadDbnFileRouted,
  planDbnFile,
  type LoadFileOptions,
  type LoadFileResult,
  type RoutedLoadResult,
  type FilePlan,
} from './ingest/load-dbn.js';
export { loadFile, checkTabularFile, planTabularFile, fileFormat, type FileFormat, type TabularOptions } from './ingest/load-file.js';
export { parseMapArg, parseMappingJson, type ColumnMapping, type FieldRule } from './ingest/column-mapping.js';
export { planLoad, type LoadPlan } from './timescale/plan.js';
export { openDbn, writeDbn } from './dbn/index.js';

// Reading back.
export {
  bars,
  streamBars,
  recentOhlcv,
  aggregatedVolume,
  spreadAnalysis,
  asOf,
  type Bar,
  type BarsOptions,
  type OhlcvBar,
  type VolumeBucket,
  type SpreadStats,
  type AsOf,
  type VenueOptions,
} from './query/queries.js';
export { asOfJoin, type AsOfJoinOptions, type AsOfJoinRow, type AsOfJoinDirection, type JoinedQuote } from './query/asof-join.js';
export { resolveSymbol, resolveInstrument } from './query/symbols.js';
export type { TimeInput } from './query/params.js';

// Exporting: Parquet, CSV and Arrow files.
export { exportTable, type ExportOptions, type ExportResult } from './export/export.js';
export { EXPORT_FORMATS, type ExportFormat } from './export/format.js';

// Keeping the database.
export { maintain, type MaintainOptions, type MaintainReport, type RetentionQuestion } from './maintain/maintain.js';
export { HealthMonitor, type HealthReport } from './health/monitor.js';
export { createRoles } from './security/roles.js';

// Errors: every one a TickvaultError with a stable `code`.
export {
  TickvaultError,
  ConfigError,
  ConnectionError,
  CapabilityError,
  MigrationError,
  RecordShapeError,
  LoadError,
  QueryError,
  ArgumentError,
  ExportError,
  SourceFormatError,
  MappingError,
  NoPrimaryError,
  NotPrimaryError,
} from './errors.js';
export { DbnFormatError } from './dbn/errors.js';
export { TimestampError } from './values/time.js';
export { DataDirLockedError } from './engine/data-dir-lock.js';
export { CopyError } from './copy/errors.js';
export { RetentionExpiredError, type RetentionOptions, type RetentionWindow } from './load/retention-guard.js';
export { MaxRejectsError, type MaxRejects } from './load/max-rejects.js';
export { SchemaNotStoredError, SchemaTableMismatchError } from './ingest/dbn-routing.js';
