/**
 * Benchmark candidate: Parquet through parquet-wasm (arrow-rs compiled to WebAssembly, zstd built
 * in). Rows → the same Arrow record batches the Arrow writer makes → Arrow IPC → parquet-wasm's
 * streaming writer (transformParquetStream), one row group per batch. Lives in bench/ because
 * parquet-wasm is a devDependency (the library does not ship it).
 */
import { tableToIPC, Table as ArrowTable } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { arrowSchema, toArrowBatch } from '../src/export/arrow-batch.js';
import { toColumnBatch } from '../src/export/batch.js';
import type { ExportColumn, RawRow } from '../src/export/columns.js';
import { DEFAULT_ROW_GROUP_ROWS, type FormatWriter } from '../src/export/format.js';
import { RowGrouper } from '../src/export/row-group.js';
import type { ByteSink } from '../src/export/sink.js';

export class ParquetWasmWriter implements FormatWriter {
  private readonly schema;
  private readonly grouper: RowGrouper;
  private pending: pw.RecordBatch | null | undefined;
  private wakePull: (() => void) | null = null;
  private wakeWrite: (() => void) | null = null;
  private readonly pump: Promise<void>;

  constructor(
    private readonly columns: readonly ExportColumn[],
    private readonly sink: ByteSink,
    rowGroupRows = DEFAULT_ROW_GROUP_ROWS,
  ) {
    this.schema = arrowSchema(columns);
    this.grouper = new RowGrouper(rowGroupRows, (rows) => this.writeGroup(rows));
    const source = new ReadableStream<pw.RecordBatch>({
      pull: async (controller) => {
        while (this.pending === undefined)
          await new Promise<void>((r) => {
            this.wakePull = r;
          });
        const b = this.pending;
        this.pending = undefined;
        this.wakeWrite?.();
        if (b === null) controller.close();
        else controller.enqueue(b);
      },
    });
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).setMaxRowGroupSize(rowGroupRows).build();
    this.pump = (async () => {
      const out = await pw.transformParquetStream(source, props);
      for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) await this.sink.write(chunk);
    })();
  }

  write(rows: readonly RawRow[]): Promise<void> {
    return this.grouper.add(rows);
  }

  async finish(): Promise<void> {
    await this.grouper.flush();
    await this.hand(null);
    await this.pump;
  }

  private async hand(b: pw.RecordBatch | null): Promise<void> {
    while (this.pending !== undefined)
      await new Promise<void>((r) => {
        this.wakeWrite = r;
      });
    this.pending = b;
    const w = this.wakePull;
    this.wakePull = null;
    w?.();
  }

  private async writeGroup(rows: readonly RawRow[]): Promise<void> {
    const batch = toArrowBatch(this.schema, toColumnBatch(this.columns, rows));
    const ipc = tableToIPC(new ArrowTable(this.schema, [batch] as never) as never, 'stream');
    const table = pw.Table.fromIPCStream(ipc);
    for (const b of table.recordBatches()) await this.hand(b);
  }
}
