/**
 * The as-of join: every trade of some symbols over [start, end) with the quote (tbbo_data) of the
 * same instrument and venue that prevailed when it happened, streamed in time order with constant
 * memory.
 *
 * How: a merge in JS over ordered server-side streams, not one index probe per trade (the LATERAL
 * query). Per symbol, one cursor over its trades and one over its quotes, both in time order; the
 * quote stream is read up to each trade's time and only the last quote per (instrument, venue) is
 * kept. Each markout Δ is one more quote stream, read up to trade time + Δ. The first trades of a
 * venue whose last quote is older than `start` get it from one lookup per venue. The forward
 * direction reads one quote stream per (instrument, venue), since the next quote of a venue can
 * be far ahead of the other venues' quotes. Every stream lives in one read-only transaction
 * (cursors.ts), so the embedded engine's single session serves them all; compressed chunks are
 * read like any others.
 *
 * The rules (also in the README):
 * - Quotes are totally ordered by (timestamp, sequence, bid, ask, bid size, ask size), NULL
 *   lowest. Backward (default): a trade gets the LAST quote of its instrument and venue with
 *   timestamp <= the trade's — a quote at the trade's own microsecond counts, and among quotes
 *   of one microsecond the highest `sequence` wins (the prices and sizes only decide between
 *   quotes without a sequence, so the answer is deterministic). Forward: the FIRST quote with
 *   timestamp >= the trade's (again the same microsecond counts; the lowest sequence wins).
 * - tolerance Δ: a quote more than Δ from the trade (older backward, later forward) is no match:
 *   the quote is null. Without a tolerance any distance matches.
 * - markouts Δ1, Δ2…: the mid of the quote the backward rule picks at trade time + Δ (same
 *   instrument and venue, same tolerance, measured from trade time + Δ), whatever the direction.
 * - Rows are in trade time order; trades of one microsecond by symbol (in the order given), then
 *   by the venue sequence of their DBN trade id ("<publisher>:<sequence>"; other ids after),
 *   then publisher, trade id (bytewise), instrument, price, size, side.
 * - Prices stay NUMERIC text; mid = (bid + ask) / 2 exactly (decimal.ts), null when a side is missing.
 */
import type { Engine } from '../engine/types.js';
import { QueryError } from '../errors.js';
import { requireSchema } from '../schema/schema-state.js';
import { microsToDate, microsToIso } from '../values/time.js';
import { withCursors, type CursorSession, type RowCursor } from './cursors.js';
import { midPrice } from './decimal.js';
import { measureInterval, positiveInt, publisherParam, range, symbolParam, usExpr, type Instant, type TimeInput } from './params.js';

export type AsOfJoinDirection = 'backward' | 'forward';

export interface AsOfJoinOptions {
  /** Only this venue's trades and quotes (DBN publisher_id). Default: every venue, each trade with its own venue's quotes. */
  readonly publisherId?: number;
  /** No quote further than this from the trade: an interval such as '1 second', '500 ms'. Default: no limit. */
  readonly tolerance?: string;
  /** 'backward' (default): the quote at or before the trade; 'forward': the quote at or after it. */
  readonly direction?: AsOfJoinDirection;
  /** Intervals after each trade whose mid price to report, e.g. ['1s', '5s', '1m']. */
  readonly markouts?: readonly string[];
  /** At most this many rows (the first ones in time order). */
  readonly limit?: number;
  /** Rows per FETCH of each stream (default 5000): the memory bound. */
  readonly batchSize?: number;
}

/** The quote a trade was joined with. */
export interface JoinedQuote extends Instant {
  readonly bid: string | null;
  readonly ask: string | null;
  readonly bidSize: bigint | null;
  readonly askSize: bigint | null;
  /** The quote's venue sequence number (null when stored without one). */
  readonly sequence: bigint | null;
  /** Trade time − quote time in µs: >= 0 backward, <= 0 forward. */
  readonly ageUs: bigint;
  /** (bid + ask) / 2, exact; null when a side is missing. */
  readonly mid: string | null;
}

