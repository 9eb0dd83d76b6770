/**
 * Parquet through parquet-wasm (arrow-rs's Parquet writer compiled to WebAssembly, zstd built
 * in: Node 20's zlib has none). Rows become the same Arrow record batches the Arrow writer makes
 * (arrow-batch.ts), handed one row group at a time to parquet-wasm's streaming writer; the
 * encoded bytes are written to the sink as they come. Chosen over hyparquet-writer by
 * bench/export-bench.ts (README "Export"): several times faster with zstd.
 *
 * Types, as arrow-rs maps them:
 *
 * | column        | Parquet physical type    | logical type                        |
 * |---------------|--------------------------|-------------------------------------|
 * | TIMESTAMPTZ   | INT64                    | TIMESTAMP(isAdjustedToUTC, MICROS)  |
 * | DECIMAL(p, s) | FIXED_LEN_BYTE_ARRAY(9)  | DECIMAL(20, 8) (p > 18)             |
 * | BIGINT        | INT64                    | —                                   |
 * | INTEGER       | INT32                    | —                                   |
 * | SMALLINT      | INT32                    | INTEGER(16, signed)                 |
 * | VARCHAR/CHAR  | BYTE_ARRAY               | STRING                              |
 * | DATE          | INT32                    | DATE                                |
 * | BOOLEAN       | BOOLEAN                  | —                                   |
 *
 * NOT NULL columns are REQUIRED, the others OPTIONAL.
 */
import { type RecordBatch as ArrowBatch, tableToIPC, Table as ArrowTable, type Schema } from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import { tickvaultVersion } from '../config/version.js';
import { ExportError } from '../errors.js';
import { arrowSchema, toArrowBatch } from './arrow-batch.js';
import type { ColumnBatch } from './batch.js';
import type { ExportColumn, RawRow } from './columns.js';
import { DEFAULT_ROW_GROUP_ROWS, type FormatWriter } from './format.js';
import { RowGrouper, type BatchedWriterOptions } from './row-group.js';
import type { ByteSink } from './sink.js';

/** zstd's own default level: most of the size gain of higher levels at a fraction of the time. */
export const ZSTD_LEVEL = 3;

/**
 * Rows handed to parquet-wasm at a time. arrow-rs gathers them into row groups of the configured
 * size in WebAssembly memory (typed columns), so JavaScript holds a few thousand rows of cells
 * instead of a whole group of boxed values (which V8's heap then grew to several times of).
 */
const HANDOFF_ROWS = 16_384;

type PW = typeof ParquetWasm;
let loaded: Promise<PW> | undefined;

/**
 * parquet-wasm is loaded on first use: its 5 MB WebAssembly module would otherwise be compiled by
 * every command and every program that imports tickvault, Parquet or not.
 */
function parquetWasm(): Promise<PW> {
  loaded ??= import('parquet-wasm').catch((err: unknown) => {
    loaded = undefined;
    throw new ExportError('Parquet export needs the parquet-wasm package (npm install parquet-wasm)', { cause: err });
  });
  return loaded;
}

/** One hand-over slot between our writes and parquet-wasm's pulls: at most one batch waits. */
type Slot = { batch: ParquetWasm.RecordBatch | null } | undefined;

export class ParquetExportWriter implements FormatWriter {
  private readonly schema: Schema;
  private readonly grouper: RowGrouper;
  private slot: Slot;
  private handed = 0;
  private failure: { err: unknown } | null = null;
  private wakePull: (() => void) | null = null;
  private wakeWrite: (() => void) | null = null;
  private controller: ReadableStreamDefaultController<ParquetWasm.RecordBatch> | undefined;
  private readonly lib = parquetWasm();
  private readonly pump: Promise<void>;
  private readonly rowGroupRows: number;
  /** Rows handed on since the last full row group (arrow-rs closes a group at exactly rowGroupRows). */
  private pendingGroupRows = 0;

