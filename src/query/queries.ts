/**
 * The typed query API. Every function takes an Engine and returns plain typed objects.
 *
 * Value conventions (all results):
 * - Prices and other DECIMAL values are exact decimal STRINGS as PostgreSQL prints them
 *   ("4512.25000000"); never a float. Averages are rounded half away from zero to
 *   AVG_SCALE decimals; the median is exact (see spreadAnalysis).
 * - Volumes, sizes and counts are `bigint`.
 * - Every timestamp is given twice: `time` (a Date, millisecond precision) and `timeUs`
 *   (bigint microseconds since the Unix epoch: TIMESTAMPTZ's full precision). Format `timeUs`
 *   with microsToIso (src/values/time.ts) for an ISO string with six fraction digits.
 * - Ranges are half-open: start <= timestamp < end.
 *
 * SQL: identifiers are constants of this module (quoted), every value is a bound parameter, time
 * bounds are bound as `$n::timestamptz` (microsecond ISO text) and intervals as `$n::interval`
 * after validation (params.ts).
 *
 * Venues (publisher_id, schema version 6). One rule: what cannot be blended is per venue, what
 * adds up is across venues — always with a `publisherId` filter to ask for one venue.
 * - bars (and recentOhlcv): one bar per venue and bucket (an open from one venue and a close from
 *   another is no bar); each carries its publisherId, ordered by time, then publisher.
 * - aggregatedVolume, spreadAnalysis: over every venue's trades / quotes (consolidated).
 * - asOf: the last trade and quote on any venue; the result names the venue.
 * Rows stored without a publisher (library records, rows stored before version 6) have 0.
 */
import { requireSchema } from '../schema/schema-state.js';
import type { Engine, Queryable } from '../engine/types.js';
import { QueryError } from '../errors.js';
import { ident } from '../sql/ident.js';
import { OHLCV_HOURLY, TRADES_CANDLES_1D, TRADES_CANDLES_1H, TRADES_CANDLES_1M, type Rollup } from '../schema/rollups.js';
import {
  instant,
  measureInterval,
  micros,
  positiveInt,
  publisherParam,
  range,
  symbolParam,
  timeParam,
  usExpr,
  type Instant,
  type IntervalInfo,
  type TimeInput,
} from './params.js';
import { streamQuery, type StreamOptions } from './stream.js';

/** Decimals kept by averages (avg of DECIMAL(20,8) values is rounded half away from zero). */
export const AVG_SCALE = 10;

// ---------------------------------------------------------------------------------------------
// recentOhlcv

/** The venue filter every query takes (see the module doc). */
export interface VenueOptions {
  /** Only this venue's rows (DBN publisher_id; 0 = rows stored without one). Default: every venue. */
  readonly publisherId?: number;
}

/** `AND <col> = $n` when a venue is asked for (the value is bound, never spliced). */
function venueFilter(publisherId: number | undefined, params: unknown[], column = 'publisher_id'): string {
  if (publisherId === undefined) return '';
  params.push(publisherId);
  return ` AND ${ident(column)} = $${params.length}`;
}

export interface OhlcvBar extends Instant {
  readonly instrumentId: number;
  readonly publisherId: number;
  readonly symbol: string;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: bigint;
  readonly granularity: string;
}

interface OhlcvRow {
  t_us: string;
  instrument_id: number;
  publisher_id: number;
  symbol: string;
  open_price: string;
  high_price: string;
  low_price: string;
  close_price: string;
  volume: string;
  granularity: string;
}

/**
 * Stored bars of `granularity` (default '1m') at or after `since`, newest first, at most `limit`;
 * one per venue and start (ties ordered by instrument, then publisher).
 */
