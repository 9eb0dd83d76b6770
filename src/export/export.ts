/**
 * `exportTable`: a table's rows (optionally some symbols, a time range) into a Parquet, CSV or
 * Arrow file or stream, read through a server-side cursor (query/stream.ts) so memory stays
 * bounded by one FETCH plus one row group, whatever the table's size.
 *
 * SQL: the table and column names come from the table description and are quoted; symbols and
 * times are bound parameters. Rows come in time order (then the natural key), so a file of one
 * symbol reads as a time series and two exports of the same data are byte-identical.
 */
import type { Writable } from 'node:stream';
import type { Engine } from '../engine/types.js';
import { ExportError, QueryError, TickvaultError } from '../errors.js';
import { micros, positiveInt, symbolParam, timeParam, type TimeInput } from '../query/params.js';
import { streamQuery } from '../query/stream.js';
import { requireSchema } from '../schema/schema-state.js';
import { ident } from '../sql/ident.js';
import { csvSelectOf, exportColumns, exportTableSpec, selectOf, type ExportColumn, type RawRow } from './columns.js';
import { EXPORT_FORMATS, type ExportFormat, type FormatWriter } from './format.js';
import { fileSink, streamSink, type ByteSink } from './sink.js';
import { createFormatWriter } from './writers.js';

/** Rows per cursor FETCH: large enough that round trips do not dominate, small next to a row group. */
export const DEFAULT_EXPORT_FETCH = 10_000;

export interface ExportOptions {
  /** One of the market tables: ohlcv_data, trades_data, tbbo_data, statistics_data, instrument_definitions. */
  readonly table: string;
  readonly format: ExportFormat;
  /** Only these symbols (default: every symbol). */
  readonly symbols?: readonly string[];
  /** Half-open time range on the table's time column, start <= timestamp < end (hypertables only). */
  readonly start?: TimeInput;
  readonly end?: TimeInput;
  /** A file to write (created as `<out>.partial`, renamed when complete) … */
  readonly out?: string;
  /** … or a stream to write into (not ended). Exactly one of `out` and `stream`. */
  readonly stream?: Writable;
  /** Rows per Parquet row group / Arrow record batch (default 122,880). */
  readonly rowGroupRows?: number;
  /** Rows per cursor FETCH (default 10,000). */
  readonly fetchRows?: number;
  /**
   * CSV only: 'copy' (the server writes the CSV; the default where the engine streams COPY output,
   * as the embedded engine does not: it hands over the whole output at once) or 'cursor' (rows
   * through CsvWriter, the embedded default). Both give the same bytes.
   */
  readonly via?: 'copy' | 'cursor';
  /** Called after each FETCH (each COPY piece with rows, for CSV by COPY) and each row group written, with its row count (progress, tests). */
  readonly onFetch?: (rows: number) => void;
  readonly onRowGroup?: (rows: number) => void;
}

export interface ExportResult {
  readonly table: string;
  readonly format: ExportFormat;
  readonly rows: number;
  readonly bytes: number;
  /** The file written (absent when writing to a stream). */
  readonly out?: string;
}

/** How a value reaches the query: its SQL placeholder, the value kept aside (never spliced in). */
type Bind = (value: string | readonly string[], type: 'text[]' | 'timestamptz') => string;

/** Placeholders $1, $2… with the values in `params`. */
function bindParams(params: unknown[]): Bind {
  return (value, type) => {
    params.push(value);
    return `$${params.length}::${type}`;
  };
}

/**
 * Values for a statement that takes no parameters (COPY): each is set, as a bound parameter, into
 * a transaction-local setting that the statement reads back with current_setting().
 */
function bindSettings(settings: [string, string][]): Bind {
  return (value, type) => {
    const name = `tickvault.export_${settings.length + 1}`;
    if (typeof value === 'string') {
      settings.push([name, value]);
      return `current_setting('${name}')::${type}`;
    }
    settings.push([name, JSON.stringify(value)]);
    return `ARRAY(SELECT jsonb_array_elements_text(current_setting('${name}')::jsonb))`;
  };
}

function tableQuery(options: ExportOptions, selectList: readonly string[], bind: Bind): string {
  const spec = exportTableSpec(options.table);
  const where: string[] = [];
  if (options.symbols !== undefined) {
    if (options.symbols.length === 0) throw new QueryError('symbols must name at least one symbol (omit it for every symbol)');
    where.push(`${ident('symbol')} = ANY(${bind(options.symbols.map(symbolParam), 'text[]')})`);
  }
  const timeColumn = spec.hypertable?.timeColumn;
  if (options.start !== undefined || options.end !== undefined) {
    if (!timeColumn) throw new QueryError(`${spec.name} has no time column: export it without start/end`);
    const startUs = options.start === undefined ? undefined : micros('start', options.start);
    const endUs = options.end === undefined ? undefined : micros('end', options.end);
    if (startUs !== undefined && endUs !== undefined && endUs < startUs) throw new QueryError('end is before start');
    if (startUs !== undefined) where.push(`${ident(timeColumn)} >= ${bind(timeParam(startUs), 'timestamptz')}`);
    if (endUs !== undefined) where.push(`${ident(timeColumn)} < ${bind(timeParam(endUs), 'timestamptz')}`);
  }
  const order = [...(timeColumn ? [timeColumn] : []), ...spec.naturalKey.filter((k) => k !== timeColumn)].map(ident).join(', ');
  return `SELECT ${selectList.join(', ')} FROM ${ident(spec.name)}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}`;
}

