/**
 * Loads one DBN file into its table, in any load mode: the orchestration behind `tickvault load`.
 * Also the file's load plan (`tickvault load --plan`): a timestamps-only pre-scan planned against
 * the table's chunks, nothing written.
 */
import type { Engine } from '../engine/types.js';
import { LoadError } from '../errors.js';
import type { BulkLoadResult } from '../load/loader.js';
import type { MaxRejects } from '../load/max-rejects.js';
import { OHLCVLoader, StatisticsLoader, TBBOLoader, TradesLoader } from '../load/loaders.js';
import { DefinitionsLoader } from '../load/definitions.js';
import { PreloadedSymbolHistory, StoredSymbolHistory } from '../load/symbol-history.js';
import type { LoadMode } from '../schema/bookkeeping.js';
import { tableSpec, type TableName } from '../schema/tables.js';
import { planLoad, type LoadPlan } from '../timescale/plan.js';
import { microsToIso } from '../values/time.js';
import { DbnFileSource } from './dbn-source.js';
import { CONTROL_RTYPE, KNOWN_RTYPE, RTYPE_NAMES } from '../dbn/constants.js';
import { routeFile } from './dbn-routing.js';
import { scanDbnFile, type DbnScan } from './dbn-scan.js';
import { checkRetention, retentionWindow, type RetentionOptions, type RetentionWindow } from '../load/retention-guard.js';
import { findLoadByHash, type SourceIdentity } from '../load/ledger.js';

export interface LoadFileOptions extends RetentionOptions {
  table?: TableName;
  /**
   * 'append' (default): stored keys are quarantined as duplicates; 'upsert': last write wins per
   * natural key; 'replace': atomically replace what the previous load of this file stored.
   * Instrument definitions are merged by ts_recv in every mode, so 'upsert' loads them as 'append'.
   */
  mode?: LoadMode;
  workers?: number;
  bulk?: boolean;
  batchSize?: number;
  /** Rows one COMMIT may carry (LoaderConfig.maxRowsPerCommit). */
  maxRowsPerCommit?: number;
  /** Stop before quarantining more than this many rows, or this percentage of the file's records ('0.5%'): BulkLoadOptions.maxRejects. */
  maxRejects?: MaxRejects;
  /** Records done and, when known, the file's record count. */
  onProgress?: (records: number, total?: number) => void;
  /** false: never write straight into the columnstore (BulkLoadOptions.directCompress). */
  directCompress?: boolean;
}

export interface LoadFileResult extends BulkLoadResult {
  readonly file: string;
  readonly table: TableName;
  /** Records of other known types, per rtype (control records included). */
  readonly skippedRecords: Record<number, number>;
  /**
   * Market records of known types this load did not store, by type name (control records —
   * symbol mappings, system, error — excluded: they are not data). Not empty = not everything
   * the file holds is in the database; the CLI reports it and exits 3.
   */
  readonly notStored: Record<string, number>;
  /** Records of no known rtype, quarantined (included in recordsRejected where the row path took them). */
  readonly unknownRecords: number;
  readonly unresolvedIds: number[];
}

/** skippedRecords → notStored: market records only, named. */
export function notStoredByName(skipped: Record<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [rt, n] of Object.entries(skipped)) {
    const code = Number(rt);
    if (CONTROL_RTYPE[code]) continue;
    const name = RTYPE_NAMES[code] ?? `rtype 0x${code.toString(16)}`;
    out[name] = (out[name] ?? 0) + n;
  }
  return out;
}

/**
 * Checkpoint batch sizes for DBN loads of the high-volume tables. The DBN fast path keeps 12
 * bytes of record references per row, so a 50,000-row batch costs well under a megabyte, and
 * each commit (ledger row, locks, COMMIT: ~10 round trips in which the server does not insert)
 * is paid 5x less often than with the loaders' default of 10,000: measured ~+10% rows/s into
 * trades_data with one worker (2M trades, 106k-111k → 117k-122k rows/s).
 */
const DBN_BATCH_SIZE: Partial<Record<TableName, number>> = { trades_data: 50_000, tbbo_data: 50_000 };

