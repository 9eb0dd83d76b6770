/**
 * SHA-256 of a file (the ledger's content identity), computed on a worker thread: hashing a large
 * file costs ~0.8 ms per MiB of CPU, and on the main thread that time came straight off decoding
 * (the structure pre-pass and the load both want the main thread). The worker reads the file with
 * plain synchronous reads into one reused buffer, so memory stays at one chunk.
 */
import { Worker } from 'node:worker_threads';

const CHUNK_BYTES = 4 << 20;

// Plain CommonJS evaluated in the worker (no separate file: runs the same from sources and dist/).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const h = createHash('sha256');
const buf = Buffer.allocUnsafe(workerData.chunkBytes);
const fd = fs.openSync(workerData.file, 'r');
try {
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    h.update(n === buf.length ? buf : buf.subarray(0, n));
  }
} finally {
  fs.closeSync(fd);
}
parentPort.postMessage(h.digest('hex'));
`;

/** `sha256:<hex>` of the file's bytes. Rejects with the read error (e.g. ENOENT) when it cannot be read. */
export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, chunkBytes: CHUNK_BYTES } });
    let digest: string | undefined;
    worker.once('message', (hex: string) => {
      digest = hex;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (digest !== undefined) resolve(`sha256:${digest}`);
      else reject(new Error(`hashing ${file} stopped (worker exit code ${code})`));
    });
  });
}