export async function recentOhlcv(
  engine: Queryable,
  symbol: string,
  since: TimeInput,
  limit: number,
  granularity = '1m',
  options: VenueOptions = {},
): Promise<OhlcvBar[]> {
  const sym = symbolParam(symbol);
  const sinceUs = micros('since', since);
  const n = positiveInt('limit', limit);
  if (typeof granularity !== 'string' || granularity.length === 0 || granularity.length > 10) {
    throw new QueryError(`granularity must be a short label such as '1m' or '1h' (got ${JSON.stringify(granularity)})`);
  }
  const params: unknown[] = [sym, granularity, timeParam(sinceUs), n];
  const venue = venueFilter(publisherParam(options.publisherId), params);
  await requireSchema(engine); // a missing schema is one line naming `tickvault init`, not a driver error
  const { rows } = await engine.query<OhlcvRow>(
    `SELECT ${usExpr('"timestamp"')} AS t_us, instrument_id, publisher_id, symbol, open_price, high_price, low_price, close_price, volume, granularity
       FROM ohlcv_data
      WHERE symbol = $1 AND granularity = $2 AND "timestamp" >= $3::timestamptz${venue}
      ORDER BY "timestamp" DESC, instrument_id, publisher_id
      LIMIT $4`,
    params,
  );
  return rows.map((r) => ({
    ...instant(r.t_us),
    instrumentId: Number(r.instrument_id),
    publisherId: Number(r.publisher_id),
    symbol: r.symbol,
    open: r.open_price,
    high: r.high_price,
    low: r.low_price,
    close: r.close_price,
    volume: BigInt(r.volume),
    granularity: r.granularity,
  }));
}

// ---------------------------------------------------------------------------------------------
// aggregatedVolume

export interface VolumeBucket extends Instant {
  /** Sum of trade sizes in the bucket. */
  readonly volume: bigint;
  readonly buyVolume: bigint;
  readonly sellVolume: bigint;
  readonly tradeCount: bigint;
}

interface VolumeRow {
  t_us: string;
  volume: string;
  buy_volume: string;
  sell_volume: string;
  trade_count: string;
}

/**
 * time_bucket(`bucket`) sums of trade size and trade counts for one symbol over [start, end),
 * oldest first, summed over every venue unless `publisherId` picks one. Buckets without trades
 * are absent (no gap filling). Trades without an aggressor (side 'N') count in `volume` only.
 */
export async function aggregatedVolume(
  engine: Queryable,
  symbol: string,
  start: TimeInput,
  end: TimeInput,
  bucket: string,
  options: VenueOptions = {},
): Promise<VolumeBucket[]> {
  const sym = symbolParam(symbol);
  const { startUs, endUs } = range(start, end);
  await requireSchema(engine);
  const width = await measureInterval(engine, 'bucket', bucket);
  const params: unknown[] = [sym, width.text, timeParam(startUs), timeParam(endUs)];
  const venue = venueFilter(publisherParam(options.publisherId), params);
  const { rows } = await engine.query<VolumeRow>(
    `SELECT ${usExpr('b')} AS t_us, volume, buy_volume, sell_volume, trade_count FROM (
       SELECT time_bucket($2::interval, "timestamp") AS b,
              sum(size) AS volume,
              coalesce(sum(size) FILTER (WHERE side = 'B'), 0) AS buy_volume,
              coalesce(sum(size) FILTER (WHERE side = 'S'), 0) AS sell_volume,
              count(*) AS trade_count
         FROM trades_data
        WHERE symbol = $1 AND "timestamp" >= $3::timestamptz AND "timestamp" < $4::timestamptz${venue}
        GROUP BY b) v
      ORDER BY b`,
    params,
  );
  return rows.map((r) => ({
    ...instant(r.t_us),
    volume: BigInt(r.volume),
    buyVolume: BigInt(r.buy_volume),
    sellVolume: BigInt(r.sell_volume),
    tradeCount: BigInt(r.trade_count),
  }));
}

// ---------------------------------------------------------------------------------------------
// spreadAnalysis

export interface SpreadStats {
  /** Quotes in the range, including those without a spread (a missing side). */
  readonly quotes: bigint;
  /** Quotes with a spread (both sides present): what the statistics are over. */
  readonly count: bigint;
  /** Mean spread rounded half away from zero to AVG_SCALE decimals; null without spreads. */
  readonly avg: string | null;
  /**
   * Median spread: percentile_cont(0.5), computed exactly in NUMERIC as the mean of the two
   * middle values (percentile_cont itself works in double precision). Null without spreads.
   */
  readonly median: string | null;
  readonly min: string | null;
  readonly max: string | null;
}

