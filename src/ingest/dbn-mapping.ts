/**
 * DBN record → contract row, per table (DESIGN.md §3, reference §7). Each mapper reads a record in
 * place through a cursor and produces the normalized values of schema/types.ts in the table's
 * column order; validation is then the table description's own (NOT NULL + CHECK predicates), so
 * the rules live in one place.
 *
 * Which DBN field fills `timestamp`:
 *   ohlcv_data      ts_event (bar start)
 *   trades_data     ts_event (exchange time of the trade; files are ts_recv-ordered, so it can go backwards)
 *   tbbo_data       ts_event (exchange time of the trade the quote precedes)
 *   statistics_data ts_event (ts_recv and ts_ref have columns of their own)
 * Nanoseconds are truncated (floored) to microseconds.
 * trades_data.trade_id = "<publisher_id>:<sequence>": DBN has no trade id; the venue sequence
 * number, qualified by the publisher so two venues never collide.
 * publisher_id (every table) is the record header's; tbbo_data.sequence is the record's.
 */
import type { RecordBatch } from '../dbn/batch.js';
import { CHAR, Mbp1Cursor, OhlcvCursor, StatCursor, TradeCursor } from '../dbn/cursor.js';
import { OHLCV_GRANULARITY, RTYPE, STAT_TYPE_NAMES } from '../dbn/constants.js';
import { rescaleFixed } from '../copy/numeric.js';
import type { TableName } from '../schema/tables.js';
import type { CellValue } from '../schema/types.js';
import { INT2_MAX, INT4_MAX } from '../schema/column-fit.js';

const DBN_PRICE_SCALE = 9;
const COLUMN_SCALE = 8;

export interface DbnMapper {
  readonly table: TableName;
  /** Does this record type feed the table? */
  accepts(rtype: number, schema: number | null): boolean;
  reset(batch: RecordBatch): void;
  /** Values of record i in loadedColumns order, or a reason the record cannot be a row at all. */
  map(i: number, symbol: string | null): CellValue[] | string;
}

function price(c: { priceUndef: boolean; price: bigint }): bigint | null {
  return c.priceUndef ? null : rescaleFixed(c.price, DBN_PRICE_SCALE, COLUMN_SCALE);
}
function px(undef: boolean, raw: bigint): bigint | null {
  return undef ? null : rescaleFixed(raw, DBN_PRICE_SCALE, COLUMN_SCALE);
}
function micros(us: number): bigint | null {
  return Number.isNaN(us) ? null : BigInt(us);
}
function checkId(id: number): string | null {
  return id > INT4_MAX ? `instrument_id ${id} does not fit INTEGER` : null;
}

/** Side: 'A' (sell aggressor) → 'S', 'B' → 'B', 'N' (no aggressor) stays 'N'; anything else kept as-is so the CHECK names it. */
function side(code: number): string {
  if (code === CHAR.A) return 'S';
  if (code === CHAR.B) return 'B';
  return String.fromCharCode(code);
}

/**
 * Shared shape of the mappers: position the cursor, refuse ids that do not fit INTEGER, then let
 * the table's mapping build the row.
 */
abstract class CursorMapper<C extends { reset(b: RecordBatch): unknown; at(i: number): C; instrumentId: number }> implements DbnMapper {
  abstract readonly table: TableName;
  protected constructor(protected readonly c: C) {}
  abstract accepts(rtype: number, schema: number | null): boolean;
  reset(batch: RecordBatch): void {
    this.c.reset(batch);
  }
  map(i: number, symbol: string | null): CellValue[] | string {
    const c = this.c.at(i);
    const id = c.instrumentId;
    return checkId(id) ?? this.row(c, id, symbol);
  }
  protected abstract row(c: C, id: number, symbol: string | null): CellValue[] | string;
}

class TradesMapper extends CursorMapper<TradeCursor> {
  readonly table = 'trades_data' as const;
  constructor() {
    super(new TradeCursor());
  }
  accepts(rtype: number): boolean {
    return rtype === RTYPE.MBP_0;
  }
  protected row(c: TradeCursor, id: number, symbol: string | null): CellValue[] | string {
    // timestamp, instrument_id, symbol, price, size, side, trade_id, publisher_id
    const pub = c.publisherId;
    return [micros(c.tsEventUs), id, symbol, price(c), BigInt(c.size), side(c.side), `${pub}:${c.sequence}`, pub];
  }
}

