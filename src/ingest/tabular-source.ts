/**
 * A CSV or Parquet file as a loader BatchSource: the reader's rows (cells in header order) are
 * mapped to loader records (column-mapping.ts), validated by the table description like any
 * record (load/normalize.ts) and cut into checkpoint batches numbered by row position — a re-run
 * numbers them the same, so a load killed mid-way resumes at the first batch the ledger lacks.
 * Every rejected row keeps where it came from (`source_line` of a CSV; `source_row_group` and
 * `source_row` of a Parquet file) in its quarantine record, beside its cells.
 */
import path from 'node:path';
import type { TableSpec } from '../schema/tables.js';
import type { CellValue } from '../schema/types.js';
import { RecordNormalizer } from '../load/normalize.js';
import type { SourceIdentity } from '../load/ledger.js';
import type { BatchOrSkip, BatchSource } from '../load/record-source.js';
import { yieldToIo } from '../load/pacer.js';
import { ValuesBatch, jsonOf } from '../load/write/batch.js';
import { LoadError } from '../errors.js';
import type { ColumnKind, RowMapper } from './column-mapping.js';
import { hashFile } from './file-hash.js';
import type { SymbolHistory, SymbolInterval } from './dbn-symbols.js';

/** Where a row sits in its file. */
export type RowLocation = Readonly<Record<string, number>>;

/** Rows read together: cells in header order, and where each row is. */
export interface RowChunk {
  readonly rows: readonly (readonly unknown[])[];
  location(i: number): RowLocation;
  /** Why row i cannot be read as written (a CSV record's broken quoting), if it cannot. */
  problem?(i: number): string | undefined;
  /**
   * A compact form of row i, what a batch keeps of a row it accepted until its COMMIT; the
   * reader's `cellsOf` and `locationOf` turn it back into the row's cells and place. Keeping the
   * mapped record instead (a dozen properties, BigInts, fixed-point objects) for the 50,000 rows
   * of each batch in flight kept V8's old space growing to three times the live data; the rare
   * uses (a row the database refuses, the INSERT path) map it again.
   */
  raw(i: number): unknown;
}

/** One pass over a tabular file's rows; a reader can make any number of passes. */
export interface TabularReader {
  readonly file: string;
  readonly format: 'csv' | 'parquet';
  readonly header: readonly string[];
  readonly kinds: readonly ColumnKind[];
  /** Rows in the file when the format says (Parquet metadata); a CSV's is estimated from bytes read. */
  readonly totalRows?: number;
  readonly fileBytes: number;
  /** File bytes read by the current pass (compressed bytes for .gz/.zst): the CSV row estimate. */
  readonly bytesRead: number;
  chunks(): AsyncIterable<RowChunk>;
  /** Row cells from a chunk's `raw` form. */
  cellsOf(raw: unknown): readonly unknown[];
  /** Where the row of a chunk's `raw` form is (so a kept row needs no location object of its own). */
  locationOf(raw: unknown): RowLocation;
}

/** Records validated between two returns to the event loop (as record-source.ts). */
const YIELD_EVERY_ROWS = 256;

export class TabularFileSource implements BatchSource {
  /** Rows read by the last pass. */
  rowsRead = 0;

  private readonly symbols?: SymbolFiller;

  constructor(
    readonly reader: TabularReader,
    readonly mapper: RowMapper,
    readonly identity?: Promise<SourceIdentity>,
    history?: SymbolHistory,
  ) {
    // A file without a symbol column (`dbn --csv` without --map-symbols) is named from the stored
    // definitions' history, as DBN ids the file cannot name are.
    if (!mapper.hasSymbol && history) this.symbols = new SymbolFiller(history);
  }

  /** With `hash` (default) the file's SHA-256 is the ledger identity, as for DBN files. */
  static create(reader: TabularReader, mapper: RowMapper, options: { hash?: boolean; symbols?: SymbolHistory } = {}): TabularFileSource {
    const identity =
      options.hash === false
        ? undefined
        : hashFile(reader.file).then((contentHash) => ({ source: path.resolve(reader.file), contentHash }));
    identity?.catch(() => {
      /* observed by whoever awaits the identity */
    });
    return new TabularFileSource(reader, mapper, identity, options.symbols);
  }

  /** Instrument ids of rows left without a symbol (neither in the file nor in the stored history). */
  get unresolvedIds(): number[] {
    return this.symbols ? [...this.symbols.unresolved].sort((a, b) => a - b) : [];
  }

  /** Exact for Parquet; for a CSV, the rows so far scaled by the bytes read (progress and ETA). */
  get totalRecords(): number | undefined {
    const r = this.reader;
    if (r.totalRows !== undefined) return r.totalRows;
    if (this.rowsRead === 0 || r.bytesRead === 0) return undefined;
    return Math.max(this.rowsRead, Math.round((this.rowsRead * r.fileBytes) / r.bytesRead));
  }

  prepare(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace: () => Promise<void> = yieldToIo,
  ): AsyncIterable<BatchOrSkip> {
    if (spec.name !== this.mapper.table) throw new LoadError(`the mapping is for ${this.mapper.table}, not ${spec.name}`);
    return this.produce(spec, batchSize, isCommitted, pace);
  }

