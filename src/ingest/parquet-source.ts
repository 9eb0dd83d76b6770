/**
 * Parquet files as row chunks for TabularFileSource, read with hyparquet one row group at a time
 * through ranged reads of the file (an AsyncBuffer over a file handle): memory holds one row
 * group's columns, never the file. Values arrive exact:
 * - TIMESTAMP columns (any unit) as epoch nanoseconds (bigint), not Dates (which keep ms);
 * - DECIMAL columns as their unscaled integer with the scale ({ value, scale }): hyparquet's own
 *   conversion multiplies by 10^-scale in binary floating point, so the schema handed to it has
 *   the DECIMAL annotation taken off and the scale is applied here, in integers;
 * - DOUBLE columns as numbers, which the mapping reads by their shortest decimal (source-values.ts).
 * Each row carries its place: `source_row_group` and `source_row` (0-based within the group).
 * Flat PLAIN and dictionary column chunks are decoded by parquet-pages.ts into typed arrays (no
 * boxed values); any other column chunk by hyparquet.
 */
import fs from 'node:fs';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData, type SchemaElement } from 'hyparquet';
import { SourceFormatError } from '../errors.js';
import type { FixedPoint } from '../load/normalize.js';
import type { ColumnKind } from './column-mapping.js';
import { COMPRESSORS, decodeFlatChunk, decodesFlat } from './parquet-pages.js';
import type { RowChunk, RowLocation, TabularReader } from './tabular-source.js';

/** Ranged reads of one open file (hyparquet's asyncBufferFromFile opens a stream per slice). */
async function fileBuffer(file: string): Promise<{ buffer: AsyncBuffer; close: () => Promise<void> }> {
  const fh = await fs.promises.open(file, 'r');
  const { size } = await fh.stat();
  return {
    buffer: {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const stop = end ?? size;
        const out = new Uint8Array(Math.max(0, stop - start));
        let done = 0;
        while (done < out.length) {
          const { bytesRead } = await fh.read(out, done, out.length - done, start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return out.buffer;
      },
    },
    close: () => fh.close(),
  };
}

const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => BigInt(v) * 1_000_000n,
  timestampFromMicroseconds: (v: bigint) => BigInt(v) * 1_000n,
  timestampFromNanoseconds: (v: bigint) => BigInt(v),
};

/** Two's-complement big-endian bytes → bigint (Parquet's FIXED_LEN_BYTE_ARRAY DECIMAL). */
function signedBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return b.length > 0 && b[0]! & 0x80 ? v - (1n << BigInt(8 * b.length)) : v;
}

function kindOf(e: SchemaElement): ColumnKind {
  const lt = e.logical_type?.type;
  if (lt === 'TIMESTAMP' || e.converted_type === 'TIMESTAMP_MILLIS' || e.converted_type === 'TIMESTAMP_MICROS' || e.type === 'INT96')
    return 'timestamp-ns';
  if (lt === 'DECIMAL' || e.converted_type === 'DECIMAL') return 'decimal';
  if (e.type === 'DOUBLE' || e.type === 'FLOAT') return 'double';
  if (e.type === 'INT32' || e.type === 'INT64') return 'int';
  if (e.type === 'BYTE_ARRAY' || e.type === 'FIXED_LEN_BYTE_ARRAY') return 'text';
  return 'other';
}

/** Rows handed on at a time: a small window, so rows and their mapped records die young (scavenged, never promoted to the old space). */
const CHUNK_ROWS = 512;

/** One decoded row group: its columns, each indexed by the row within the group. */
interface GroupColumns {
  readonly group: number;
  readonly columns: readonly ArrayLike<unknown>[];
}

/**
 * What a batch keeps of an accepted row until its COMMIT: the row's group and place, not its
 * cells (a dozen boxed values each, for every row of the batches in flight).
 */
class ParquetRowRef {
  constructor(
    readonly group: GroupColumns,
    readonly row: number,
  ) {}
}

/**
 * A decoded column in a compact form: hyparquet gives OPTIONAL columns (DuckDB's and pyarrow's
 * default) as plain arrays of boxed values, a heap object per BigInt. Without nulls they fit a
 * typed array, which is what the row group's columns stay as while batches refer to their rows
 * (and what V8's heap limit follows: its old space grows to a multiple of what stays live).
 */
