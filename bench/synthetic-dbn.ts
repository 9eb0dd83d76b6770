/**
 * The synthetic trades of synthetic-trades.ts as a historical DBN trades file (what a Databento
 * download looks like: raw-symbol request, mappings, records in time order across symbols), and
 * the same rows as CSV in the column order of `trades_data`, for a server-side `COPY FROM` file
 * reference. Both streamed: a 100M-row file never exists in memory.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type TradeRecord as DbnTrade, writeDbn } from '../src/dbn/index.js';
import { DEFAULT_START_NS, INSTRUMENTS, nsToIsoMicros, priceText, rawTrades, type SyntheticTradesOptions } from './synthetic-trades.js';

const PUBLISHER = 1;

/** YYYYMMDD of epoch ns (UTC). */
function yyyymmdd(ns: bigint): number {
  const d = new Date(Number(ns / 1_000_000n));
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

function* dbnTrades(opts: SyntheticTradesOptions): Generator<DbnTrade> {
  const r: DbnTrade = {
    kind: 'trade',
    rtype: 0,
    publisherId: PUBLISHER,
    instrumentId: 0,
    tsEvent: 0n,
    price: 0n,
    size: 0,
    action: 'T',
    side: 'B',
    flags: 0,
    depth: 0,
    tsRecv: 0n,
    tsInDelta: 0,
    sequence: 0,
  };
  for (const t of rawTrades(opts)) {
    r.instrumentId = t.ins.instrumentId;
    r.tsEvent = t.ts;
    r.tsRecv = t.ts; // recv = event: the file is in time order, as a historical download of one venue
    r.price = t.price;
    r.size = t.size;
    r.side = t.side === 'S' ? 'A' : 'B';
    r.sequence = t.seq;
    yield r;
  }
}

/** Writes the stream as a DBN v3 trades file (zstd when the name ends in .zst). Returns the record count. */
export async function writeSyntheticTradesDbn(file: string, opts: SyntheticTradesOptions): Promise<number> {
  const start = opts.startNs ?? DEFAULT_START_NS;
  const end = start + BigInt(Math.ceil((opts.hours ?? 23) * 3_600e9)) + 86_400_000_000_000n;
  const r = await writeDbn({
    version: 3,
    schema: 'trades',
    dataset: 'GLBX.MDP3',
    start,
    records: dbnTrades(opts),
    compress: file.endsWith('.zst') ? 'zstd' : 'none',
    path: file,
    stypeIn: 1,
    stypeOut: 0,
    symbols: INSTRUMENTS.map((x) => x.symbol),
    mappings: INSTRUMENTS.map((x) => ({
      rawSymbol: x.symbol,
      intervals: [{ startDate: yyyymmdd(start), endDate: yyyymmdd(end), symbol: String(x.instrumentId) }],
    })),
  });
  return r.records;
}

/** The CSV columns, in this order: what `COPY trades_data (...) FROM file (FORMAT csv)` names. */
export const CSV_COLUMNS = ['timestamp', 'instrument_id', 'symbol', 'price', 'size', 'side', 'trade_id', 'publisher_id'] as const;

/** The rows a load of writeSyntheticTradesDbn's file stores, as CSV (side A→S, trade_id publisher:sequence). */
export async function writeSyntheticTradesCsv(file: string, opts: SyntheticTradesOptions): Promise<void> {
  const ws = createWriteStream(file);
  let buf = '';
  for (const t of rawTrades(opts)) {
    buf += `${nsToIsoMicros(t.ts)},${t.ins.instrumentId},${t.ins.symbol},${priceText(t.price)},${t.size},${t.side},${PUBLISHER}:${t.seq},${PUBLISHER}\n`;
    if (buf.length >= 1 << 16) {
      if (!ws.write(buf)) await once(ws, 'drain');
      buf = '';
    }
  }
  ws.end(buf);
  await once(ws, 'close');
}