interface SpreadRow {
  quotes: string;
  n: string;
  avg: string | null;
  median: string | null;
  min: string | null;
  max: string | null;
}

/**
 * Spread statistics from tbbo_data over [start, end), over every venue's quotes unless
 * `publisherId` picks one; NULL spreads are ignored (counted in `quotes`).
 */
export async function spreadAnalysis(
  engine: Queryable,
  symbol: string,
  start: TimeInput,
  end: TimeInput,
  options: VenueOptions = {},
): Promise<SpreadStats> {
  const sym = symbolParam(symbol);
  const { startUs, endUs } = range(start, end);
  const params: unknown[] = [sym, timeParam(startUs), timeParam(endUs)];
  const venue = venueFilter(publisherParam(options.publisherId), params);
  // percentile_disc(0.5) ascending is the lower middle value, descending the upper one (they are
  // the same value for an odd count); their mean is percentile_cont(0.5), exactly.
  await requireSchema(engine);
  const { rows } = await engine.query<SpreadRow>(
    `SELECT count(*) AS quotes,
            count(spread) AS n,
            round(avg(spread), ${AVG_SCALE}) AS avg,
            (percentile_disc(0.5) WITHIN GROUP (ORDER BY spread)
             + percentile_disc(0.5) WITHIN GROUP (ORDER BY spread DESC)) / 2 AS median,
            min(spread) AS min,
            max(spread) AS max
       FROM tbbo_data
      WHERE symbol = $1 AND "timestamp" >= $2::timestamptz AND "timestamp" < $3::timestamptz${venue}`,
    params,
  );
  const r = rows[0]!;
  return {
    quotes: BigInt(r.quotes),
    count: BigInt(r.n),
    avg: r.avg,
    median: r.median === null ? null : trimScale(r.median, 9),
    min: r.min,
    max: r.max,
  };
}

/** Cuts trailing zeros beyond `scale` decimals (NUMERIC division prints extra zeros). */
function trimScale(text: string, scale: number): string {
  const dot = text.indexOf('.');
  if (dot < 0 || text.length - dot - 1 <= scale) return text;
  const extra = text.slice(dot + 1 + scale);
  if (!/^0*$/.test(extra)) return text;
  return text.slice(0, dot + 1 + scale);
}

// ---------------------------------------------------------------------------------------------
// bars

export interface Bar extends Instant {
  /** The venue of the bar (bars are per venue; 0 = rows stored without a publisher). */
  readonly publisherId: number;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: bigint;
  /** Trades in the bar (source 'trades'); null for bars built from stored OHLCV bars. */
  readonly tradeCount: bigint | null;
}

export type BarSource = 'ohlcv' | 'trades';

/**
 * Where bars are read from:
 * - 'auto' (default): from a rollup when the tier keeps rollups current by itself (real-time
 *   continuous aggregates) and the rollup can answer exactly (below); else from raw rows.
 * - 'raw': always from the raw rows (trades_data, or ohlcv_data for source 'ohlcv').
 * - 'rollup': from a rollup whenever it can answer exactly, whatever the tier. A plain
 *   materialized view (Apache tier) is as fresh as its last refresh (maintain / refreshAfterLoad).
 * A rollup answers exactly when its bucket width divides `interval` (calendar months are unions
 * of days) and start and end fall on its bucket edges; the coarsest such rollup is used.
 */
export type RollupChoice = 'auto' | 'raw' | 'rollup';

export interface BarsOptions {
  readonly source: BarSource;
  /** Stored bar granularity read by source 'ohlcv' (default '1m'). */
  readonly granularity?: string;
  readonly rollup?: RollupChoice;
  /** Only this venue's bars (DBN publisher_id). Default: every venue, one bar per venue and bucket. */
  readonly publisherId?: number;
}

