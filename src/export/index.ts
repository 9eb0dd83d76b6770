export { exportTable, writeExport, DEFAULT_EXPORT_FETCH, type ExportOptions, type ExportResult } from './export.js';
export { EXPORT_FORMATS, DEFAULT_ROW_GROUP_ROWS, type ExportFormat } from './format.js';
export { exportColumns, exportTableSpec, EXPORT_TABLES, type ExportColumn, type ExportKind, type RawRow } from './columns.js';
export { fileSink, streamSink, type ByteSink } from './sink.js';
export { createFormatWriter } from './writers.js';
export { csvField } from './csv-writer.js';
export type { FormatWriter } from './format.js';
