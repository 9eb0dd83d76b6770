/**
 * Runs `zstd -d` for a file in a worker thread that reads the decompressed bytes into 1 MiB
 * chunks and transfers them to the main thread.
 *
 * Why a worker: a pipe holds only 64 KiB. Read directly on the main thread, zstd stalls whenever
 * the decoder is busy, and the two processes end up taking turns instead of using both cores
 * (measured: ~45% of the main thread idle, waiting for zstd). The worker keeps reading while the
 * main thread decodes, up to MAX_IN_FLIGHT bytes not yet consumed, so memory stays bounded.
 *
 * Why blocking reads from a FIFO: zstd's stdout is a named pipe that the worker reads with plain
 * synchronous reads straight into the chunk buffer. Through a stream (a 'data' event, a Buffer
 * and a copy per 64 KiB) the reader cost ~350 ms of CPU per 10M trades, on the core zstd needs;
 * this way ~200 ms. Flow control is a shared counter (Atomics), so the main thread never has to
 * wake the worker with a message per chunk.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DbnFormatError } from './errors.js';

const CHUNK_BYTES = 1 << 20;
/** Decompressed bytes the worker may hold ahead of the consumer. */
const MAX_IN_FLIGHT = 8 << 20;
/** Slots of the shared control array. */
const IN_FLIGHT = 0;
const STOP = 1;