export interface BarsPlan {
  /** The relation read: a rollup view, trades_data or ohlcv_data. */
  readonly relation: string;
  readonly reason: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

interface BarRow {
  t_us: string;
  publisher_id: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  trade_count: string | null;
}

/** Decides where bars come from and builds the statement (exported for tests and `--explain`). */
export async function planBars(
  engine: Engine,
  symbol: string,
  start: TimeInput,
  end: TimeInput,
  interval: string,
  options: BarsOptions,
): Promise<BarsPlan> {
  const sym = symbolParam(symbol);
  const { startUs, endUs } = range(start, end);
  if (options.source !== 'ohlcv' && options.source !== 'trades') {
    throw new QueryError(`source must be 'ohlcv' or 'trades' (got ${JSON.stringify(options.source)})`);
  }
  const choice = options.rollup ?? 'auto';
  if (choice !== 'auto' && choice !== 'raw' && choice !== 'rollup') {
    throw new QueryError(`rollup must be 'auto', 'raw' or 'rollup' (got ${JSON.stringify(choice)})`);
  }
  const granularity = options.granularity ?? '1m';
  await requireSchema(engine);
  const width = await measureInterval(engine, 'interval', interval);
  const base: unknown[] = [sym, width.text, timeParam(startUs), timeParam(endUs)];
  // Per venue: grouped by publisher_id (rollups keep it since schema version 6).
  const pub = publisherParam(options.publisherId);

  let rollup: Rollup | undefined;
  let reason: string;
  if (choice === 'raw') {
    reason = 'raw rows requested';
  } else if (choice === 'auto' && !(await engine.capabilities()).continuousAggregates) {
    reason = 'rollups on this tier are refreshed by maintain, not real-time: raw rows are always current';
  } else {
    const candidates =
      options.source === 'trades' ? [TRADES_CANDLES_1D, TRADES_CANDLES_1H, TRADES_CANDLES_1M] : granularity === '1m' ? [OHLCV_HOURLY] : [];
    rollup = candidates.find((r) => answersExactly(r, width, startUs, endUs));
    if (rollup && !(await relationExists(engine, rollup.name))) rollup = undefined;
    reason = rollup
      ? `${rollup.name} answers exactly (width ${rollup.width} divides ${width.text}, range on its bucket edges)`
      : 'no rollup answers exactly (interval or range not on a rollup bucket edge)';
  }

  if (rollup) {
    const params = [...base];
    const venue = venueFilter(pub, params);
    const sql = `SELECT ${usExpr('b')} AS t_us, publisher_id, open, high, low, close, volume, trade_count FROM (
       SELECT time_bucket($2::interval, bucket) AS b, publisher_id,
              first(open_price, bucket) AS open, max(high_price) AS high, min(low_price) AS low,
              last(close_price, bucket) AS close, sum(volume) AS volume,
              ${rollup.hasTradeCount ? 'sum(trade_count)' : 'NULL::numeric'} AS trade_count
         FROM ${ident(rollup.name)}
        WHERE symbol = $1 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz${venue}
        GROUP BY b, publisher_id) x
      ORDER BY b, publisher_id`;
    return { relation: rollup.name, reason, sql, params };
  }
  if (options.source === 'trades') {
    const params = [...base];
    const venue = venueFilter(pub, params);
    const sql = `SELECT ${usExpr('b')} AS t_us, publisher_id, open, high, low, close, volume, trade_count FROM (
       SELECT time_bucket($2::interval, "timestamp") AS b, publisher_id,
              first(price, "timestamp") AS open, max(price) AS high, min(price) AS low,
              last(price, "timestamp") AS close, sum(size) AS volume, count(*) AS trade_count
         FROM trades_data
        WHERE symbol = $1 AND "timestamp" >= $3::timestamptz AND "timestamp" < $4::timestamptz${venue}
        GROUP BY b, publisher_id) x
      ORDER BY b, publisher_id`;
    return { relation: 'trades_data', reason, sql, params };
  }
  const params = [...base, granularity]; // $5
  const venue = venueFilter(pub, params);
  const sql = `SELECT ${usExpr('b')} AS t_us, publisher_id, open, high, low, close, volume, trade_count FROM (
     SELECT time_bucket($2::interval, "timestamp") AS b, publisher_id,
            first(open_price, "timestamp") AS open, max(high_price) AS high, min(low_price) AS low,
            last(close_price, "timestamp") AS close, sum(volume) AS volume, NULL::numeric AS trade_count
       FROM ohlcv_data
      WHERE symbol = $1 AND granularity = $5 AND "timestamp" >= $3::timestamptz AND "timestamp" < $4::timestamptz${venue}
      GROUP BY b, publisher_id) x
    ORDER BY b, publisher_id`;
  return { relation: 'ohlcv_data', reason, sql, params };
}

function answersExactly(r: Rollup, width: IntervalInfo, startUs: bigint, endUs: bigint): boolean {
  const divides = width.months > 0 ? r.widthUs <= 86_400_000_000n : width.us % r.widthUs === 0n;
  return divides && mod(startUs, r.widthUs) === 0n && mod(endUs, r.widthUs) === 0n;
}

function mod(a: bigint, m: bigint): bigint {
  const x = a % m;
  return x < 0n ? x + m : x;
}

async function relationExists(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [ident(name)]);
  return rows[0]!.ok;
}