export function loaderFor(table: TableName, engine: Engine, options: { workers?: number; batchSize?: number; maxRowsPerCommit?: number }) {
  const config = { engine, parallelWorkers: options.workers, batchSize: options.batchSize, maxRowsPerCommit: options.maxRowsPerCommit };
  switch (table) {
    case 'trades_data':
      return new TradesLoader(config);
    case 'tbbo_data':
      return new TBBOLoader(config);
    case 'ohlcv_data':
      return new OHLCVLoader(config);
    case 'statistics_data':
      return new StatisticsLoader(config);
    case 'instrument_definitions':
      return new DefinitionsLoader(config);
  }
}

export interface RoutedLoadResult {
  readonly file: string;
  /** One load per table the file's records go to, in the order they ran. */
  readonly parts: readonly LoadFileResult[];
  /** Market records of types none of the file's tables stores, by type name (Route.notStored). */
  readonly notStored: Record<string, number>;
  /** Records of no known rtype (quarantined by the first row load, else counted). */
  readonly unknownRecords: number;
}

/**
 * Loads one DBN file into every table its records go to (dbn-routing.ts): a file of one schema
 * into its table, a mixed file (live capture) into each table whose record types it holds — one
 * ledger load per table, each resumable and a no-op when re-run. A schema without a table, or a
 * `table` the records cannot map to, is refused before any ledger row is written.
 */
export async function loadDbnFileRouted(engine: Engine, file: string, options: LoadFileOptions = {}): Promise<RoutedLoadResult> {
  const first = await DbnFileSource.open(file, { symbols: new StoredSymbolHistory(engine) });
  const route = routeFile(first.metadata.schema, first.metadata.schemaName, first.rtypeCounts, options.table);
  const parts: LoadFileResult[] = [];
  let unknownTaken = false;
  for (const table of route.tables) {
    const source = parts.length === 0 ? first : first.again();
    // One pass over the file quarantines the records of no known rtype; definitions only count them.
    source.quarantineUnknown = !unknownTaken && table !== 'instrument_definitions';
    if (source.quarantineUnknown) unknownTaken = true;
    const r = await loadInto(engine, source, file, table, options);
    parts.push(route.tables.length === 1 ? r : { ...r, notStored: route.notStored });
  }
  const unknownRecords = Object.entries(first.rtypeCounts).reduce((n, [rt, c]) => n + (KNOWN_RTYPE[Number(rt)] ? 0 : c), 0);
  return { file, parts, notStored: route.notStored, unknownRecords };
}

/** Loads one DBN file into one table: its schema's, or `options.table` (which must be one its records map to). */
export async function loadDbnFile(engine: Engine, file: string, options: LoadFileOptions = {}): Promise<LoadFileResult> {
  const source = await DbnFileSource.open(file, { symbols: new StoredSymbolHistory(engine) });
  const route = routeFile(source.metadata.schema, source.metadata.schemaName, source.rtypeCounts, options.table);
  if (route.tables.length !== 1) {
    throw new LoadError(
      `schema mixed: the file holds records for ${route.tables.join(', ')}; load it with loadDbnFileRouted (tickvault load), or pass a table`,
    );
  }
  return loadInto(engine, source, file, route.tables[0]!, options);
}

async function loadInto(
  engine: Engine,
  given: DbnFileSource,
  file: string,
  table: TableName,
  options: LoadFileOptions,
): Promise<LoadFileResult> {
  tableSpec(table);
  const requested = options.mode ?? 'append';
  const mode = table === 'instrument_definitions' && requested === 'upsert' ? 'append' : requested;
  // A replace runs in one transaction; on a single-connection engine the symbols the file lacks
  // are read before it starts (asked mid-load, the question would wait behind that transaction).
  const source =
    mode === 'replace' && table !== 'instrument_definitions' && !(await engine.capabilities()).multipleConnections
      ? given.withHistory(await PreloadedSymbolHistory.load(engine, (await scanDbnFile(file, table)).instrumentIds))
      : given;
  const checked = await guardFile(engine, file, source, table, mode, options);
  const loader = loaderFor(table, engine, { ...options, batchSize: options.batchSize ?? DBN_BATCH_SIZE[table] });
  const result = await loader.bulkLoad(source, {
    mode,
    allowExpired: options.allowExpired || checked,
    now: options.now,
    bulk: options.bulk,
    directCompress: options.directCompress,
    maxRejects: options.maxRejects,
    onProgress: options.onProgress ? (n: number, total?: number) => options.onProgress!(n, total ?? source.totalRecords) : undefined,
  });
  const { skipped, unknownRecords, unresolvedIds } = source.stats;
  return { ...result, file, table, skippedRecords: skipped, notStored: notStoredByName(skipped), unknownRecords, unresolvedIds };
}

