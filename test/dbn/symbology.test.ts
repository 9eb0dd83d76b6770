import { describe, expect, it } from 'vitest';
import {
  type DbnMetadata,
  type DbnRecord,
  type RecordBatch,
  STYPE,
  SymbolMap,
  type TradeRecord,
  openDbn,
  writeDbn,
  yyyymmddToMicros,
} from '../../src/dbn/index.js';
import { fixture } from '../support/fixtures.js';

/** Resolves every record of a decoded input with a SymbolMap built from its metadata. */
async function resolveAll(input: string | Uint8Array): Promise<{ symbols: (string | null)[]; map: SymbolMap; metadata: DbnMetadata }> {
  const d = await openDbn(input);
  const map = SymbolMap.fromMetadata(d.metadata);
  const symbols: (string | null)[] = [];
  const out: (string | null)[] = [];
  for await (const b of d.batches()) {
    map.resolveBatch(b, out);
    symbols.push(...out.slice(0, b.count));
  }
  return { symbols, map, metadata: d.metadata };
}

const NS_PER_DAY = 86_400_000_000_000n;
const day = (yyyymmdd: number): bigint => BigInt(yyyymmddToMicros(yyyymmdd)) * 1000n;

function trade(instrumentId: number, tsRecv: bigint, tsEvent = tsRecv): TradeRecord {
  return {
    kind: 'trade',
    rtype: 0,
    publisherId: 1,
    instrumentId,
    tsEvent,
    price: 1_000_000_000n,
    size: 1,
    action: 'T',
    side: 'B',
    flags: 0,
    depth: 0,
    tsRecv,
    tsInDelta: 0,
    sequence: 0,
  };
}

