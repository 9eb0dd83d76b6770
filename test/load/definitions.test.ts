// DefinitionsLoader on both engines: upsert by instrument_id with newest ts_recv winning, the
// UNIQUE(symbol) rename rule when a symbol is reused under a new id, the symbol history and its
// resolvers, quarantine of constraint violations, and idempotent re-runs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/types.js';
import { DefinitionsLoader, type DefinitionRecord } from '../../src/load/definitions.js';
import { resolveInstrument, resolveSymbol } from '../../src/query/symbols.js';
import { DEFINITION_VERSIONS_TABLE } from '../../src/schema/bookkeeping.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

const DAY1 = '2026-03-02T13:00:00.000000Z';
const DAY2 = '2026-03-03T13:00:00.000000Z';
const DAY3 = '2026-03-04T13:00:00.000000Z';

function def(
  instrument_id: number,
  symbol: string,
  ts_recv: string | Date | bigint | undefined,
  over: Partial<DefinitionRecord> = {},
): DefinitionRecord {
  return {
    instrument_id,
    symbol,
    raw_symbol: symbol,
    asset: symbol.slice(0, 20),
    exchange: 'XNAS',
    currency: 'USD',
    tick_size: '0.01',
    multiplier: 1,
    expiration_date: null,
    ...(ts_recv === undefined ? {} : { ts_recv }),
    ...over,
  };
}

const utc = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface DefRow {
  instrument_id: number;
  symbol: string;
  tick_size: string;
  is_active: boolean | null;
  created_at: string;
  updated_at: string;
  raw_symbol: string;
}

async function definitions(engine: Engine): Promise<DefRow[]> {
  const { rows } = await engine.query<DefRow>(
    `SELECT instrument_id, symbol, raw_symbol, tick_size::text AS tick_size, is_active, created_at::text AS created_at, updated_at::text AS updated_at
     FROM instrument_definitions ORDER BY instrument_id`,
  );
  return rows.map((r) => ({ ...r, instrument_id: Number(r.instrument_id) }));
}

async function definition(engine: Engine, id: number): Promise<DefRow | undefined> {
  return (await definitions(engine)).find((r) => r.instrument_id === id);
}

async function history(engine: Engine): Promise<Array<[number, string, string, string | null]>> {
  const { rows } = await engine.query<{ instrument_id: number; symbol: string; f: string; t: string | null }>(
    `SELECT instrument_id, symbol, ${utc('valid_from')} AS f, ${utc('valid_to')} AS t FROM tickvault_symbol_history
     WHERE source = 'definitions' ORDER BY instrument_id, valid_from`,
  );
  return rows.map((r) => [Number(r.instrument_id), r.symbol, r.f, r.t]);
}

async function snapshot(engine: Engine): Promise<unknown> {
  const versions = await engine.query(
    `SELECT instrument_id, ${utc('ts_recv')} AS ts, symbol, recorded_at::text AS r FROM ${DEFINITION_VERSIONS_TABLE} ORDER BY 1, 2`,
  );
  const hist = await engine.query(
    'SELECT instrument_id, symbol, valid_from::text, valid_to::text, source FROM tickvault_symbol_history ORDER BY 1, 3',
  );
  return { defs: await definitions(engine), history: hist.rows, versions: versions.rows };
}

