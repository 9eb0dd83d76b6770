/**
 * Shared helpers of the DBN ingestion tests: the fixture catalogue with the load outcome each
 * file must have (derived from shared/fixtures/dbn/SOURCE.md and reference §7), a reset of every
 * table a DBN load can touch, and readers for the ledger and the quarantine of one load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Engine, Queryable } from '../../src/engine/types.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE, QUARANTINE_TABLE, SYMBOL_HISTORY_TABLE } from '../../src/schema/bookkeeping.js';
import type { TableName } from '../../src/schema/tables.js';
import { DEFINITION_VERSIONS_TABLE } from '../../src/schema/bookkeeping.js';
import { FIXTURES } from '../dbn/helpers.js';

export { FIXTURES };
export const fx = (rel: string): string => path.join(FIXTURES, rel);

export const DATA_TABLES: readonly TableName[] = ['ohlcv_data', 'trades_data', 'tbbo_data', 'statistics_data', 'instrument_definitions'];

/** Empties the market tables, definitions (+ versions, symbol history), the ledger and the quarantine. */
export async function resetAll(engine: Engine): Promise<void> {
  await engine.query(`TRUNCATE ohlcv_data, trades_data, tbbo_data, statistics_data`);
  await engine.query(`TRUNCATE instrument_definitions, ${DEFINITION_VERSIONS_TABLE}, ${SYMBOL_HISTORY_TABLE}`);
  await engine.query(`TRUNCATE ${QUARANTINE_TABLE}, ${LOAD_BATCHES_TABLE}, ${LOADS_TABLE} CASCADE`);
}

export async function rowCount(db: Queryable, table: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
  return Number(rows[0]!.n);
}

/** Quarantine rows of one load: constraint name → count. */
export async function quarantineByConstraint(db: Queryable, loadId: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ c: string | null; n: string }>(
    `SELECT constraint_name AS c, count(*)::text AS n FROM ${QUARANTINE_TABLE} WHERE load_id = $1::bigint GROUP BY 1 ORDER BY 1`, [loadId]);
  return Object.fromEntries(rows.map((r) => [r.c ?? 'null', Number(r.n)]));
}

export async function quarantineRows(db: Queryable, loadId: string): Promise<{ reason: string; constraint_name: string | null; record_index: string; record: string }[]> {
  const { rows } = await db.query<{ reason: string; constraint_name: string | null; record_index: string; record: string }>(
    `SELECT reason, constraint_name, record_index::text AS record_index, record::text AS record FROM ${QUARANTINE_TABLE}
      WHERE load_id = $1::bigint ORDER BY record_index, id`, [loadId]);
  return rows;
}

export interface LoadRow { load_id: string; status: string; error: string | null; records_in: string; records_inserted: string; records_rejected: string; source: string }

export async function loadRows(db: Queryable, table?: string): Promise<LoadRow[]> {
  const { rows } = await db.query<LoadRow>(
    `SELECT load_id::text AS load_id, status, error, records_in::text AS records_in, records_inserted::text AS records_inserted,
            records_rejected::text AS records_rejected, source
       FROM ${LOADS_TABLE} ${table ? 'WHERE target_table = $1' : ''} ORDER BY load_id`, table ? [table] : []);
  return rows;
}

/**
 * The whole table as text lines, every column but created_at/updated_at, in a total order —
 * the form in which two loads are compared for identical contents.
 */
