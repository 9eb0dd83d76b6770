/**
 * CSV files (.csv, .csv.gz, .csv.zst — told apart by their first bytes, not only the name) as
 * row chunks for TabularFileSource: read as a stream, decompressed on the way (zlib for gzip, the
 * project's in-process zstd), decoded as UTF-8 and cut into records by csv-records.ts, so memory
 * stays at one chunk whatever the size. Each row carries its line number (`source_line`, 1 = the
 * header). Bytes that are not valid UTF-8 reach TabularFileSource as U+FFFD and the row is refused
 * there, never stored altered.
 */
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { zstdJsChunks } from '../dbn/zstd.js';
import { SourceFormatError } from '../errors.js';
import type { ColumnKind } from './column-mapping.js';
import { CsvRecordSplitter, CsvSyntaxError, cellsOf, type CsvRecord } from './csv-records.js';
import type { RowChunk, RowLocation, TabularReader } from './tabular-source.js';

const CHUNK_ROWS = 1024;

export type Compression = 'none' | 'gzip' | 'zstd';

/** gzip (1f 8b) or zstd (28 b5 2f fd) by magic bytes. */
export function compressionOf(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export class CsvReader implements TabularReader {
  readonly format = 'csv' as const;
  readonly kinds: readonly ColumnKind[];
  bytesRead = 0;

  private constructor(
    readonly file: string,
    readonly header: readonly string[],
    readonly fileBytes: number,
    readonly compression: Compression,
  ) {
    this.kinds = header.map(() => 'text');
  }

  /** Reads the header (first record) and checks it names columns. */
  static async open(file: string): Promise<CsvReader> {
    const fileBytes = (await fs.promises.stat(file)).size;
    const fd = await fs.promises.open(file, 'r');
    const head = new Uint8Array(4);
    try {
      await fd.read(head, 0, 4, 0);
    } finally {
      await fd.close();
    }
    const compression = compressionOf(head);
    const probe = new CsvReader(file, [], fileBytes, compression);
    let header: string[] | undefined;
    try {
      for await (const records of probe.records()) {
        header = records[0] && cellsOf(records[0]).map((h) => h ?? '');
        if (header) break;
      }
    } catch (err) {
      throw new SourceFormatError(`${file}: not readable as CSV: ${(err as Error).message}`, { cause: err });
    }
    if (!header || header.length === 0 || header.every((h) => h.trim() === ''))
      throw new SourceFormatError(`${file}: empty CSV: no header line`);
    if (header.some((h) => h.includes('\uFFFD'))) throw new SourceFormatError(`${file}: the header is not valid UTF-8`);
    const names = header.map((h) => h.trim());
    const dup = names.find((h, i) => names.indexOf(h) !== i);
    if (dup !== undefined) throw new SourceFormatError(`${file}: the header names column "${dup}" twice`);
    return new CsvReader(file, names, fileBytes, compression);
  }

  /** The file's bytes, decompressed, counted as they are read (the progress estimate). */
  private bytes(): AsyncIterable<Uint8Array> {
    this.bytesRead = 0;
    const raw = fs.createReadStream(this.file, { highWaterMark: 1 << 20 });
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.bytesRead += chunk.length;
        done(null, chunk);
      },
    });
    raw.on('error', (e) => counter.destroy(e));
    const counted = raw.pipe(counter);
    if (this.compression === 'gzip') {
      const gunzip = createGunzip();
      counted.on('error', (e) => gunzip.destroy(e));
      return counted.pipe(gunzip);
    }
    if (this.compression === 'zstd') return Readable.from(zstdJsChunks(counted as AsyncIterable<Uint8Array>), { objectMode: false });
    return counted;
  }

  /** Records in the order of the file, a decoded piece's worth at a time (the header first). */
  private async *records(): AsyncGenerator<CsvRecord[]> {
    const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    const splitter = new CsvRecordSplitter();
    for await (const piece of this.bytes()) {
      const out = splitter.push(decoder.decode(piece as Uint8Array, { stream: true }));
      if (out.length > 0) yield out;
    }
    const last = splitter.push(decoder.decode());
    splitter.end(last);
    if (last.length > 0) yield last;
  }

  /** A row's cells from what `raw` kept of it: its record (a plain line's text is split again). */
  cellsOf(raw: unknown): readonly unknown[] {
    return cellsOf(raw as CsvRecord);
  }

  locationOf(raw: unknown): RowLocation {
    return { source_line: (raw as CsvRecord).line };
  }

  async *chunks(): AsyncGenerator<RowChunk> {
    let first = true;
    let lastLine = 1;
    try {
      for await (const records of this.records()) {
        let from = 0;
        if (first) {
          first = false;
          from = 1; // the header
        }
        for (let k = from; k < records.length; k += CHUNK_ROWS) {
          const part = records.slice(k, Math.min(records.length, k + CHUNK_ROWS));
          lastLine = part.at(-1)!.line;
          yield chunkOf(part);
        }
      }
    } catch (err) {
      if (err instanceof SourceFormatError) throw err;
      const line = err instanceof CsvSyntaxError ? err.line : lastLine;
      throw new SourceFormatError(`${this.file}: CSV unreadable after line ${line}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function chunkOf(records: readonly CsvRecord[]): RowChunk {
  return {
    rows: records.map(cellsOf),
    location: (i) => ({ source_line: records[i]!.line }),
    problem: (i) => records[i]!.problem,
    raw: (i) => records[i],
  };
}
