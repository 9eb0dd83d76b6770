/** One FormatWriter per export format, behind one factory (the table export and `query --format` share it). */
import { ArrowWriter } from './arrow-writer.js';
import type { ExportColumn } from './columns.js';
import { CsvWriter } from './csv-writer.js';
import type { ExportFormat, FormatWriter } from './format.js';
import { ParquetExportWriter } from './parquet-writer.js';
import type { BatchedWriterOptions } from './row-group.js';
import type { ByteSink } from './sink.js';

export function createFormatWriter(
  format: ExportFormat,
  columns: readonly ExportColumn[],
  sink: ByteSink,
  options: BatchedWriterOptions = {},
): FormatWriter {
  switch (format) {
    case 'csv':
      return new CsvWriter(columns, sink);
    case 'arrow':
      return new ArrowWriter(columns, sink, options);
    case 'parquet':
      return new ParquetExportWriter(columns, sink, options);
  }
}
