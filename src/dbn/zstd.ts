/**
 * Streaming zstd decompression, two ways:
 *  - the `zstd` binary as a child process (`zstdCliChunks`; for large files through the
 *    worker-thread reader in zstd-worker.ts). It runs on another core, and on 10M trades it was
 *    ~4x faster than fzstd (bench/decode-bench.ts: 1.6x vs 6.4x the time of `zstd -dc`), so it
 *    is the production path whenever the binary exists;
 *  - fzstd in-process (`zstdJsChunks`), the fallback when no binary is installed.
 * Both decode every frame of a multi-frame file and turn any failure into DbnFormatError
 * DBN_ZSTD; memory stays bounded by the zstd window plus one input chunk.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { Decompress } from 'fzstd';
import { DbnFormatError } from './errors.js';

export type ZstdEngine = 'cli' | 'js';

let cliAvailable: boolean | undefined;
/** Whether a working `zstd` binary is on PATH (probed once per process). */
export function zstdCliAvailable(): boolean {
  if (cliAvailable === undefined) {
    const r = spawnSync('zstd', ['--version'], { stdio: 'ignore', timeout: 5000 });
    cliAvailable = r.status === 0;
  }
  return cliAvailable;
}

/**
 * zstd frames declare their window; fzstd allocates it up front (up to 2 GiB). The zstd CLI
 * refuses windows above 128 MiB by default (--long aside), so a larger one means corrupt input.
 */
const MAX_WINDOW = 1 << 27;

function zstdError(produced: number, detail: string, cause?: unknown): DbnFormatError {
  return new DbnFormatError(
    'DBN_ZSTD',
    produced,
    `zstd decompression failed after ${produced} decompressed bytes at byte offset ${produced}: ${detail}`,
    { cause },
  );
}

/**
 * Frame-header window check for fzstd, applied to the first frame (the one whose header is at the
 * stream start). Later frames are checked by fzstd itself against its 2 GiB limit.
 */
function checkFirstFrameWindow(chunk: Uint8Array): void {
  if (chunk.length < 6) return;
  const fhd = chunk[4]!;
  const singleSegment = (fhd >> 5) & 1;
  if (singleSegment) {
    const fcsFlag = fhd >> 6;
    const dictBytes = [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = fcsFlag === 0 ? 1 : 1 << fcsFlag;
    const at = 5 + dictBytes;
    if (chunk.length < at + fcsBytes) return;
    let size = 0;
    for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + chunk[at + i]!;
    if (fcsFlag === 1) size += 256;
    // Single-segment frames use their content size as the window, so the same cap applies.
    if (size > MAX_WINDOW) throw zstdError(0, `single-segment frame of ${size} bytes exceeds the ${MAX_WINDOW}-byte window limit`);
    return;
  }
  const wd = chunk[5]!;
  const base = 2 ** (10 + (wd >> 3));
  const win = base + (base / 8) * (wd & 7);
  if (win > MAX_WINDOW) throw zstdError(0, `frame window ${win} bytes exceeds ${MAX_WINDOW}`);
}

/** Pure-JS streaming decompression of every frame in `input`. */
export async function* zstdJsChunks(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let produced = 0;
  let pending: Uint8Array[] = [];
  const dec = new Decompress((data) => {
    if (data.length) pending.push(data);
  });
  let first = true;
  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      if (first && chunk.length) {
        checkFirstFrameWindow(chunk);
        first = false;
      }
      dec.push(chunk, final);
    } catch (err) {
      if (err instanceof DbnFormatError) throw err;
      throw zstdError(produced, err instanceof Error ? err.message : String(err), err);
    }
  };
  for await (const chunk of input) {
    push(chunk, false);
    if (pending.length) {
      const out = pending;
      pending = [];
      for (const c of out) {
        produced += c.length;
        yield c;
      }
    }
  }
  push(new Uint8Array(0), true);
  for (const c of pending) yield c;
}

/**
 * Decompresses with the `zstd` binary. `input` is a file path (zstd reads it itself, so the
 * compressed bytes never pass through this process) or a stream of compressed chunks (piped to
 * stdin with backpressure).
 */
export async function* zstdCliChunks(input: string | AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const fromFile = typeof input === 'string';
  const args = ['-d', '-c', '-q', '--no-progress', ...(fromFile ? ['--', input] : [])];
  const child = spawn('zstd', args, { stdio: [fromFile ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  let spawnError: Error | undefined;
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('close', (code, signal) => resolve([code, signal]));
    child.on('error', (e) => {
      spawnError = e;
      resolve([null, null]);
    });
  });
  let feeding: Promise<void> = Promise.resolve();
  if (!fromFile) {
    const stdin = child.stdin!;
    // EPIPE when zstd exits early on bad input: the exit code below reports the real problem.
    stdin.on('error', () => {});
    feeding = (async () => {
      try {
        for await (const chunk of input) {
          if (stdin.destroyed) break;
          if (!stdin.write(chunk)) await Promise.race([once(stdin, 'drain'), once(stdin, 'close')]);
        }
      } finally {
        stdin.end();
      }
    })();
    feeding.catch(() => {}); // observed below; this only keeps an early failure from being "unhandled"
  }
  let produced = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      produced += chunk.length;
      yield chunk;
    }
    await feeding;
    const [code, signal] = await exited;
    if (spawnError) throw zstdError(produced, `cannot run zstd: ${spawnError.message}`, spawnError);
    if (code !== 0) throw zstdError(produced, (stderr.trim() || `zstd exited with ${code ?? signal}`).replace(/^zstd: /, ''));
    finished = true;
  } finally {
    if (!finished && child.exitCode === null) {
      // The consumer stopped early or something failed: end our own child, by its handle.
      child.kill('SIGTERM');
      await feeding.catch(() => {});
    }
  }
}