/** One trade and its quote. The Instant is the trade's time. */
export interface AsOfJoinRow extends Instant {
  readonly symbol: string;
  readonly instrumentId: number;
  readonly publisherId: number;
  readonly price: string;
  readonly size: bigint;
  readonly side: string;
  readonly tradeId: string | null;
  /** The matched quote, or null (none yet / none after / beyond the tolerance). */
  readonly quote: JoinedQuote | null;
  /** The mid at trade time + markouts[i] (null: no quote, beyond the tolerance, or a side missing). */
  readonly markouts: readonly (string | null)[];
}

export const DEFAULT_ASOF_JOIN_BATCH = 5000;

/**
 * A stream's rows arrive as ONE text column each: "t_us,instrument_id,publisher_id,…", NULL as an
 * empty field. Measured on 300,000 quotes: PGlite copies every field of a row into its own buffer
 * and decodes it (8 columns: 4.7 s; one: 1.1 s) and node-postgres builds one string per field
 * (0.9 s; 0.5 s). The merge needs only a quote's time and venue, so the rest of a quote is split
 * out only when a trade is joined with it.
 */
interface PackedRow {
  r: string;
}

/** A quote row once split: its fields as the server printed them. */
interface QuoteRow {
  readonly t_us: string;
  readonly bid_px_00: string | null;
  readonly ask_px_00: string | null;
  readonly bid_sz_00: string | null;
  readonly ask_sz_00: string | null;
  readonly sequence: string | null;
}

/**
 * A stream time as compared in the merge: a Number when the trade times (+ markouts) it is compared
 * with are safe integers (µs since the epoch are, for years 1685–2255), else a BigInt. Parsing a
 * BigInt per quote and per trade only to compare them was much of the merge's garbage; the rows
 * still report BigInt times.
 */
type Time = number | bigint;

/** The fields a joined quote reports, parsed once per quote however many trades it serves. */
interface Quote {
  readonly packed: string;
  readonly row: QuoteRow;
  readonly us: bigint;
  readonly ms: number;
  readonly bidSize: bigint | null;
  readonly askSize: bigint | null;
  readonly sequence: bigint | null;
  readonly mid: string | null;
}

// concat() prints NULL as '' and each value with its type's output function, as a column would be.
// No field but trade_id can hold a comma: it comes last, after '=' (NULL: nothing); side is one of
// 'B', 'S', 'N' (trades_side_check).
const QUOTE_COLUMNS = `concat(${usExpr('"timestamp"')}, ',', instrument_id, ',', publisher_id, ',', bid_px_00, ',', ask_px_00, ',', bid_sz_00, ',', ask_sz_00, ',', sequence) AS r`;
const TRADE_COLUMNS = `concat(${usExpr('"timestamp"')}, ',', instrument_id, ',', publisher_id, ',', price, ',', size, ',', side, ',', '=' || trade_id) AS r`;
const QUOTE_ASC =
  '"timestamp", sequence NULLS FIRST, bid_px_00 NULLS FIRST, ask_px_00 NULLS FIRST, bid_sz_00 NULLS FIRST, ask_sz_00 NULLS FIRST';
const QUOTE_DESC =
  '"timestamp" DESC, sequence DESC NULLS LAST, bid_px_00 DESC NULLS LAST, ask_px_00 DESC NULLS LAST, bid_sz_00 DESC NULLS LAST, ask_sz_00 DESC NULLS LAST';
// The venue sequence of a DBN trade id "<publisher>:<sequence>" (src/ingest/dbn-mapping.ts).
const TRADE_SEQUENCE = `CASE WHEN trade_id ~ '^[0-9]{1,10}:[0-9]{1,18}$' THEN split_part(trade_id, ':', 2)::int8 END`;
const TRADE_ORDER = `"timestamp", ${TRADE_SEQUENCE} NULLS LAST, publisher_id, trade_id COLLATE "C" NULLS LAST, instrument_id, price, size, side`;

/** The SQL behind the join, for the benchmark and the tests' LATERAL reference. */
export const ASOF_JOIN_SQL = { QUOTE_ASC, QUOTE_DESC, TRADE_ORDER } as const;

/** A venue's key: how the packed rows print it ("instrument_id,publisher_id"). */
const key = (instrumentId: number, publisherId: number) => `${instrumentId},${publisherId}`;
const COMMA = 44;

