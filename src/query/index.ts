export * from './queries.js';
export { streamQuery, DEFAULT_STREAM_BATCH, type StreamOptions } from './stream.js';
export type { TimeInput, Instant } from './params.js';
export { resolveSymbol, resolveInstrument, symbolStored, closestSymbols } from './symbols.js';
export {
  asOfJoin,
  DEFAULT_ASOF_JOIN_BATCH,
  type AsOfJoinOptions,
  type AsOfJoinRow,
  type AsOfJoinDirection,
  type JoinedQuote,
} from './asof-join.js';
export { midPrice } from './decimal.js';
