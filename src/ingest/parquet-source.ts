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
 */
import fs from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type Compressors, type FileMetaData, type SchemaElement } from 'hyparquet';
import { SourceFormatError } from '../errors.js';
import type { FixedPoint } from '../load/normalize.js';
import type { ColumnKind } from './column-mapping.js';
import type { RowChunk, TabularReader } from './tabular-source.js';

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

/**
 * Codecs hyparquet leaves to the caller (it has SNAPPY built in): ZSTD (DuckDB's and polars'
 * default, common for pyarrow too) by fzstd, which the project already uses for DBN; GZIP and
 * BROTLI by zlib. LZ4 is not supported: such a file fails with hyparquet's message naming the codec.
 */
const COMPRESSORS: Compressors = {
  ZSTD: (input, outputLength) => zstdDecompress(input, new Uint8Array(outputLength)),
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

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

/** Rows handed on at a time (as a CSV's chunks). */
const CHUNK_ROWS = 4096;

export class ParquetReader implements TabularReader {
  readonly format = 'parquet' as const;
  bytesRead = 0;

  private constructor(
    readonly file: string,
    readonly header: readonly string[],
    readonly kinds: readonly ColumnKind[],
    readonly fileBytes: number,
    readonly totalRows: number,
    private readonly metadata: FileMetaData,
    private readonly decimalScales: readonly (number | undefined)[],
  ) {}

  static async open(file: string): Promise<ParquetReader> {
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
    );
  }

  async *chunks(): AsyncGenerator<RowChunk> {
    const { buffer, close } = await fileBuffer(this.file);
    this.bytesRead = 0;
    try {
      let rowStart = 0;
      for (let g = 0; g < this.metadata.row_groups.length; g++) {
        const group = this.metadata.row_groups[g]!;
        const n = Number(group.num_rows);
        const columns = await this.readGroup(buffer, g, rowStart, n);
        this.bytesRead += Number(group.total_byte_size ?? 0);
        rowStart += n;
        // Rows are made a window at a time from the group's columns: a whole group of row arrays
        // (and their mapped records) at once was most of a load's memory.
        for (let from = 0; from < n; from += CHUNK_ROWS) {
          const to = Math.min(n, from + CHUNK_ROWS);
          const rows: unknown[][] = new Array(to - from);
          for (let r = from; r < to; r++) {
            const row: unknown[] = new Array(columns.length);
            for (let c = 0; c < columns.length; c++) row[c] = columns[c]![r];
            rows[r - from] = row;
          }
          this.fixDecimals(rows);
          yield { rows, location: (i) => ({ source_row_group: g, source_row: from + i }) };
        }
      }
    } finally {
      await close();
    }
  }

  /** One row group's columns, each as one array indexed by the row within the group. */
  private async readGroup(buffer: AsyncBuffer, g: number, rowStart: number, n: number): Promise<ArrayLike<unknown>[]> {
    const index = new Map(this.header.map((name, i) => [name, i]));
    const runs: { column: number; data: ArrayLike<unknown>; start: number; end: number }[] = [];
    try {
      await parquetRead({
        file: buffer,
        metadata: this.metadata,
        rowStart,
        rowEnd: rowStart + n,
        parsers: PARSERS,
        compressors: COMPRESSORS,
        onChunk: (chunk) => {
          const column = index.get(chunk.columnName);
          if (column !== undefined) runs.push({ column, data: chunk.columnData, start: chunk.rowStart, end: chunk.rowEnd });
        },
      });
    } catch (err) {
      throw new SourceFormatError(`${this.file}: row group ${g} unreadable: ${(err as Error).message}`, { cause: err });
    }
    return this.header.map((name, c) => {
      const mine = runs.filter((r) => r.column === c);
      // The usual case: one run that is exactly the group.
      if (mine.length === 1 && mine[0]!.start === rowStart && mine[0]!.data.length >= n) return mine[0]!.data;
      const out: unknown[] = new Array(n);
      let filled = 0;
      for (const r of mine) {
        for (let row = Math.max(r.start, rowStart); row < Math.min(r.end, rowStart + n); row++) {
          out[row - rowStart] = r.data[row - r.start];
          filled++;
        }
      }
      if (filled < n) throw new SourceFormatError(`${this.file}: row group ${g}: column ${name} holds ${filled} of its ${n} rows`);
      return out;
    });
  }

  /** Raw DECIMAL integers → { value, scale } (exact). */
  private fixDecimals(rows: unknown[][]): void {
    const cols = this.decimalScales.flatMap((s, i) => (s === undefined ? [] : [i]));
    if (cols.length === 0) return;
    for (const row of rows) {
      for (const c of cols) {
        const v = row[c];
        if (v === null || v === undefined) continue;
        const value =
          typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : v instanceof Uint8Array ? signedBytes(v) : BigInt(String(v));
        row[c] = { value, scale: this.decimalScales[c]! } satisfies FixedPoint;
      }
    }
  }
}