describe('instrument_id -> symbol', () => {
  it('raw_symbol request (ESH1 fixture): rows get the requested symbol on the mapped day', async () => {
    const { symbols, map } = await resolveAll(fixture('test_data.trades.v2.dbn.zst'));
    expect(symbols).toEqual(['ESH1', 'ESH1']);
    expect(map.unresolvedIds()).toEqual([]);
    expect(map.resolve(5482, yyyymmddToMicros(20201229))).toBeNull(); // end date is exclusive
    expect(map.resolve(5482, yyyymmddToMicros(20201228))).toBe('ESH1'); // start date inclusive
    expect(map.unresolvedIds()).toEqual([5482]);
  });

  it('continuous request: rows get "ES.c.0" whichever contract id it was that day; start inclusive, end exclusive', async () => {
    const mappings = [
      {
        rawSymbol: 'ES.c.0',
        intervals: [
          { startDate: 20240101, endDate: 20240315, symbol: '100' },
          { startDate: 20240315, endDate: 20240620, symbol: '200' },
        ],
      },
    ];
    const records = [
      trade(100, day(20240314) + NS_PER_DAY - 1n), // last ns of 03-14: id 100 still ES.c.0
      trade(100, day(20240315)), // 03-15 00:00: id 100 no longer mapped
      trade(200, day(20240315)),
      trade(200, day(20240620) - 1n),
      trade(200, day(20240620)),
      trade(999, day(20240401)),
    ];
    const { bytes } = await writeDbn({
      version: 3,
      schema: 'trades',
      records,
      stypeIn: STYPE.CONTINUOUS,
      stypeOut: STYPE.INSTRUMENT_ID,
      symbols: ['ES.c.0'],
      mappings,
    });
    const { symbols, map } = await resolveAll(bytes!);
    expect(symbols).toEqual(['ES.c.0', null, 'ES.c.0', 'ES.c.0', null, null]);
    expect(map.unresolvedIds()).toEqual([100, 200, 999]);
    expect(map.unresolvedCounts().get(999)).toBe(1);
  });

  it('the cached interval decides to the microsecond at both edges (nanosecond fast check with margins)', async () => {
    const mappings = [{ rawSymbol: 'ESM4', intervals: [{ startDate: 20240315, endDate: 20240620, symbol: '100' }] }];
    const start = day(20240315);
    const end = day(20240620);
    const deltas = [-5000n, -4097n, -4096n, -1025n, -1000n, -999n, -1n, 0n, 1n, 999n, 1000n, 1025n, 4095n, 4096n, 5000n];
    const records: TradeRecord[] = [];
    const expected: (string | null)[] = [];
    for (const edge of [start, end]) {
      for (const d of deltas) {
        records.push(trade(100, day(20240401))); // warms the cache with the interval
        expected.push('ESM4');
        records.push(trade(100, edge + d));
        const us = (edge + d) / 1000n; // floor: every value here is positive
        expected.push(us >= start / 1000n && us < end / 1000n ? 'ESM4' : null);
      }
    }
    const { bytes } = await writeDbn({
      version: 3,
      schema: 'trades',
      records,
      stypeIn: STYPE.RAW_SYMBOL,
      stypeOut: STYPE.INSTRUMENT_ID,
      symbols: ['ESM4'],
      mappings,
    });
    const { symbols } = await resolveAll(bytes!);
    expect(symbols).toEqual(expected);
  });

  it('the index timestamp is ts_recv where the record has it (ts_event for OHLCV)', async () => {
    const mappings = [
      { rawSymbol: 'NEWDAY', intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '7' }] },
      { rawSymbol: 'OLDDAY', intervals: [{ startDate: 20240101, endDate: 20240102, symbol: '7' }] },
    ];
    // Engine time just before midnight, capture time just after: the row belongs to 01-02.
    const t = trade(7, day(20240102) + 100n, day(20240102) - 100n);
    const tr = await writeDbn({ version: 3, schema: 'trades', records: [t], mappings });
    expect((await resolveAll(tr.bytes!)).symbols).toEqual(['NEWDAY']);
    const bar: DbnRecord = {
      kind: 'ohlcv',
      rtype: 0x23,
      publisherId: 1,
      instrumentId: 7,
      tsEvent: day(20240101),
      open: 1n,
      high: 1n,
      low: 1n,
      close: 1n,
      volume: 1n,
    };
    const ohlcv = await writeDbn({ version: 3, schema: 'ohlcv-1d', records: [bar], mappings });
    expect((await resolveAll(ohlcv.bytes!)).symbols).toEqual(['OLDDAY']);
  });

  it('stype_in = instrument_id: the key is the id and rows get the interval symbol', async () => {
    const mappings = [{ rawSymbol: '5482', intervals: [{ startDate: 20201228, endDate: 20201229, symbol: 'ESH1' }] }];
    const { bytes } = await writeDbn({
      version: 2,
      schema: 'trades',
      records: [trade(5482, day(20201228) + 5n)],
      stypeIn: STYPE.INSTRUMENT_ID,
      stypeOut: STYPE.RAW_SYMBOL,
      mappings,
    });
    expect((await resolveAll(bytes!)).symbols).toEqual(['ESH1']);
  });

  it('later intervals win where they overlap', () => {
    const m = new SymbolMap();
    m.addInterval(1, 0, 1000, 'A');
    m.addInterval(1, 500, 2000, 'B');
    expect([m.resolve(1, 100), m.resolve(1, 600), m.resolve(1, 1500), m.resolve(1, 2000)]).toEqual(['A', 'B', 'B', null]);
  });

  it('no mappings (statistics fixture, stype_in=instrument_id): every row unresolved, reported, never faked', async () => {
    const { symbols, map } = await resolveAll(fixture('test_data.statistics.v3.dbn.zst'));
    expect(symbols).toEqual([null, null]);
    expect(map.unresolvedIds()).toEqual([146945]);
    expect(map.unresolvedCounts().get(146945)).toBe(2);
  });

  it('XNAS MSFT: one symbol, a new instrument_id almost every day', async () => {
    const { symbols, metadata } = await resolveAll(fixture('test_data.definition.v3.dbn.zst'));
    const ids = new Set(metadata.mappings.flatMap((m) => m.intervals.map((i) => i.symbol)));
    expect(metadata.mappings[0]!.intervals.length).toBe(62);
    expect(ids.size).toBe(60);
    expect(symbols).toEqual(['MSFT', 'MSFT']);
    const map = SymbolMap.fromMetadata(metadata);
    // 6819 is MSFT on its own day(s) only.
    const ivs = metadata.mappings[0]!.intervals;
    const own = ivs.find((i) => i.symbol === '6819')!;
    const other = ivs.find(
      (i) => i.symbol !== '6819' && !ivs.some((j) => j.symbol === '6819' && j.startDate <= i.startDate && i.startDate < j.endDate),
    )!;
    expect(map.resolve(6819, yyyymmddToMicros(own.startDate))).toBe('MSFT');
    expect(map.resolve(6819, yyyymmddToMicros(other.startDate))).toBeNull();
  });

  it('LIVE: symbol-mapping records in the stream label the records after them', async () => {
    const { symbols, map } = await resolveAll(fixture('databento-python/LIVE/test_data.live.dbn.zst'));
    expect(symbols.length).toBe(46);
    expect(new Set(symbols)).toEqual(new Set(['ESZ4']));
    expect(map.unresolvedIds()).toEqual([]);
  });

  it('a record before any mapping stays unresolved; rows get the requested (input) symbol, the output one when the input is an id', async () => {
    const smr = (id: number, inSym: string, outSym: string): DbnRecord => ({
      kind: 'symbolMapping',
      rtype: 0x16,
      publisherId: 0,
      instrumentId: id,
      tsEvent: 10n,
      stypeIn: STYPE.PARENT,
      stypeInSymbol: inSym,
      stypeOut: STYPE.RAW_SYMBOL,
      stypeOutSymbol: outSym,
      startTs: (1n << 64n) - 1n,
      endTs: (1n << 64n) - 1n,
    });
    const records = [
      trade(5, 1_000_000_000n),
      smr(5, 'ES.FUT', 'ESZ4'),
      trade(5, 2_000_000_000n),
      smr(6, 'CL.FUT', '123'),
      trade(6, 3_000_000_000n),
      smr(7, '7', 'NQZ4'),
      trade(7, 4_000_000_000n),
    ];
    for (const version of [1, 2, 3] as const) {
      const { bytes } = await writeDbn({ version, schema: null, records, stypeIn: null });
      const { symbols, map } = await resolveAll(bytes!);
      expect(symbols).toEqual([null, 'ES.FUT', 'ES.FUT', 'CL.FUT', 'CL.FUT', 'NQZ4', 'NQZ4']);
      expect(map.unresolvedIds()).toEqual([5]);
    }
  });

  it('resolveBatch is cheap per row (cached interval per id)', async () => {
    const n = 200_000;
    const mappings = [
      {
        rawSymbol: 'AAA',
        intervals: Array.from({ length: 300 }, (_, k) => ({ startDate: 20230101 + 0 * k, endDate: 20230101, symbol: '1' })).concat([
          { startDate: 20240101, endDate: 20240201, symbol: '1' },
        ]),
      },
    ];
    const records = (function* () {
      for (let i = 0; i < n; i++) yield trade(1, day(20240110) + BigInt(i) * 1000n);
    })();
    const { bytes } = await writeDbn({ version: 3, schema: 'trades', records, mappings });
    const d = await openDbn(bytes!);
    const map = SymbolMap.fromMetadata(d.metadata);
    const out: (string | null)[] = [];
    const batches: RecordBatch[] = [];
    for await (const b of d.batches()) batches.push(b);
    const t0 = performance.now();
    let missing = 0;
    for (const b of batches) missing += map.resolveBatch(b, out);
    const ms = performance.now() - t0;
    expect(missing).toBe(0);
    expect(out[0]).toBe('AAA');
    expect(ms).toBeLessThan(2000); // generous: ~10-20 ms expected; only catches a quadratic lookup
  });
});
