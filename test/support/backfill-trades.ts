/**
 * Helpers of the backfill tests: a small deterministic trade layout (whole seconds, two prices
 * per instrument) whose exact stored text is known in advance, and chunk-state readers.
 */
import type { Engine, Queryable } from '../../src/engine/types.js';
import type { TradeRecord } from '../../src/load/loaders.js';
import { tradesData } from '../../src/schema/tables.js';
import { snapshot } from './db.js';

export const SYMBOLS: Record<number, string> = { 101: 'ESH4', 102: 'NQH4', 103: 'CLJ4', 104: 'GCJ4' };

/** A trade at `day`T`hour`:00:00 + `second` s. */
export function trade(
  day: string,
  hour: number,
  second: number,
  instrument: number,
  tradeId: string,
  price: string,
  size = 1,
): TradeRecord {
  const t = new Date(`${day}T${String(hour).padStart(2, '0')}:00:00Z`).getTime() + second * 1000;
  return {
    timestamp: new Date(t).toISOString(),
    instrument_id: instrument,
    symbol: SYMBOLS[instrument]!,
    price,
    size,
    side: second % 2 ? 'B' : 'S',
    trade_id: tradeId,
  };
}

/** The row as snapshot() renders it (timestamps UTC text, NUMERIC(20,8)). */
export function expectedRow(r: TradeRecord): string[] {
  const d = new Date(r.timestamp as string);
  const ts = d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$/, '');
  const [int, frac = ''] = String(r.price).split('.');
  return [
    ts,
    String(r.instrument_id),
    r.symbol,
    `${int}.${frac.padEnd(8, '0')}`,
    String(r.size),
    r.side,
    r.trade_id ?? null,
    String(r.publisher_id ?? 0),
  ] as string[];
}

const key = (row: readonly (string | null)[]) => JSON.stringify(row);

/** Rows of trades_data in [from, to) as sorted JSON lines. */
export async function tradesIn(db: Queryable, from: string, to: string): Promise<string[]> {
  const rows = await snapshot(db, tradesData, `"timestamp" >= $1::timestamptz AND "timestamp" < $2::timestamptz`, [from, to]);
  return rows.map(key).sort();
}

/** Expected contents: records in order, last version per (instrument, timestamp, trade_id) wins. */
export function expectedLastWins(records: readonly TradeRecord[]): string[] {
  const m = new Map<string, string[]>();
  for (const r of records) {
    const row = expectedRow(r);
    m.set(key([row[0]!, row[1]!, row[6]!]), row);
  }
  return [...m.values()].map(key).sort();
}

/** Expected contents: the first version per key wins (append: later ones are duplicates). */
export function expectedFirstWins(records: readonly TradeRecord[]): string[] {
  const m = new Map<string, string[]>();
  for (const r of records) {
    const row = expectedRow(r);
    const k = key([row[0]!, row[1]!, row[6]!]);
    if (!m.has(k)) m.set(k, row);
  }
  return [...m.values()].map(key).sort();
}

export interface ChunkState {
  chunk: string;
  start: string;
  compressed: boolean;
  partial: boolean;
}

/**
 * Chunks of trades_data starting in [from, to). `compressed` means fully compressed: a chunk that
 * received rows after compression ("partially compressed", status bit 8) is not.
 */
export async function chunkStates(db: Queryable, from: string, to: string): Promise<ChunkState[]> {
  const { rows } = await db.query<ChunkState>(
    `SELECT format('%I.%I', i.chunk_schema, i.chunk_name) AS chunk, to_char(i.range_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS start,
            (i.is_compressed AND (c.status & 8) = 0) AS compressed, (c.status & 8) <> 0 AS partial
       FROM timescaledb_information.chunks i
       JOIN _timescaledb_catalog.chunk c ON c.schema_name = i.chunk_schema AND c.table_name = i.chunk_name
      WHERE i.hypertable_name = 'trades_data' AND i.range_start >= $1::timestamptz AND i.range_start < $2::timestamptz
      ORDER BY i.range_start`,
    [from, to],
  );
  return rows;
}

export async function compressRange(engine: Engine, from: string, to: string): Promise<string[]> {
  const chunks = await chunkStates(engine, from, to);
  for (const c of chunks) await engine.query('SELECT compress_chunk($1::regclass, if_not_compressed => true)', [c.chunk]);
  return chunks.map((c) => c.chunk);
}

/** trades_candles_1m and _1h next to the same candles computed from the raw trades, in [from, to). */
export async function candlesVsRaw(
  engine: Engine,
  view: string,
  width: string,
  from: string,
  to: string,
): Promise<{ view: string[]; raw: string[] }> {
  const line = `(extract(epoch FROM b) * 1000000)::int8 || ' ' || s || ' ' || o || ' ' || h || ' ' || l || ' ' || c || ' ' || v || ' ' || n AS line`;
  const v = await engine.query<{ line: string }>(
    `SELECT ${line} FROM (SELECT bucket AS b, symbol AS s, open_price AS o, high_price AS h, low_price AS l, close_price AS c, volume AS v, trade_count AS n
       FROM ${view} WHERE bucket >= $1::timestamptz AND bucket < $2::timestamptz) x ORDER BY 1`,
    [from, to],
  );
  const r = await engine.query<{ line: string }>(
    `SELECT ${line} FROM (SELECT time_bucket($3::interval, "timestamp") AS b, symbol AS s, first(price, "timestamp") AS o, max(price) AS h, min(price) AS l,
            last(price, "timestamp") AS c, sum(size) AS v, count(*) AS n FROM trades_data
      WHERE "timestamp" >= $1::timestamptz AND "timestamp" < $2::timestamptz GROUP BY 1, 2) x ORDER BY 1`,
    [from, to, width],
  );
  return { view: v.rows.map((x) => x.line), raw: r.rows.map((x) => x.line) };
}
