/**
 * Columnar formats write whole groups of rows (a Parquet row group, an Arrow record batch). The
 * cursor's rows are converted to typed column cells as they arrive and gathered here until a
 * group is full, so an export holds at most one group of cells (never the cursor's row objects
 * beyond one FETCH): `rowGroupRows` is its memory bound.
 */
import { cellConverter, type Cell, type ColumnBatch } from './batch.js';
import type { ExportColumn, RawCell, RawRow } from './columns.js';

export interface BatchedWriterOptions {
  /** Rows per record batch / row group (default DEFAULT_ROW_GROUP_ROWS). */
  readonly rowGroupRows?: number;
  /** Called with the row count of each batch or row group as it is written (tests, progress). */
  readonly onRowGroup?: (rows: number) => void;
}

/** Gathers cursor rows, converted column by column, into groups of `size` rows. */
export class RowGrouper {
  private readonly names: readonly string[];
  private readonly converters: readonly ((v: RawCell | undefined) => Cell)[];
  private cells: Cell[][];
  private length = 0;

  constructor(
    columns: readonly ExportColumn[],
    readonly size: number,
    private readonly flushGroup: (batch: ColumnBatch) => Promise<void>,
  ) {
    this.names = columns.map((c) => c.name);
    this.converters = columns.map(cellConverter);
    this.cells = columns.map(() => []);
  }

  async add(rows: readonly RawRow[]): Promise<void> {
    const n = this.names.length;
    for (const r of rows) {
      for (let i = 0; i < n; i++) this.cells[i]!.push(this.converters[i]!(r[this.names[i]!]));
      this.length += 1;
      if (this.length >= this.size) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.length === 0) return;
    const batch: ColumnBatch = { length: this.length, columns: this.cells };
    this.cells = this.names.map(() => []);
    this.length = 0;
    await this.flushGroup(batch);
  }
}
