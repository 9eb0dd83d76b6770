/**
 * Benchmark only: zstd compression for hyparquet-writer's Parquet pages. Node 20 has no zstd in zlib and hyparquet-writer takes a
 * synchronous compressor per page, so each page goes through the `zstd` program tickvault already
 * needs for .dbn.zst files (README: DBN decoding runs `zstd -d`). Pages are ~1 MiB, so the
 * process start is paid a few times per row group, not per row (bench/export-bench.ts measures it).
 */
import { spawnSync } from 'node:child_process';
import { ExportError } from '../src/errors.js';

/** zstd's own default level: fast, and most of the size gain of higher levels on market data. */
export const ZSTD_LEVEL = 3;

export function zstdCompress(input: Uint8Array, level = ZSTD_LEVEL): Uint8Array {
  const r = spawnSync('zstd', ['-q', '-c', `-${level}`, '--no-check'], { input, maxBuffer: input.byteLength + (1 << 20) });
  if (r.error)
    throw new ExportError(`zstd is needed to write zstd-compressed Parquet (install the zstd package): ${r.error.message}`, {
      cause: r.error,
    });
  if (r.status !== 0) throw new ExportError(`zstd failed (exit ${r.status}): ${r.stderr.toString().trim()}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
}
