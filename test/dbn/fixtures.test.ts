import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CHAR,
  DefinitionCursor,
  Mbp1Cursor,
  OhlcvCursor,
  StatCursor,
  SymbolMappingCursor,
  TradeCursor,
  UNDEF_PRICE,
  UNDEF_STAT_QUANTITY,
  UNDEF_TIMESTAMP,
  type DefinitionRecord,
  type Mbp1Record,
  type OhlcvRecord,
  type StatRecord,
  type TradeRecord,
  newFixedParts,
  openDbn,
  writeDbn,
} from '../../src/dbn/index.js';
import { fixture, fixtureFiles, readAll, sourceTable } from '../support/fixtures.js';

const table = sourceTable();
const files = fixtureFiles();

describe('DBN fixtures against SOURCE.md', () => {
  it('SOURCE.md lists every fixture file', () => {
    expect(files.length).toBe(80);
    expect([...table.keys()].sort()).toEqual([...files].sort());
  });

  it.each(files)('%s decodes with the documented version, schema, dataset, count and ids', async (file) => {
    const row = table.get(file)!;
    expect(readFileSync(fixture(file)).length).toBe(row.bytes);
    const { records, decoder } = await readAll(fixture(file));
    const md = decoder.metadata;
    expect(md.version).toBe(row.version);
    expect(decoder.compressed).toBe(row.compression === 'zstd');
    expect(md.dataset).toBe(row.dataset);
    expect(md.schemaName ?? 'mixed').toBe(row.schema);
    expect(records.length).toBe(row.records);
    expect(decoder.recordCount).toBe(row.records);
    expect(md.symbols).toEqual(row.symbols);
    expect([...new Set(records.map((r) => r.instrumentId))].sort((a, b) => a - b)).toEqual(row.instrumentIds);
    expect(md.tsOut).toBe(false);
    // Record kinds agree with the schema (mixed LIVE aside).
    const kind =
      {
        trades: 'trade',
        tbbo: 'mbp1',
        'mbp-1': 'mbp1',
        statistics: 'stat',
        definition: 'definition',
        status: 'status',
        imbalance: 'imbalance',
      }[row.schema] ?? (row.schema.startsWith('ohlcv') ? 'ohlcv' : undefined);
    if (kind) for (const r of records) expect(r.kind).toBe(kind);
  });
});