/** `AND publisher_id = $n` when a venue is asked for. */
function venue(pub: number | undefined, params: unknown[]): string {
  if (pub === undefined) return '';
  params.push(pub);
  return ` AND publisher_id = $${params.length}`;
}

interface Plan {
  readonly pub: number | undefined;
  readonly startUs: bigint;
  readonly endUs: bigint;
  readonly toleranceUs: bigint | null;
  readonly markoutsUs: readonly bigint[];
  /** Parses a stream's t_us for comparisons (see Time). */
  readonly time: (text: string) => Time;
}

const big = (v: string | null) => (v === null ? null : BigInt(v));

/** A packed row's first field, its t_us. */
const timeField = (packed: string) => packed.slice(0, packed.indexOf(','));

const orNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);

/** A packed quote row split into its fields. */
function quoteRow(packed: string): QuoteRow {
  const f = packed.split(',');
  return {
    t_us: f[0]!,
    bid_px_00: orNull(f[3]),
    ask_px_00: orNull(f[4]),
    bid_sz_00: orNull(f[5]),
    ask_sz_00: orNull(f[6]),
    sequence: orNull(f[7]),
  };
}

function quoteOf(packed: string): Quote {
  const row = quoteRow(packed);
  const us = BigInt(row.t_us);
  return {
    packed,
    row,
    us,
    ms: microsToDate(us).getTime(),
    bidSize: big(row.bid_sz_00),
    askSize: big(row.ask_sz_00),
    sequence: big(row.sequence),
    mid: midPrice(row.bid_px_00, row.ask_px_00),
  };
}

/**
 * The rows of one cursor with the end of the stream known synchronously, so that a reader only
 * awaits when the buffered batch is used up (one microtask per batch, not per row).
 */
class Stream<R> {
  ended = false;
  constructor(readonly c: RowCursor<R>) {}

  /** Fetches the next batch (the current one is used up). */
  async refill(): Promise<void> {
    if (!(await this.c.fill())) this.ended = true;
  }
}

/** What a pointer answers when it must fetch (a batch or a venue's seed quote) before it can tell. */
const PENDING = Symbol('pending');
type Answer = Quote | null | typeof PENDING;

interface Pointer {
  /** The quote at `us` (the trade's time, >= every earlier call's), or PENDING: `load` then ask again. */
  at(instrumentId: number, publisherId: number, us: Time): Answer;
  load(instrumentId: number, publisherId: number): Promise<void>;
}

/**
 * The last quote per (instrument, venue) at or before a moving time `offset` after the trades:
 * one stream over [start + offset, end + offset), plus one lookup per venue for the last quote
 * before the stream begins.
 */
class BackwardPointer implements Pointer {
  /** Per venue: its last row read from the stream (split once asked for), or the seed lookup's answer. */
  private readonly last = new Map<string, string | Quote | null>();
  private readonly stream: Stream<PackedRow>;
  private readonly fromUs: bigint;

  constructor(
    private readonly s: CursorSession,
    private readonly symbol: string,
    private readonly plan: Plan,
    offsetUs: bigint,
  ) {
    this.fromUs = plan.startUs + offsetUs;
    const params: unknown[] = [symbol, microsToIso(this.fromUs), microsToIso(plan.endUs + offsetUs)];
    const v = venue(plan.pub, params);
    this.stream = new Stream(
      s.open<PackedRow>(
        `SELECT ${QUOTE_COLUMNS} FROM tbbo_data
          WHERE symbol = $1 AND "timestamp" >= $2::timestamptz AND "timestamp" < $3::timestamptz${v}
          ORDER BY ${QUOTE_ASC}`,
        params,
      ),
    );
  }

