export {
  maintain,
  compressionReport,
  type MaintainOptions,
  type MaintainReport,
  type ChunkAction,
  type HypertableCompression,
  type ChunkCompression,
  type RetentionQuestion,
} from './maintain.js';
export { refreshAfterLoad, refreshRollups, type RefreshAction } from '../timescale/rollup-refresh.js';
export {
  ROLLUPS,
  TRADE_CANDLES,
  OHLCV_HOURLY,
  TRADES_CANDLES_1M,
  TRADES_CANDLES_1H,
  TRADES_CANDLES_1D,
  rollupsOf,
  type Rollup,
} from '../schema/rollups.js';
