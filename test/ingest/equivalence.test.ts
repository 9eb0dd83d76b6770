/**
 * The same data as .dbn and .dbn.zst, and as DBN v1, v2 and v3, gives identical table contents
 * (every column but created_at, compared as text). Real data: set A, which has each schema in all
 * three versions plus a plain .dbn. Synthetic data: one record set per table written by writeDbn
 * in 3 versions x {plain, zstd}, with the edge values (UNDEF prices and stat quantities, empty book
 * sides, 9-digit prices, sub-µs timestamps). Both engines, and the two engines agree.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbnRecord } from '../../src/dbn/records.js';
import type { SchemaName } from '../../src/dbn/constants.js';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { DefinitionsLoader } from '../../src/load/definitions.js';
import type { TableName } from '../../src/schema/tables.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { SYNTH_ID, synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { T0 } from '../support/time.js';
import { fixture } from '../support/fixtures.js';
import { reset, tableText } from '../support/db.js';
import { tmpDir } from '../support/tmp.js';

const UNDEF_PRICE = 0x7fffffffffffffffn;
const UNDEF_QTY = 0x7fffffffffffffffn;
const UNDEF_TS = 0xffffffffffffffffn;

const SET_A: [string, TableName][] = [
  ['trades', 'trades_data'],
  ['tbbo', 'tbbo_data'],
  ['mbp-1', 'tbbo_data'],
  ['ohlcv-1s', 'ohlcv_data'],
  ['ohlcv-1m', 'ohlcv_data'],
  ['ohlcv-1h', 'ohlcv_data'],
  ['ohlcv-1d', 'ohlcv_data'],
  ['statistics', 'statistics_data'],
  ['definition', 'instrument_definitions'],
];
const VARIANTS = (s: string) => [
  `test_data.${s}.dbn`,
  `test_data.${s}.v1.dbn.zst`,
  `test_data.${s}.v2.dbn.zst`,
  `test_data.${s}.v3.dbn.zst`,
];

function mbp1(n: number): DbnRecord[] {
  return synthTrades(n).map((t, i) => ({
    ...t,
    kind: 'mbp1' as const,
    rtype: 1,
    bidPx: i % 5 === 0 ? UNDEF_PRICE : t.price - 250_000_000n,
    askPx: i % 7 === 0 ? UNDEF_PRICE : t.price + 250_000_001n,
    bidSz: i % 5 === 0 ? 0 : 10 + i,
    askSz: i % 7 === 0 ? 0 : 3 + i,
    bidCt: 1,
    askCt: 2,
  }));
}
function ohlcv(n: number): DbnRecord[] {
  return Array.from({ length: n }, (_v, i) => {
    const o = 4_780_000_000_000n + BigInt(i) * 123_456_789n;
    return {
      kind: 'ohlcv' as const,
      rtype: 0x21,
      publisherId: 1,
      instrumentId: SYNTH_ID,
      tsEvent: T0 + BigInt(i) * 60_000_000_000n,
      open: o,
      high: o + 1_000_000_000n,
      low: o - 999_999_999n,
      close: o + 5n,
      volume: BigInt(i * 1000),
    };
  });
}
function stats(n: number): DbnRecord[] {
  return Array.from({ length: n }, (_v, i) => ({
    kind: 'stat' as const,
    rtype: 0x18,
    publisherId: 1,
    instrumentId: SYNTH_ID,
    tsEvent: T0 + BigInt(i) * 1_000_000_777n,
    tsRecv: T0 + BigInt(i) * 1_000_000_777n + 5_555n,
    tsRef: i % 2 ? UNDEF_TS : T0 - 36_000_000_000_000n,
    price: i % 3 === 0 ? UNDEF_PRICE : 4_700_123_456_789n + BigInt(i),
    quantity: i % 3 === 0 ? BigInt(1000 + i) : i % 3 === 1 ? UNDEF_QTY : -5n,
    sequence: 10 + i,
    tsInDelta: -i,
    statType: 1 + (i % 13),
    channelId: i % 4 === 0 ? 0xffff : i,
    updateAction: 1 + (i % 2),
    statFlags: i % 256,
  }));
}
const SYNTH: [string, SchemaName, TableName, DbnRecord[]][] = [
  ['trades', 'trades', 'trades_data', synthTrades(40, { sideN: (i) => i % 9 === 4 })],
  ['tbbo', 'tbbo', 'tbbo_data', mbp1(40)],
  ['ohlcv-1m', 'ohlcv-1m', 'ohlcv_data', ohlcv(40)],
  ['statistics', 'statistics', 'statistics_data', stats(40)],
];

/** Per engine: label → table text, for the cross-engine comparison at the end. */
const seen = new Map<string, Map<string, string[]>>();