describe('field values', () => {
  it.each(['test_data.trades.dbn', 'test_data.trades.v1.dbn.zst', 'test_data.trades.v2.dbn.zst', 'test_data.trades.v3.dbn.zst'])(
    'ESH1 trades in %s',
    async (file) => {
      const { records, decoder } = await readAll(fixture(file));
      const t = records as TradeRecord[];
      expect(t.map((r) => r.price)).toEqual([3720250000000n, 3720250000000n]); // 3720.25
      expect(t.map((r) => r.size)).toEqual([5, 21]);
      expect(t.map((r) => r.side)).toEqual(['A', 'A']);
      expect(t.map((r) => r.action)).toEqual(['T', 'T']);
      expect(t.map((r) => r.flags)).toEqual([129, 129]);
      expect(t[0]).toMatchObject({
        rtype: 0,
        publisherId: 1,
        instrumentId: 5482,
        tsEvent: 1609160400098821953n,
        tsRecv: 1609160400099150057n,
        tsInDelta: 19251,
        sequence: 1170380,
      });
      expect(decoder.metadata.mappings).toEqual([
        { rawSymbol: 'ESH1', intervals: [{ startDate: 20201228, endDate: 20201229, symbol: '5482' }] },
      ]);
      expect(decoder.rtypeCounts()).toEqual({ 0: 2 });
    },
  );

  it('hot-path cursor reads the same trade values without BigInt', async () => {
    const d = await openDbn(fixture('test_data.trades.v3.dbn.zst'));
    const c = new TradeCursor();
    const parts = newFixedParts();
    const seen: unknown[] = [];
    for await (const b of d.batches()) {
      c.reset(b);
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        expect(c.priceParts(parts)).toBe(true);
        seen.push([Array.from(parts), c.size, c.side === CHAR.A, c.tsRecvUs, c.tsEventUs, c.instrumentId, c.sequence]);
      }
    }
    expect(seen[0]).toEqual([[1, 3720, 250000000], 5, true, 1609160400099150, 1609160400098821, 5482, 1170380]);
  });

  it('tbbo carries the BBO before the trade', async () => {
    const { records } = await readAll(fixture('test_data.tbbo.v3.dbn.zst'));
    expect(records[0]).toMatchObject({
      kind: 'mbp1',
      price: 3720250000000n,
      side: 'A',
      bidPx: 3720250000000n,
      askPx: 3720500000000n,
      bidSz: 26,
      askSz: 7,
      bidCt: 16,
      askCt: 6,
    });
  });

  it('empty book sides are UNDEF_PRICE with size 0 (IFEU tbbo, EQUS mbp-1 clear)', async () => {
    const ifeu = (await readAll(fixture('databento-python/IFEU.IMPACT/test_data.tbbo.dbn.zst'))).records as Mbp1Record[];
    for (const r of ifeu) expect(r).toMatchObject({ side: 'N', bidPx: UNDEF_PRICE, askPx: UNDEF_PRICE, bidSz: 0, askSz: 0 });
    // ts_event goes backwards in this ts_recv-ordered file
    expect(ifeu[1]!.tsEvent < ifeu[0]!.tsEvent).toBe(true);
    const equs = (await readAll(fixture('databento-python/EQUS.MINI/test_data.mbp-1.dbn.zst'))).records as Mbp1Record[];
    expect(equs[0]).toMatchObject({ action: 'R', side: 'N', price: UNDEF_PRICE, bidPx: UNDEF_PRICE, askPx: UNDEF_PRICE });
    const d = await openDbn(fixture('databento-python/EQUS.MINI/test_data.mbp-1.dbn.zst'));
    const c = new Mbp1Cursor();
    const parts = newFixedParts();
    const undef: boolean[] = [];
    for await (const b of d.batches()) {
      c.reset(b);
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        undef.push(c.priceUndef, c.bidPxUndef, c.bidPxParts(parts));
      }
    }
    expect(undef).toEqual([true, true, false, false, true, false, false, false, true, false, false, true]);
  });

  it('ohlcv-1h bars (the old 100x capture) and granularity from rtype', async () => {
    const { records } = await readAll(fixture('test_data.ohlcv-1h.v1.dbn.zst'));
    expect(records[0]).toMatchObject({
      kind: 'ohlcv',
      rtype: 0x22,
      granularity: '1h',
      open: 372025000000000n,
      high: 372350000000000n,
      low: 372025000000000n,
      close: 372225000000000n,
      volume: 9385n,
      tsEvent: 1609160400000000000n,
    });
    for (const [f, g] of [
      ['test_data.ohlcv-1s.dbn', '1s'],
      ['test_data.ohlcv-1m.dbn', '1m'],
      ['databento-python/GLBX.MDP3/test_data.ohlcv-1d.dbn.zst', '1d'],
    ] as const) {
      const rs = (await readAll(fixture(f))).records as OhlcvRecord[];
      expect(rs.every((r) => r.granularity === g)).toBe(true);
    }
    const d = await openDbn(fixture('test_data.ohlcv-1h.dbn'));
    const c = new OhlcvCursor();
    const parts = newFixedParts();
    for await (const b of d.batches()) {
      c.reset(b).at(0);
      c.openParts(parts);
      expect(Array.from(parts)).toEqual([1, 372025, 0]);
      expect(c.volumeNumber).toBe(9385);
    }
  });

  it('ohlcv-1d set A is metadata only: zero records', async () => {
    for (const f of ['test_data.ohlcv-1d.dbn', 'test_data.ohlcv-1d.v1.dbn.zst', 'test_data.ohlcv-1d.v3.dbn.zst']) {
      const { records, decoder } = await readAll(fixture(f));
      expect(records).toEqual([]);
      expect(decoder.metadata.symbols).toEqual(['ESH1']);
    }
  });

  it.each([1, 2, 3])('statistics v%i: i32 vs i64 quantity, UNDEF sentinels, stat types 7 and 5', async (v) => {
    const { records, decoder } = await readAll(fixture(`test_data.statistics.v${v}.dbn.zst`));
    const s = records as StatRecord[];
    expect(s.map((r) => r.statType)).toEqual([7, 5]);
    for (const r of s)
      expect(r).toMatchObject({
        price: 100000000000n,
        quantity: UNDEF_STAT_QUANTITY,
        tsRef: UNDEF_TIMESTAMP,
        statFlags: 255,
        updateAction: 1,
        channelId: 13,
      });
    expect(decoder.metadata).toMatchObject({ stypeIn: 0, mappings: [], start: 2814749767106560n, end: null });
    const d = await openDbn(fixture(`test_data.statistics.v${v}.dbn.zst`));
    const c = new StatCursor();
    for await (const b of d.batches()) {
      c.reset(b).at(1);
      expect([c.quantityUndef, c.quantity, c.statType, c.sequence, c.tsInDelta, Number.isNaN(c.tsRefUs)]).toEqual([
        true,
        UNDEF_STAT_QUANTITY,
        5,
        7,
        28456,
        true,
      ]);
    }
  });

  it('statistics in LIVE: open interest and cleared volume quantities', async () => {
    const s = (await readAll(fixture('databento-python/LIVE/test_data.live.dbn.zst'))).records.filter(
      (r): r is StatRecord => r.kind === 'stat',
    );
    expect(s.find((r) => r.statType === 9)).toMatchObject({ quantity: 1768n, price: UNDEF_PRICE, tsRef: 1700438400000000000n });
    expect(s.find((r) => r.statType === 6)).toMatchObject({ quantity: 8n });
    expect(new Set(s.map((r) => r.statType))).toEqual(new Set([3, 6, 7, 8, 9]));
  });

  it.each([1, 2, 3])('XNAS MSFT definition v%i: undefined tick/multiplier/expiration, empty currency and asset', async (v) => {
    const d = (await readAll(fixture(`test_data.definition.v${v}.dbn.zst`))).records as DefinitionRecord[];
    expect(d.map((r) => r.instrumentId)).toEqual([6819, 6830]);
    for (const r of d) {
      expect(r).toMatchObject({
        rawSymbol: 'MSFT',
        exchange: 'XNAS',
        currency: '',
        asset: '',
        instrumentClass: 'K',
        securityUpdateAction: 'A',
        minPriceIncrement: UNDEF_PRICE,
        unitOfMeasureQty: UNDEF_PRICE,
        expiration: UNDEF_TIMESTAMP,
        strikePrice: UNDEF_PRICE,
        group: 'pxnas-1',
      });
    }
    if (v < 3) expect(d[0]!.tradingReferencePrice).toBe(UNDEF_PRICE);
    else expect(d[0]!.legCount).toBe(0);
  });

  it.each([1, 2, 3])('definition and symbol-mapping cursors read the v%i layout', async (v) => {
    const d = await openDbn(fixture(`test_data.definition.v${v}.dbn.zst`));
    const c = new DefinitionCursor();
    const seen: unknown[] = [];
    for await (const b of d.batches()) {
      c.reset(b);
      for (let i = 0; i < b.count; i++) {
        c.at(i);
        seen.push([
          c.instrumentId,
          c.rawSymbol,
          c.exchange,
          c.currency,
          c.instrumentClass,
          c.securityUpdateAction,
          c.minPriceIncrement,
          c.has('legCount'),
          c.has('tradingReferencePrice'),
        ]);
      }
    }
    expect(seen).toEqual([6819, 6830].map((id) => [id, 'MSFT', 'XNAS', '', 'K', 'A', UNDEF_PRICE, v === 3, v < 3]));
    for (const version of [1, 3] as const) {
      const { bytes } = await writeDbn({
        version,
        schema: null,
        records: [
          {
            kind: 'symbolMapping',
            rtype: 0x16,
            publisherId: 0,
            instrumentId: 9,
            tsEvent: 1n,
            stypeIn: 4,
            stypeInSymbol: 'ES.FUT',
            stypeOut: 1,
            stypeOutSymbol: 'ESZ4',
            startTs: 5n,
            endTs: 6n,
          },
        ],
      });
      const m = new SymbolMappingCursor();
      for await (const b of (await openDbn(bytes!)).batches()) {
        m.reset(b).at(0);
        expect([m.stypeIn, m.stypeInSymbol, m.stypeOut, m.stypeOutSymbol, m.startTs, m.endTs]).toEqual([
          version === 1 ? null : 4,
          'ES.FUT',
          version === 1 ? null : 1,
          'ESZ4',
          5n,
          6n,
        ]);
      }
    }
  });

  it('definitions: GLBX ESH1 (tick 0.25, 50 IPNT) and IFEU Brent (tick 0.01, 1000 bbl)', async () => {
    const [es] = (await readAll(fixture('databento-python/GLBX.MDP3/test_data.definition.dbn.zst'))).records as DefinitionRecord[];
    expect(es).toMatchObject({
      rawSymbol: 'ESH1',
      asset: 'ES',
      exchange: 'XCME',
      currency: 'USD',
      instrumentClass: 'F',
      minPriceIncrement: 250000000n,
      unitOfMeasureQty: 50000000000n,
      unitOfMeasure: 'IPNT',
      securityType: 'FUT',
      cfi: 'FFIXSX',
      maturityYear: 2021,
      maturityMonth: 3,
      expiration: 1616160600000000000n,
    });
    const [brn] = (await readAll(fixture('databento-python/IFEU.IMPACT/test_data.definition.dbn.zst'))).records as DefinitionRecord[];
    expect(brn).toMatchObject({
      instrumentId: 5617221,
      instrumentClass: 'F',
      minPriceIncrement: 10000000n,
      unitOfMeasureQty: 1000000000000n,
      exchange: 'IFEU',
    });
    const [qqq] = (await readAll(fixture('databento-python/EQUS.MINI/test_data.definition.dbn.zst'))).records as DefinitionRecord[];
    expect(qqq).toMatchObject({
      rawSymbol: 'QQQ',
      exchange: '',
      asset: '',
      currency: '',
      instrumentClass: 'K',
      minPriceIncrement: UNDEF_PRICE,
    });
  });

  it('status and imbalance records decode on the slow path', async () => {
    const st = (await readAll(fixture('test_data.status.v3.dbn.zst'))).records;
    expect(st[0]).toMatchObject({ kind: 'status', action: 7, reason: 1, isTrading: 'Y', isQuoting: 'Y', isShortSellRestricted: '~' });
    const im = (await readAll(fixture('test_data.imbalance.v1.dbn.zst'))).records;
    expect(im[0]).toMatchObject({
      kind: 'imbalance',
      instrumentId: 9439,
      refPrice: 229430000000n,
      totalImbalanceQty: 2000,
      side: 'B',
      auctionType: 'O',
      contBookClrPrice: 0n,
    });
  });

  it('LIVE mixed stream: counts by rtype, unknown rtypes skipped as "other"', async () => {
    const { records, decoder } = await readAll(fixture('databento-python/LIVE/test_data.live.dbn.zst'));
    expect(decoder.metadata).toMatchObject({ schema: null, stypeIn: null, mappings: [] });
    expect(decoder.rtypeCounts()).toEqual({ 0x00: 2, 0x01: 2, 0x0a: 2, 0x13: 2, 0x16: 20, 0x18: 9, 0x20: 2, 0x21: 2, 0xa0: 5 });
    const other = records.filter((r) => r.kind === 'other');
    expect(other.map((r) => r.rtype).sort()).toEqual([10, 10, 160, 160, 160, 160, 160]);
    expect(records.find((r) => r.kind === 'symbolMapping')).toMatchObject({
      stypeInSymbol: 'ESZ4',
      stypeOutSymbol: 'ESZ4',
      stypeIn: 255,
      startTs: UNDEF_TIMESTAMP,
      endTs: UNDEF_TIMESTAMP,
    });
  });
});
