/**
 * DBN prelude + metadata (reference §1), versions 1-3: parsing, and encoding for the writer.
 */
import { DBN_MAGIC, type DbnVersion, SCHEMA_NAMES, STYPE_NAMES, SYMBOL_CSTR_LEN_V1, SYMBOL_CSTR_LEN_V2 } from './constants.js';
import { DbnFormatError } from './errors.js';
import { readCString, writeCString } from './text.js';

export interface MappingInterval {
  /** UTC date as YYYYMMDD, inclusive. */
  readonly startDate: number;
  /** UTC date as YYYYMMDD, exclusive. */
  readonly endDate: number;
  readonly symbol: string;
}
export interface SymbolMappingEntry {
  /** The key: the requested symbol in `stype_in` (see symbology.ts for what a row gets). */
  readonly rawSymbol: string;
  readonly intervals: readonly MappingInterval[];
}

export interface DbnMetadata {
  readonly version: DbnVersion;
  readonly dataset: string;
  /** Schema code, or null for mixed schemas (0xFFFF, live data). */
  readonly schema: number | null;
  readonly schemaName: string | null;
  /** ns since epoch. */
  readonly start: bigint;
  /** ns since epoch; null when unset (0 or u64::MAX on the wire). */
  readonly end: bigint | null;
  /** null when 0 (no limit). */
  readonly limit: bigint | null;
  /** null for 0xFF (mixed / none). */
  readonly stypeIn: number | null;
  readonly stypeInName: string | null;
  readonly stypeOut: number | null;
  readonly stypeOutName: string | null;
  readonly tsOut: boolean;
  readonly symbolCstrLen: number;
  readonly symbols: readonly string[];
  readonly partial: readonly string[];
  readonly notFound: readonly string[];
  readonly mappings: readonly SymbolMappingEntry[];
  /** Bytes of prelude + metadata (incl. v3 padding) = offset of the first record. */
  readonly headerLength: number;
}

export const PRELUDE_SIZE = 8;
/** Metadata fixed part after the prelude; the same 104 bytes in every version. */
const FIXED_SIZE = 104;
const U64_MAX = 0xffffffffffffffffn;
/** A metadata length above this is a corrupted length word, not a real symbol list. */
export const MAX_METADATA_LENGTH = 1 << 30;

/**
 * Validates the prelude in `bytes` (which may be shorter than 8) and returns the total header
 * length (prelude + metadata), or -1 when more bytes are needed to know it. Checks the magic as
 * soon as the bytes are there, so garbage fails fast instead of being buffered.
 */
export function preludeHeaderLength(bytes: Uint8Array): number {
  for (let i = 0; i < 3 && i < bytes.length; i++) {
    if (bytes[i] !== DBN_MAGIC[i]) {
      throw new DbnFormatError(
        'DBN_BAD_MAGIC',
        i,
        `not a DBN stream: expected magic "DBN", found byte 0x${bytes[i]!.toString(16).padStart(2, '0')} at byte offset ${i}`,
      );
    }
  }
  if (bytes.length < 4) return -1;
  const version = bytes[3]!;
  if (version < 1 || version > 3) {
    throw new DbnFormatError(
      'DBN_UNSUPPORTED_VERSION',
      3,
      `unsupported DBN version ${version} at byte offset 3 (supported: 1, 2, 3${version === 0 ? '; 0 is the legacy DBZ format' : ''})`,
    );
  }
  if (bytes.length < PRELUDE_SIZE) return -1;
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (len < FIXED_SIZE + 16 || len > MAX_METADATA_LENGTH) {
    throw new DbnFormatError('DBN_BAD_METADATA', 4, `impossible metadata length ${len} at byte offset 4`);
  }
  return PRELUDE_SIZE + len;
}

