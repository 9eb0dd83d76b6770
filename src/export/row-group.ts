/**
 * Columnar formats write whole groups of rows (a Parquet row group, an Arrow record batch): the
 * cursor's rows are gathered here until a group is full. This is the one place an export holds
 * rows, so `rowGroupRows` is its memory bound.
 */
import type { RawRow } from './columns.js';

export interface BatchedWriterOptions {
  /** Rows per record batch / row group (default DEFAULT_ROW_GROUP_ROWS). */
  readonly rowGroupRows?: number;
  /** Called with the row count of each batch or row group as it is written (tests, progress). */
  readonly onRowGroup?: (rows: number) => void;
}

/** Gathers cursor rows into groups of `rowGroupRows` for a columnar writer. */
export class RowGrouper {
  private rows: RawRow[] = [];
  constructor(
    readonly size: number,
    private readonly flushGroup: (rows: readonly RawRow[]) => Promise<void>,
  ) {}

  async add(rows: readonly RawRow[]): Promise<void> {
    for (const r of rows) {
      this.rows.push(r);
      if (this.rows.length >= this.size) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const group = this.rows;
    this.rows = [];
    await this.flushGroup(group);
  }
}
