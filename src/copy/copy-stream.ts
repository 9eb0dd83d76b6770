/**
 * Streaming helpers around BinaryCopyWriter: rows (sync or async) → an async iterable of
 * COPY binary chunks (header first, trailer last) with bounded memory, and a file writer
 * producing exact COPY bytes without a database. The consumers that feed a COPY — the
 * backpressure-aware writer for a Writable (pg-copy-streams' `from()`) and the Blob collector
 * (PGlite's `/dev/blob`) — live in engine/copy-in.ts, which both engines use; they are
 * re-exported here.
 *
 * Memory bound: the chunk generator encodes only when its consumer pulls, and yields as soon
 * as `chunkSize` bytes are pending, so at most one chunk (+ one row) is buffered in the
 * writer; writeCopyChunks() waits for 'drain' whenever the destination's buffer is full.
 */

import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { writeCopyChunks } from '../engine/copy-in.js';
import type { CellValue } from '../schema/types.js';
import { BinaryCopyWriter, createRowEncoder, type BinaryCopyWriterOptions, type CopyColumns } from './row-encoder.js';
import { CopyEncodeError } from './errors.js';

export { collectCopyBlob, writeCopyChunks, type WriteChunksResult } from '../engine/copy-in.js';

/** Counters updated while a stream is produced (read them after the stream is consumed). */
export interface CopyStats {
  /** Rows encoded (rows skipped through `onRowError` are not counted). */
  rows: number;
  /** Bytes yielded, header and trailer included. */
  bytes: number;
  /** Chunks yielded. */
  chunks: number;
  /** Rows skipped through `onRowError`. */
  skipped: number;
}

export function newCopyStats(): CopyStats {
  return { rows: 0, bytes: 0, chunks: 0, skipped: 0 };
}

export interface CopyChunkOptions extends BinaryCopyWriterOptions {
  /** Updated in place as chunks are produced. */
  stats?: CopyStats;
  /**
   * Called for an item whose encoding throws a CopyEncodeError; the partial row is rolled
   * back and the stream goes on without it (the caller quarantines it). Without this
   * option the error ends the stream. `index` is the 0-based position of the item in the
   * source. Errors other than CopyEncodeError always end the stream.
   */
  onRowError?: (error: CopyEncodeError, item: unknown, index: number) => void;
}

/** Writes one source item (a row, or a batch of rows) into the writer. */
export type ItemEncoder<T> = (w: BinaryCopyWriter, item: T) => void;

function isAsyncIterable<T>(x: Iterable<T> | AsyncIterable<T>): x is AsyncIterable<T> {
  return typeof (x as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
}

/** The writer, counters and error policy shared by the chunk generators. */
class ChunkRun {
  readonly w: BinaryCopyWriter;
  readonly stats: CopyStats;
  private readonly onRowError: CopyChunkOptions['onRowError'];

  constructor(options: CopyChunkOptions) {
    this.w = new BinaryCopyWriter(options);
    this.stats = options.stats ?? newCopyStats();
    this.onRowError = options.onRowError;
  }

  /** Encodes one item; a CopyEncodeError is tagged with `index` and skipped or rethrown. */
  encode<T>(encodeItem: ItemEncoder<T>, item: T, index: number): void {
    try {
      encodeItem(this.w, item);
    } catch (err) {
      if (err instanceof CopyEncodeError) {
        if (err.row === undefined) err.row = index;
        if (this.onRowError) {
          this.stats.skipped++;
          this.onRowError(err, item, index);
          return;
        }
      }
      throw err;
    }
  }

  /** The next chunk if one is due. */
  take(): Buffer | null {
    const chunk = this.w.takeChunk();
    return chunk && this.count(chunk);
  }

  /** The last chunk (trailer included). */
  finish(): Buffer {
    return this.count(this.w.finish());
  }

  private count(chunk: Buffer): Buffer {
    this.stats.rows = this.w.rowCount;
    this.stats.bytes += chunk.length;
    this.stats.chunks++;
    return chunk;
  }
}

/**
 * The generic chunker: encodes every item of `source` with `encodeItem` into one reused
 * BinaryCopyWriter and yields a chunk each time `chunkSize` bytes are pending. The first
 * chunk starts with the COPY header, the last ends with the trailer; an empty source yields
 * a single header+trailer chunk. A sync source is read without an await per item. Typed
 * loaders can pass their own `encodeItem` that writes one row through the writer's field
 * methods, bypassing CellValue arrays (with onRowError, call w.abortRow() before throwing a
 * CopyEncodeError from a half-written row).
 */
export async function* encodeCopyChunks<T>(
  source: Iterable<T> | AsyncIterable<T>,
  encodeItem: ItemEncoder<T>,
  options: CopyChunkOptions = {},
): AsyncGenerator<Buffer, CopyStats, undefined> {
  const run = new ChunkRun(options);
  let index = 0;
  if (isAsyncIterable(source)) {
    for await (const item of source) {
      run.encode(encodeItem, item, index++);
      const chunk = run.take();
      if (chunk) yield chunk;
    }
  } else {
    for (const item of source) {
      run.encode(encodeItem, item, index++);
      const chunk = run.take();
      if (chunk) yield chunk;
    }
  }
  yield run.finish();
  return run.stats;
}

/** Chunks of a COPY of `rows` (one CellValue[] per row, one cell per column) for a table description. */
export function encodeRowChunks(
  columns: CopyColumns,
  rows: Iterable<readonly CellValue[]> | AsyncIterable<readonly CellValue[]>,
  options?: CopyChunkOptions,
): AsyncGenerator<Buffer, CopyStats, undefined> {
  return encodeCopyChunks(rows, createRowEncoder(columns), options);
}

/**
 * Like encodeRowChunks, for a source of row batches (e.g. one decoded DBN block per item):
 * one await per batch instead of per row. Chunks are still cut after any row, so a large
 * batch never makes a large chunk. `onRowError` receives the bad row and its 0-based index
 * over all batches; the rest of the batch is still encoded.
 */
export async function* encodeBatchChunks(
  columns: CopyColumns,
  batches: Iterable<Iterable<readonly CellValue[]>> | AsyncIterable<Iterable<readonly CellValue[]>>,
  options: CopyChunkOptions = {},
): AsyncGenerator<Buffer, CopyStats, undefined> {
  const run = new ChunkRun(options);
  const encodeRow = createRowEncoder(columns);
  let index = 0;
  for await (const batch of batches) {
    for (const row of batch) {
      run.encode(encodeRow, row, index++);
      const chunk = run.take();
      if (chunk) yield chunk;
    }
  }
  yield run.finish();
  return run.stats;
}

/** Concatenates chunks into one Buffer (tests, small payloads). */
export async function collectCopyBuffer(chunks: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * Writes the exact COPY binary bytes of `rows` to a file, without a database (golden files;
 * loadable with `\copy table FROM 'path' WITH (FORMAT binary)` or server-side COPY).
 * Returns the stats of the encoded stream.
 */
export async function writeCopyFile(
  path: string,
  columns: CopyColumns,
  rows: Iterable<readonly CellValue[]> | AsyncIterable<readonly CellValue[]>,
  options: CopyChunkOptions = {},
): Promise<CopyStats> {
  const stats = options.stats ?? newCopyStats();
  const file = createWriteStream(path);
  try {
    await writeCopyChunks(file, encodeRowChunks(columns, rows, { ...options, stats }));
  } catch (err) {
    await rm(path, { force: true }); // never leave a truncated COPY file behind
    throw err;
  }
  return stats;
}