function toBar(r: BarRow): Bar {
  return {
    ...instant(r.t_us),
    publisherId: Number(r.publisher_id),
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: BigInt(r.volume),
    tradeCount: r.trade_count === null ? null : BigInt(r.trade_count),
  };
}

/**
 * OHLCV bars of any interval over [start, end), oldest first: built from stored bars
 * (source 'ohlcv', granularity default '1m') or from trades (first/last price by time).
 * Buckets without data are absent. See RollupChoice for where they are read from.
 */
export async function bars(
  engine: Engine,
  symbol: string,
  start: TimeInput,
  end: TimeInput,
  interval: string,
  options: BarsOptions = { source: 'ohlcv' },
): Promise<Bar[]> {
  const plan = await planBars(engine, symbol, start, end, interval, options);
  const { rows } = await engine.query<BarRow>(plan.sql, plan.params);
  return rows.map(toBar);
}

/** `bars`, streamed through a server-side cursor with constant memory (see stream.ts). */
export async function* streamBars(
  engine: Engine,
  symbol: string,
  start: TimeInput,
  end: TimeInput,
  interval: string,
  options: BarsOptions = { source: 'ohlcv' },
  stream: StreamOptions = {},
): AsyncGenerator<Bar, void, undefined> {
  const plan = await planBars(engine, symbol, start, end, interval, options);
  for await (const r of streamQuery<BarRow>(engine, plan.sql, plan.params, stream)) yield toBar(r);
}

// ---------------------------------------------------------------------------------------------
// asOf

export interface TradeAt extends Instant {
  readonly instrumentId: number;
  readonly publisherId: number;
  readonly symbol: string;
  readonly price: string;
  readonly size: bigint;
  readonly side: string;
  readonly tradeId: string | null;
}

export interface QuoteAt extends Instant {
  readonly instrumentId: number;
  readonly publisherId: number;
  readonly symbol: string;
  readonly bid: string | null;
  readonly ask: string | null;
  readonly bidSize: bigint | null;
  readonly askSize: bigint | null;
  readonly spread: string | null;
}

export interface AsOf {
  /** The query time, truncated to microseconds. */
  readonly at: Instant;
  readonly trade: TradeAt | null;
  readonly quote: QuoteAt | null;
}

// The newest timestamp in ($3, $2]: an ordered index scan over (symbol, timestamp DESC) that stops
// at the first row, newest chunk first. Ties are then broken among that timestamp's rows only.
function lastAt(table: 'trades_data' | 'tbbo_data', venue: string): string {
  return `SELECT "timestamp" FROM ${ident(table)} WHERE symbol = $1 AND "timestamp" <= $2::timestamptz AND "timestamp" > $3::timestamptz${venue} ORDER BY "timestamp" DESC LIMIT 1`;
}