function compact(data: ArrayLike<unknown>): ArrayLike<unknown> {
  if (!Array.isArray(data) || data.length === 0) return data;
  const first = data[0];
  if (typeof first === 'bigint') {
    let negative = false;
    let huge = false;
    for (const v of data) {
      if (typeof v !== 'bigint') return data;
      if (v < 0n) negative = true;
      else if (v > 0x7fffffffffffffffn) huge = true;
    }
    if (negative && huge) return data;
    if (huge) return BigUint64Array.from(data as bigint[]);
    for (const v of data as bigint[]) if (v < -0x8000000000000000n) return data;
    return BigInt64Array.from(data as bigint[]);
  }
  if (typeof first === 'number') {
    // The narrowest array that holds every value exactly (most market columns are small integers).
    let int32 = true;
    let uint32 = true;
    for (const v of data) {
      if (typeof v !== 'number') return data;
      if (int32 && ((v | 0) !== v || Object.is(v, -0))) int32 = false;
      if (uint32 && (v >>> 0 !== v || Object.is(v, -0))) uint32 = false;
    }
    if (int32) return Int32Array.from(data as number[]);
    if (uint32) return Uint32Array.from(data as number[]);
    return Float64Array.from(data as number[]);
  }
  return data;
}

/** Who decodes column chunks: 'auto' (parquet-pages.ts where it can, else hyparquet) or hyparquet for all. */
export type ParquetDecoder = 'auto' | 'hyparquet';

export class ParquetReader implements TabularReader {
  readonly format = 'parquet' as const;
  bytesRead = 0;
  /** Column chunks decoded so far, by decoder: which path a file took. */
  readonly decoded = { pages: 0, hyparquet: 0 };

  private constructor(
    readonly file: string,
    readonly header: readonly string[],
    readonly kinds: readonly ColumnKind[],
    readonly fileBytes: number,
    readonly totalRows: number,
    private readonly metadata: FileMetaData,
    private readonly decimalScales: readonly (number | undefined)[],
    private readonly decoder: ParquetDecoder,
  ) {
    this.decimalColumns = decimalScales.flatMap((sc, i) => (sc === undefined ? [] : [i]));
  }

  private readonly decimalColumns: readonly number[];

  static async open(file: string, opts: { decoder?: ParquetDecoder } = {}): Promise<ParquetReader> {
    const { buffer, close } = await fileBuffer(file);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (err) {
      throw new SourceFormatError(`${file}: not a readable Parquet file: ${(err as Error).message}`, { cause: err });
    } finally {
      await close();
    }
    const root = metadata.schema[0]!;
    const top = metadata.schema.slice(1);
    if (top.some((e) => (e.num_children ?? 0) > 0) || top.length !== (root.num_children ?? top.length)) {
      throw new SourceFormatError(`${file}: nested Parquet columns (structs, lists) are not a table of rows; flatten them first`);
    }
    const kinds = top.map(kindOf);
    const scales = top.map((e, i) => (kinds[i] === 'decimal' ? (e.scale ?? 0) : undefined));
    // The schema hyparquet decodes with: DECIMAL annotations off (their raw integers come through).
    const patched: FileMetaData = {
      ...metadata,
      schema: metadata.schema.map((e, i) =>
        i > 0 && scales[i - 1] !== undefined ? { ...e, converted_type: undefined, logical_type: undefined } : e,
      ),
    };
    return new ParquetReader(
      file,
      top.map((e) => e.name),
      kinds,
      buffer.byteLength,
      Number(metadata.num_rows),
      patched,
      scales,
      opts.decoder ?? 'auto',
    );
  }

  async *chunks(): AsyncGenerator<RowChunk> {
    const { buffer, close } = await fileBuffer(this.file);
    this.bytesRead = 0;
    try {
      let rowStart = 0;
      for (let g = 0; g < this.metadata.row_groups.length; g++) {
        const meta = this.metadata.row_groups[g]!;
        const n = Number(meta.num_rows);
        const group: GroupColumns = { group: g, columns: await this.readGroup(buffer, g, rowStart, n) };
        const { columns } = group;
        this.bytesRead += Number(meta.total_byte_size ?? 0);
        rowStart += n;
        // Rows are made a window at a time from the group's columns: a whole group of row arrays
        // (and their mapped records) at once was most of a load's memory.
        for (let from = 0; from < n; from += CHUNK_ROWS) {
          const to = Math.min(n, from + CHUNK_ROWS);
          const rows: unknown[][] = new Array(to - from);
          for (let r = from; r < to; r++) rows[r - from] = this.rowOf(columns, r);
          yield {
            rows,
            location: (i) => ({ source_row_group: g, source_row: from + i }),
            raw: (i) => new ParquetRowRef(group, from + i),
          };
        }
      }
    } finally {
      await close();
    }
  }

