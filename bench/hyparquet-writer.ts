/**
 * Benchmark candidate (not used by the library: parquet-wasm won, see README "Export"): Parquet
 * through hyparquet-writer, one row group per `rowGroupRows` rows, every page
 * zstd-compressed. The schema comes from the table description:
 *
 * | column          | Parquet physical type          | logical type                      |
 * |-----------------|--------------------------------|-----------------------------------|
 * | TIMESTAMPTZ     | INT64                          | TIMESTAMP(isAdjustedToUTC, MICROS) |
 * | DECIMAL(p, s)   | FIXED_LEN_BYTE_ARRAY(n)        | DECIMAL(p, s) (n = 9 for p = 20)   |
 * | BIGINT          | INT64                          | —                                 |
 * | INTEGER         | INT32                          | —                                 |
 * | SMALLINT        | INT32                          | INT_16 (converted type)           |
 * | VARCHAR/CHAR    | BYTE_ARRAY                     | STRING                            |
 * | DATE            | INT32                          | DATE                              |
 * | BOOLEAN         | BOOLEAN                        | —                                 |
 *
 * NOT NULL columns are REQUIRED, the others OPTIONAL. Each row group is written to the sink as
 * soon as it is encoded; the footer at the end.
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { tickvaultVersion } from '../src/config/version.js';
import type { ColumnBatch } from '../src/export/batch.js';
import type { ExportColumn, RawRow } from '../src/export/columns.js';
import { decimalByteLength } from '../src/export/decimal.js';
import { DEFAULT_ROW_GROUP_ROWS, type FormatWriter } from '../src/export/format.js';
import { RowGrouper, type BatchedWriterOptions } from '../src/export/row-group.js';
import type { ByteSink } from '../src/export/sink.js';
import { zstdCompress } from './zstd-compress.js';

function element(col: ExportColumn): SchemaElement {
  const repetition_type = col.nullable ? 'OPTIONAL' : 'REQUIRED';
  const name = col.name;
  switch (col.kind) {
    case 'timestamp':
      return {
        name,
        repetition_type,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MICROS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
      };
    case 'decimal':
      return {
        name,
        repetition_type,
        type: 'FIXED_LEN_BYTE_ARRAY',
        type_length: decimalByteLength(col.precision),
        converted_type: 'DECIMAL',
        scale: col.scale,
        precision: col.precision,
        logical_type: { type: 'DECIMAL', scale: col.scale, precision: col.precision },
      };
    case 'int64':
      return { name, repetition_type, type: 'INT64' };
    case 'int32':
      return { name, repetition_type, type: 'INT32' };
    // converted type only: hyparquet-writer encodes IntType's i8 bitWidth as a varint, which
    // DuckDB's strict Thrift reader refuses; INT_16 means the same to every reader.
    case 'int16':
      return { name, repetition_type, type: 'INT32', converted_type: 'INT_16' };
    case 'date':
      return { name, repetition_type, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' } };
    case 'bool':
      return { name, repetition_type, type: 'BOOLEAN' };
    case 'string':
      return { name, repetition_type, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

export function parquetSchema(columns: readonly ExportColumn[]): SchemaElement[] {
  return [{ name: 'schema', num_children: columns.length }, ...columns.map(element)];
}

export interface ParquetWriterOptions extends BatchedWriterOptions {
  /** 'ZSTD' (default, what the issue asks) or 'SNAPPY' / 'UNCOMPRESSED' (benchmarks, debugging). */
  readonly codec?: 'ZSTD' | 'SNAPPY' | 'UNCOMPRESSED';
}

export class HyparquetWriter implements FormatWriter {
  private readonly bytes = new ByteWriter(1 << 20);
  private readonly writer: ParquetWriter;
  private readonly grouper: RowGrouper;

  constructor(
    private readonly columns: readonly ExportColumn[],
    private readonly sink: ByteSink,
    private readonly options: ParquetWriterOptions = {},
  ) {
    this.writer = new ParquetWriter({
      writer: this.bytes,
      schema: parquetSchema(columns),
      codec: options.codec ?? 'ZSTD',
      compressors: { ZSTD: (b: Uint8Array) => zstdCompress(b) },
      createdBy: `tickvault version ${tickvaultVersion()}`,
    });
    this.grouper = new RowGrouper(columns, options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, (batch) => this.writeGroup(batch));
  }

  write(rows: readonly RawRow[]): Promise<void> {
    return this.grouper.add(rows);
  }

  async finish(): Promise<void> {
    await this.grouper.flush();
    await this.writer.finish();
    await this.drain();
  }

  private async writeGroup(batch: ColumnBatch): Promise<void> {
    // One write() call with rowGroupSize = the group's rows: exactly one row group per call.
    await this.writer.write({
      columnData: this.columns.map((c, i) => ({ name: c.name, data: batch.columns[i] as unknown[] as never, nullable: c.nullable })),
      rowGroupSize: batch.length,
    });
    this.options.onRowGroup?.(batch.length);
    await this.drain();
  }

  /** Hands the encoded bytes to the sink and rewinds the buffer (offsets in the footer stay absolute). */
  private async drain(): Promise<void> {
    if (this.bytes.index === 0) return;
    const chunk = new Uint8Array(this.bytes.buffer.slice(0, this.bytes.index));
    this.bytes.index = 0;
    await this.sink.write(chunk);
  }
}
