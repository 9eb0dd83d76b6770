/**
 * The DBN fast path's tuple encoding in WebAssembly: the kernels of assembly/tuple-kernels.ts
 * (built by `npm run build` into dist/wasm/) behind the same contract as encodeTupleBlock — same
 * bytes, same `ends`, same `timeUs` (test/ingest/wasm-tuples.test.ts holds them to it). On 10M
 * trades the JS codec cost ~80 ns a row on the main thread, the kernel ~15 ns plus ~20 ns of
 * copying records in and tuples out; the main thread is what bounds file → COPY bytes.
 *
 * Memory layout (byte offsets in the module's memory, all chosen here):
 *   [64 KiB)            left to the module's own static data
 *   DIGITS_AT           "0000".."9999" table (init)
 *   symbols             8-byte entries (address, length) with room to spare, then the padded
 *                       field bytes, appended as the caller's symbol list grows
 *   per call            records, offsets, syms, ends, times, output (with slack for the kernel's
 *                       stores past a field's end), grown on demand
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FieldWords } from '../copy/tuple-fields.js';
import type { TableName } from '../schema/tables.js';
import { TUPLE_FIXED_MAX, type TupleBlock } from './fast-codecs.js';

/** encodeTupleBlock's signature, for one table (the codec is the kernel). */
export type TupleBlockEncoder = (
  records: Uint8Array,
  offsets: Int32Array,
  syms: Int32Array,
  fields: readonly FieldWords[],
  timeScratch?: Float64Array,
) => TupleBlock;

// The WebAssembly API as far as used here (lib ES2022 declares none of it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown };
}
type WasmModule = { readonly __wasmModule: unique symbol };
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: WasmMemory;
  init(ptr: number): void;
  getOutLen(): number;
  getMinUs(): number;
  getMaxUs(): number;
  encodeTuples(
    table: number,
    rec: number,
    offs: number,
    syms: number,
    n: number,
    symTab: number,
    out: number,
    ends: number,
    times: number,
  ): number;
  TRADES: { readonly value: number };
  TBBO: { readonly value: number };
}

const PAGE = 65536;
const DIGITS_AT = PAGE;
const SYMBOLS_AT = DIGITS_AT + 40960;
/** Bytes the kernels may store past the end of the last tuple's last field. */
const SLACK = 64;

// dist/src/ingest → dist/wasm; from the TypeScript sources (tests) src/ingest → dist/wasm.
const CANDIDATES = ['../../wasm/tuple-kernels.wasm', '../../dist/wasm/tuple-kernels.wasm'].map((p) => new URL(p, import.meta.url));

let compiled: WasmModule | null | undefined;
function kernelModule(): WasmModule | null {
  if (compiled === undefined) {
    const url = CANDIDATES.find((u) => u.protocol === 'file:' && existsSync(fileURLToPath(u)));
    compiled = url ? new WA.Module(readFileSync(fileURLToPath(url))) : null;
  }
  return compiled;
}

/** Whether the built kernels exist (TICKVAULT_WASM=0 turns them off: comparisons, benchmarks). */
export function wasmTuplesAvailable(): boolean {
  return process.env.TICKVAULT_WASM !== '0' && kernelModule() !== null;
}

const align8 = (n: number) => (n + 7) & ~7;

/** One module instance (own memory) encoding one table's tuples. */
class WasmTupleEncoder {
  private readonly x: KernelExports;
  /** The kernel's code of this encoder's table. */
  private readonly table: number;
  /** Fields currently laid out in memory (by identity, then count: the caller's list only grows). */
  private fieldsLaidOut: readonly FieldWords[] | undefined;
  private fieldCount = 0;
  /** Entries the table at SYMBOLS_AT has room for. */
  private tableCapacity = 0;
  private symbolsEnd = SYMBOLS_AT;
  private longestField = 0;

  constructor(module: WasmModule, table: 'trades_data' | 'tbbo_data') {
    this.x = new WA.Instance(module, {}).exports as unknown as KernelExports;
    this.table = (table === 'trades_data' ? this.x.TRADES : this.x.TBBO).value;
    this.reserve(SYMBOLS_AT);
    this.x.init(DIGITS_AT);
  }

