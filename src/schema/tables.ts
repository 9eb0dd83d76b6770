/**
 * THE description of every table tickvault writes. DDL (schema/ddl.ts), record validation
 * (load/validate.ts) and the COPY encoder (copy/) are all derived from these objects, so a column
 * or constraint is declared exactly once. The market-data tables reproduce DESIGN.md §2 verbatim.
 *
 * Each CHECK constraint carries its SQL and an equivalent predicate over normalized values (see
 * schema/types.ts); the two are kept side by side so they cannot drift, and the tests prove each
 * predicate rejects what the database rejects.
 */
import { t, type CellValue, type ColumnType } from './types.js';

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  /** Trusted SQL default expression (written by us, never from input). */
  readonly default?: string;
  /** Trusted SQL of a STORED generated column. Generated columns are never loaded. */
  readonly generated?: string;
  /** Filled by the database (defaults such as created_at); loaders do not send it. */
  readonly serverFilled?: boolean;
  /**
   * The schema version (migration) that added the column; absent = there from version 1. Lets
   * the DDL of an older version be produced (migrations 1–5 create what they created then, so a
   * fresh database and an upgraded one go through the same steps).
   */
  readonly since?: number;
  /** The column was NOT NULL before this schema version, nullable from it on. */
  readonly nullableSince?: number;
}

export type Row = Readonly<Record<string, CellValue>>;

export interface CheckConstraint {
  readonly name: string;
  readonly sql: string;
  /** true when the row satisfies the constraint (NULL operands pass, as in SQL). */
  readonly holds: (row: Row) => boolean;
  /** Human-readable reason used in quarantine records. */
  readonly reason: string;
  /** Schema version that added this form of the constraint (absent = 1). */
  readonly since?: number;
  /** Schema version that replaced it (a newer entry of the same name takes over). */
  readonly until?: number;
}

export interface IndexSpec {
  readonly name: string;
  /** Column names with an optional ' DESC' suffix. */
  readonly columns: readonly string[];
}

export interface HypertableSpec {
  readonly timeColumn: string;
  /** Key into the chunk-interval configuration (schema/intervals.ts). */
  readonly chunkIntervalKey: TableName;
}

export interface CompressionSpec {
  readonly segmentBy: readonly string[];
  readonly orderBy: string;
}

export type TableName = 'ohlcv_data' | 'trades_data' | 'tbbo_data' | 'statistics_data' | 'instrument_definitions';

export interface TableSpec {
  readonly name: TableName;
  readonly columns: readonly Column[];
  /** The CHECK constraints of the current schema version. */
  readonly checks: readonly CheckConstraint[];
  /** Earlier forms of constraints, each with the version that replaced it (`until`). */
  readonly retiredChecks?: readonly CheckConstraint[];
  readonly primaryKey?: readonly string[];
  readonly unique?: readonly { name: string; columns: readonly string[] }[];
  readonly indexes: readonly IndexSpec[];
  readonly hypertable?: HypertableSpec;
  readonly compression?: CompressionSpec;
  /**
   * The columns that identify one fact: two rows with equal keys are the same trade/bar/quote.
   * Used for duplicate detection, upserts and replace mode (not a database constraint: the
   * contract has none on the hypertables, and a unique index would slow every load). From
   * schema version 6 it never merges two distinct source records: it includes the venue
   * (publisher_id) everywhere and the record's sequence for quotes.
   */
  readonly naturalKey: readonly string[];
  /** The natural key before schema version 6 (no publisher; quotes keyed by every value). */
  readonly naturalKeyBefore6?: readonly string[];
}

const DEC = t.numeric(20, 8);
const createdAt: Column = { name: 'created_at', type: t.timestamptz, nullable: true, default: 'NOW()', serverFilled: true };

/** The schema version that made every market table venue-aware (publisher_id, tbbo sequence). */
export const VENUES_VERSION = 6;

/**
 * DBN record header `publisher_id`: the venue (and dataset) a record came from. Part of every
 * market table's natural key, so the same instrument and instant from two venues are two rows.
 * NOT NULL DEFAULT 0: 0 means "not given" — library records without a publisher and rows stored
 * before migration 6. Databento assigns no publisher 0, and a NOT NULL key column keeps the key
 * comparisons plain equalities (hash joins in the merge). INTEGER holds DBN's u16 whole.
 */
const publisherId: Column = { name: 'publisher_id', type: t.int4, nullable: false, default: '0', since: VENUES_VERSION };

// A column missing from a row reads as NULL, as in SQL: the predicates pass it.
function gt0(v: CellValue | undefined): boolean {
  return v == null || (v as bigint | number) > 0;
}
function le(a: CellValue | undefined, b: CellValue | undefined): boolean {
  return a == null || b == null || a <= b;
}