class TbboMapper extends CursorMapper<Mbp1Cursor> {
  readonly table = 'tbbo_data' as const;
  constructor() {
    super(new Mbp1Cursor());
  }
  accepts(rtype: number): boolean {
    return rtype === RTYPE.MBP_1;
  }
  protected row(c: Mbp1Cursor, id: number, symbol: string | null): CellValue[] | string {
    // An empty book side is UNDEF price with size 0: both become NULL (reference §7).
    const bidSz = c.bidSz;
    const askSz = c.askSz;
    // timestamp, instrument_id, symbol, bid_px_00, ask_px_00, bid_sz_00, ask_sz_00, publisher_id, sequence
    return [
      micros(c.tsEventUs),
      id,
      symbol,
      px(c.bidPxUndef, c.bidPx),
      px(c.askPxUndef, c.askPx),
      bidSz === 0 ? null : BigInt(bidSz),
      askSz === 0 ? null : BigInt(askSz),
      c.publisherId,
      BigInt(c.sequence),
    ];
  }
}

class OhlcvMapper extends CursorMapper<OhlcvCursor> {
  readonly table = 'ohlcv_data' as const;
  constructor() {
    super(new OhlcvCursor());
  }
  accepts(rtype: number): boolean {
    return OHLCV_GRANULARITY[rtype] !== undefined;
  }
  protected row(c: OhlcvCursor, id: number, symbol: string | null): CellValue[] | string {
    const volume = c.volume;
    if (volume > 9223372036854775807n) return `volume ${volume} does not fit BIGINT`;
    const undef = 0x7fffffffffffffffn;
    const o = c.open;
    const h = c.high;
    const l = c.low;
    const cl = c.close;
    return [
      micros(c.tsEventUs),
      id,
      symbol,
      px(o === undef, o),
      px(h === undef, h),
      px(l === undef, l),
      px(cl === undef, cl),
      volume,
      OHLCV_GRANULARITY[c.rtype]!,
      c.publisherId,
    ];
  }
}

class StatisticsMapper extends CursorMapper<StatCursor> {
  readonly table = 'statistics_data' as const;
  constructor() {
    super(new StatCursor());
  }
  accepts(rtype: number): boolean {
    return rtype === RTYPE.STATISTICS;
  }
  protected row(c: StatCursor, id: number, symbol: string | null): CellValue[] | string {
    const statType = c.statType;
    const channel = c.channelId;
    // timestamp, ts_recv, ts_ref, instrument_id, symbol, stat_type, stat_type_name, price, quantity,
    // sequence, ts_in_delta, channel_id, update_action, stat_flags, publisher_id
    const tsRef = c.tsRefUs;
    return [
      micros(c.tsEventUs),
      micros(c.tsRecvUs),
      tsRef === 0 ? null : micros(tsRef),
      id,
      symbol,
      statType > INT2_MAX ? -1 : statType,
      STAT_TYPE_NAMES[statType] ?? `stat_type_${statType}`,
      px(c.priceUndef, c.priceUndef ? 0n : c.price),
      c.quantityUndef ? null : c.quantity,
      BigInt(c.sequence),
      c.tsInDelta,
      channel === 0xffff ? null : channel,
      c.updateAction,
      c.statFlags,
      c.publisherId,
    ];
  }
}

export function mapperFor(table: TableName): DbnMapper {
  switch (table) {
    case 'trades_data':
      return new TradesMapper();
    case 'tbbo_data':
      return new TbboMapper();
    case 'ohlcv_data':
      return new OhlcvMapper();
    case 'statistics_data':
      return new StatisticsMapper();
    default:
      throw new Error(`no DBN mapping into ${table} by COPY; definitions go through DefinitionsLoader`);
  }
}

/** Default target table of a DBN schema (metadata schema code). */
export function tableForSchema(schema: number | null): TableName | null {
  switch (schema) {
    case 1:
    case 3:
      return 'tbbo_data'; // mbp-1, tbbo
    case 4:
      return 'trades_data';
    case 5:
    case 6:
    case 7:
    case 8:
    case 13:
      return 'ohlcv_data';
    case 9:
      return 'instrument_definitions';
    case 10:
      return 'statistics_data';
    default:
      return null;
  }
}
