/**
 * What loading each real fixture into its default table must give (derived from
 * shared/fixtures/dbn/SOURCE.md and reference §7).
 */
import type { TableName } from '../../src/schema/tables.js';

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