export const ohlcvData: TableSpec = {
  name: 'ohlcv_data',
  columns: [
    { name: 'timestamp', type: t.timestamptz, nullable: false },
    { name: 'instrument_id', type: t.int4, nullable: false },
    { name: 'symbol', type: t.varchar(50), nullable: false },
    { name: 'open_price', type: DEC, nullable: false },
    { name: 'high_price', type: DEC, nullable: false },
    { name: 'low_price', type: DEC, nullable: false },
    { name: 'close_price', type: DEC, nullable: false },
    { name: 'volume', type: t.int8, nullable: false },
    { name: 'granularity', type: t.varchar(10), nullable: false },
    publisherId,
    createdAt,
  ],
  checks: [
    {
      name: 'ohlcv_price_check',
      sql: 'high_price >= low_price AND low_price <= open_price AND open_price <= high_price AND low_price <= close_price AND close_price <= high_price',
      reason: 'bar prices inconsistent: need low <= open, close <= high',
      holds: (r) =>
        le(r.low_price, r.high_price) &&
        le(r.low_price, r.open_price) &&
        le(r.open_price, r.high_price) &&
        le(r.low_price, r.close_price) &&
        le(r.close_price, r.high_price),
    },
    {
      name: 'ohlcv_volume_check',
      sql: 'volume >= 0',
      reason: 'volume is negative',
      holds: (r) => r.volume === null || (r.volume as bigint) >= 0n,
    },
  ],
  indexes: [
    { name: 'idx_ohlcv_symbol_time', columns: ['symbol', 'timestamp DESC'] },
    { name: 'idx_ohlcv_instrument_time', columns: ['instrument_id', 'timestamp DESC'] },
    { name: 'idx_ohlcv_granularity_time', columns: ['granularity', 'timestamp DESC'] },
  ],
  hypertable: { timeColumn: 'timestamp', chunkIntervalKey: 'ohlcv_data' },
  compression: { segmentBy: ['symbol'], orderBy: 'timestamp DESC' },
  // One bar per instrument, venue, granularity and start: OPRA ships one bar per venue.
  naturalKey: ['instrument_id', 'publisher_id', 'granularity', 'timestamp'],
  naturalKeyBefore6: ['instrument_id', 'granularity', 'timestamp'],
};

export const tradesData: TableSpec = {
  name: 'trades_data',
  columns: [
    { name: 'timestamp', type: t.timestamptz, nullable: false },
    { name: 'instrument_id', type: t.int4, nullable: false },
    { name: 'symbol', type: t.varchar(50), nullable: false },
    { name: 'price', type: DEC, nullable: false },
    { name: 'size', type: t.int8, nullable: false },
    { name: 'side', type: t.char(1), nullable: false },
    { name: 'trade_id', type: t.varchar(100), nullable: true },
    publisherId,
    createdAt,
  ],
  checks: [
    { name: 'trades_price_check', sql: 'price > 0', reason: 'price is not positive', holds: (r) => gt0(r.price) },
    { name: 'trades_size_check', sql: 'size > 0', reason: 'size is not positive', holds: (r) => gt0(r.size) },
    // 'N' (no aggressor) is a real value: every ICE Futures Europe trade carries it (DESIGN.md §3).
    {
      name: 'trades_side_check',
      sql: "side IN ('B', 'S', 'N')",
      reason: "side is not 'B', 'S' or 'N'",
      holds: (r) => r.side === null || r.side === 'B' || r.side === 'S' || r.side === 'N',
      since: VENUES_VERSION,
    },
  ],
  indexes: [
    { name: 'idx_trades_symbol_time', columns: ['symbol', 'timestamp DESC'] },
    { name: 'idx_trades_side_time', columns: ['side', 'timestamp DESC'] },
    { name: 'idx_trades_symbol_price_time', columns: ['symbol', 'price', 'timestamp DESC'] },
  ],
  hypertable: { timeColumn: 'timestamp', chunkIntervalKey: 'trades_data' },
  compression: { segmentBy: ['symbol'], orderBy: 'timestamp DESC' },
  retiredChecks: [
    {
      name: 'trades_side_check',
      sql: "side IN ('B', 'S')",
      reason: "side is not 'B' or 'S'",
      holds: (r) => r.side === null || r.side === 'B' || r.side === 'S',
      until: VENUES_VERSION,
    },
  ],
  naturalKey: ['instrument_id', 'publisher_id', 'timestamp', 'trade_id'],
  naturalKeyBefore6: ['instrument_id', 'timestamp', 'trade_id'],
};

