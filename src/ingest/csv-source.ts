/**
 * CSV files (.csv, .csv.gz, .csv.zst — told apart by their first bytes, not only the name) as
 * row chunks for TabularFileSource: read as a stream through csv-parse, decompressed on the way
 * (zlib for gzip, the project's in-process zstd), so memory stays at one chunk whatever the size.
 * Each row carries its line number (`source_line`, 1 = the header). A row whose bytes are not
 * valid UTF-8 reaches TabularFileSource with U+FFFD in it and is refused there, never stored altered.
 */
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse, type Parser } from 'csv-parse';
import { zstdJsChunks } from '../dbn/zstd.js';
import { SourceFormatError } from '../errors.js';
import type { ColumnKind } from './column-mapping.js';
import type { RowChunk, TabularReader } from './tabular-source.js';

const CHUNK_ROWS = 4096;

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
    const parser = probe.pipeline();
    try {
      for await (const rec of parser as AsyncIterable<{ record: string[] }>) {
        header = rec.record;
        break;
      }
    } catch (err) {
      throw new SourceFormatError(`${file}: not readable as CSV: ${(err as Error).message}`, { cause: err });
    } finally {
      parser.destroy();
    }
    if (!header || header.length === 0 || header.every((h) => h.trim() === ''))
      throw new SourceFormatError(`${file}: empty CSV: no header line`);
    if (header.some((h) => h.includes('\uFFFD'))) throw new SourceFormatError(`${file}: the header is not valid UTF-8`);
    const names = header.map((h) => h.trim());
    const dup = names.find((h, i) => names.indexOf(h) !== i);
    if (dup !== undefined) throw new SourceFormatError(`${file}: the header names column "${dup}" twice`);
    return new CsvReader(file, names, fileBytes, compression);
  }

  private pipeline(): Parser {
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
    let text: Readable = counted;
    if (this.compression === 'gzip') {
      const gunzip = createGunzip();
      counted.on('error', (e) => gunzip.destroy(e));
      text = counted.pipe(gunzip);
    } else if (this.compression === 'zstd') {
      text = Readable.from(zstdJsChunks(counted as AsyncIterable<Uint8Array>), { objectMode: false });
    }
    const parser = parse({ relax_column_count: true, info: true, skip_empty_lines: true, bom: true });
    text.on('error', (e) => parser.destroy(e));
    return text.pipe(parser);
  }

  async *chunks(): AsyncGenerator<RowChunk> {
    const parser = this.pipeline();
    let rows: string[][] = [];
    let lines: number[] = [];
    let first = true;
    try {
      for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (first) {
          first = false;
          continue;
        } // the header
        rows.push(rec.record);
        lines.push(rec.info.lines);
        if (rows.length >= CHUNK_ROWS) {
          yield chunkOf(rows, lines);
          rows = [];
          lines = [];
        }
      }
    } catch (err) {
      if (err instanceof SourceFormatError) throw err;
      throw new SourceFormatError(`${this.file}: CSV unreadable after line ${lines.at(-1) ?? 1}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      parser.destroy();
    }
    if (rows.length > 0) yield chunkOf(rows, lines);
  }
}

function chunkOf(rows: string[][], lines: number[]): RowChunk {
  return { rows, location: (i) => ({ source_line: lines[i]! }) };
}