  at(instrumentId: number, publisherId: number, us: Time): Answer {
    const c = this.stream.c;
    const rows = c.rows;
    const time = this.plan.time;
    let i = c.i;
    // Consecutive quotes are mostly of one venue: its key is cut out of the row once per run.
    let k = '';
    for (; i < rows.length; i++) {
      const r = rows[i]!.r;
      const t = r.indexOf(',');
      if (time(r.slice(0, t)) > us) break;
      if (!(r.startsWith(k, t + 1) && r.charCodeAt(t + 1 + k.length) === COMMA))
        k = r.slice(t + 1, r.indexOf(',', r.indexOf(',', t + 1) + 1));
      this.last.set(k, r);
    }
    c.i = i;
    if (i >= rows.length && !this.stream.ended) return PENDING;
    const wanted = key(instrumentId, publisherId);
    const q = this.last.get(wanted);
    if (q === undefined) return PENDING;
    if (typeof q === 'string') {
      const parsed = quoteOf(q);
      this.last.set(wanted, parsed);
      return parsed;
    }
    return q;
  }

  async load(instrumentId: number, publisherId: number): Promise<void> {
    const c = this.stream.c;
    if (c.i >= c.rows.length && !this.stream.ended) return this.stream.refill();
    const k = key(instrumentId, publisherId);
    if (!this.last.has(k)) this.last.set(k, await this.before(instrumentId, publisherId));
  }

  /** The venue's last quote before the stream's start (bounded by the tolerance when there is one). */
  private async before(instrumentId: number, publisherId: number): Promise<Quote | null> {
    const floor = this.plan.toleranceUs === null ? '-infinity' : microsToIso(this.fromUs - this.plan.toleranceUs - 1n);
    const rows = await this.s.query<PackedRow>(
      `SELECT ${QUOTE_COLUMNS} FROM tbbo_data
        WHERE symbol = $1 AND instrument_id = $2 AND publisher_id = $3
          AND "timestamp" < $4::timestamptz AND "timestamp" > $5::timestamptz
        ORDER BY ${QUOTE_DESC} LIMIT 1`,
      [this.symbol, instrumentId, publisherId, microsToIso(this.fromUs), floor],
    );
    const r = rows[0];
    return r ? quoteOf(r.r) : null;
  }
}

/** The first quote per (instrument, venue) at or after a moving time: one stream per venue. */
class ForwardPointer implements Pointer {
  private readonly streams = new Map<string, Stream<PackedRow>>();
  /** The answer last given per venue: the same quote serves every trade up to its time. */
  private readonly answers = new Map<string, Quote>();

  constructor(
    private readonly s: CursorSession,
    private readonly symbol: string,
    private readonly plan: Plan,
  ) {}

  at(instrumentId: number, publisherId: number, us: Time): Answer {
    const k = key(instrumentId, publisherId);
    const st = this.streams.get(k);
    if (!st) return PENDING;
    const c = st.c;
    const rows = c.rows;
    const time = this.plan.time;
    // Skip what is before `us`; the first quote left is the answer (kept for the next trade).
    let i = c.i;
    while (i < rows.length && time(timeField(rows[i]!.r)) < us) i++;
    c.i = i;
    if (i >= rows.length) return st.ended ? null : PENDING;
    const r = rows[i]!.r;
    const prev = this.answers.get(k);
    if (prev !== undefined && prev.packed === r) return prev;
    const q = quoteOf(r);
    this.answers.set(k, q);
    return q;
  }

  async load(instrumentId: number, publisherId: number): Promise<void> {
    const k = key(instrumentId, publisherId);
    let st = this.streams.get(k);
    if (!st) {
      const upTo = this.plan.toleranceUs === null ? 'infinity' : microsToIso(this.plan.endUs + this.plan.toleranceUs);
      st = new Stream(
        this.s.open<PackedRow>(
          `SELECT ${QUOTE_COLUMNS} FROM tbbo_data
            WHERE symbol = $1 AND instrument_id = $2 AND publisher_id = $3
              AND "timestamp" >= $4::timestamptz AND "timestamp" <= $5::timestamptz
            ORDER BY ${QUOTE_ASC}`,
          [this.symbol, instrumentId, publisherId, microsToIso(this.plan.startUs), upTo],
        ),
      );
      this.streams.set(k, st);
    }
    return st.refill();
  }
}

/** One symbol's streams: its trades, the quote pointer, one pointer per markout. */
interface SymbolJoin {
  readonly symbol: string;
  readonly order: number;
  readonly trades: Stream<PackedRow>;
  readonly quotes: Pointer;
  readonly markouts: readonly BackwardPointer[];
  /** The time of the next trade (Time), while there is one. */
  head: Time;
}

