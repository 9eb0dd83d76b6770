/**
 * The backfill side of `tickvault load`: the plan of a DBN file (pre-scan + planLoad, nothing
 * written) and the upsert load of a file (last write wins per natural key).
 */
import type { Engine } from '../engine/types.js';
import { LoadError } from '../errors.js';
import { loadDbnFile, loaderFor, type LoadFileOptions, type LoadFileResult } from '../ingest/load-dbn.js';
import { DbnFileSource } from '../ingest/dbn-source.js';
import { tableForSchema } from '../ingest/dbn-mapping.js';
import type { TableName } from '../schema/tables.js';
import { microsToIso } from '../values/time.js';
import { planLoad, type LoadPlan } from './plan.js';
import { scanDbnFile, type DbnScan } from './scan.js';

export interface FilePlan {
  readonly file: string;
  readonly scan: DbnScan;
  /** null when the file has no rows for a time-partitioned table. */
  readonly plan: LoadPlan | null;
}

/** Pre-scans the file (timestamps only) and plans its load into its table. Writes nothing. */
export async function planDbnFile(engine: Engine, file: string, options: { table?: TableName; mode?: 'append' | 'upsert' | 'replace' } = {}): Promise<FilePlan> {
  const scan = await scanDbnFile(file, options.table);
  if (scan.minUs === null || scan.maxUs === null) return { file, scan, plan: null };
  const plan = await planLoad(engine, scan.table, microsToIso(scan.minUs), microsToIso(scan.maxUs));
  const days = Object.keys(scan.perDay);
  const notes = [
    `file: ${file} (${scan.fileBytes} bytes): ${scan.records} ${scan.table} records, ${scan.instrumentIds.length} instruments, ${days.length} day(s) ${days.length ? `${days[0]} … ${days.at(-1)}` : ''} — pre-scan ${Math.round(scan.ms)} ms`,
    `write mode: ${options.mode ?? 'append'}${(options.mode ?? 'append') === 'append' ? ' (rows whose natural key is already stored are quarantined as duplicates)' : options.mode === 'upsert' ? ' (last write wins per natural key)' : ''}`,
  ];
  return { file, scan, plan: { ...plan, notes: [...plan.notes, ...notes] } };
}

/** `tickvault load --upsert`: like loadDbnFile, in upsert mode (definitions are always upserted). */
export async function upsertDbnFile(engine: Engine, file: string, options: LoadFileOptions = {}): Promise<LoadFileResult> {
  const source = await DbnFileSource.open(file, { symbolsFrom: engine });
  const table = options.table ?? tableForSchema(source.metadata.schema);
  if (!table) throw new LoadError(`${file}: schema ${source.metadata.schemaName ?? 'mixed'} has no default table; pass --table`);
  if (table === 'instrument_definitions') return loadDbnFile(engine, file, options);
  const loader = loaderFor(table, engine, options);
  const result = await loader.bulkLoad(source, {
    mode: 'upsert', bulk: options.bulk, onProgress: options.onProgress ? (n: number) => options.onProgress!(n) : undefined,
  });
  return { ...result, file, table, skippedRecords: source.stats.skipped, unresolvedIds: source.stats.unresolvedIds };
}