  private async *produce(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace: () => Promise<void>,
  ): AsyncGenerator<BatchOrSkip> {
    const normalizer = new RecordNormalizer(spec);
    const timeIndex = normalizer.columns.findIndex((c) => c.name === spec.hypertable?.timeColumn);
    const instrumentIndex = normalizer.columns.findIndex((c) => c.name === 'instrument_id');
    /** The row mapped again, as it was when the batch accepted it. */
    const remapped = (raw: unknown): Record<string, unknown> => {
      const cells = this.reader.cellsOf(raw);
      const m = this.mapper.map(cells);
      if (typeof m === 'string') throw new Error(`a row accepted earlier no longer maps (${m})`);
      this.symbols?.fillKnown(m);
      return m;
    };
    const recordOf = (original: unknown): Record<string, unknown> => {
      return Object.assign(remapped(original), this.reader.locationOf(original));
    };
    const valuesOf = (original: unknown): readonly CellValue[] => {
      const n = normalizer.normalize(remapped(original));
      if (!n.ok) throw new Error(`a row accepted earlier no longer normalizes (${n.reason})`);
      return n.values;
    };
    const { header } = this.reader;
    const width = header.length;
    const cellsOf = (row: readonly unknown[]) => Object.fromEntries(row.map((v, k) => [header[k] ?? `column_${k + 1}`, v]));
    let batchNo = 0;
    let current: ValuesBatch | undefined;
    let skippedCount = 0;
    const start = () => {
      if (isCommitted(batchNo)) {
        current = undefined;
        skippedCount = 0;
      } else current = new ValuesBatch(batchNo, normalizer.columns, timeIndex, instrumentIndex, valuesOf, recordOf);
    };
    const flush = (): BatchOrSkip => {
      const out: BatchOrSkip = current?.seal() ?? { skipped: true, batchNo, recordsIn: skippedCount };
      batchNo += 1;
      start();
      return out;
    };
    start();
    this.rowsRead = 0;
    let sinceYield = 0;
    for await (const chunk of this.reader.chunks()) {
      const { rows } = chunk;
      // undefined: the row is refused before mapping (its reason is found again below, for it alone).
      const mapped = rows.map((row, i) =>
        row.length === width && !hasBadText(row) && chunk.problem?.(i) === undefined ? this.mapper.map(row) : undefined,
      );
      if (this.symbols) await this.symbols.fill(mapped);
      for (let i = 0; i < rows.length; i++) {
        if (++sinceYield >= YIELD_EVERY_ROWS) {
          sinceYield = 0;
          await pace();
        }
        const idx = this.rowsRead++;
        if (!current) {
          if (++skippedCount >= batchSize) yield flush();
          continue;
        }
        const row = rows[i]!;
        current.recordsIn += 1;
        let reason: string;
        let constraint: string | null = null;
        const problem = chunk.problem?.(i);
        if (problem !== undefined) {
          reason = `the row is not CSV: ${problem}`;
          constraint = 'csv';
        } else if (row.length !== width) {
          reason = `the row has ${row.length} field${row.length === 1 ? '' : 's'}, the header ${width}`;
        } else if (mapped[i] === undefined) {
          reason = 'the row is not valid UTF-8 (a byte sequence decoded as U+FFFD)';
          constraint = 'utf8';
        } else {
          const m = mapped[i]!;
          if (typeof m !== 'string') {
            const n = normalizer.normalize(m);
            if (n.ok) {
              current.add(n.values, idx, chunk.raw(i));
              if (current.recordsIn >= batchSize) yield flush();
              continue;
            }
            reason = n.reason;
            constraint = n.constraint;
          } else reason = m;
        }
        current.rejections.push({ recordIndex: idx, reason, constraint, record: jsonOf({ ...chunk.location(i), cells: cellsOf(row) }) });
        if (current.recordsIn >= batchSize) yield flush();
      }
    }
    if ((current && current.recordsIn > 0) || (!current && skippedCount > 0)) yield flush();
  }
}

/** U+FFFD in a cell: the decoder's mark for bytes that are not UTF-8 (a real U+FFFD in the data is refused too, rather than guessed at). */
function hasBadText(row: readonly unknown[]): boolean {
  for (const c of row) if (typeof c === 'string' && c.includes('\uFFFD')) return true;
  return false;
}

/** Fills `symbol` of mapped rows from a SymbolHistory by (instrument_id, time), asking each id once. */
class SymbolFiller {
  private readonly intervals = new Map<number, SymbolInterval[]>();
  readonly unresolved = new Set<number>();

  constructor(private readonly history: SymbolHistory) {}

  /** Fills one row from the intervals already read (a row mapped again, whose ids fill() asked for). */
  fillKnown(r: Record<string, unknown>): boolean {
    const id = Number(r.instrument_id);
    const us = typeof r.timestamp === 'bigint' ? Number(r.timestamp / 1000n) : NaN;
    const hit = this.intervals.get(id)?.find((iv) => us >= iv.fromUs && (iv.toUs === null || us < iv.toUs));
    if (hit) r.symbol = hit.symbol;
    return hit !== undefined;
  }

  async fill(rows: readonly (Record<string, unknown> | string | undefined)[]): Promise<void> {
    const ask = new Set<number>();
    for (const r of rows) {
      if (typeof r !== 'object') continue;
      const id = Number(r.instrument_id);
      if (Number.isInteger(id) && !this.intervals.has(id)) ask.add(id);
    }
    if (ask.size > 0) {
      for (const id of ask) this.intervals.set(id, []);
      for (const iv of await this.history.intervalsFor([...ask])) this.intervals.get(iv.instrumentId)?.push(iv);
    }
    for (const r of rows) if (typeof r === 'object' && !this.fillKnown(r)) this.unresolved.add(Number(r.instrument_id));
  }
}