describe.each(ENGINE_KINDS)('DefinitionsLoader (%s)', (kind) => {
  let te: TestEngine;
  let engine: Engine;
  let loader: DefinitionsLoader;

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'definitions' });
    engine = te.engine;
    loader = new DefinitionsLoader({ engine });
  });
  afterAll(async () => {
    await loader?.close();
    await te?.dispose();
  });
  beforeEach(async () => {
    await engine.query(`TRUNCATE instrument_definitions, ${DEFINITION_VERSIONS_TABLE}, tickvault_symbol_history, tickvault_quarantine`);
  });

  it('defaults to batches of 100 and inserts new definitions with their history', async () => {
    expect(loader.batchSize).toBe(100);
    const res = await loader.storeBatch([
      def(101, 'AAPL', DAY1),
      def(102, 'ESH6', new Date(DAY1), {
        asset: 'ES',
        exchange: 'XCME',
        tick_size: { value: 250_000_000n, scale: 9 },
        multiplier: '50',
        expiration_date: '2026-03-20',
      }),
    ]);
    expect(res).toMatchObject({ recordsInserted: 2, recordsRejected: 0 });
    const rows = await definitions(engine);
    expect(rows.map((r) => [r.instrument_id, r.symbol, r.tick_size, r.is_active])).toEqual([
      [101, 'AAPL', '0.01000000', true],
      [102, 'ESH6', '0.25000000', true],
    ]);
    const es = await engine.query<{ m: string; e: string }>(
      `SELECT multiplier::text AS m, expiration_date::text AS e FROM instrument_definitions WHERE instrument_id = 102`,
    );
    expect(es.rows[0]).toEqual({ m: '50.00000000', e: '2026-03-20' });
    expect(await history(engine)).toEqual([
      [101, 'AAPL', DAY1, null],
      [102, 'ESH6', DAY1, null],
    ]);
  });

  it('updates when a newer ts_recv arrives (updated_at bumped, created_at kept) and ignores older versions', async () => {
    await loader.storeBatch([def(201, 'NVDA', DAY1)]);
    const before = (await definition(engine, 201))!;
    await new Promise((r) => setTimeout(r, 20));

    const newer = await loader.storeBatch([def(201, 'NVDA', DAY2, { tick_size: '0.005', raw_symbol: 'NVDA.v2' })]);
    expect(newer.recordsInserted).toBe(1);
    const after = (await definition(engine, 201))!;
    expect(after).toMatchObject({ tick_size: '0.00500000', raw_symbol: 'NVDA.v2', created_at: before.created_at });
    expect(after.updated_at).not.toBe(before.updated_at);
    expect(Date.parse(after.updated_at)).toBeGreaterThan(Date.parse(before.updated_at));

    // ts_recv between the two: older than what is stored, never overwrites it.
    const older = await loader.storeBatch([def(201, 'NVDA', '2026-03-02T18:00:00Z', { tick_size: '1', raw_symbol: 'NVDA.old' })]);
    expect(older).toMatchObject({ recordsInserted: 0, recordsRejected: 0 });
    expect(await definition(engine, 201)).toEqual(after);
    // Same symbol throughout: one merged history interval.
    expect(await history(engine)).toEqual([[201, 'NVDA', DAY1, null]]);
  });

  it('a symbol reused under a new id: newest owns it, the old holder is renamed and inactive, history resolves both', async () => {
    await loader.storeBatch([def(6819, 'MSFT', DAY1)]);
    await loader.storeBatch([def(6830, 'MSFT', DAY2)]);

    const rows = await definitions(engine);
    expect(rows.map((r) => [r.instrument_id, r.symbol, r.raw_symbol, r.is_active])).toEqual([
      [6819, 'MSFT#6819', 'MSFT', false],
      [6830, 'MSFT', 'MSFT', true],
    ]);
    expect(await history(engine)).toEqual([
      [6819, 'MSFT', DAY1, DAY2],
      [6830, 'MSFT', DAY2, null],
    ]);
    const during1 = new Date('2026-03-02T15:30:00Z');
    const during2 = new Date('2026-03-03T15:30:00Z');
    expect(await resolveSymbol(engine, 6819, during1)).toBe('MSFT');
    expect(await resolveSymbol(engine, 6819, during2)).toBeNull();
    expect(await resolveSymbol(engine, 6830, during2)).toBe('MSFT');
    expect(await resolveSymbol(engine, 6830, during1)).toBeNull();
    expect(await resolveInstrument(engine, 'MSFT', during1)).toBe(6819);
    expect(await resolveInstrument(engine, 'MSFT', during2)).toBe(6830);
    expect(await resolveInstrument(engine, 'MSFT', new Date(DAY2))).toBe(6830); // valid_from inclusive
    expect(await resolveInstrument(engine, 'MSFT', '2026-03-01T00:00:00Z')).toBeNull();
    expect(await resolveInstrument(engine, 'MSFT', 1_772_553_600_000_000_000n)).toBe(6830); // 2026-03-03T16:00Z in ns

    // Day 3 brings a third id: 6830 is renamed in turn, 6819 keeps its closed interval.
    await loader.storeBatch([def(6841, 'MSFT', DAY3)]);
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.is_active])).toEqual([
      [6819, 'MSFT#6819', false],
      [6830, 'MSFT#6830', false],
      [6841, 'MSFT', true],
    ]);
    expect(await history(engine)).toEqual([
      [6819, 'MSFT', DAY1, DAY2],
      [6830, 'MSFT', DAY2, DAY3],
      [6841, 'MSFT', DAY3, null],
    ]);
  });

  it('reaches the same state whatever order the days arrive in', async () => {
    await loader.storeBatch([def(6830, 'MSFT', DAY2)]);
    await loader.storeBatch([def(6819, 'MSFT', DAY1)]); // late: must not take MSFT from the newer id
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.is_active])).toEqual([
      [6819, 'MSFT#6819', false],
      [6830, 'MSFT', true],
    ]);
    expect(await history(engine)).toEqual([
      [6819, 'MSFT', DAY1, DAY2],
      [6830, 'MSFT', DAY2, null],
    ]);
  });

  it('an id that changes symbol closes the old interval and frees the old symbol', async () => {
    await loader.storeBatch([def(300, 'FB', DAY1)]);
    await loader.storeBatch([def(300, 'META', DAY2)]);
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.is_active])).toEqual([[300, 'META', true]]);
    expect(await history(engine)).toEqual([
      [300, 'FB', DAY1, DAY2],
      [300, 'META', DAY2, null],
    ]);
    expect(await resolveSymbol(engine, 300, new Date('2026-03-02T20:00:00Z'))).toBe('FB');
    expect(await resolveInstrument(engine, 'FB', new Date('2026-03-03T20:00:00Z'))).toBeNull();
    // FB can now be claimed by another id without renaming anyone.
    await loader.storeBatch([def(301, 'FB', DAY3)]);
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.is_active])).toEqual([
      [300, 'META', true],
      [301, 'FB', true],
    ]);
  });

  it('quarantines constraint violations and lands the rest', async () => {
    const res = await loader.storeBatch([
      def(401, 'OK1', DAY1),
      def(402, 'ZEROTICK', DAY1, { tick_size: 0 }),
      def(403, 'NEGMULT', DAY1, { multiplier: '-5' }),
      def(404, 'BADCCY', DAY1, { currency: 'USDX' }),
      def(405, 'NOASSET', DAY1, { asset: null as unknown as string }),
      def(406, 'OK2', DAY1),
    ]);
    expect(res).toMatchObject({ recordsInserted: 2, recordsRejected: 4 });
    expect((await definitions(engine)).map((r) => r.instrument_id)).toEqual([401, 406]);
    const q = await engine.query<{ constraint_name: string | null; reason: string; id: string }>(
      `SELECT constraint_name, reason, record->>'instrument_id' AS id FROM tickvault_quarantine WHERE target_table = 'instrument_definitions' ORDER BY record_index`,
    );
    expect(q.rows.map((r) => [r.id, r.constraint_name])).toEqual([
      ['402', 'positive_tick_size'],
      ['403', 'positive_multiplier'],
      ['404', null],
      ['405', 'asset_not_null'],
    ]);
    expect(q.rows[2]!.reason).toMatch(/currency.*longer than 3/);
    // Nothing of the rejected rows reached the version log or the history.
    expect(await history(engine)).toEqual([
      [401, 'OK1', DAY1, null],
      [406, 'OK2', DAY1, null],
    ]);
  });

  it('one batch with two versions of one id and two ids claiming one symbol', async () => {
    const res = await loader.storeBatch([
      def(500, 'AMD', DAY2, { tick_size: '0.02' }), // newest version first in the input
      def(500, 'AMD', DAY1, { tick_size: '0.01' }),
      def(7002, 'XYZ', DAY2),
      def(7001, 'XYZ', DAY1),
    ]);
    expect(res).toMatchObject({ recordsInserted: 3, recordsRejected: 0 });
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.tick_size, r.is_active])).toEqual([
      [500, 'AMD', '0.02000000', true],
      [7001, 'XYZ#7001', '0.01000000', false],
      [7002, 'XYZ', '0.01000000', true],
    ]);
    expect(await history(engine)).toEqual([
      [500, 'AMD', DAY1, null],
      [7001, 'XYZ', DAY1, DAY2],
      [7002, 'XYZ', DAY2, null],
    ]);
    expect(await resolveInstrument(engine, 'XYZ', new Date('2026-03-02T20:00:00Z'))).toBe(7001);
  });

  it('exact ts_recv ties: the later record of one id wins, the larger id owns the symbol', async () => {
    await loader.storeBatch([
      def(600, 'TIE', DAY1, { tick_size: '0.01' }),
      def(600, 'TIE', DAY1, { tick_size: '0.05' }),
      def(601, 'TIE', DAY1),
    ]);
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.tick_size, r.is_active])).toEqual([
      [600, 'TIE#600', '0.05000000', false],
      [601, 'TIE', '0.01000000', true],
    ]);
    expect(await history(engine)).toEqual([[601, 'TIE', DAY1, null]]);
  });

  it('re-running the same batch changes nothing', async () => {
    const batch = [
      def(6819, 'MSFT', DAY1),
      def(6830, 'MSFT', DAY2),
      def(800, 'IBM', DAY1),
      def(800, 'IBM', DAY2, { tick_size: '0.02' }),
      def(801, 'BAD', DAY1, { tick_size: 0 }),
    ];
    const first = await loader.storeBatch(batch);
    expect(first).toMatchObject({ recordsInserted: 3, recordsRejected: 1 });
    const before = await snapshot(engine);
    await new Promise((r) => setTimeout(r, 20));
    const again = await loader.storeBatch(batch);
    expect(again).toMatchObject({ recordsInserted: 0, recordsRejected: 1 }); // the bad row is quarantined again
    expect(await snapshot(engine)).toEqual(before);
  });

  it('bulkLoad across batches (COPY and INSERT paths) gives the same result; a completed re-run is a no-op', async () => {
    const records = [
      def(6819, 'MSFT', DAY1),
      def(901, 'ORCL', DAY1),
      def(6830, 'MSFT', DAY2),
      def(901, 'ORCL', DAY2, { tick_size: '0.05' }),
      def(6841, 'MSFT', DAY3),
    ];
    const expected = [
      [901, 'ORCL', '0.05000000', true],
      [6819, 'MSFT#6819', '0.01000000', false],
      [6830, 'MSFT#6830', '0.01000000', false],
      [6841, 'MSFT', '0.01000000', true],
    ];
    for (const useCopy of [true, false]) {
      await engine.query(
        `TRUNCATE instrument_definitions, ${DEFINITION_VERSIONS_TABLE}, tickvault_symbol_history, tickvault_loads CASCADE`,
      );
      const bulk = new DefinitionsLoader({ engine, batchSize: 2, useCopy });
      const source = { source: `defs-${useCopy}`, contentHash: `hash-${useCopy}` };
      const res = await bulk.bulkLoad(records, { source });
      expect(res).toMatchObject({ status: 'completed', totalRecords: 5, recordsInserted: 5, recordsRejected: 0 });
      expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.tick_size, r.is_active])).toEqual(expected);
      expect(await history(engine)).toEqual([
        [901, 'ORCL', DAY1, null],
        [6819, 'MSFT', DAY1, DAY2],
        [6830, 'MSFT', DAY2, DAY3],
        [6841, 'MSFT', DAY3, null],
      ]);
      expect((await bulk.bulkLoad(records, { source })).status).toBe('already-loaded');
    }
  });

  it('parallel workers (one record per batch, any commit order) reach the order-independent result', async () => {
    const days = Array.from({ length: 8 }, (_, i) => `2026-03-${String(2 + i).padStart(2, '0')}T13:00:00.000000Z`);
    const records = days.flatMap((d, i) => [def(10_000 + i, 'MSFT', d), def(20_000 + i, 'AAPL', d)]).reverse();
    const par = new DefinitionsLoader({ engine, batchSize: 1, parallelWorkers: 2 });
    const res = await par.bulkLoad(records, { source: { source: 'parallel', contentHash: `parallel-${Date.now()}` } });
    expect(res.recordsRejected).toBe(0);
    const rows = await definitions(engine);
    expect(rows.filter((r) => r.is_active).map((r) => [r.instrument_id, r.symbol])).toEqual([
      [10_007, 'MSFT'],
      [20_007, 'AAPL'],
    ]);
    expect(rows.filter((r) => !r.is_active).every((r) => r.symbol === `${r.symbol.split('#')[0]}#${r.instrument_id}`)).toBe(true);
    const h = await history(engine);
    expect(h).toHaveLength(16);
    for (let i = 0; i < days.length; i++) {
      expect(h).toContainEqual([10_000 + i, 'MSFT', days[i], days[i + 1] ?? null]);
      expect(await resolveInstrument(engine, 'AAPL', new Date(Date.parse(days[i]!) + 3_600_000))).toBe(20_000 + i);
    }
  });

  it('replace mode re-asserts the definitions of the replaced load', async () => {
    const source = { source: 'defs-file', contentHash: 'v1' };
    await loader.bulkLoad([def(6819, 'MSFT', DAY1), def(6830, 'MSFT', DAY2)], { source });
    const res = await loader.bulkLoad([def(6819, 'MSFT', DAY1), def(6830, 'MSFT', DAY2, { tick_size: '0.02' })], {
      source: { source: 'defs-file', contentHash: 'v2' },
      mode: 'replace',
    });
    expect(res.replacedLoadId).not.toBeNull();
    expect((await definitions(engine)).map((r) => [r.instrument_id, r.symbol, r.tick_size, r.is_active])).toEqual([
      [6819, 'MSFT#6819', '0.01000000', false],
      [6830, 'MSFT', '0.02000000', true],
    ]);
    expect(await history(engine)).toEqual([
      [6819, 'MSFT', DAY1, DAY2],
      [6830, 'MSFT', DAY2, null],
    ]);
  });

  it('ts_recv defaults to now; unknown fields are a clear error', async () => {
    const t0 = Date.now();
    await loader.storeBatch([def(950, 'NOW', undefined)]);
    const h = await engine.query<{ f: Date }>(`SELECT valid_from AS f FROM tickvault_symbol_history WHERE instrument_id = 950`);
    expect(Math.abs(new Date(h.rows[0]!.f).getTime() - t0)).toBeLessThan(60_000);
    await expect(loader.storeBatch([{ ...def(951, 'X', DAY1), bogus: 1 } as DefinitionRecord])).rejects.toThrow(/unknown field "bogus"/);
  });
});