// Plain CommonJS evaluated in the worker: no separate file to resolve, so it runs the same from
// the TypeScript sources (tests) and from dist/. The worker only reads: zstd, the FIFO and every
// descriptor belong to the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { rfd, chunkBytes, maxInFlight, control } = workerData;
const ctl = new Int32Array(control);
let buf = Buffer.allocUnsafeSlow(chunkBytes), len = 0;
const flush = () => {
  if (!len) return;
  Atomics.add(ctl, ${IN_FLIGHT}, len);
  parentPort.postMessage({ t: 'data', buf: buf.buffer, len }, [buf.buffer]);
  buf = Buffer.allocUnsafeSlow(chunkBytes);
  len = 0;
};
for (;;) {
  for (let v; (v = Atomics.load(ctl, ${IN_FLIGHT})) >= maxInFlight && !Atomics.load(ctl, ${STOP});) Atomics.wait(ctl, ${IN_FLIGHT}, v, 1000);
  if (Atomics.load(ctl, ${STOP})) break;
  const n = fs.readSync(rfd, buf, len, chunkBytes - len, null);
  if (n === 0) break;
  len += n;
  if (len === chunkBytes) flush();
}
flush();
parentPort.postMessage({ t: 'eof' });
`;

type Msg = { t: 'data'; buf: ArrayBuffer; len: number } | { t: 'eof' };

export interface ZstdReaderOptions {
  /** Where the reader's short-lived FIFO is made (default: the system temp directory). */
  readonly tmpDir?: string;
}

interface Pipe {
  readonly rfd: number;
  readonly efd: number;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>;
}

/**
 * Starts `zstd -d` writing into a FIFO. The descriptors are arranged so that zstd's life is tied
 * to its reader's: zstd gets a write-only end and this process keeps only a read-only end, so
 * when the reader goes away — the consumer stops, or this process is killed, even with SIGKILL —
 * zstd's next write fails with EPIPE and it exits; and when zstd exits, the reader sees end of
 * file. (An O_RDWR end anywhere would keep the pipe open in both directions: zstd would block
 * for good on a full pipe nobody reads.) The FIFO's name, its folder and zstd's stderr file are
 * removed before zstd starts: only descriptors remain, so no exit path can leave them behind.
 */
function startZstd(file: string, options: ZstdReaderOptions): Pipe {
  const dir = mkdtempSync(path.join(options.tmpDir ?? tmpdir(), 'tickvault-zstd-'));
  const opened: number[] = [];
  try {
    const fifo = path.join(dir, 'out');
    const made = spawnSync('mkfifo', ['-m', '600', fifo]);
    if (made.status !== 0) throw new Error(`mkfifo failed: ${made.error ? made.error.message : String(made.stderr).trim()}`);
    // Opening a FIFO blocks until the other end exists; a transient O_RDWR end makes both exist,
    // so the write-only and read-only ends open at once. It is closed before zstd starts.
    const both = openSync(fifo, constants.O_RDWR);
    opened.push(both);
    const wfd = openSync(fifo, constants.O_WRONLY);
    opened.push(wfd);
    const rfd = openSync(fifo, constants.O_RDONLY);
    opened.push(rfd);
    const efd = openSync(path.join(dir, 'err'), 'w+');
    opened.push(efd);
    closeSync(both);
    opened.splice(opened.indexOf(both), 1);
    rmSync(dir, { recursive: true, force: true });
    const child = spawn('zstd', ['-d', '-c', '-q', '--no-progress', '--', file], { stdio: ['ignore', wfd, efd] });
    closeSync(wfd);
    opened.splice(opened.indexOf(wfd), 1);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    return { rfd, efd, child, exited };
  } catch (err) {
    for (const fd of opened) closeSync(fd);
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readStderr(efd: number): string {
  const buf = Buffer.alloc(4096);
  try {
    return buf.toString('utf8', 0, readSync(efd, buf, 0, buf.length, 0));
  } catch {
    return '';
  }
}

/** Decompressed chunks of the zstd file at `file`, read by a worker thread. */
export async function* zstdCliFileChunks(file: string, options: ZstdReaderOptions = {}): AsyncGenerator<Uint8Array> {
  let pipe: Pipe;
  try {
    pipe = startZstd(file, options);
  } catch (err) {
    throw new DbnFormatError('DBN_ZSTD', 0, `zstd reader failed at byte offset 0: ${(err as Error).message}`, { cause: err });
  }
  const { rfd, efd, child } = pipe;
  const control = new SharedArrayBuffer(8);
  const ctl = new Int32Array(control);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // The source is CommonJS; a parent started with --input-type=module would make it ESM.
    execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
    workerData: { rfd, chunkBytes: CHUNK_BYTES, maxInFlight: MAX_IN_FLIGHT, control },
  });
  const queue: Msg[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  worker.on('message', (m: Msg) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    failure = e;
    wake?.();
  });
  let produced = 0;
  let done = false;
  try {
    for (;;) {
      while (queue.length === 0 && !failure) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (failure)
        throw new DbnFormatError('DBN_ZSTD', produced, `zstd reader failed at byte offset ${produced}: ${failure.message}`, {
          cause: failure,
        });
      const m = queue.shift()!;
      if (m.t === 'eof') {
        const end = await pipe.exited;
        done = true;
        if (end.code !== 0) {
          const why = end.error
            ? `cannot run zstd: ${end.error.message}`
            : (readStderr(efd).trim() || `zstd exited with ${end.code ?? end.signal}`).replace(/^zstd: /, '');
          throw new DbnFormatError(
            'DBN_ZSTD',
            produced,
            `zstd decompression failed after ${produced} decompressed bytes at byte offset ${produced}: ${why}`,
          );
        }
        return;
      }
      produced += m.len;
      yield new Uint8Array(m.buf, 0, m.len);
      // The worker waits on this counter only when it is at the limit: wake it on the way down.
      if (Atomics.sub(ctl, IN_FLIGHT, m.len) >= MAX_IN_FLIGHT) Atomics.notify(ctl, IN_FLIGHT);
    }
  } finally {
    if (!done) {
      // The consumer stopped early or something failed: stop the worker's loop and end zstd,
      // which ends the worker's blocking read.
      Atomics.store(ctl, STOP, 1);
      Atomics.notify(ctl, IN_FLIGHT);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    }
    await worker.terminate();
    closeSync(rfd);
    closeSync(efd);
  }
}
