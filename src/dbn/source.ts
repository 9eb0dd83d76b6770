/**
 * Byte sources: a file path, an in-memory Uint8Array or any AsyncIterable<Uint8Array>, yielding
 * the *decompressed* DBN bytes. zstd is detected from the first 4 bytes (28 B5 2F FD), never from
 * a file name.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { ZSTD_MAGIC } from './constants.js';
import { DbnFormatError } from './errors.js';
import { zstdCliFileChunks } from './zstd-worker.js';
import { type ZstdEngine, zstdCliAvailable, zstdCliChunks, zstdJsChunks } from './zstd.js';

export type DbnInput = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface SourceOptions {
  /** 'auto' (default): the zstd binary when installed, else fzstd. */
  zstd?: 'auto' | ZstdEngine;
  /** Read size for files. 1 MiB: large enough that per-chunk overhead vanishes, small enough to stay cache- and memory-friendly. */
  readChunkBytes?: number;
}

export const DEFAULT_READ_CHUNK = 1 << 20;
/** Compressed size from which a file is decompressed through the worker-thread reader. */
export const WORKER_MIN_FILE_BYTES = 1 << 20;

export interface ByteSource {
  readonly compressed: boolean;
  /** Decompressed DBN bytes, in order. Single use. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

function isZstd(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === ZSTD_MAGIC[0] && b[1] === ZSTD_MAGIC[1] && b[2] === ZSTD_MAGIC[2] && b[3] === ZSTD_MAGIC[3];
}

function rawChunks(input: DbnInput, readChunkBytes: number): AsyncIterable<Uint8Array> {
  if (typeof input === 'string') return createReadStream(input, { highWaterMark: readChunkBytes });
  if (input instanceof Uint8Array) {
    return (async function* () {
      // Slices keep downstream batches bounded even for a huge in-memory file.
      for (let p = 0; p < input.length; p += readChunkBytes) yield input.subarray(p, Math.min(input.length, p + readChunkBytes));
    })();
  }
  return input;
}

/** Re-yields `head` then the rest of `it` (after peeking at the first bytes). */
async function* prepend(head: Uint8Array[], it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    for (const h of head) yield h;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/**
 * Opens `input` and detects compression. Reads only until 4 bytes are seen. An empty input fails
 * with DBN_EMPTY here so no caller has to special-case it.
 */
export async function openByteSource(input: DbnInput, opts: SourceOptions = {}): Promise<ByteSource> {
  const readChunkBytes = opts.readChunkBytes ?? DEFAULT_READ_CHUNK;
  const engine: ZstdEngine = opts.zstd === 'js' || opts.zstd === 'cli' ? opts.zstd : zstdCliAvailable() ? 'cli' : 'js';
  const it = rawChunks(input, readChunkBytes)[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let have = 0;
  while (have < 4) {
    const r = await it.next();
    if (r.done) break;
    if (r.value.length === 0) continue;
    head.push(r.value);
    have += r.value.length;
  }
  if (have === 0) {
    await it.return?.();
    throw new DbnFormatError('DBN_EMPTY', 0, 'empty input: 0 bytes at byte offset 0 (a DBN file has at least a prelude and metadata)');
  }
  const first = head.length === 1 ? head[0]! : Uint8Array.from(head.flatMap((h) => Array.from(h.subarray(0, 4))));
  if (!isZstd(first)) return { compressed: false, chunks: prepend(head, it) };
  if (engine === 'cli' && typeof input === 'string') {
    // zstd reads the file itself; our peek stream is no longer needed. Small files skip the
    // worker thread, whose start-up (~20 ms) would cost more than the overlap it buys.
    await it.return?.();
    const big = (await stat(input)).size >= WORKER_MIN_FILE_BYTES;
    return { compressed: true, chunks: big ? zstdCliFileChunks(input) : zstdCliChunks(input) };
  }
  const compressed = prepend(head, it);
  return { compressed: true, chunks: engine === 'cli' ? zstdCliChunks(compressed) : zstdJsChunks(compressed) };
}
