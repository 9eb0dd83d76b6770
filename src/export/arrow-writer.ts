/**
 * Arrow IPC **file** format (Feather v2, `.arrow`): readable with random access by pyarrow
 * (`pa.ipc.open_file`, `pd.read_feather`), polars (`pl.read_ipc`) and apache-arrow JS
 * (`tableFromIPC`). One record batch per `rowGroupRows` rows; every batch is handed to the sink
 * as soon as it is encoded, and the footer (a list of batch offsets) is written at the end.
 */
import { AsyncByteQueue, RecordBatchFileWriter, type Schema } from 'apache-arrow';
import type { ColumnBatch } from './batch.js';
import { arrowSchema, toArrowBatch } from './arrow-batch.js';
import type { ExportColumn, RawRow } from './columns.js';
import { DEFAULT_ROW_GROUP_ROWS, type FormatWriter } from './format.js';
import { RowGrouper, type BatchedWriterOptions } from './row-group.js';
import type { ByteSink } from './sink.js';

/**
 * The Arrow writer's byte queue, replaced by one that only collects: the writer encodes
 * synchronously, and what it produced is taken after each batch and written with backpressure.
 */
class Collector extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }
  take(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    return c;
  }
}

export class ArrowWriter implements FormatWriter {
  private readonly schema: Schema;
  private readonly writer = new RecordBatchFileWriter();
  private readonly collector = new Collector();
  private readonly grouper: RowGrouper;

  constructor(
    columns: readonly ExportColumn[],
    private readonly sink: ByteSink,
    private readonly options: BatchedWriterOptions = {},
  ) {
    this.schema = arrowSchema(columns);
    this.writer.reset(this.collector, this.schema); // writes the magic and the schema
    this.grouper = new RowGrouper(columns, options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, (batch) => this.writeGroup(batch));
  }

  write(rows: readonly RawRow[]): Promise<void> {
    return this.grouper.add(rows);
  }

  async finish(): Promise<void> {
    await this.grouper.flush();
    this.writer.finish(); // the footer
    await this.drain();
  }

  private async writeGroup(batch: ColumnBatch): Promise<void> {
    this.writer.write(toArrowBatch(this.schema, batch));
    this.options.onRowGroup?.(batch.length);
    await this.drain();
  }

  private async drain(): Promise<void> {
    for (const chunk of this.collector.take()) await this.sink.write(chunk);
  }
}