function joined(q: Quote | null, tradeUs: bigint, toleranceUs: bigint | null): JoinedQuote | null {
  if (q === null) return null;
  const ageUs = tradeUs - q.us;
  if (toleranceUs !== null && (ageUs > toleranceUs || -ageUs > toleranceUs)) return null;
  const r = q.row;
  return {
    time: new Date(q.ms),
    timeUs: q.us,
    bid: r.bid_px_00,
    ask: r.ask_px_00,
    bidSize: q.bidSize,
    askSize: q.askSize,
    sequence: q.sequence,
    ageUs,
    mid: q.mid,
  };
}

function markoutMid(q: Quote | null, atUs: bigint, toleranceUs: bigint | null): string | null {
  if (q === null || (toleranceUs !== null && atUs - q.us > toleranceUs)) return null;
  return q.mid;
}

/** a + b, both Numbers or both BigInts (one plan uses one kind). */
const plus = (a: Time, b: Time): Time => (a as number) + (b as number);

/** The pointer's answer at `us`, fetching first when it must. */
async function loaded(p: Pointer, instrumentId: number, publisherId: number, us: Time): Promise<Quote | null> {
  for (;;) {
    const a = p.at(instrumentId, publisherId, us);
    if (a !== PENDING) return a;
    await p.load(instrumentId, publisherId);
  }
}

/** A fixed-length interval in µs (months have no fixed length: refused). */
async function intervalUs(engine: Engine, name: string, text: string): Promise<bigint> {
  const info = await measureInterval(engine, name, text);
  if (info.months !== 0) throw new QueryError(`${name} must be a fixed length of time, not months or years (got ${JSON.stringify(text)})`);
  return info.us;
}

/**
 * Each trade of `symbols` in [start, end) with the quote of its instrument and venue in force at
 * its time (see the module doc for the exact rules: ties at one microsecond go to the highest
 * quote `sequence`; a quote at the trade's microsecond counts), streamed in time order with
 * constant memory. Works on both engines and on compressed chunks.
 *
 * On the embedded engine the stream holds the one session until it ends: run no other query on
 * the engine from inside the loop.
 */