export const tbboData: TableSpec = {
  name: 'tbbo_data',
  columns: [
    { name: 'timestamp', type: t.timestamptz, nullable: false },
    { name: 'instrument_id', type: t.int4, nullable: false },
    { name: 'symbol', type: t.varchar(50), nullable: false },
    { name: 'bid_px_00', type: DEC, nullable: true },
    { name: 'ask_px_00', type: DEC, nullable: true },
    { name: 'bid_sz_00', type: t.int8, nullable: true },
    { name: 'ask_sz_00', type: t.int8, nullable: true },
    { name: 'spread', type: DEC, nullable: true, generated: 'ask_px_00 - bid_px_00' },
    publisherId,
    // The record's venue sequence number: what tells apart the quotes of distinct trades in one
    // microsecond (ICE sequences 54087–54089 share a µs and a book). NULL = not given (library
    // quotes without one, rows stored before migration 6); DBN sequence 0 is a real value.
    { name: 'sequence', type: t.int8, nullable: true, since: VENUES_VERSION },
    createdAt,
  ],
  checks: [
    {
      name: 'tbbo_prices_check',
      sql: '(bid_px_00 IS NULL OR bid_px_00 > 0) AND (ask_px_00 IS NULL OR ask_px_00 > 0) AND (bid_px_00 IS NULL OR ask_px_00 IS NULL OR ask_px_00 >= bid_px_00)',
      reason: 'quote prices invalid: need bid > 0, ask > 0 and ask >= bid (crossed quote)',
      holds: (r) => gt0(r.bid_px_00) && gt0(r.ask_px_00) && le(r.bid_px_00, r.ask_px_00),
    },
    {
      name: 'tbbo_sizes_check',
      sql: '(bid_sz_00 IS NULL OR bid_sz_00 > 0) AND (ask_sz_00 IS NULL OR ask_sz_00 > 0)',
      reason: 'quote sizes must be positive',
      holds: (r) => gt0(r.bid_sz_00) && gt0(r.ask_sz_00),
    },
  ],
  indexes: [
    { name: 'idx_tbbo_symbol_time', columns: ['symbol', 'timestamp DESC'] },
    { name: 'idx_tbbo_symbol_spread_time', columns: ['symbol', 'spread', 'timestamp DESC'] },
  ],
  hypertable: { timeColumn: 'timestamp', chunkIntervalKey: 'tbbo_data' },
  compression: { segmentBy: ['symbol'], orderBy: 'timestamp DESC' },
  // Real feeds carry several quotes in one microsecond (a TBBO record per trade; fixtures EQUS,
  // IFEU), often with the same book: the venue's sequence tells them apart, the publisher the
  // venues. (Before migration 6, without a sequence column, the key was every stored value.)
  naturalKey: ['instrument_id', 'publisher_id', 'timestamp', 'sequence'],
  naturalKeyBefore6: ['instrument_id', 'timestamp', 'bid_px_00', 'ask_px_00', 'bid_sz_00', 'ask_sz_00'],
};

/**
 * Not in the user's contract: designed from the DBN StatMsg (reference §4). `timestamp` is
 * ts_event; `stat_type_name` spells the numeric stat_type so SQL users need no lookup table.
 * Compression segments by symbol and stat_type: queries ask for one statistic of one symbol.
 */
export const statisticsData: TableSpec = {
  name: 'statistics_data',
  columns: [
    { name: 'timestamp', type: t.timestamptz, nullable: false },
    { name: 'ts_recv', type: t.timestamptz, nullable: false },
    { name: 'ts_ref', type: t.timestamptz, nullable: true },
    { name: 'instrument_id', type: t.int4, nullable: false },
    { name: 'symbol', type: t.varchar(50), nullable: false },
    { name: 'stat_type', type: t.int2, nullable: false },
    { name: 'stat_type_name', type: t.varchar(40), nullable: false },
    { name: 'price', type: DEC, nullable: true },
    { name: 'quantity', type: t.int8, nullable: true },
    { name: 'sequence', type: t.int8, nullable: false },
    { name: 'ts_in_delta', type: t.int4, nullable: true },
    { name: 'channel_id', type: t.int2, nullable: true },
    { name: 'update_action', type: t.int2, nullable: false },
    { name: 'stat_flags', type: t.int2, nullable: false },
    publisherId,
    createdAt,
  ],
  checks: [
    {
      name: 'statistics_update_action_check',
      sql: 'update_action IN (1, 2)',
      reason: 'update_action is not 1 (new) or 2 (delete)',
      holds: (r) => r.update_action === null || r.update_action === 1 || r.update_action === 2,
    },
    {
      name: 'statistics_stat_type_check',
      sql: 'stat_type > 0',
      reason: 'stat_type is not positive',
      holds: (r) => gt0(r.stat_type),
    },
  ],
  indexes: [
    { name: 'idx_statistics_symbol_type_time', columns: ['symbol', 'stat_type', 'timestamp DESC'] },
    { name: 'idx_statistics_instrument_time', columns: ['instrument_id', 'timestamp DESC'] },
  ],
  hypertable: { timeColumn: 'timestamp', chunkIntervalKey: 'statistics_data' },
  compression: { segmentBy: ['symbol', 'stat_type'], orderBy: 'timestamp DESC' },
  naturalKey: ['instrument_id', 'publisher_id', 'timestamp', 'stat_type', 'sequence'],
  naturalKeyBefore6: ['instrument_id', 'timestamp', 'stat_type', 'sequence'],
};

