/** Native DBN (Databento Binary Encoding) decoder and writer. */
export * from './constants.js';
export { DbnFormatError, type DbnErrorCode } from './errors.js';
export { type FixedParts, newFixedParts, readFixedParts, readMicros, formatFixed, isI64Max, isU64Max } from './fixed.js';
export {
  type DbnMetadata,
  type MappingInterval,
  type SymbolMappingEntry,
  type MetadataInput,
  parseMetadata,
  encodeMetadata,
} from './metadata.js';
export { type RecordBatch, DEFAULT_BATCH_BYTES } from './batch.js';
export type { DbnInput, SourceOptions } from './source.js';
export { DbnDecoder, type DbnOpenOptions, openDbn } from './decoder.js';
export {
  CHAR,
  RecordCursor,
  TradeCursor,
  Mbp1Cursor,
  OhlcvCursor,
  StatCursor,
  LayoutCursor,
  DefinitionCursor,
  SymbolMappingCursor,
} from './cursor.js';
export * from './records.js';
export { SymbolMap, yyyymmddToMicros } from './symbology.js';
export { writeDbn, type WriteDbnOptions } from './writer.js';
export { zstdCliAvailable } from './zstd.js';