export async function* asOfJoin(
  engine: Engine,
  symbols: string | readonly string[],
  start: TimeInput,
  end: TimeInput,
  options: AsOfJoinOptions = {},
): AsyncGenerator<AsOfJoinRow, void, undefined> {
  const list = (typeof symbols === 'string' ? [symbols] : [...symbols]).map(symbolParam);
  if (list.length === 0) throw new QueryError('asOfJoin needs at least one symbol');
  if (new Set(list).size !== list.length) throw new QueryError(`a symbol is listed twice: ${list.join(', ')}`);
  const { startUs, endUs } = range(start, end);
  const direction = options.direction ?? 'backward';
  if (direction !== 'backward' && direction !== 'forward')
    throw new QueryError(`direction must be 'backward' or 'forward' (got ${JSON.stringify(direction)})`);
  const limit = options.limit === undefined ? Infinity : positiveInt('limit', options.limit);
  const batchSize = positiveInt('batchSize', options.batchSize ?? DEFAULT_ASOF_JOIN_BATCH);
  const pub = publisherParam(options.publisherId);
  await requireSchema(engine);
  // Measured before the transaction: inside it, the embedded engine's one session is taken.
  const toleranceUs = options.tolerance === undefined ? null : await intervalUs(engine, 'tolerance', options.tolerance);
  const markoutsUs: bigint[] = [];
  for (const m of options.markouts ?? []) markoutsUs.push(await intervalUs(engine, 'markout', m));
  // Every time compared is a trade's (+ a markout): when those are safe integers, so are the
  // comparisons with any stream time parsed as a Number (Number() rounds monotonically).
  const offsets = [0n, ...markoutsUs];
  const lo = startUs + offsets.reduce((a, b) => (b < a ? b : a));
  const hi = endUs + offsets.reduce((a, b) => (b > a ? b : a));
  const safe = lo >= BigInt(Number.MIN_SAFE_INTEGER) && hi <= BigInt(Number.MAX_SAFE_INTEGER);
  const time: (text: string) => Time = safe ? Number : BigInt;
  const plan: Plan = { pub, startUs, endUs, toleranceUs, markoutsUs, time };
  const marksAt: readonly Time[] = safe ? markoutsUs.map(Number) : markoutsUs;

  // The rows go out in batches of the inner generator (one async step per batch, not per row)
  // and one by one from here; a batch is at most `batchSize` rows, so memory stays bounded.
  const batches = withCursors(engine, batchSize, async function* (s) {
    const joins: SymbolJoin[] = list.map((symbol, order) => {
      const params: unknown[] = [symbol, microsToIso(startUs), microsToIso(endUs)];
      const v = venue(pub, params);
      return {
        symbol,
        order,
        trades: new Stream(
          s.open<PackedRow>(
            `SELECT ${TRADE_COLUMNS} FROM trades_data
              WHERE symbol = $1 AND "timestamp" >= $2::timestamptz AND "timestamp" < $3::timestamptz${v}
              ORDER BY ${TRADE_ORDER}`,
            params,
          ),
        ),
        quotes: direction === 'backward' ? new BackwardPointer(s, symbol, plan, 0n) : new ForwardPointer(s, symbol, plan),
        markouts: markoutsUs.map((d) => new BackwardPointer(s, symbol, plan, d)),
        head: 0,
      };
    });
    // The symbols' trade streams merged by (time, symbol order): a linear pick, symbols are few.
    const live: SymbolJoin[] = [];
    for (const j of joins) {
      await j.trades.refill();
      if (j.trades.c.rows.length > 0) {
        j.head = time(timeField(j.trades.c.rows[0]!.r));
        live.push(j);
      }
    }
    let emitted = 0;
    let out: AsOfJoinRow[] = [];
    while (live.length > 0 && emitted < limit) {
      let j = live[0]!;
      for (let x = 1; x < live.length; x++) {
        const c = live[x]!;
        if (c.head < j.head || (c.head === j.head && c.order < j.order)) j = c;
      }
      const tc = j.trades.c;
      const r = tc.rows[tc.i]!.r;
      const c1 = r.indexOf(',');
      const c2 = r.indexOf(',', c1 + 1);
      const c3 = r.indexOf(',', c2 + 1);
      const c4 = r.indexOf(',', c3 + 1);
      const c5 = r.indexOf(',', c4 + 1);
      const c6 = r.indexOf(',', c5 + 1);
      const at = j.head;
      const us = BigInt(r.slice(0, c1));
      const inst = Number(r.slice(c1 + 1, c2));
      const venueId = Number(r.slice(c2 + 1, c3));
      let q = j.quotes.at(inst, venueId, at);
      if (q === PENDING) q = await loaded(j.quotes, inst, venueId, at);
      const marks: (string | null)[] = [];
      for (let m = 0; m < marksAt.length; m++) {
        const p = j.markouts[m]!;
        const atM = plus(at, marksAt[m]!);
        let mq = p.at(inst, venueId, atM);
        if (mq === PENDING) mq = await loaded(p, inst, venueId, atM);
        marks.push(markoutMid(mq, us + markoutsUs[m]!, toleranceUs));
      }
      out.push({
        time: microsToDate(us),
        timeUs: us,
        symbol: j.symbol,
        instrumentId: inst,
        publisherId: venueId,
        price: r.slice(c3 + 1, c4),
        size: BigInt(r.slice(c4 + 1, c5)),
        side: r.slice(c5 + 1, c6),
        tradeId: c6 + 1 === r.length ? null : r.slice(c6 + 2),
        quote: joined(q, us, toleranceUs),
        markouts: marks,
      });
      emitted += 1;
      tc.i += 1;
      if (tc.i >= tc.rows.length) {
        if (out.length > 0) {
          yield out;
          out = [];
        }
        await j.trades.refill();
      } else if (out.length >= batchSize) {
        yield out;
        out = [];
      }
      if (tc.i < tc.rows.length) j.head = time(timeField(tc.rows[tc.i]!.r));
      else live.splice(live.indexOf(j), 1);
    }
    if (out.length > 0) yield out;
  });
  for await (const batch of batches) for (const r of batch) yield r;
}