/**
 * Look-back windows tried in turn. Execution is cheap either way, but planning touches every chunk
 * the bounds admit (DESIGN.md §8: planning time grows with chunks); a bounded window lets chunk
 * exclusion prune at plan time, and the last trade is usually recent.
 */
const LOOKBACK_US: readonly (bigint | null)[] = [3_600_000_000n, 86_400_000_000n, null];
const BEGINNING = '-infinity';

async function lastRow<R>(db: Queryable, sql: string, sym: string, atUs: bigint, extra: readonly unknown[]): Promise<R | undefined> {
  for (const back of LOOKBACK_US) {
    const { rows } = await db.query<R>(sql, [sym, timeParam(atUs), back === null ? BEGINNING : timeParam(atUs - back), ...extra]);
    if (rows[0]) return rows[0];
  }
  return undefined;
}

interface TradeRow {
  t_us: string;
  instrument_id: number;
  publisher_id: number;
  symbol: string;
  price: string;
  size: string;
  side: string;
  trade_id: string | null;
}
interface QuoteRow {
  t_us: string;
  instrument_id: number;
  publisher_id: number;
  symbol: string;
  bid_px_00: string | null;
  ask_px_00: string | null;
  bid_sz_00: string | null;
  ask_sz_00: string | null;
  spread: string | null;
}

/**
 * The last trade and the last quote of `symbol` at or before `ts`, on any venue unless
 * `publisherId` picks one (the result names the venue). Among rows with the same timestamp the
 * one stored last wins (created_at, then trade_id / sequence), so the answer is deterministic.
 */
export async function asOf(engine: Queryable, symbol: string, ts: TimeInput, options: VenueOptions = {}): Promise<AsOf> {
  const sym = symbolParam(symbol);
  const atUs = micros('ts', ts);
  // $4 when a venue is asked for (the look-back bounds are $1..$3 in both statements).
  const pub = publisherParam(options.publisherId);
  const where = pub === undefined ? '' : ' AND publisher_id = $4';
  const extra: unknown[] = pub === undefined ? [] : [pub];
  await requireSchema(engine);
  const t = await lastRow<TradeRow>(
    engine,
    `SELECT ${usExpr('"timestamp"')} AS t_us, instrument_id, publisher_id, symbol, price, size, side, trade_id
       FROM trades_data
      WHERE symbol = $1 AND "timestamp" <= $2::timestamptz AND "timestamp" > $3::timestamptz${where}
        AND "timestamp" = (${lastAt('trades_data', where)})
      ORDER BY created_at DESC NULLS LAST, trade_id DESC NULLS LAST
      LIMIT 1`,
    sym,
    atUs,
    extra,
  );
  const q = await lastRow<QuoteRow>(
    engine,
    `SELECT ${usExpr('"timestamp"')} AS t_us, instrument_id, publisher_id, symbol, bid_px_00, ask_px_00, bid_sz_00, ask_sz_00, spread
       FROM tbbo_data
      WHERE symbol = $1 AND "timestamp" <= $2::timestamptz AND "timestamp" > $3::timestamptz${where}
        AND "timestamp" = (${lastAt('tbbo_data', where)})
      ORDER BY created_at DESC NULLS LAST, sequence DESC NULLS LAST
      LIMIT 1`,
    sym,
    atUs,
    extra,
  );
  const big = (v: string | null) => (v === null ? null : BigInt(v));
  return {
    at: instant(atUs),
    trade: t
      ? {
          ...instant(t.t_us),
          instrumentId: Number(t.instrument_id),
          publisherId: Number(t.publisher_id),
          symbol: t.symbol,
          price: t.price,
          size: BigInt(t.size),
          side: t.side,
          tradeId: t.trade_id,
        }
      : null,
    quote: q
      ? {
          ...instant(q.t_us),
          instrumentId: Number(q.instrument_id),
          publisherId: Number(q.publisher_id),
          symbol: q.symbol,
          bid: q.bid_px_00,
          ask: q.ask_px_00,
          bidSize: big(q.bid_sz_00),
          askSize: big(q.ask_sz_00),
          spread: q.spread,
        }
      : null,
  };
}
