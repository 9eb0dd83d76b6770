/**
 * Any market-data file into its table: DBN (loadDbnFile), CSV (.csv, .csv.gz, .csv.zst) and
 * Parquet, told apart by name and first bytes. CSV and Parquet take the same path as DBN after
 * the source — the loader's ledger (file hash identity: a completed file is a no-op, a killed
 * load resumes exactly), quarantine with the row's place in the file, progress, `maxRejects` —
 * with their columns mapped by column-mapping.ts (Databento's encodings detected, or a mapping).
 * Also the dry run (`checkFile`) and the plan (`planFile`) of such files.
 */
import fs from 'node:fs';
import type { Engine } from '../engine/types.js';
import { MappingError } from '../errors.js';
import { StoredSymbolHistory } from '../load/symbol-history.js';
import type { LoadMode } from '../schema/bookkeeping.js';
import { loadedColumns, tableSpec, type TableName } from '../schema/tables.js';
import { planLoad } from '../timescale/plan.js';
import { microsToIso } from '../values/time.js';
import { checkRetention, retentionWindow, type RetentionOptions } from '../load/retention-guard.js';
import type { DbnScan } from './dbn-scan.js';
import { compileMapping, inferTable, type ColumnMapping, type RowMapper } from './column-mapping.js';
import { CsvReader } from './csv-source.js';
import { ParquetReader } from './parquet-source.js';
import { TabularFileSource, type TabularReader } from './tabular-source.js';
import { loadDbnFile, loaderFor, windowToCheck, type FilePlan, type LoadFileOptions, type LoadFileResult } from './load-dbn.js';
import type { CheckFileResult } from './check-dbn.js';

export type FileFormat = 'dbn' | 'csv' | 'parquet';

export interface TabularOptions {
  /** Table column → file column rules, over the detected Databento ones (column-mapping.ts). */
  mapping?: ColumnMapping;
}

/** What `load <directory>` picks up under the directory (a .txt is a CSV only when named). */
export const LOADABLE_FILES_GLOB = '**/*.{dbn,dbn.zst,csv,csv.gz,csv.zst,parquet,pq}';
export const LOADABLE_FILES_TEXT = 'DBN (.dbn, .dbn.zst), CSV (.csv, .csv.gz, .csv.zst) or Parquet (.parquet, .pq) files';

/** The format of a file: its name (.dbn, .dbn.zst, .csv[.gz|.zst], .parquet) first, then its first bytes. */

export function fileFormat(file: string): FileFormat {
  const name = file.toLowerCase();
  if (/\.dbn(\.zst)?$/.test(name)) return 'dbn';
  if (/\.(parquet|pq)$/.test(name)) return 'parquet';
  if (/\.(csv|txt)(\.gz|\.zst)?$/.test(name)) return 'csv';
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1') === 'PAR1') return 'parquet';
  if (head.toString('latin1', 0, 3) === 'DBN' || (head[0] === 0x28 && head[1] === 0xb5)) return 'dbn';
  return 'csv';
}

/** Opens a CSV or Parquet file and compiles its mapping: the table from `table`, else from the columns. */
export async function openTabular(
  file: string,
  options: { table?: TableName; mapping?: ColumnMapping },
): Promise<{ reader: TabularReader; mapper: RowMapper }> {
  const reader = fileFormat(file) === 'parquet' ? await ParquetReader.open(file) : await CsvReader.open(file);
  const table = options.table ?? inferTable(reader.header, options.mapping);
  if (!table) {
    throw new MappingError(
      `${file}: its columns (${reader.header.join(', ')}) name no table: pass --table, and --map for columns named differently`,
    );
  }
  tableSpec(table);
  if (table === 'instrument_definitions') throw new MappingError(`${file}: instrument definitions load from DBN definition files only`);
  return { reader, mapper: compileMapping(table, reader.header, reader.kinds, options.mapping) };
}

/**
 * Loads one file of any format into one table. DBN files go to loadDbnFile (their schema's
 * table, or `table`); CSV and Parquet to the table their columns describe, or `table`.
 */
export async function loadFile(engine: Engine, file: string, options: LoadFileOptions & TabularOptions = {}): Promise<LoadFileResult> {
  if (fileFormat(file) === 'dbn') return loadDbnFile(engine, file, options);
  const { reader, mapper } = await openTabular(file, options);
  const source = TabularFileSource.create(reader, mapper, { symbols: new StoredSymbolHistory(engine) });
  const table = mapper.table;
  const requested = options.mode ?? 'append';
  const checked = await guardTabularFile(engine, file, source, requested, options);
  const loader = loaderFor(table, engine, options);
  const result = await loader.bulkLoad(source, {
    mode: requested,
    allowExpired: options.allowExpired || checked,
    now: options.now,
    bulk: options.bulk,
    maxRejects: options.maxRejects,
    onProgress: options.onProgress ? (n: number, total?: number) => options.onProgress!(n, source.totalRecords ?? total) : undefined,
  });
  return { ...result, file, table, skippedRecords: {}, notStored: {}, unknownRecords: 0, unresolvedIds: source.unresolvedIds };
}

/**
 * The dry run of a CSV or Parquet file: mapped and validated as a load would, keys repeated in
 * the file counted as the duplicates they would be; no database. Symbols come from the file only.
 */
