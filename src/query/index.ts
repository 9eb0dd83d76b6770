export * from './queries.js';
export { streamQuery, DEFAULT_STREAM_BATCH, type StreamOptions } from './stream.js';
export type { TimeInput, Instant } from './params.js';
export { resolveSymbol, resolveInstrument, symbolStored, closestSymbols } from './symbols.js';
