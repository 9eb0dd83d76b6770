/**
 * The DBN end-to-end benchmark's trades (bench/dbn-e2e-bench.ts), shared with the CSV/Parquet
 * source benchmark (bench/source-bench.ts) so both measure the same rows.
 */
import { chmodSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { TradeRecord } from '../src/dbn/index.js';
import { nsToIsoMicros, priceText } from './synthetic-trades.js';

export const START_NS = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z
export const INSTRUMENTS = [
  { id: 5482, symbol: 'ESH4' },
  { id: 5483, symbol: 'ESM4' },
  { id: 5484, symbol: 'NQH4' },
  { id: 5485, symbol: 'NQM4' },
];

/** One trade per ~4 ms over ~11 h of 2024-01-01 for 10M records; sides A/B only, so every row loads. */
export function* trades(n: number): Generator<TradeRecord & { symbolIndex: number }> {
  const r = {
    kind: 'trade' as const,
    rtype: 0,
    publisherId: 1,
    instrumentId: 5482,
    tsEvent: 0n,
    price: 0n,
    size: 1,
    action: 'T',
    side: 'A',
    flags: 130,
    depth: 0,
    tsRecv: 0n,
    tsInDelta: 14_000,
    sequence: 0,
    symbolIndex: 0,
  };
  let ts = START_NS;
  let ticks = 19_000; // 4750.00 in 0.25 ticks
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // exact 32-bit LCG (a plain * loses low bits past 2^53)
    ts += BigInt(1 + (seed % 8_000_000)); // ~4 ms apart on average, nanosecond jitter
    ticks += ((seed >>> 8) % 3) - 1;
    r.symbolIndex = (seed >>> 12) % 4;
    r.instrumentId = INSTRUMENTS[r.symbolIndex]!.id;
    r.tsEvent = ts;
    r.tsRecv = ts + BigInt(10_000 + ((seed >>> 4) % 9000));
    r.price = BigInt(ticks) * 250_000_000n;
    r.size = 1 + ((seed >>> 16) % 7 === 0 ? (seed >>> 20) % 200 : (seed >>> 20) % 4);
    r.side = seed & 1 ? 'A' : 'B';
    r.sequence = i;
    yield r;
  }
}

/** trades_data's columns, as written by tableCsv (and named in its header). */
export const TABLE_CSV_COLUMNS = ['timestamp', 'instrument_id', 'symbol', 'price', 'size', 'side', 'trade_id'] as const;

/**
 * The trades as a CSV in trades_data's own shape (ISO µs timestamps, decimal prices, trade_id
 * "<publisher>:<sequence>"), readable by the server's COPY FROM and, with `header`, by tickvault's
 * CSV source without a mapping; world-readable, for the server process.
 */
export async function writeTableCsv(file: string, records: number, options: { header?: boolean } = {}): Promise<void> {
  const ws = createWriteStream(file);
  let buf = options.header ? `${TABLE_CSV_COLUMNS.join(',')}\n` : '';
  for (const r of trades(records)) {
    buf += `${nsToIsoMicros(r.tsEvent)},${r.instrumentId},${INSTRUMENTS[r.symbolIndex]!.symbol},${priceText(r.price)},${r.size},${r.side === 'A' ? 'S' : 'B'},${r.publisherId}:${r.sequence}\n`;
    if (buf.length >= 1 << 16) {
      if (!ws.write(buf)) await once(ws, 'drain');
      buf = '';
    }
  }
  ws.end(buf);
  await once(ws, 'close');
  chmodSync(file, 0o644);
}