  /** A kept row's cells (see ParquetRowRef). */
  cellsOf(raw: unknown): readonly unknown[] {
    const ref = raw as ParquetRowRef;
    return this.rowOf(ref.group.columns, ref.row);
  }

  locationOf(raw: unknown): RowLocation {
    const ref = raw as ParquetRowRef;
    return { source_row_group: ref.group.group, source_row: ref.row };
  }

  /** Row `r` of a group's columns, DECIMAL cells exact. */
  private rowOf(columns: readonly ArrayLike<unknown>[], r: number): unknown[] {
    const row: unknown[] = new Array(columns.length);
    for (let c = 0; c < columns.length; c++) row[c] = columns[c]![r];
    this.fixDecimals(row);
    return row;
  }

  /**
   * One row group's columns, each as one compact array indexed by the row within the group. They
   * are decoded one at a time and compacted at once, so no more than one column of boxed values
   * is live at any moment.
   */
  private async readGroup(buffer: AsyncBuffer, g: number, rowStart: number, n: number): Promise<ArrayLike<unknown>[]> {
    const out: ArrayLike<unknown>[] = [];
    for (let c = 0; c < this.header.length; c++) {
      const name = this.header[c]!;
      const own = this.decoder === 'auto' ? await this.readOwn(buffer, g, c, n) : undefined;
      if (own) {
        this.decoded.pages++;
        out.push(own);
        continue;
      }
      this.decoded.hyparquet++;
      const runs: { data: ArrayLike<unknown>; start: number; end: number }[] = [];
      try {
        await parquetRead({
          file: buffer,
          metadata: this.metadata,
          columns: [name],
          rowStart,
          rowEnd: rowStart + n,
          parsers: PARSERS,
          compressors: COMPRESSORS,
          onChunk: (chunk) => {
            if (chunk.columnName === name) runs.push({ data: chunk.columnData, start: chunk.rowStart, end: chunk.rowEnd });
          },
        });
      } catch (err) {
        throw new SourceFormatError(`${this.file}: row group ${g} unreadable: ${(err as Error).message}`, { cause: err });
      }
      out.push(compact(this.wholeColumn(runs, g, name, rowStart, n)));
    }
    return out;
  }

  /** Column `c` of group `g` by parquet-pages.ts, or undefined where hyparquet must decode it. */
  private async readOwn(buffer: AsyncBuffer, g: number, c: number, n: number): Promise<ArrayLike<unknown> | undefined> {
    const meta = this.metadata.row_groups[g]!.columns[c]?.meta_data;
    const element = this.metadata.schema[c + 1]!;
    if (!meta || !decodesFlat(element, meta)) return undefined;
    const data = Number(meta.data_page_offset);
    const dict = Number(meta.dictionary_page_offset ?? 0);
    const start = dict > 0 && dict < data ? dict : data;
    const bytes = new Uint8Array(await buffer.slice(start, start + Number(meta.total_compressed_size)));
    return decodeFlatChunk(element, meta, bytes, n);
  }

  /** A column's runs (pages) as one array of the group's `n` rows. */
  private wholeColumn(
    runs: readonly { data: ArrayLike<unknown>; start: number; end: number }[],
    g: number,
    name: string,
    rowStart: number,
    n: number,
  ): ArrayLike<unknown> {
    // The usual case: one run that is exactly the group.
    if (runs.length === 1 && runs[0]!.start === rowStart && runs[0]!.data.length >= n) return runs[0]!.data;
    const out: unknown[] = new Array(n);
    let filled = 0;
    for (const r of runs) {
      for (let row = Math.max(r.start, rowStart); row < Math.min(r.end, rowStart + n); row++) {
        out[row - rowStart] = r.data[row - r.start];
        filled++;
      }
    }
    if (filled < n) throw new SourceFormatError(`${this.file}: row group ${g}: column ${name} holds ${filled} of its ${n} rows`);
    return out;
  }

  /** Raw DECIMAL integers → { value, scale } (exact). */
  private fixDecimals(row: unknown[]): void {
    for (const c of this.decimalColumns) {
      const v = row[c];
      if (v === null || v === undefined) continue;
      const value =
        typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : v instanceof Uint8Array ? signedBytes(v) : BigInt(String(v));
      row[c] = { value, scale: this.decimalScales[c]! } satisfies FixedPoint;
    }
  }
}
