/**
 * Where the DBN fast path's tuples get encoded: in this thread, or in a worker thread so that on
 * a large file the main thread (decode, symbology, classification, the COPY stream) and the
 * encoder run on two cores. Both produce the same bytes (encodeTupleBlock); the worker only
 * moves the work. Jobs are answered in submission order.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TableName } from '../schema/tables.js';
import { encodeTupleBlock, fastCodecFor, type SymbolFields, type TupleBlock } from './fast-codecs.js';
import { LoadError } from '../errors.js';
import { type TupleBlockEncoder, wasmTupleEncoder } from './wasm-tuples.js';

export interface TupleJob {
  id: number;
  /** A copy of the decoder batch's record bytes, in a buffer the worker hands back with the reply. */
  records: Uint8Array;
  offsets: Int32Array;
  syms: Int32Array;
  /** Symbol fields added since the previous job. */
  newFields: Uint8Array[];
}

export type TupleReply = { id: number; block: TupleBlock; records: Uint8Array; error?: undefined } | { id: number; error: string };

export interface TupleEncoder {
  /** encodeTupleBlock of these records (left unchanged): a block, or a promise of one. */
  encode(records: Uint8Array, offsets: Int32Array, syms: Int32Array): TupleBlock | Promise<TupleBlock>;
  close(): Promise<void>;
}

/** Input size from which the worker can pay off: its start-up (~30–50 ms) against ~20–80 ns a row. */
export const TUPLE_WORKER_MIN_FILE_BYTES = 8 << 20;
/**
 * Cores needed before the worker is used by default: the zstd process, its reader thread, this
 * thread and the encoder each want one. Measured on a 2-vCPU machine (10M trades, file → COPY
 * bytes): with the JS codec in-thread 4.9–6.2 s, with the worker 7.1–8.2 s — two threads there
 * ran at ~1.4× the throughput of one, not 2×, and the hand-offs (copies, transfers, wake-ups) cost
 * the rest; with the WebAssembly kernel in-thread 1.39–1.45 s, with the worker 1.53–1.63 s (the
 * second core is zstd's).
 */
export const TUPLE_WORKER_MIN_CORES = 4;

const WORKER_URL = new URL('./tuple-worker.js', import.meta.url);

/** Whether the compiled worker module exists (not when running from the TypeScript sources). */
export function tupleWorkerAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

/** The table's tuple-block encoder: the WebAssembly kernel when built, else the JS codec. */
export function tupleBlockEncoder(table: TableName): TupleBlockEncoder {
  const wasm = wasmTupleEncoder(table);
  if (wasm) return wasm;
  const codec = fastCodecFor(table)!;
  return (records, offsets, syms, fields, timeScratch) => encodeTupleBlock(codec, records, offsets, syms, fields, timeScratch);
}

class InThreadTupleEncoder implements TupleEncoder {
  private readonly encodeBlock: TupleBlockEncoder;
  /**
   * timeUs arrays in turn: a block's is read only until its batch is classified, which happens
   * before the block after next is encoded (DbnFileSource.prepare keeps one batch pending).
   */
  private readonly times = [new Float64Array(0), new Float64Array(0)];
  private flip = 0;
  constructor(
    table: TableName,
    private readonly symbols: SymbolFields,
  ) {
    this.encodeBlock = tupleBlockEncoder(table);
  }
  encode(records: Uint8Array, offsets: Int32Array, syms: Int32Array): TupleBlock {
    const k = (this.flip ^= 1);
    if (this.times[k]!.length < offsets.length) this.times[k] = new Float64Array(Math.max(offsets.length, 1 << 15));
    return this.encodeBlock(records, offsets, syms, this.symbols.all, this.times[k]);
  }
  async close(): Promise<void> {
    /* nothing held */
  }
}

/**
 * Shares the encoding between a worker thread and this one: a batch goes to the worker when it is
 * idle, and is encoded right here when the worker is still busy with the previous one. The main
 * thread's own work (decoding, symbology, classification, the COPY stream) is about a third of
 * the encoding, so a worker alone would leave this thread waiting; splitting the batches keeps
 * both cores busy whichever side is faster on the machine at hand.
 */
class WorkerTupleEncoder implements TupleEncoder {
  private readonly worker: Worker;
  private readonly local: InThreadTupleEncoder;
  private readonly waiting = new Map<number, { resolve: (b: TupleBlock) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private fieldsSent = 0;
  private failure: Error | undefined;
  /**
   * Record buffers travelling to the worker and back, reused: a fresh megabyte per batch cost
   * more in page faults (and structured-clone copies) than the encoding it offloaded.
   */
  private readonly spare: ArrayBuffer[] = [];

  constructor(
    table: TableName,
    private readonly symbols: SymbolFields,
  ) {
    this.local = new InThreadTupleEncoder(table, symbols);
    this.worker = new Worker(WORKER_URL, { workerData: { table } });
    this.worker.on('message', (m: TupleReply) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new LoadError(`tuple encoder worker failed: ${m.error}`));
      else {
        this.spare.push(m.records.buffer as ArrayBuffer);
        w.resolve(m.block);
      }
    });
    const fail = (e: Error) => {
      this.failure = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', (e) => fail(new LoadError(`tuple encoder worker failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(new LoadError(`tuple encoder worker exited with ${code}`));
    });
  }

  encode(records: Uint8Array, offsets: Int32Array, syms: Int32Array): TupleBlock | Promise<TupleBlock> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiting.size > 0) return this.local.encode(records, offsets, syms);
    const all = this.symbols.all;
    let buf = this.spare.pop();
    if (!buf || buf.byteLength < records.length) buf = new ArrayBuffer(Math.max(records.length, 1 << 20));
    const copy = new Uint8Array(buf, 0, records.length);
    copy.set(records);
    const job: TupleJob = { id: this.nextId++, records: copy, offsets, syms, newFields: all.slice(this.fieldsSent).map((f) => f.bytes) };
    this.fieldsSent = all.length;
    return new Promise<TupleBlock>((resolve, reject) => {
      this.waiting.set(job.id, { resolve, reject });
      // records travel in a pooled buffer (the decoder batch keeps its own bytes for the slow
      // paths); offsets and syms stay with the caller too, so they are copied (4 bytes a record).
      this.worker.postMessage(job, [buf]);
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * The encoder for a load of `file`: the worker for large files on machines with enough cores when
 * its compiled module exists (`worker: true` asks for it regardless, `false` forbids it), else
 * in-thread.
 */
export function createTupleEncoder(table: TableName, symbols: SymbolFields, file: string, worker?: boolean): TupleEncoder {
  // TICKVAULT_TUPLE_WORKER=0/1 overrides the default rule (benchmarks, comparisons).
  const env = process.env.TICKVAULT_TUPLE_WORKER;
  const use =
    worker ??
    (env === '0'
      ? false
      : env === '1'
        ? true
        : availableParallelism() >= TUPLE_WORKER_MIN_CORES &&
          (() => {
            try {
              return statSync(file).size >= TUPLE_WORKER_MIN_FILE_BYTES;
            } catch {
              return false;
            }
          })());
  return use && tupleWorkerAvailable() ? new WorkerTupleEncoder(table, symbols) : new InThreadTupleEncoder(table, symbols);
}