export async function checkTabularFile(file: string, options: { table?: TableName } & TabularOptions = {}): Promise<CheckFileResult> {
  const { reader, mapper } = await openTabular(file, options);
  const spec = tableSpec(mapper.table);
  const source = TabularFileSource.create(reader, mapper, { hash: false });
  const columns = loadedColumns(spec);
  const keyCols = spec.naturalKey.map((k) => columns.findIndex((c) => c.name === k));
  const seen = new Set<string>();
  let records = 0;
  let valid = 0;
  let rejected = 0;
  const reasons = new Map<string, number>();
  const count = (key: string) => reasons.set(key, (reasons.get(key) ?? 0) + 1);
  for await (const b of source.prepare(spec, 50_000, () => false)) {
    records += b.recordsIn;
    if ('skipped' in b) continue;
    for (let i = 0; i < b.rowCount; i++) {
      const values = b.rowValues(i);
      const key = keyCols.map((c) => String(values[c])).join('\u0001');
      if (seen.has(key)) {
        rejected++;
        count('natural_key');
      } else {
        seen.add(key);
        valid++;
      }
    }
    rejected += b.rejections.length;
    for (const r of b.rejections) count(r.constraint ?? r.reason);
  }
  return {
    file,
    table: mapper.table,
    records,
    valid,
    rejected,
    unchanged: 0,
    topRejectReasons: [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([reason, n]) => ({ reason, count: n })),
    unresolvedIds: [],
    notStored: {},
    unknownRecords: 0,
  };
}

/**
 * The load plan of a CSV or Parquet file: one pass over its rows for the time range (as the DBN
 * pre-scan), planned against the table's chunks. Writes nothing.
 */
export async function planTabularFile(
  engine: Engine,
  file: string,
  options: { table?: TableName; mode?: LoadMode } & TabularOptions & RetentionOptions = {},
): Promise<FilePlan> {
  const { reader, mapper } = await openTabular(file, options);
  const scan = await scanTabular(TabularFileSource.create(reader, mapper, { hash: false }));
  const { minUs, maxUs, records, instrumentIds: ids } = scan;
  if (minUs === null || maxUs === null) return { file, scan, plan: null, retention: null };
  const window = await retentionWindow(engine, mapper.table, options.now);
  const expired = window !== null && minUs < window.cutoffUs;
  const plan = await planLoad(engine, mapper.table, microsToIso(minUs), microsToIso(maxUs));
  const notes = [
    `file: ${file} (${reader.fileBytes} bytes, ${reader.format}): ${records} valid ${mapper.table} rows, ${ids.length} instruments, ${microsToIso(minUs)} … ${microsToIso(maxUs)} — scan ${Math.round(scan.ms)} ms`,
    `columns: ${mapper.databento ? 'Databento encoding detected; ' : ''}${Object.entries(mapper.describe)
      .map(([t, s]) => `${t} ← ${s}`)
      .join(', ')}`,
    `write mode: ${options.mode ?? 'append'}`,
    window === null
      ? `retention: none on ${mapper.table} (history is kept)`
      : `retention: ${window.policy} drops rows before ${microsToIso(window.cutoffUs)}: ${expired ? 'oldest row past the window — the load would be REFUSED (or --allow-expired)' : 'inside the window'}`,
  ];
  return { file, scan, plan: { ...plan, notes: [...plan.notes, ...notes] }, retention: window ? { window, expired } : null };
}

/** One pass over a tabular file's valid rows: their count, time range and instruments (the DBN pre-scan's figures). */
async function scanTabular(source: TabularFileSource): Promise<DbnScan> {
  const started = performance.now();
  const { reader, mapper } = source;
  let minUs: bigint | null = null;
  let maxUs: bigint | null = null;
  let records = 0;
  const ids = new Set<number>();
  const perDay: Record<string, number> = {};
  for await (const b of source.prepare(tableSpec(mapper.table), 50_000, () => false)) {
    if ('skipped' in b) continue;
    records += b.rowCount;
    if (b.minTime !== null && (minUs === null || b.minTime < minUs)) minUs = b.minTime;
    if (b.maxTime !== null && (maxUs === null || b.maxTime > maxUs)) maxUs = b.maxTime;
    for (const id of b.instrumentIds) ids.add(id);
    if (b.minTime !== null) {
      const d = microsToIso(b.minTime).slice(0, 10);
      perDay[d] = (perDay[d] ?? 0) + b.rowCount;
    }
  }
  return {
    file: reader.file,
    table: mapper.table,
    fileBytes: reader.fileBytes,
    records,
    minUs,
    maxUs,
    perDay,
    peakHourRecords: 0,
    instrumentIds: [...ids].sort((a, b) => a - b),
    ms: performance.now() - started,
  };
}

/**
 * The retention guard for a whole CSV or Parquet file before anything is written, as for DBN
 * files: with a retention window on the table, a pass over the rows finds the oldest, and a file
 * reaching past the window is refused whole — the loader's per-batch check alone would have
 * committed the batches before the first expired one. Returns whether the file was checked.
 */
async function guardTabularFile(
  engine: Engine,
  file: string,
  source: TabularFileSource,
  mode: LoadMode,
  options: RetentionOptions,
): Promise<boolean> {
  const table = source.mapper.table;
  const window = await windowToCheck(engine, table, mode, source.identity, options);
  if (!window) return false;
  const scan = await scanTabular(new TabularFileSource(source.reader, source.mapper, undefined, new StoredSymbolHistory(engine)));
  checkRetention(window, scan.minUs, `loading ${file} into ${table}`);
  return true;
}