  private reserve(bytes: number): void {
    const mem = this.x.memory;
    const have = mem.buffer.byteLength;
    if (bytes > have) mem.grow(Math.ceil((bytes - have) / PAGE));
  }

  /**
   * Lays out the fields not yet in memory (the caller's list only grows): appended, so a file with
   * many instruments costs each field once. The entry table is reserved with room to spare and
   * laid out anew, twice as large, when it fills (or for another list).
   */
  private layOutSymbols(fields: readonly FieldWords[]): void {
    if (fields !== this.fieldsLaidOut || fields.length > this.tableCapacity) {
      this.tableCapacity = Math.max(64, 2 * fields.length);
      this.fieldsLaidOut = fields;
      this.fieldCount = 0;
      this.symbolsEnd = align8(SYMBOLS_AT + 8 * this.tableCapacity);
      this.longestField = 0;
    }
    let need = this.symbolsEnd;
    for (let k = this.fieldCount; k < fields.length; k++) need += align8(fields[k]!.bytes.length) + 8;
    this.reserve(need);
    const buf = this.x.memory.buffer;
    const table = new Int32Array(buf, SYMBOLS_AT, 2 * this.tableCapacity);
    const u8 = new Uint8Array(buf);
    let at = this.symbolsEnd;
    for (let k = this.fieldCount; k < fields.length; k++) {
      const f = fields[k]!.bytes;
      table[2 * k] = at;
      table[2 * k + 1] = f.length;
      u8.set(f, at);
      // Padded to 8 bytes plus 8 spare: the kernel copies whole words.
      u8.fill(0, at + f.length, at + align8(f.length) + 8);
      at += align8(f.length) + 8;
      this.longestField = Math.max(this.longestField, f.length);
    }
    this.fieldCount = fields.length;
    this.symbolsEnd = at;
  }

  readonly encode: TupleBlockEncoder = (records, offsets, syms, fields, timeScratch) => {
    if (fields !== this.fieldsLaidOut || fields.length !== this.fieldCount) this.layOutSymbols(fields);
    const n = offsets.length;
    const rec = align8(this.symbolsEnd);
    const offs = align8(rec + records.length);
    const sy = offs + 4 * n;
    const ends = sy + 4 * n;
    const times = align8(ends + 4 * n);
    const out = times + 8 * n;
    this.reserve(out + n * (TUPLE_FIXED_MAX + align8(this.longestField) + 8) + SLACK);
    const buf = this.x.memory.buffer;
    new Uint8Array(buf, rec, records.length).set(records);
    new Int32Array(buf, offs, n).set(offsets);
    new Int32Array(buf, sy, n).set(syms.subarray(0, n));
    const k = this.x.encodeTuples(this.table, rec, offs, sy, n, SYMBOLS_AT, out, ends, times);
    const len = this.x.getOutLen();
    // Owned copies: blocks outlive the next call (batches keep them until committed).
    // allocUnsafeSlow: not from Buffer's shared pool, so a block can be transferred like the JS path's.
    const bytes = Buffer.allocUnsafeSlow(len);
    bytes.set(new Uint8Array(buf, out, len));
    const endsOut = new Int32Array(k);
    endsOut.set(new Int32Array(buf, ends, k));
    const timeUs = timeScratch && timeScratch.length >= n ? timeScratch.subarray(0, n) : new Float64Array(n);
    timeUs.set(new Float64Array(buf, times, n));
    return { bytes, ends: endsOut, timeUs, minUs: k > 0 ? this.x.getMinUs() : Infinity, maxUs: k > 0 ? this.x.getMaxUs() : -Infinity };
  };
}

/**
 * encodeTupleBlock for `table` in WebAssembly, or undefined when the table has no kernel or the
 * kernels are not built (the caller then uses the JS codec). Each call makes its own instance.
 */
export function wasmTupleEncoder(table: TableName): TupleBlockEncoder | undefined {
  if (table !== 'trades_data' && table !== 'tbbo_data') return undefined;
  if (!wasmTuplesAvailable()) return undefined;
  return new WasmTupleEncoder(kernelModule()!, table).encode;
}