export const instrumentDefinitions: TableSpec = {
  name: 'instrument_definitions',
  columns: [
    { name: 'instrument_id', type: t.int4, nullable: false },
    { name: 'symbol', type: t.varchar(50), nullable: false },
    { name: 'raw_symbol', type: t.varchar(100), nullable: false },
    { name: 'asset', type: t.varchar(20), nullable: false },
    { name: 'exchange', type: t.varchar(20), nullable: false },
    { name: 'currency', type: t.varchar(3), nullable: false },
    // Nullable from migration 6: equity definitions (XNAS, EQUS) leave min_price_increment and
    // unit_of_measure_qty undefined; NULL says "not published", never an invented value.
    { name: 'tick_size', type: DEC, nullable: true, nullableSince: VENUES_VERSION },
    { name: 'multiplier', type: DEC, nullable: true, nullableSince: VENUES_VERSION },
    { name: 'expiration_date', type: t.date, nullable: true },
    { name: 'is_active', type: t.bool, nullable: true, default: 'TRUE' },
    createdAt,
    { name: 'updated_at', type: t.timestamptz, nullable: true, default: 'NOW()', serverFilled: true },
    // The venue that published the definition (informational: instrument_id stays the key).
    publisherId,
  ],
  checks: [
    { name: 'positive_tick_size', sql: 'tick_size > 0', reason: 'tick_size is not positive', holds: (r) => gt0(r.tick_size) },
    { name: 'positive_multiplier', sql: 'multiplier > 0', reason: 'multiplier is not positive', holds: (r) => gt0(r.multiplier) },
  ],
  primaryKey: ['instrument_id'],
  unique: [{ name: 'unique_symbol', columns: ['symbol'] }],
  indexes: [
    { name: 'idx_definitions_symbol', columns: ['symbol'] },
    { name: 'idx_definitions_asset_active', columns: ['asset', 'is_active'] },
    { name: 'idx_definitions_exchange_active', columns: ['exchange', 'is_active'] },
  ],
  naturalKey: ['instrument_id'],
};

export const MARKET_TABLES: readonly TableSpec[] = [ohlcvData, tradesData, tbboData, statisticsData, instrumentDefinitions];

export function tableSpec(name: string): TableSpec {
  const spec = MARKET_TABLES.find((s) => s.name === name);
  if (!spec) {
    throw new Error(`unknown table "${name}"; expected one of ${MARKET_TABLES.map((s) => s.name).join(', ')}`);
  }
  return spec;
}

/** Rules a quarantined row can break besides the tables' CHECKs (loaders and the DBN source). */
const OTHER_RULES: Readonly<Record<string, string>> = {
  natural_key: 'the same natural key is already stored or repeated in the input',
  symbol_not_null: 'no symbol is known for the instrument id',
  unknown_rtype: 'a record of no known DBN type',
};

/** What breaking constraint `name` of `table` means, in words (undefined when it is not tickvault's). */
export function constraintMeaning(table: string, name: string): string | undefined {
  const spec = MARKET_TABLES.find((s) => s.name === table);
  return spec?.checks.find((c) => c.name === name)?.reason ?? OTHER_RULES[name];
}

/**
 * The table as schema version `version` had it: columns added later left out, columns that became
 * nullable later NOT NULL, CHECKs in the form of that version. The migrations create old
 * versions' tables from this, and the upgrade test builds a version-5 database with it.
 */
export function specAtVersion(spec: TableSpec, version: number): TableSpec {
  return {
    ...spec,
    columns: spec.columns
      .filter((c) => (c.since ?? 1) <= version)
      .map((c) => (c.nullableSince !== undefined && version < c.nullableSince ? { ...c, nullable: false } : c)),
    checks: checksAtVersion(spec, version),
    naturalKey: version < VENUES_VERSION ? (spec.naturalKeyBefore6 ?? spec.naturalKey) : spec.naturalKey,
  };
}

export function checksAtVersion(spec: TableSpec, version: number): readonly CheckConstraint[] {
  return [...(spec.retiredChecks ?? []), ...spec.checks].filter(
    (c) => (c.since ?? 1) <= version && (c.until === undefined || version < c.until),
  );
}

/** The columns a loader sends: everything except generated and server-filled columns. */
export function loadedColumns(spec: TableSpec): readonly Column[] {
  return spec.columns.filter((c) => !c.generated && !c.serverFilled);
}