export async function tableText(db: Queryable, table: TableName): Promise<string[]> {
  const cols: Record<TableName, string> = {
    ohlcv_data: `("timestamp" AT TIME ZONE 'UTC')::text, instrument_id, symbol, open_price::text, high_price::text, low_price::text, close_price::text, volume::text, granularity, publisher_id`,
    trades_data: `("timestamp" AT TIME ZONE 'UTC')::text, instrument_id, symbol, price::text, size::text, side, trade_id, publisher_id`,
    tbbo_data: `("timestamp" AT TIME ZONE 'UTC')::text, instrument_id, symbol, bid_px_00::text, ask_px_00::text, bid_sz_00::text, ask_sz_00::text, spread::text, publisher_id, sequence::text`,
    statistics_data: `("timestamp" AT TIME ZONE 'UTC')::text, (ts_recv AT TIME ZONE 'UTC')::text, (ts_ref AT TIME ZONE 'UTC')::text, instrument_id, symbol, stat_type,
      stat_type_name, price::text, quantity::text, sequence::text, ts_in_delta, channel_id, update_action, stat_flags, publisher_id`,
    instrument_definitions: `instrument_id, symbol, raw_symbol, asset, exchange, currency, tick_size::text, multiplier::text, expiration_date::text, is_active, publisher_id`,
  };
  const { rows } = await db.query<{ line: string }>(`SELECT row(${cols[table]})::text AS line FROM ${table}`);
  // Sorted in JS: a total, collation-independent order of the whole row text.
  return rows.map((r) => r.line).sort();
}

