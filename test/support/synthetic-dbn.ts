/** Synthetic DBN files (writeDbn) for the cases the real fixtures do not cover. */
import type { DbnRecord, TradeRecord } from '../../src/dbn/records.js';
import { writeDbn, type WriteDbnOptions } from '../../src/dbn/writer.js';
import { T0 } from './time.js';

/** Synthetic files map instrument 42 to TESTH4 on T0's UTC day. */
export const SYNTH_ID = 42;
export const SYNTH_SYMBOL = 'TESTH4';

/** sideN: side 'N' (no aggressor, stored); badSide: side 'X' (no DBN side: quarantined by trades_side_check). */
export interface TradeOpts {
  id?: number;
  sideN?: (i: number) => boolean;
  badSide?: (i: number) => boolean;
  tsOut?: boolean;
  stepNs?: bigint;
}

/** n trades of instrument 42: sub-µs timestamps (so truncation matters), 9-digit prices, sides A/B (N or X where asked). */
export function synthTrades(n: number, o: TradeOpts = {}): TradeRecord[] {
  return [...synthTradeStream(n, o)];
}

/** The same trades one at a time (a file of millions of rows without holding them). */
export function* synthTradeStream(n: number, o: TradeOpts = {}): Generator<TradeRecord> {
  const step = o.stepNs ?? 1_000_000_123n;
  for (let i = 0; i < n; i++) {
    const ts = T0 + BigInt(i) * step + 999n;
    yield {
      kind: 'trade',
      rtype: 0,
      publisherId: 1,
      instrumentId: o.id ?? SYNTH_ID,
      tsEvent: ts,
      price: 4_780_250_000_000n + BigInt(i % 50) * 250_000_000n + BigInt(i % 3),
      size: 1 + (i % 7),
      action: 'T',
      side: o.badSide?.(i) ? 'X' : o.sideN?.(i) ? 'N' : i % 2 ? 'A' : 'B',
      flags: 0,
      depth: 0,
      tsRecv: ts + 1_500n,
      tsInDelta: 100 + i,
      sequence: 1000 + i,
      ...(o.tsOut ? { tsOut: ts + 9_000n } : {}),
    };
  }
}

export const SYNTH_MAPPINGS: WriteDbnOptions['mappings'] = [
  { rawSymbol: SYNTH_SYMBOL, intervals: [{ startDate: 20240102, endDate: 20240103, symbol: String(SYNTH_ID) }] },
];

/** Writes `records` as a DBN file (or returns the bytes when `file` is omitted). */
export async function writeSynth(
  records: Iterable<DbnRecord>,
  o: Partial<WriteDbnOptions> & { file?: string } = {},
): Promise<Uint8Array | undefined> {
  const r = await writeDbn({
    version: 3,
    schema: 'trades',
    dataset: 'TEST.SYNTH',
    start: T0,
    stypeIn: 1,
    stypeOut: 0,
    symbols: [SYNTH_SYMBOL],
    mappings: SYNTH_MAPPINGS,
    ...o,
    records,
    path: o.file,
  });
  return r.bytes;
}

/** Length of prelude + metadata of an uncompressed DBN buffer: where records start. */
export function headerLength(bytes: Uint8Array): number {
  return 8 + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
}
