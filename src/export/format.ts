/**
 * The contract between an export's row source and its file format: rows go in as the cursor
 * returns them (RawRow, exact text for decimals and int8), bytes go out to a ByteSink.
 */
import type { RawRow } from './columns.js';

export type ExportFormat = 'parquet' | 'csv' | 'arrow';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['parquet', 'csv', 'arrow'];

export interface FormatWriter {
  /** Takes rows; resolves once whatever they completed (a row group, a batch) is handed to the sink. */
  write(rows: readonly RawRow[]): Promise<void>;
  /** Writes what is buffered and the format's trailer (Parquet footer, Arrow footer). */
  finish(): Promise<void>;
  /** Stops after a failure elsewhere (the sink, the cursor): releases what the writer holds. */
  abort?(reason: unknown): void;
}

/**
 * Rows per Parquet row group and per Arrow record batch. 122,880 is DuckDB's own row-group size:
 * big enough for column statistics and compression to pay off, small enough that a reader (or
 * this writer, which holds one group's rows while it encodes them) needs little memory.
 */
export const DEFAULT_ROW_GROUP_ROWS = 122_880;