export function tmpDir(prefix = 'tickvault-ingest-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What loading a fixture into its default table must give. `error` = no default table. */
export interface Expected {
  table: TableName | null;
  inserted: number;
  rejected: number;
  /** Quarantine rows by constraint name. */
  constraints?: Record<string, number>;
  /** Records of the file that are not of the table's types (skipped and counted). */
  skipped?: Record<number, number>;
}

const ok = (table: TableName, inserted: number): Expected => ({ table, inserted, rejected: 0 });
const NO_TABLE: Expected = { table: null, inserted: 0, rejected: 0 };

/** Set A: one schema per file in .dbn (v2) and .v1/.v2/.v3.dbn.zst (status has no v1). */
const SET_A: Record<string, Expected> = {
  // MSFT on XNAS: tick size and multiplier UNDEF -> NULL, stored (nullable since migration 6).
  definition: ok('instrument_definitions', 2),
  imbalance: NO_TABLE,
  'mbp-1': ok('tbbo_data', 2),
  'ohlcv-1d': ok('ohlcv_data', 0), // metadata only, zero records
  'ohlcv-1h': ok('ohlcv_data', 2),
  'ohlcv-1m': ok('ohlcv_data', 2),
  'ohlcv-1s': ok('ohlcv_data', 2),
  // stype_in = instrument_id and no mappings: nothing names 146945.
  statistics: { table: 'statistics_data', inserted: 0, rejected: 2, constraints: { symbol_not_null: 2 } },
  status: NO_TABLE,
  tbbo: ok('tbbo_data', 2),
  trades: ok('trades_data', 2),
};

const SET_B: Record<string, Expected> = {
  'EQUS.MINI/test_data.definition.dbn.zst': ok('instrument_definitions', 1), // QQQ: tick size, multiplier NULL
  'EQUS.MINI/test_data.mbp-1.dbn.zst': ok('tbbo_data', 4), // includes the book clear: every level NULL
  'EQUS.MINI/test_data.ohlcv-1d.dbn.zst': ok('ohlcv_data', 1),
  'EQUS.MINI/test_data.ohlcv-1h.dbn.zst': ok('ohlcv_data', 4),
  'EQUS.MINI/test_data.ohlcv-1m.dbn.zst': ok('ohlcv_data', 4),
  'EQUS.MINI/test_data.ohlcv-1s.dbn.zst': ok('ohlcv_data', 4),
  // Two trades share one ts_event (sequences 87442, 87443): the sequence keeps both.
  'EQUS.MINI/test_data.tbbo.dbn.zst': ok('tbbo_data', 4),
  'EQUS.MINI/test_data.trades.dbn.zst': ok('trades_data', 4),
  'GLBX.MDP3/test_data.definition.dbn.zst': ok('instrument_definitions', 1),
  'GLBX.MDP3/test_data.mbp-1.dbn.zst': ok('tbbo_data', 4),
  'GLBX.MDP3/test_data.ohlcv-1d.dbn.zst': ok('ohlcv_data', 1),
  'GLBX.MDP3/test_data.ohlcv-1h.dbn.zst': ok('ohlcv_data', 4),
  'GLBX.MDP3/test_data.ohlcv-1m.dbn.zst': ok('ohlcv_data', 4),
  'GLBX.MDP3/test_data.ohlcv-1s.dbn.zst': ok('ohlcv_data', 4),
  'GLBX.MDP3/test_data.statistics.dbn.zst': ok('statistics_data', 4),
  'GLBX.MDP3/test_data.status.dbn.zst': NO_TABLE,
  'GLBX.MDP3/test_data.tbbo.dbn.zst': ok('tbbo_data', 4),
  'GLBX.MDP3/test_data.trades.dbn.zst': ok('trades_data', 4),
  'IFEU.IMPACT/test_data.definition.dbn.zst': ok('instrument_definitions', 1),
  // Both sides empty: NULL, not quarantined. ts_event ...002731000/004/005 ns are one µs with
  // one (empty) book: sequences 54087–54089 keep the three apart.
  'IFEU.IMPACT/test_data.mbp-1.dbn.zst': ok('tbbo_data', 4),
  'IFEU.IMPACT/test_data.ohlcv-1d.dbn.zst': ok('ohlcv_data', 1),
  'IFEU.IMPACT/test_data.ohlcv-1h.dbn.zst': ok('ohlcv_data', 4),
  'IFEU.IMPACT/test_data.ohlcv-1m.dbn.zst': ok('ohlcv_data', 4),
  'IFEU.IMPACT/test_data.ohlcv-1s.dbn.zst': ok('ohlcv_data', 4),
  'IFEU.IMPACT/test_data.statistics.dbn.zst': ok('statistics_data', 4),
  'IFEU.IMPACT/test_data.tbbo.dbn.zst': ok('tbbo_data', 4),
  'IFEU.IMPACT/test_data.trades.dbn.zst': ok('trades_data', 4), // every side N: stored
  'LIVE/test_data.live.dbn.zst': NO_TABLE, // mixed schema: one table each with --table (LIVE_BY_TABLE), all with loadDbnFileRouted
  'XNAS.ITCH/test_data.definition.dbn.zst': ok('instrument_definitions', 1), // NVDA: tick size, multiplier NULL
  'XNAS.ITCH/test_data.imbalance.dbn.zst': NO_TABLE,
  'XNAS.ITCH/test_data.mbp-1.dbn.zst': ok('tbbo_data', 4),
  'XNAS.ITCH/test_data.ohlcv-1d.dbn.zst': ok('ohlcv_data', 1),
  'XNAS.ITCH/test_data.ohlcv-1h.dbn.zst': ok('ohlcv_data', 4),
  'XNAS.ITCH/test_data.ohlcv-1m.dbn.zst': ok('ohlcv_data', 4),
  'XNAS.ITCH/test_data.ohlcv-1s.dbn.zst': ok('ohlcv_data', 4),
  'XNAS.ITCH/test_data.tbbo.dbn.zst': ok('tbbo_data', 4),
  'XNAS.ITCH/test_data.trades.dbn.zst': ok('trades_data', 4), // one side N: stored
};

/**
 * The LIVE stream (46 records: 20 symbol mappings, 2 trades, 2 mbp-1, 2+2 ohlcv 1s/1m, 9
 * statistics, 2 identical definitions, 5 mbo, 2 mbp-10) into each table with --table. The
 * symbol comes from the in-band SymbolMappingMsg records (ESZ4).
 */
export const LIVE_BY_TABLE: Record<TableName, Expected & { totalRecords: number }> = {
  trades_data: { table: 'trades_data', inserted: 2, rejected: 0, totalRecords: 2 },
  tbbo_data: { table: 'tbbo_data', inserted: 2, rejected: 0, totalRecords: 2 },
  ohlcv_data: { table: 'ohlcv_data', inserted: 4, rejected: 0, totalRecords: 4 },
  statistics_data: { table: 'statistics_data', inserted: 9, rejected: 0, totalRecords: 9 },
  // Two identical versions (same id and ts_recv): one row, the repeat changes nothing.
  instrument_definitions: { table: 'instrument_definitions', inserted: 1, rejected: 0, totalRecords: 2 },
};

/** Every fixture file (relative to FIXTURES) with its expected outcome. */
export function fixtureExpectations(): [string, Expected][] {
  const out: [string, Expected][] = [];
  for (const [schema, e] of Object.entries(SET_A)) {
    const versions = schema === 'status' ? [2, 3] : [1, 2, 3];
    out.push([`test_data.${schema}.dbn`, e]);
    for (const v of versions) out.push([`test_data.${schema}.v${v}.dbn.zst`, e]);
  }
  for (const [rel, e] of Object.entries(SET_B)) out.push([`databento-python/${rel}`, e]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Synthetic DBN (writeDbn) for the cases the real fixtures do not cover.

import type { DbnRecord, TradeRecord } from '../../src/dbn/records.js';
import { writeDbn, type WriteDbnOptions } from '../../src/dbn/writer.js';

/** 2024-01-02T10:00:00Z in ns; synthetic files map instrument 42 to TESTH4 on that UTC day. */
export const T0 = 1_704_189_600_000_000_000n;
export const SYNTH_ID = 42;
export const SYNTH_SYMBOL = 'TESTH4';

/** sideN: side 'N' (no aggressor, stored); badSide: side 'X' (no DBN side: quarantined by trades_side_check). */
export interface TradeOpts { id?: number; sideN?: (i: number) => boolean; badSide?: (i: number) => boolean; tsOut?: boolean; stepNs?: bigint }

/** n trades of instrument 42: sub-µs timestamps (so truncation matters), 9-digit prices, sides A/B (N or X where asked). */
export function synthTrades(n: number, o: TradeOpts = {}): TradeRecord[] {
  const out: TradeRecord[] = [];
  const step = o.stepNs ?? 1_000_000_123n;
  for (let i = 0; i < n; i++) {
    const ts = T0 + BigInt(i) * step + 999n;
    out.push({
      kind: 'trade', rtype: 0, publisherId: 1, instrumentId: o.id ?? SYNTH_ID, tsEvent: ts,
      price: 4_780_250_000_000n + BigInt(i % 50) * 250_000_000n + BigInt(i % 3), size: 1 + (i % 7), action: 'T',
      side: o.badSide?.(i) ? 'X' : o.sideN?.(i) ? 'N' : i % 2 ? 'A' : 'B', flags: 0, depth: 0, tsRecv: ts + 1_500n, tsInDelta: 100 + i, sequence: 1000 + i,
      ...(o.tsOut ? { tsOut: ts + 9_000n } : {}),
    });
  }
  return out;
}

export const SYNTH_MAPPINGS: WriteDbnOptions['mappings'] = [{ rawSymbol: SYNTH_SYMBOL, intervals: [{ startDate: 20240102, endDate: 20240103, symbol: String(SYNTH_ID) }] }];

/** Writes `records` as a DBN file (or returns the bytes when `file` is omitted). */
export async function writeSynth(records: DbnRecord[], o: Partial<WriteDbnOptions> & { file?: string } = {}): Promise<Uint8Array | undefined> {
  const r = await writeDbn({
    version: 3, schema: 'trades', dataset: 'TEST.SYNTH', start: T0, stypeIn: 1, stypeOut: 0,
    symbols: [SYNTH_SYMBOL], mappings: SYNTH_MAPPINGS, ...o, records, path: o.file,
  });
  return r.bytes;
}

/** Length of prelude + metadata of an uncompressed DBN buffer: where records start. */
export function headerLength(bytes: Uint8Array): number {
  return 8 + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
}