/** Parses prelude + metadata; `bytes` must hold at least `preludeHeaderLength(bytes)` bytes. */
export function parseMetadata(bytes: Uint8Array): DbnMetadata {
  const headerLength = preludeHeaderLength(bytes);
  if (headerLength < 0 || bytes.length < headerLength) {
    throw new DbnFormatError(
      'DBN_TRUNCATED_METADATA',
      bytes.length,
      `truncated metadata at byte offset ${bytes.length}: needs ${headerLength < 0 ? PRELUDE_SIZE : headerLength} bytes, ${bytes.length} available`,
    );
  }
  const version = bytes[3] as DbnVersion;
  const v = new DataView(bytes.buffer, bytes.byteOffset, headerLength);
  const need = (off: number, n: number, what: string): void => {
    if (off + n > headerLength) {
      throw new DbnFormatError(
        'DBN_BAD_METADATA',
        off,
        `metadata ${what} at byte offset ${off} runs past the metadata end (${headerLength})`,
      );
    }
  };
  let p = PRELUDE_SIZE;
  const dataset = readCString(bytes, p, 16);
  const schemaRaw = v.getUint16(p + 16, true);
  const start = v.getBigUint64(p + 18, true);
  const endRaw = v.getBigUint64(p + 26, true);
  const limitRaw = v.getBigUint64(p + 34, true);
  p += 42;
  if (version === 1) p += 8; // record_count: deprecated, always u64::MAX
  const stypeInRaw = bytes[p]!;
  const stypeOutRaw = bytes[p + 1]!;
  const tsOut = bytes[p + 2]! !== 0;
  let symbolCstrLen = SYMBOL_CSTR_LEN_V1;
  if (version >= 2) {
    symbolCstrLen = v.getUint16(p + 3, true);
    if (symbolCstrLen === 0 || symbolCstrLen > 1024) {
      throw new DbnFormatError('DBN_BAD_METADATA', p + 3, `impossible symbol_cstr_len ${symbolCstrLen} at byte offset ${p + 3}`);
    }
  }
  p = PRELUDE_SIZE + FIXED_SIZE - 4;
  const schemaDefinitionLength = v.getUint32(p, true);
  p += 4;
  need(p, schemaDefinitionLength, 'schema definition');
  p += schemaDefinitionLength;

  const readCount = (what: string, itemSize: number): number => {
    need(p, 4, `${what} count`);
    const n = v.getUint32(p, true);
    p += 4;
    // Reject counts that cannot fit before allocating anything for them.
    need(p, n * itemSize, what);
    return n;
  };
  const readSymbols = (what: string): string[] => {
    const n = readCount(what, symbolCstrLen);
    const out: string[] = [];
    for (let i = 0; i < n; i++, p += symbolCstrLen) out.push(readCString(bytes, p, symbolCstrLen));
    return out;
  };
  const symbols = readSymbols('symbols');
  const partial = readSymbols('partial');
  const notFound = readSymbols('not_found');
  const mappingCount = readCount('mappings', symbolCstrLen + 4);
  const mappings: SymbolMappingEntry[] = [];
  for (let m = 0; m < mappingCount; m++) {
    need(p, symbolCstrLen, 'mapping symbol');
    const rawSymbol = readCString(bytes, p, symbolCstrLen);
    p += symbolCstrLen;
    const n = readCount('mapping intervals', 8 + symbolCstrLen);
    const intervals: MappingInterval[] = [];
    for (let i = 0; i < n; i++) {
      intervals.push({
        startDate: v.getUint32(p, true),
        endDate: v.getUint32(p + 4, true),
        symbol: readCString(bytes, p + 8, symbolCstrLen),
      });
      p += 8 + symbolCstrLen;
    }
    mappings.push({ rawSymbol, intervals });
  }
  // Anything left is v3 alignment padding.
  return {
    version,
    dataset,
    schema: schemaRaw === 0xffff ? null : schemaRaw,
    schemaName: schemaRaw === 0xffff ? null : (SCHEMA_NAMES[schemaRaw] ?? `unknown(${schemaRaw})`),
    start,
    end: endRaw === 0n || endRaw === U64_MAX ? null : endRaw,
    limit: limitRaw === 0n ? null : limitRaw,
    stypeIn: stypeInRaw === 0xff ? null : stypeInRaw,
    stypeInName: stypeInRaw === 0xff ? null : (STYPE_NAMES[stypeInRaw] ?? `unknown(${stypeInRaw})`),
    stypeOut: stypeOutRaw === 0xff ? null : stypeOutRaw,
    stypeOutName: stypeOutRaw === 0xff ? null : (STYPE_NAMES[stypeOutRaw] ?? `unknown(${stypeOutRaw})`),
    tsOut,
    symbolCstrLen,
    symbols,
    partial,
    notFound,
    mappings,
    headerLength,
  };
}

export interface MetadataInput {
  version: DbnVersion;
  dataset: string;
  /** Schema code; null = mixed. */
  schema: number | null;
  start: bigint;
  end?: bigint | null;
  limit?: bigint | null;
  stypeIn: number | null;
  stypeOut: number | null;
  tsOut?: boolean;
  symbols?: readonly string[];
  partial?: readonly string[];
  notFound?: readonly string[];
  mappings?: readonly SymbolMappingEntry[];
}

/** Encodes prelude + metadata exactly as parseMetadata expects (v3: padded to 8 bytes). */
export function encodeMetadata(m: MetadataInput): Uint8Array {
  const cl = m.version === 1 ? SYMBOL_CSTR_LEN_V1 : SYMBOL_CSTR_LEN_V2;
  const lists = [m.symbols ?? [], m.partial ?? [], m.notFound ?? []];
  const mappings = m.mappings ?? [];
  let size = PRELUDE_SIZE + FIXED_SIZE;
  for (const l of lists) size += 4 + l.length * cl;
  size += 4;
  for (const e of mappings) size += cl + 4 + e.intervals.length * (8 + cl);
  if (m.version === 3) size = (size + 7) & ~7;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set(DBN_MAGIC, 0);
  out[3] = m.version;
  v.setUint32(4, size - PRELUDE_SIZE, true);
  let p = PRELUDE_SIZE;
  writeCString(out, p, 16, m.dataset);
  v.setUint16(p + 16, m.schema ?? 0xffff, true);
  v.setBigUint64(p + 18, m.start, true);
  v.setBigUint64(p + 26, m.end ?? U64_MAX, true);
  v.setBigUint64(p + 34, m.limit ?? 0n, true);
  p += 42;
  if (m.version === 1) {
    v.setBigUint64(p, U64_MAX, true);
    p += 8;
  }
  out[p] = m.stypeIn ?? 0xff;
  out[p + 1] = m.stypeOut ?? 0xff;
  out[p + 2] = m.tsOut ? 1 : 0;
  if (m.version >= 2) v.setUint16(p + 3, cl, true);
  p = PRELUDE_SIZE + FIXED_SIZE; // reserved bytes and schema_definition_length stay 0
  for (const l of lists) {
    v.setUint32(p, l.length, true);
    p += 4;
    for (const s of l) p = writeCString(out, p, cl, s);
  }
  v.setUint32(p, mappings.length, true);
  p += 4;
  for (const e of mappings) {
    p = writeCString(out, p, cl, e.rawSymbol);
    v.setUint32(p, e.intervals.length, true);
    p += 4;
    for (const iv of e.intervals) {
      v.setUint32(p, iv.startDate, true);
      v.setUint32(p + 4, iv.endDate, true);
      p = writeCString(out, p + 8, cl, iv.symbol);
    }
  }
  return out;
}
