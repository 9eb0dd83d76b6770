/**
 * writeDbn(): valid synthetic DBN (v1-v3) for tests and benchmarks. Streams: records are encoded
 * into a 1 MiB buffer and flushed to the file, optionally through `zstd` child processes, so
 * writing 10M trades needs no more memory than writing ten.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type WriteStream, createWriteStream } from 'node:fs';
import { type DbnVersion, SCHEMA_NAMES, STYPE, type SchemaName } from './constants.js';
import { type MetadataInput, type SymbolMappingEntry, encodeMetadata } from './metadata.js';
import { type DbnRecord, encodeRecord, encodedSize } from './records.js';

export interface WriteDbnOptions {
  version: DbnVersion;
  /** Schema name or code; null = mixed (live-style). */
  schema: SchemaName | number | null;
  records: Iterable<DbnRecord> | AsyncIterable<DbnRecord>;
  dataset?: string;
  start?: bigint;
  end?: bigint | null;
  limit?: bigint | null;
  /** Default raw_symbol (1). */
  stypeIn?: number | null;
  /** Default instrument_id (0). */
  stypeOut?: number | null;
  tsOut?: boolean;
  symbols?: readonly string[];
  partial?: readonly string[];
  notFound?: readonly string[];
  mappings?: readonly SymbolMappingEntry[];
  compress?: 'none' | 'zstd';
  /** zstd only: cut the stream into independently compressed frames of `frameBytes` input bytes. */
  multiFrame?: boolean;
  /** Uncompressed bytes per frame when multiFrame (default 4 MiB). */
  frameBytes?: number;
  /** zstd level (default 3, the CLI's default). */
  zstdLevel?: number;
  /** Write here; without it the encoded bytes are returned (small outputs only). */
  path?: string;
}

export interface WriteDbnResult {
  /** The file's bytes when no `path` was given. */
  bytes?: Uint8Array;
  records: number;
  /** DBN bytes before compression (prelude + metadata + records). */
  dbnBytes: number;
  /** zstd frames written (0 when uncompressed). */
  frames: number;
}

/** Where finished (possibly compressed) bytes go. */
interface Target {
  write(b: Uint8Array): Promise<void>;
  /** For piping a child's stdout straight into the target. */
  pipeFrom(s: NodeJS.ReadableStream): Promise<void>;
  close(): Promise<Uint8Array | undefined>;
}

function fileTarget(path: string): Target {
  const ws: WriteStream = createWriteStream(path);
  let failed: Error | undefined;
  ws.on('error', (e) => {
    failed = e;
  });
  return {
    async write(b) {
      if (failed) throw failed;
      if (!ws.write(b)) await once(ws, 'drain');
    },
    async pipeFrom(s) {
      for await (const c of s as AsyncIterable<Buffer>) await this.write(c);
    },
    async close() {
      ws.end();
      await once(ws, 'close');
      if (failed) throw failed;
      return undefined;
    },
  };
}

function memoryTarget(): Target {
  const parts: Uint8Array[] = [];
  return {
    async write(b) {
      parts.push(b.slice());
    },
    async pipeFrom(s) {
      for await (const c of s as AsyncIterable<Buffer>) parts.push(c);
    },
    async close() {
      return Buffer.concat(parts);
    },
  };
}

/** One zstd process = one independent frame. */
class ZstdFrame {
  private readonly child;
  private readonly done: Promise<void>;
  private stderr = '';
  constructor(target: Target, level: number) {
    this.child = spawn('zstd', ['-q', '-c', `-${level}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
    });
    const exit = new Promise<number | null>((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', resolve);
    });
    this.done = Promise.all([target.pipeFrom(this.child.stdout), exit]).then(([, code]) => {
      if (code !== 0) throw new Error(`zstd failed (${code}): ${this.stderr.trim()}`);
    });
    this.done.catch(() => {}); // surfaced by end()
  }
  async write(b: Uint8Array): Promise<void> {
    if (!this.child.stdin.write(b)) await Promise.race([once(this.child.stdin, 'drain'), this.done]);
  }
  async end(): Promise<void> {
    this.child.stdin.end();
    await this.done;
  }
}

const FLUSH_BYTES = 1 << 20;

export async function writeDbn(opts: WriteDbnOptions): Promise<WriteDbnResult> {
  const { version } = opts;
  const tsOut = opts.tsOut ?? false;
  const schema = typeof opts.schema === 'string' ? SCHEMA_NAMES.indexOf(opts.schema) : opts.schema;
  if (schema === -1) throw new RangeError(`unknown schema ${String(opts.schema)}`);
  const md: MetadataInput = {
    version,
    schema,
    dataset: opts.dataset ?? 'TEST.SYNTH',
    start: opts.start ?? 0n,
    end: opts.end ?? null,
    limit: opts.limit ?? null,
    stypeIn: opts.stypeIn === undefined ? STYPE.RAW_SYMBOL : opts.stypeIn,
    stypeOut: opts.stypeOut === undefined ? STYPE.INSTRUMENT_ID : opts.stypeOut,
    tsOut,
    symbols: opts.symbols,
    partial: opts.partial,
    notFound: opts.notFound,
    mappings: opts.mappings,
  };
  const target = opts.path ? fileTarget(opts.path) : memoryTarget();
  const zstd = opts.compress === 'zstd';
  const level = opts.zstdLevel ?? 3;
  const frameBytes = opts.multiFrame ? Math.max(1, opts.frameBytes ?? 4 << 20) : Infinity;
  let frame: ZstdFrame | undefined;
  let frameFill = 0;
  let frames = 0;
  let dbnBytes = 0;

  // Sends uncompressed bytes onward, opening a new zstd frame whenever the current one is full.
  const emit = async (b: Uint8Array): Promise<void> => {
    dbnBytes += b.length;
    if (!zstd) return target.write(b);
    let p = 0;
    while (p < b.length) {
      if (!frame) {
        frame = new ZstdFrame(target, level);
        frames++;
        frameFill = 0;
      }
      const n = Math.min(b.length - p, frameBytes - frameFill);
      await frame.write(b.subarray(p, p + n));
      frameFill += n;
      p += n;
      if (frameFill >= frameBytes) {
        await frame.end();
        frame = undefined;
      }
    }
  };

  let count = 0;
  try {
    await emit(encodeMetadata(md));
    let buf = Buffer.allocUnsafe(FLUSH_BYTES);
    let view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let pos = 0;
    for await (const rec of opts.records) {
      const size = encodedSize(rec, version, tsOut);
      if (pos + size > buf.length) {
        await emit(buf.subarray(0, pos));
        // A fresh buffer: the child's stdin may still hold a reference to the old one.
        buf = Buffer.allocUnsafe(FLUSH_BYTES);
        view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        pos = 0;
      }
      pos += encodeRecord(rec, version, tsOut, buf, view, pos);
      count++;
    }
    if (pos) await emit(buf.subarray(0, pos));
    if (frame) await (frame as ZstdFrame).end();
    frame = undefined;
  } finally {
    if (frame) await (frame as ZstdFrame).end().catch(() => {});
  }
  const bytes = await target.close();
  return { bytes, records: count, dbnBytes, frames };
}