/**
 * A day of slack between the file's requested start and the window: vendors filter a request by
 * ts_recv, and a record's ts_event (the stored time) can be a little earlier.
 */
const METADATA_SLACK_US = 86_400_000_000n;

/**
 * The retention guard for a whole file, before anything is written (load/retention-guard.ts).
 * The metadata's start clears a file well inside the window at no cost; otherwise a
 * timestamps-only pre-scan finds the oldest row. A file the ledger has as completed is not
 * checked: the re-run is a no-op and says so. Returns whether the file was checked (then the
 * loader need not check each batch).
 */
async function guardFile(
  engine: Engine,
  file: string,
  source: DbnFileSource,
  table: TableName,
  mode: LoadMode,
  options: RetentionOptions,
): Promise<boolean> {
  const window = await windowToCheck(engine, table, mode, source.identity, options);
  if (!window) return false;
  const startUs = source.metadata.start / 1000n;
  if (source.metadata.start > 0n && startUs - METADATA_SLACK_US >= window.cutoffUs) return true;
  const scan = await scanDbnFile(file, table);
  checkRetention(window, scan.minUs, `loading ${file} into ${table}`);
  return true;
}

/**
 * The retention window a whole file must be checked against before its load, or null when there
 * is nothing to check: expired rows allowed, no retention on the table, or a file the ledger has as
 * completed (the re-run is a no-op and says so). Shared by the DBN and the CSV/Parquet guards.
 */
export async function windowToCheck(
  engine: Engine,
  table: TableName,
  mode: LoadMode,
  identity: Promise<SourceIdentity> | undefined,
  options: RetentionOptions,
): Promise<RetentionWindow | null> {
  if (options.allowExpired) return null;
  const window = await retentionWindow(engine, table, options.now);
  if (!window) return null;
  if (mode !== 'replace' && identity) {
    const done = await findLoadByHash(engine, table, (await identity).contentHash);
    if (done?.status === 'completed') return null;
  }
  return window;
}

export interface FilePlan {
  readonly file: string;
  readonly scan: DbnScan;
  /** null when the file has no rows for a time-partitioned table. */
  readonly plan: LoadPlan | null;
  /** The table's retention window and whether the load would be refused by it (null: no retention). */
  readonly retention: { readonly window: RetentionWindow; readonly expired: boolean } | null;
}

/** Pre-scans the file (timestamps only) and plans its load into its table. Writes nothing. */
export async function planDbnFile(
  engine: Engine,
  file: string,
  options: { table?: TableName; mode?: LoadMode; directCompress?: boolean } & RetentionOptions = {},
): Promise<FilePlan> {
  const scan = await scanDbnFile(file, options.table);
  if (scan.minUs === null || scan.maxUs === null) return { file, scan, plan: null, retention: null };
  const window = await retentionWindow(engine, scan.table, options.now);
  const expired = window !== null && scan.minUs < window.cutoffUs;
  const plan = await planLoad(engine, scan.table, microsToIso(scan.minUs), microsToIso(scan.maxUs), {
    mode: options.mode,
    now: options.now,
    directCompress: options.directCompress,
  });
  const days = Object.keys(scan.perDay);
  const mode = options.mode ?? 'append';
  const notes = [
    `file: ${file} (${scan.fileBytes} bytes): ${scan.records} ${scan.table} records, ${scan.instrumentIds.length} instruments, ${days.length} day(s) ${days.length ? `${days[0]} … ${days.at(-1)}` : ''} — pre-scan ${Math.round(scan.ms)} ms`,
    `write mode: ${mode}${mode === 'append' ? ' (rows whose natural key is already stored are quarantined as duplicates)' : mode === 'upsert' ? ' (last write wins per natural key)' : ''}`,
  ];
  notes.push(
    window === null
      ? `retention: none on ${scan.table} (history is kept)`
      : `retention: ${window.policy} drops rows before ${microsToIso(window.cutoffUs)}; oldest row here ${microsToIso(scan.minUs)}: ` +
          (expired
            ? options.allowExpired
              ? 'past the window — loaded anyway (--allow-expired), dropped at the next retention run'
              : 'past the window — the load would be REFUSED (change the policy, or --allow-expired)'
            : 'inside the window'),
  );
  return { file, scan, plan: { ...plan, notes: [...plan.notes, ...notes] }, retention: window ? { window, expired } : null };
}