  constructor(
    private readonly columns: readonly ExportColumn[],
    private readonly sink: ByteSink,
    private readonly options: BatchedWriterOptions = {},
  ) {
    const rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    this.rowGroupRows = rowGroupRows;
    this.schema = arrowSchema(columns);
    this.grouper = new RowGrouper(columns, Math.min(rowGroupRows, HANDOFF_ROWS), (batch) => this.writeGroup(batch));
    const source = new ReadableStream<ParquetWasm.RecordBatch>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: async (controller) => {
          while (this.slot === undefined)
            await new Promise<void>((r) => {
              this.wakePull = r;
            });
          const { batch } = this.slot;
          this.slot = undefined;
          this.wake('write');
          if (batch === null) controller.close();
          else controller.enqueue(batch);
        },
      },
      { highWaterMark: 0 },
    );
    this.pump = (async () => {
      const pw = await this.lib;
      let builder = new pw.WriterPropertiesBuilder()
        .setCompression(pw.Compression.ZSTD)
        .setMaxRowGroupSize(rowGroupRows)
        .setWriterVersion(pw.WriterVersion.V2)
        .setCreatedBy(`tickvault version ${tickvaultVersion()}`);
      // Timestamps, sizes and sequences rise or repeat: delta encoding beats a dictionary on them
      // (30% smaller files on trades, measured). Strings keep the dictionary (symbols, sides) and
      // fall back to delta lengths when it overflows (trade ids).
      for (const c of this.columns) {
        if (c.kind === 'timestamp' || c.kind === 'int64')
          builder = builder.setColumnDictionaryEnabled(c.name, false).setColumnEncoding(c.name, pw.Encoding.DELTA_BINARY_PACKED);
        else if (c.kind === 'string') builder = builder.setColumnEncoding(c.name, pw.Encoding.DELTA_LENGTH_BYTE_ARRAY);
      }
      const props = builder.build();
      const out = await pw.transformParquetStream(source, props);
      for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) await this.sink.write(chunk);
    })().catch((err: unknown) => {
      this.failure ??= { err };
      this.wake('write');
    });
  }

  write(rows: readonly RawRow[]): Promise<void> {
    return this.grouper.add(rows);
  }

  async finish(): Promise<void> {
    await this.grouper.flush();
    if (this.pendingGroupRows > 0) this.options.onRowGroup?.(this.pendingGroupRows);
    this.pendingGroupRows = 0;
    // parquet-wasm takes the file's schema from the first batch: an empty export sends an empty one.
    if (this.handed === 0) {
      const [empty] = await this.wasmBatches(toArrowBatch(this.schema, { length: 0, columns: this.columns.map(() => []) }));
      await this.hand(empty!);
    }
    await this.hand(null);
    await this.pump;
    this.check();
  }

  abort(reason: unknown): void {
    this.failure ??= { err: reason };
    try {
      this.controller?.error(reason);
    } catch {
      /* already closed */
    }
    this.wake('write');
  }

  private wake(who: 'pull' | 'write'): void {
    const w = who === 'pull' ? this.wakePull : this.wakeWrite;
    if (who === 'pull') this.wakePull = null;
    else this.wakeWrite = null;
    w?.();
  }

  private check(): void {
    if (!this.failure) return;
    const { err } = this.failure;
    throw err instanceof Error && 'code' in err
      ? err
      : new ExportError(`Parquet writer failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  /** Waits for the slot to be free (the previous batch taken), then fills it. */
  private async hand(batch: ParquetWasm.RecordBatch | null): Promise<void> {
    while (this.slot !== undefined && !this.failure)
      await new Promise<void>((r) => {
        this.wakeWrite = r;
      });
    this.check();
    this.slot = { batch };
    if (batch) this.handed += 1;
    this.wake('pull');
  }

  /** An Arrow JS batch into WebAssembly memory, through Arrow IPC (the format both sides speak). */
  private async wasmBatches(batch: ArrowBatch): Promise<ParquetWasm.RecordBatch[]> {
    const pw = await this.lib;
    const ipc = tableToIPC(new ArrowTable(this.schema, [batch] as never) as never, 'stream');
    return pw.Table.fromIPCStream(ipc).recordBatches();
  }

  private async writeGroup(batch: ColumnBatch): Promise<void> {
    for (const b of await this.wasmBatches(toArrowBatch(this.schema, batch))) await this.hand(b);
    this.pendingGroupRows += batch.length;
    while (this.pendingGroupRows >= this.rowGroupRows) {
      this.pendingGroupRows -= this.rowGroupRows;
      this.options.onRowGroup?.(this.rowGroupRows);
    }
  }
}
