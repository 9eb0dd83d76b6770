/**
 * Runs `zstd -d` for a file in a worker thread that drains the child's stdout into 1 MiB chunks
 * and transfers them to the main thread.
 *
 * Why a worker: a pipe holds only 64 KiB. Read directly on the main thread, zstd stalls whenever
 * the decoder is busy, and the two processes end up taking turns instead of using both cores
 * (measured: ~45% of the main thread idle, waiting for zstd). The worker's own event loop keeps
 * reading while the main thread decodes, up to MAX_IN_FLIGHT bytes not yet consumed (then it
 * pauses the pipe), so memory stays bounded.
 */
import { Worker } from 'node:worker_threads';
import { DbnFormatError } from './errors.js';

const CHUNK_BYTES = 1 << 20;
/** Decompressed bytes the worker may hold ahead of the consumer. */
const MAX_IN_FLIGHT = 8 << 20;
/**
 * Consumed bytes acknowledged in one message: every message wakes the worker, and on two cores a
 * wake-up often preempts the main thread (an ack per 1 MiB chunk showed up as ~90 ms of the main
 * thread's time on 10M trades).
 */
const ACK_BYTES = MAX_IN_FLIGHT / 2;

// Plain CommonJS evaluated in the worker: no separate file to resolve, so it runs the same from
// the TypeScript sources (tests) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const { path, chunkBytes, maxInFlight } = workerData;
const child = spawn('zstd', ['-d', '-c', '-q', '--no-progress', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.setEncoding('utf8');
child.stderr.on('data', (s) => { if (stderr.length < 4096) stderr += s; });
let buf = Buffer.allocUnsafeSlow(chunkBytes), len = 0, inFlight = 0, ended = false;
function flush() {
  if (!len) return;
  const ab = buf.buffer;
  parentPort.postMessage({ t: 'data', buf: ab, len }, [ab]);
  inFlight += len;
  len = 0;
  buf = Buffer.allocUnsafeSlow(chunkBytes);
  if (inFlight >= maxInFlight) child.stdout.pause();
}
child.stdout.on('data', (b) => {
  let p = 0;
  while (p < b.length) {
    const n = Math.min(b.length - p, chunkBytes - len);
    b.copy(buf, len, p, p + n);
    len += n; p += n;
    if (len === chunkBytes) flush();
  }
});
parentPort.on('message', (m) => {
  if (m.t === 'ack') { inFlight -= m.n; if (inFlight < maxInFlight && !ended) child.stdout.resume(); }
  else if (m.t === 'stop') { child.kill('SIGTERM'); }
});
child.on('error', (e) => { ended = true; parentPort.postMessage({ t: 'end', code: null, error: String(e && e.message), stderr }); });
child.on('close', (code, signal) => { ended = true; flush(); parentPort.postMessage({ t: 'end', code, signal, stderr }); });
`;

type Msg =
  | { t: 'data'; buf: ArrayBuffer; len: number }
  | { t: 'end'; code: number | null; signal?: string | null; error?: string; stderr: string };

/** Decompressed chunks of the zstd file at `path`, read by a worker thread. */
export async function* zstdCliFileChunks(path: string): AsyncGenerator<Uint8Array> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, chunkBytes: CHUNK_BYTES, maxInFlight: MAX_IN_FLIGHT } });
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
  let unacked = 0;
  let done = false;
  try {
    for (;;) {
      while (queue.length === 0 && !failure) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      if (failure) throw new DbnFormatError('DBN_ZSTD', produced, `zstd reader failed at byte offset ${produced}: ${failure.message}`, { cause: failure });
      const m = queue.shift()!;
      if (m.t === 'end') {
        if (m.code !== 0) {
          const why = m.error ? `cannot run zstd: ${m.error}` : (m.stderr.trim() || `zstd exited with ${m.code ?? m.signal}`).replace(/^zstd: /, '');
          throw new DbnFormatError('DBN_ZSTD', produced, `zstd decompression failed after ${produced} decompressed bytes at byte offset ${produced}: ${why}`);
        }
        done = true;
        return;
      }
      produced += m.len;
      yield new Uint8Array(m.buf, 0, m.len);
      unacked += m.len;
      if (unacked >= ACK_BYTES) {
        worker.postMessage({ t: 'ack', n: unacked });
        unacked = 0;
      }
    }
  } finally {
    if (!done) worker.postMessage({ t: 'stop' });
    await worker.terminate();
  }
}
