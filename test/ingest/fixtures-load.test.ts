/**
 * Every DBN fixture loads into its table on both engines with the exact numbers of inserted and
 * quarantined rows that SOURCE.md and reference §7 imply, and the stored values are the exact
 * ones: decimal prices, µs-truncated timestamps, side A→'S', trade_id "<publisher>:<sequence>",
 * empty book sides and UNDEF quantities as NULL, granularity from the rtype, stat_type_name.
 * Statistics without any mapping resolve once definitions for their id are stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { DefinitionsLoader } from '../../src/load/definitions.js';
import { readRows, loadRows, quarantineByConstraint, quarantineRows, reset, count } from '../support/db.js';
import { fixtureFiles, fixture } from '../support/fixtures.js';
import { LIVE_BY_TABLE, fixtureExpectations } from '../support/fixture-outcomes.js';
import { instrumentDefinitions, ohlcvData, statisticsData, tbboData, tradesData, type TableName } from '../../src/schema/tables.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

const EXPECTED = fixtureExpectations();

it('the expectation catalogue covers every fixture file exactly once', () => {
  expect(EXPECTED.map(([f]) => f).sort()).toEqual(fixtureFiles().sort());
});

describe.each(ENGINE_KINDS)('DBN fixtures → tables (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'ingest_fixtures' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it.each(EXPECTED)('%s', async (rel, exp) => {
    await reset(te.engine);
    if (exp.table === null) {
      // A schema without a table is refused; a mixed file holds several (loadDbnFileRouted loads them all).
      await expect(loadDbnFile(te.engine, fixture(rel))).rejects.toThrow(
        rel.includes('LIVE') ? /schema mixed: the file holds records for/ : /is not stored by tickvault \(stored: /,
      );
      expect(await loadRows(te.engine)).toEqual([]);
      return;
    }
    const r = await loadDbnFile(te.engine, fixture(rel));
    expect(r.table).toBe(exp.table);
    expect(r.status).toBe('completed');
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: exp.inserted, rejected: exp.rejected });
    expect(await count(te.engine, exp.table)).toBe(exp.inserted);
    expect(await quarantineByConstraint(te.engine, r.loadId)).toEqual(exp.constraints ?? {});
    const [ledger] = await loadRows(te.engine, exp.table === 'instrument_definitions' ? 'instrument_definitions' : exp.table);
    expect(ledger).toMatchObject({ status: 'completed', records_inserted: String(exp.inserted), records_rejected: String(exp.rejected) });
    if (exp.table !== 'instrument_definitions')
      expect(r.unresolvedIds).toEqual(rel.includes('statistics.') && !rel.includes('databento-python') ? [146945] : []);
  });

  it.each(Object.entries(LIVE_BY_TABLE))('LIVE mixed stream with --table %s', async (table, exp) => {
    await reset(te.engine);
    const r = await loadDbnFile(te.engine, fixture('databento-python/LIVE/test_data.live.dbn.zst'), { table: table as TableName });
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected, total: r.totalRecords }).toEqual({
      inserted: exp.inserted,
      rejected: exp.rejected,
      total: exp.totalRecords,
    });
    expect(await count(te.engine, table)).toBe(exp.inserted);
    if (table !== 'instrument_definitions') {
      expect(r.unresolvedIds).toEqual([]);
      const { rows } = await te.engine.query<{ symbol: string }>(`SELECT DISTINCT symbol FROM ${table}`);
      expect(rows.map((x) => x.symbol)).toEqual(['ESZ4']); // from the in-band SymbolMappingMsg records
      // Everything else in the 46-record stream is skipped and counted, per rtype.
      const skipped = Object.values(r.skippedRecords).reduce((a, b) => a + b, 0);
      expect(skipped + exp.totalRecords).toBe(46);
      expect(r.skippedRecords[0x16]).toBe(20);
    }
  });

  it('ESH1 trades: exact decimal prices, ts_event truncated to µs, side A → S, trade_id publisher:sequence', async () => {
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('test_data.trades.dbn'));
    expect(await readRows(te.engine, tradesData)).toEqual([
      // ts_event 1609160400098821953 ns: .098821953 truncates to .098821 (rounding would give .098822)
      {
        timestamp: '2020-12-28 13:00:00.098821',
        instrument_id: '5482',
        symbol: 'ESH1',
        price: '3720.25000000',
        size: '5',
        side: 'S',
        trade_id: '1:1170380',
        publisher_id: '1',
      },
      {
        timestamp: '2020-12-28 13:00:00.107665',
        instrument_id: '5482',
        symbol: 'ESH1',
        price: '3720.25000000',
        size: '21',
        side: 'S',
        trade_id: '1:1170414',
        publisher_id: '1',
      },
    ]);
  });

  it('trades with side N (no aggressor) are stored as N; B stays B, A becomes S', async () => {
    await reset(te.engine);
    const r = await loadDbnFile(te.engine, fixture('databento-python/XNAS.ITCH/test_data.trades.dbn.zst'));
    expect(await quarantineRows(te.engine, r.loadId)).toEqual([]);
    const rows = await readRows(te.engine, tradesData);
    expect(rows.map((x) => [x.side, x.trade_id, x.price, x.publisher_id])).toEqual([
      ['B', '2:362933', '521.00000000', '2'],
      ['B', '2:366408', '521.00000000', '2'],
      ['S', '2:372097', '521.00000000', '2'],
      ['N', '2:428530', '521.01000000', '2'],
    ]);
    // IFEU: all four are side N; ts_event runs backwards in the file (ts_recv order), nothing lost.
    await reset(te.engine);
    const ifeu = await loadDbnFile(te.engine, fixture('databento-python/IFEU.IMPACT/test_data.trades.dbn.zst'));
    expect(await quarantineRows(te.engine, ifeu.loadId)).toEqual([]);
    const ifeuRows = await readRows(te.engine, tradesData);
    expect(ifeuRows.map((x) => x.side)).toEqual(['N', 'N', 'N', 'N']);
    expect(ifeuRows).toContainEqual(
      expect.objectContaining({
        symbol: 'BRN FMJ0024!',
        timestamp: '2024-01-18 01:00:00.002731',
        price: '77.61000000',
        size: '2',
        publisher_id: '57',
      }),
    );
  });

  it('tbbo/mbp-1: an empty book side (UNDEF price, size 0) becomes NULL, spread NULL', async () => {
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('databento-python/IFEU.IMPACT/test_data.tbbo.dbn.zst'));
    const ifeu = await readRows(te.engine, tbboData);
    // 3 records share .002731 and an empty book: the sequences (54087–54089) keep all three.
    expect(ifeu.map((r) => [r.timestamp, r.sequence, r.publisher_id])).toEqual([
      ['2024-01-18 01:00:00.002731', '54087', '57'],
      ['2024-01-18 01:00:00.002731', '54088', '57'],
      ['2024-01-18 01:00:00.002731', '54089', '57'],
      ['2024-01-18 01:00:00.03275', '45652', '57'],
    ]);
    for (const r of ifeu) expect([r.bid_px_00, r.ask_px_00, r.bid_sz_00, r.ask_sz_00, r.spread]).toEqual([null, null, null, null, null]);
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('databento-python/XNAS.ITCH/test_data.mbp-1.dbn.zst'));
    const xnas = await readRows(te.engine, tbboData);
    expect(xnas[0]).toMatchObject({
      timestamp: '2020-12-28 09:01:28.297098',
      instrument_id: '6155',
      symbol: 'NVDA',
      bid_px_00: '502.00000000',
      ask_px_00: null,
      bid_sz_00: '2',
      ask_sz_00: null,
      spread: null,
      publisher_id: '2',
    });
    expect(xnas[2]).toMatchObject({
      bid_px_00: '512.01000000',
      ask_px_00: '539.00000000',
      bid_sz_00: '1',
      ask_sz_00: '17',
      spread: '26.99000000',
    });
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('test_data.tbbo.v1.dbn.zst'));
    expect((await readRows(te.engine, tbboData))[0]).toEqual({
      timestamp: '2020-12-28 13:00:00.098821',
      instrument_id: '5482',
      symbol: 'ESH1',
      bid_px_00: '3720.25000000',
      ask_px_00: '3720.50000000',
      bid_sz_00: '26',
      ask_sz_00: '7',
      spread: '0.25000000',
      publisher_id: '1',
      sequence: '1170380',
    });
  });

  it('ohlcv: granularity from the rtype, bar start as timestamp, exact prices', async () => {
    await reset(te.engine);
    for (const g of ['1s', '1m', '1h', '1d'])
      await loadDbnFile(te.engine, fixture(`databento-python/GLBX.MDP3/test_data.ohlcv-${g}.dbn.zst`));
    const { rows } = await te.engine.query<{ granularity: string; n: string }>(
      `SELECT granularity, count(*)::text AS n FROM ohlcv_data GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { granularity: '1d', n: '1' },
      { granularity: '1h', n: '4' },
      { granularity: '1m', n: '4' },
      { granularity: '1s', n: '4' },
    ]);
    const bars = await readRows(te.engine, ohlcvData, `granularity, "timestamp"`);
    expect(bars[0]).toEqual({
      timestamp: '2020-12-28 00:00:00',
      instrument_id: '5482',
      symbol: 'ESH1',
      open_price: '3702.75000000',
      high_price: '3735.00000000',
      low_price: '3697.25000000',
      close_price: '3735.00000000',
      volume: '718174',
      granularity: '1d',
      publisher_id: '1',
    });
    // Set A's old capture: 100x prices are stored as they are (372025.0), not "corrected".
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('test_data.ohlcv-1h.v3.dbn.zst'));
    const a = await readRows(te.engine, ohlcvData);
    expect(a.map((b) => [b.granularity, b.open_price])).toEqual([
      ['1h', '372025.00000000'],
      ['1h', '372225.00000000'],
    ]);
  });

  it('statistics: quantity UNDEF → NULL, ts_ref UNDEF → NULL, stat_type_name by lookup', async () => {
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('databento-python/GLBX.MDP3/test_data.statistics.dbn.zst'));
    const rows = await readRows(te.engine, statisticsData, `"timestamp", sequence`);
    expect(rows.map((r) => [r.stat_type, r.stat_type_name, r.price, r.quantity, r.ts_ref, r.sequence])).toEqual([
      ['8', 'highest_bid', '3707.75000000', null, null, '210043'],
      ['8', 'highest_bid', '3708.00000000', null, null, '210232'],
      ['5', 'trading_session_high_price', '3708.25000000', null, null, '210353'],
      ['8', 'highest_bid', '3708.25000000', null, null, '210354'],
    ]);
    expect(rows[0]).toMatchObject({
      timestamp: '2020-12-28 01:09:29.47022',
      ts_recv: '2020-12-28 01:09:29.471598',
      symbol: 'ESH1',
      ts_in_delta: '22850',
      channel_id: '0',
      update_action: '1',
      stat_flags: '255',
    });
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('databento-python/IFEU.IMPACT/test_data.statistics.dbn.zst'));
    const ifeu = await readRows(te.engine, statisticsData);
    expect(ifeu[0]).toMatchObject({
      stat_type: '2',
      stat_type_name: 'indicative_opening_price',
      price: '77.61000000',
      quantity: '0',
      ts_ref: '2024-01-18 00:45:59.254',
      symbol: 'BRN FMJ0024!',
    });
  });

  it('definitions: complete ones land (GLBX ESH1); equities with UNDEF tick size and multiplier land with NULLs (XNAS, EQUS)', async () => {
    await reset(te.engine);
    await loadDbnFile(te.engine, fixture('databento-python/GLBX.MDP3/test_data.definition.dbn.zst'));
    expect(await readRows(te.engine, instrumentDefinitions)).toMatchObject([
      {
        instrument_id: '5482',
        symbol: 'ESH1',
        raw_symbol: 'ESH1',
        asset: 'ES',
        exchange: 'XCME',
        currency: 'USD',
        tick_size: '0.25000000',
        multiplier: '50.00000000',
        expiration_date: '2021-03-19',
        is_active: 'true',
      },
    ]);
    const r = await loadDbnFile(te.engine, fixture('databento-python/XNAS.ITCH/test_data.definition.dbn.zst'));
    expect(await quarantineRows(te.engine, r.loadId)).toEqual([]);
    const eq = await loadDbnFile(te.engine, fixture('databento-python/EQUS.MINI/test_data.definition.dbn.zst'));
    expect(await quarantineRows(te.engine, eq.loadId)).toEqual([]);
    const defs = await readRows(te.engine, instrumentDefinitions, 'symbol');
    expect(defs.map((d) => [d.symbol, d.tick_size, d.multiplier, d.publisher_id])).toEqual([
      ['ESH1', '0.25000000', '50.00000000', '1'],
      ['NVDA', null, null, '2'],
      ['QQQ', null, null, '95'],
    ]);
  });

  it('statistics without mappings: quarantined "symbol unresolved", then resolved once definitions for the id are stored', async () => {
    await reset(te.engine);
    const before = await loadDbnFile(te.engine, fixture('test_data.statistics.dbn'));
    expect([before.recordsInserted, before.recordsRejected, before.unresolvedIds]).toEqual([0, 2, [146945]]);
    const q = await quarantineRows(te.engine, before.loadId);
    expect(q).toHaveLength(2);
    for (const x of q) {
      expect(x.constraint_name).toBe('symbol_not_null');
      expect(x.reason).toMatch(/^symbol unresolved for instrument_id 146945 at 2023-04-23T17:05:36\.\d+Z: .*load the definitions first/);
    }

    // A definition of 146945 published before the statistics' time: its symbol history covers them.
    const defs = new DefinitionsLoader({ engine: te.engine });
    const d = await defs.bulkLoad(
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
      { source: { source: 'test:def-146945', contentHash: 'test:def-146945' } },
    );
    expect(d.recordsInserted).toBe(1);

    // Another encoding of the same records (v3 zstd): a different file, so not a ledger repeat.
    const after = await loadDbnFile(te.engine, fixture('test_data.statistics.v3.dbn.zst'));
    expect([after.status, after.recordsInserted, after.recordsRejected]).toEqual(['completed', 2, 0]);
    expect(after.unresolvedIds).toEqual([]);
    const rows = await readRows(te.engine, statisticsData);
    expect(rows.map((r) => [r.symbol, r.stat_type, r.stat_type_name, r.price, r.quantity, r.ts_ref, r.channel_id, r.stat_flags])).toEqual([
      ['ESM3 C4100', '7', 'lowest_offer', '100.00000000', null, null, '13', '255'],
      ['ESM3 C4100', '5', 'trading_session_high_price', '100.00000000', null, null, '13', '255'],
    ]);
  });
});