/** Rows in CSV bytes: line breaks outside quotes (a quoted field may hold line breaks), the header's not counted. */
class CsvRowCounter {
  private quoted = false;
  private lines = 0;

  get rows(): number {
    return Math.max(0, this.lines - 1);
  }

  /** Counts a piece; returns the rows it completed. */
  count(chunk: Uint8Array): number {
    const before = this.rows;
    // The usual chunk has no quote at all: its rows are its line breaks.
    if (!this.quoted && chunk.indexOf(0x22) < 0) {
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) this.lines++;
    } else {
      for (const b of chunk) {
        if (b === 0x22) this.quoted = !this.quoted;
        else if (b === 0x0a && !this.quoted) this.lines++;
      }
    }
    return this.rows - before;
  }
}

/**
 * CSV written by the server: `COPY (SELECT … csvSelectOf …) TO STDOUT (FORMAT csv, HEADER)` in
 * one read-only transaction, its pieces straight into the sink — the same bytes CsvWriter makes
 * of the cursor's rows, without a row object per row. For engines whose COPY output streams.
 */
async function exportCsvByCopy(
  engine: Engine,
  options: ExportOptions,
  columns: readonly ExportColumn[],
  sink: ByteSink,
): Promise<{ rows: number; bytes: number }> {
  const settings: [string, string][] = [];
  const select = tableQuery(
    options,
    columns.map((c) => csvSelectOf(c.name, c.kind)),
    bindSettings(settings),
  );
  const counter = new CsvRowCounter();
  try {
    await engine.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      for (const [name, value] of settings) await tx.query('SELECT set_config($1, $2, true)', [name, value]);
      for await (const chunk of tx.copyOut(`COPY (${select}) TO STDOUT (FORMAT csv, HEADER)`)) {
        await sink.write(chunk);
        const n = counter.count(chunk);
        if (n > 0) options.onFetch?.(n);
      }
    });
    await sink.close();
  } catch (err) {
    await sink.abort().catch(() => undefined);
    throw err;
  }
  return { rows: counter.rows, bytes: sink.bytes };
}

function openSink(options: { out?: string; stream?: Writable }): ByteSink {
  if ((options.out === undefined) === (options.stream === undefined)) throw new QueryError('give exactly one of out (a file) and stream');
  return options.out !== undefined ? fileSink(options.out) : streamSink(options.stream!);
}

function checkFormat(format: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new QueryError(`unknown export format ${JSON.stringify(format)}; expected one of ${EXPORT_FORMATS.join(', ')}`);
  return format as ExportFormat;
}

/**
 * Writes `rows` (described by `columns`) in `format` to the sink, finishing the file, or removing
 * it when anything fails. Shared by exportTable and the CLI's `query --format parquet|arrow`.
 */
export async function writeExport(
  rows: AsyncIterable<readonly RawRow[]>,
  columns: readonly ExportColumn[],
  format: ExportFormat,
  sink: ByteSink,
  options: { rowGroupRows?: number; onRowGroup?: (rows: number) => void } = {},
): Promise<{ rows: number; bytes: number }> {
  let writer: FormatWriter | undefined;
  let count = 0;
  try {
    writer = createFormatWriter(format, columns, sink, {
      ...(options.rowGroupRows === undefined ? {} : { rowGroupRows: positiveInt('rowGroupRows', options.rowGroupRows) }),
      ...(options.onRowGroup ? { onRowGroup: options.onRowGroup } : {}),
    });
    for await (const batch of rows) {
      await writer.write(batch);
      count += batch.length;
    }
    await writer.finish();
    await sink.close();
  } catch (err) {
    writer?.abort?.(err);
    await sink.abort().catch(() => undefined);
    throw err;
  }
  return { rows: count, bytes: sink.bytes };
}

/** Groups a row stream into arrays of up to `size` rows (the cursor yields rows one by one). */
async function* inBatches(rows: AsyncIterable<RawRow>, size: number): AsyncGenerator<RawRow[]> {
  let batch: RawRow[] = [];
  for await (const r of rows) {
    batch.push(r);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

export async function exportTable(engine: Engine, options: ExportOptions): Promise<ExportResult> {
  const format = checkFormat(options.format);
  const spec = exportTableSpec(options.table);
  const columns = exportColumns(spec);
  const params: unknown[] = [];
  const sql = tableQuery(
    options,
    columns.map((c) => selectOf(c.name, c.kind)),
    bindParams(params),
  );
  const fetchRows = positiveInt('fetchRows', options.fetchRows ?? DEFAULT_EXPORT_FETCH);
  await requireSchema(engine); // a missing schema is one line naming `tickvault init`
  const byCopy =
    format === 'csv' && (options.via === 'copy' || (options.via === undefined && (await engine.capabilities()).streamingCopyOut));
  const sink = openSink(options);
  let written: Awaited<ReturnType<typeof writeExport>>;
  try {
    if (byCopy) written = await exportCsvByCopy(engine, options, columns, sink);
    else {
      const rows = streamQuery<RawRow>(engine, sql, params, {
        batchSize: fetchRows,
        ...(options.onFetch ? { onBatch: options.onFetch } : {}),
      });
      written = await writeExport(inBatches(rows, fetchRows), columns, format, sink, options);
    }
  } catch (err) {
    if (err instanceof TickvaultError) throw err;
    throw new ExportError(`export of ${spec.name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return { table: spec.name, format, rows: written.rows, bytes: written.bytes, ...(options.out === undefined ? {} : { out: options.out }) };
}
