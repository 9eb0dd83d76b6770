/**
 * `tickvault query … --format parquet|arrow --out FILE`: the rows a query subcommand prints, typed
 * and written by the export writers (src/export), so a query result opens in DuckDB, pandas or
 * polars with exact decimals and UTC microsecond timestamps. Each subcommand's output columns are
 * declared here once with their types; rows arrive as the text the other formats print.
 */
import { ConfigError } from '../../errors.js';
import {
  createFormatWriter,
  fileSink,
  type ByteSink,
  type ExportColumn,
  type ExportKind,
  type FormatWriter,
  type RawRow,
} from '../../export/index.js';
import { isoToMicros } from '../../values/time.js';

export type FileFormat = 'parquet' | 'arrow';
type Cell = string | null;

const col = (name: string, kind: ExportKind, nullable = true, precision = 0, scale = 0): ExportColumn => ({
  name,
  kind,
  nullable,
  precision,
  scale,
});
const price = (name: string) => col(name, 'decimal', true, 20, 8);
// Averages keep 10 decimals (AVG_SCALE) and a median of two 8-decimal prices 9: DECIMAL(38,10) holds both.
const stat = (name: string) => col(name, 'decimal', true, 38, 10);

/**
 * The as-of join's columns (`query asof-join`), markout mids after the fixed ones. A mid has at most
 * one decimal more than the prices (decimal.ts): DECIMAL(21,9).
 */
export function asofJoinColumns(markouts: readonly string[]): ExportColumn[] {
  const mid = (name: string) => col(name, 'decimal', true, 21, 9);
  return [
    col('time', 'timestamp', false),
    col('symbol', 'string', false),
    col('instrument_id', 'int32', false),
    col('publisher', 'int32', false),
    price('price'),
    col('size', 'int64'),
    col('side', 'string'),
    col('trade_id', 'string'),
    col('quote_time', 'timestamp'),
    price('bid'),
    price('ask'),
    col('bid_size', 'int64'),
    col('ask_size', 'int64'),
    col('sequence', 'int64'),
    col('age_us', 'int64'),
    mid('mid'),
    ...markouts.map((m) => mid(`mid_${m}`)),
  ];
}

/** The output columns of each query subcommand, in the order the CSV prints them. */
export const QUERY_COLUMNS: Readonly<Record<'bars' | 'volume' | 'spread' | 'recent' | 'asof', readonly ExportColumn[]>> = {
  bars: [
    col('time', 'timestamp', false),
    col('publisher', 'int32', false),
    price('open'),
    price('high'),
    price('low'),
    price('close'),
    col('volume', 'int64'),
    col('trades', 'int64'),
  ],
  volume: [
    col('time', 'timestamp', false),
    col('volume', 'int64'),
    col('buy_volume', 'int64'),
    col('sell_volume', 'int64'),
    col('trades', 'int64'),
  ],
  spread: [
    col('symbol', 'string', false),
    col('quotes', 'int64'),
    col('spreads', 'int64'),
    stat('avg'),
    stat('median'),
    stat('min'),
    stat('max'),
  ],
  recent: [
    col('time', 'timestamp', false),
    col('instrument_id', 'int32'),
    col('publisher', 'int32'),
    price('open'),
    price('high'),
    price('low'),
    price('close'),
    col('volume', 'int64'),
    col('granularity', 'string'),
  ],
  asof: [
    col('kind', 'string', false),
    col('time', 'timestamp'),
    col('instrument_id', 'int32'),
    col('publisher', 'int32'),
    price('price'),
    col('size', 'int64'),
    col('side', 'string'),
    col('trade_id', 'string'),
    price('bid'),
    price('ask'),
    col('bid_size', 'int64'),
    col('ask_size', 'int64'),
    price('spread'),
  ],
};

const BATCH = 1000;

/** Takes the printed rows (ISO times, decimal text) and writes them typed; end() finishes the file. */
export class FileRowWriter {
  private batch: RawRow[] = [];
  private count = 0;
  private readonly sink: ByteSink;
  private readonly writer: FormatWriter;

  constructor(
    format: FileFormat,
    private readonly columns: readonly ExportColumn[],
    out: string | undefined,
  ) {
    if (!out) throw new ConfigError(`--format ${format} writes a file: give --out FILE`);
    this.sink = fileSink(out);
    this.writer = createFormatWriter(format, columns, this.sink);
  }

  async row(r: Readonly<Record<string, Cell>>): Promise<void> {
    const raw: Record<string, string | number | null> = {};
    for (const c of this.columns) {
      const v = r[c.name] ?? null;
      raw[c.name] = v === null ? null : c.kind === 'timestamp' ? String(isoToMicros(v)) : c.kind === 'int32' ? Number(v) : v;
    }
    this.batch.push(raw);
    this.count += 1;
    if (this.batch.length >= BATCH) await this.flush();
  }

  async end(): Promise<number> {
    try {
      await this.flush();
      await this.writer.finish();
      await this.sink.close();
    } catch (err) {
      this.writer.abort?.(err);
      await this.sink.abort();
      throw err;
    }
    return this.count;
  }

  private async flush(): Promise<void> {
    const b = this.batch;
    this.batch = [];
    if (b.length) await this.writer.write(b);
  }
}