describe.each(ENGINE_KINDS)('identical contents across DBN versions and compression (%s)', (kind) => {
  let te: TestEngine;
  let tmp: ReturnType<typeof tmpDir>;
  const mine = new Map<string, string[]>();
  seen.set(kind, mine);

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'ingest_equivalence' });
    tmp = tmpDir();
  });
  afterAll(async () => {
    await te?.dispose();
    tmp?.cleanup();
  });

  /** Stores a definition for set A's statistics id (146945) so its rows resolve. */
  async function define146945(): Promise<void> {
    await new DefinitionsLoader({ engine: te.engine }).bulkLoad(
      [
        {
          instrument_id: 146945,
          symbol: 'ESM3 C4100',
          raw_symbol: 'ESM3 C4100',
          asset: 'ES',
          exchange: 'XCME',
          currency: 'USD',
          tick_size: '0.05',
          multiplier: '50',
          ts_recv: '2023-04-23T00:00:00Z',
        },
      ],
      { source: { source: 'def', contentHash: `def:${Math.random()}` } },
    );
  }

  it.each(SET_A)('set A %s: .dbn (v2) = v1 = v2 = v3 .dbn.zst', async (schema, table) => {
    const texts: string[][] = [];
    for (const f of VARIANTS(schema)) {
      await reset(te.engine);
      if (table === 'statistics_data') await define146945();
      const r = await loadDbnFile(te.engine, fixture(f));
      expect(r.status).toBe('completed');
      // Definitions too: since migration 6 the MSFT versions (tick size and multiplier UNDEF) are
      // stored with NULLs, no longer quarantined.
      texts.push(await tableText(te.engine, table));
    }
    const expectedRows = {
      trades: 2,
      tbbo: 2,
      'mbp-1': 2,
      'ohlcv-1s': 2,
      'ohlcv-1m': 2,
      'ohlcv-1h': 2,
      'ohlcv-1d': 0,
      statistics: 2,
      definition: 2,
    }[schema];
    expect(texts[0]).toHaveLength(expectedRows!);
    for (const t of texts.slice(1)) expect(t).toEqual(texts[0]);
    mine.set(`A:${schema}`, texts[0]!);
  });

  it.each(SYNTH)('synthetic %s: v1/v2/v3 x plain/zstd', async (label, schema, table, records) => {
    const texts: string[][] = [];
    for (const version of [1, 2, 3] as const) {
      for (const compress of ['none', 'zstd'] as const) {
        const file = path.join(tmp.dir, `${label}.v${version}.dbn${compress === 'zstd' ? '.zst' : ''}`);
        await writeSynth(records, { file, version, schema, compress });
        await reset(te.engine);
        const r = await loadDbnFile(te.engine, file, { batchSize: 16 });
        expect(r.totalRecords).toBe(records.length);
        texts.push([...(await tableText(te.engine, table)), `inserted=${r.recordsInserted} rejected=${r.recordsRejected}`]);
      }
    }
    expect(texts[0]!.length).toBeGreaterThan(records.length / 2);
    for (const t of texts.slice(1)) expect(t).toEqual(texts[0]);
    mine.set(`S:${label}`, texts[0]!);
  });
});

describe('cross-engine', () => {
  it('the embedded and the server engine store the same text', () => {
    const [a, b] = ENGINE_KINDS.map((k) => seen.get(k)!);
    expect(a!.size).toBe(SET_A.length + SYNTH.length);
    expect([...b!.keys()]).toEqual([...a!.keys()]);
    for (const [k, v] of a!) expect(b!.get(k), k).toEqual(v);
  });
});
