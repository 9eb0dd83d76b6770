/**
 * Every CHECK constraint of the schema rejects a violating row on both engines (SQLSTATE 23514,
 * named constraint), and the `holds` predicate that tables.ts keeps next to the constraint's SQL
 * says false for the same row (in normalized values, schema/types.ts) — so the loader's validator
 * and the database agree. Each case also proves its valid base row passes both, so a failure can
 * only come from the violation under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Engine } from '../../src/engine/types.js';
import { MARKET_TABLES, tableSpec, type Row, type TableSpec } from '../../src/schema/tables.js';
import type { CellValue, ColumnType } from '../../src/schema/types.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

type SqlRow = Record<string, string | null>;

/** A valid row per table, as SQL text values (loaded columns only). */
const VALID: Record<string, SqlRow> = {
  ohlcv_data: {
    timestamp: '2024-03-01T14:30:00Z',
    instrument_id: '42',
    symbol: 'ESH4',
    open_price: '5100.25',
    high_price: '5101.5',
    low_price: '5099.75',
    close_price: '5100.5',
    volume: '1200',
    granularity: '1m',
  },
  trades_data: {
    timestamp: '2024-03-01T14:30:00Z',
    instrument_id: '42',
    symbol: 'ESH4',
    price: '5100.25',
    size: '3',
    side: 'B',
    trade_id: 't-1',
  },
  tbbo_data: {
    timestamp: '2024-03-01T14:30:00Z',
    instrument_id: '42',
    symbol: 'ESH4',
    bid_px_00: '5100.25',
    ask_px_00: '5100.5',
    bid_sz_00: '10',
    ask_sz_00: '12',
  },
  statistics_data: {
    timestamp: '2024-03-01T14:30:00Z',
    ts_recv: '2024-03-01T14:30:01Z',
    ts_ref: null,
    instrument_id: '42',
    symbol: 'ESH4',
    stat_type: '3',
    stat_type_name: 'settlement_price',
    price: '5100.25',
    quantity: null,
    sequence: '7',
    ts_in_delta: '120',
    channel_id: '0',
    update_action: '1',
    stat_flags: '0',
  },
  instrument_definitions: {
    instrument_id: '42',
    symbol: 'ESH4',
    raw_symbol: 'ESH4',
    asset: 'ES',
    exchange: 'XCME',
    currency: 'USD',
    tick_size: '0.25',
    multiplier: '50',
    expiration_date: '2024-03-15',
    is_active: 'true',
  },
};

interface Case {
  readonly table: string;
  readonly constraint: string;
  readonly what: string;
  readonly change: SqlRow;
}

const VIOLATIONS: readonly Case[] = [
  {
    table: 'ohlcv_data',
    constraint: 'ohlcv_price_check',
    what: 'high < low',
    change: { high_price: '5099', low_price: '5099.5', open_price: '5099.25', close_price: '5099.25' },
  },
  { table: 'ohlcv_data', constraint: 'ohlcv_price_check', what: 'open > high', change: { open_price: '5101.75' } },
  { table: 'ohlcv_data', constraint: 'ohlcv_price_check', what: 'open < low', change: { open_price: '5099.5' } },
  { table: 'ohlcv_data', constraint: 'ohlcv_price_check', what: 'close > high', change: { close_price: '5101.50000001' } },
  { table: 'ohlcv_data', constraint: 'ohlcv_price_check', what: 'close < low', change: { close_price: '5099.74999999' } },
  { table: 'ohlcv_data', constraint: 'ohlcv_volume_check', what: 'negative volume', change: { volume: '-1' } },
  { table: 'trades_data', constraint: 'trades_price_check', what: 'zero price', change: { price: '0' } },
  { table: 'trades_data', constraint: 'trades_price_check', what: 'negative price', change: { price: '-12.5' } },
  { table: 'trades_data', constraint: 'trades_size_check', what: 'zero size', change: { size: '0' } },
  { table: 'trades_data', constraint: 'trades_size_check', what: 'negative size', change: { size: '-3' } },
  { table: 'trades_data', constraint: 'trades_side_check', what: "a side DBN does not have ('X')", change: { side: 'X' } },
  { table: 'trades_data', constraint: 'trades_side_check', what: "unmapped DBN side 'A'", change: { side: 'A' } },
  { table: 'tbbo_data', constraint: 'tbbo_prices_check', what: 'zero bid', change: { bid_px_00: '0' } },
  { table: 'tbbo_data', constraint: 'tbbo_prices_check', what: 'negative ask', change: { ask_px_00: '-1', bid_px_00: null } },
  {
    table: 'tbbo_data',
    constraint: 'tbbo_prices_check',
    what: 'crossed quote (ask < bid)',
    change: { bid_px_00: '5100.5', ask_px_00: '5100.25' },
  },
  { table: 'tbbo_data', constraint: 'tbbo_sizes_check', what: 'zero bid size', change: { bid_sz_00: '0' } },
  { table: 'tbbo_data', constraint: 'tbbo_sizes_check', what: 'negative ask size', change: { ask_sz_00: '-5', bid_sz_00: null } },
  { table: 'statistics_data', constraint: 'statistics_update_action_check', what: 'update_action 3', change: { update_action: '3' } },
  { table: 'statistics_data', constraint: 'statistics_stat_type_check', what: 'stat_type 0', change: { stat_type: '0' } },
  { table: 'instrument_definitions', constraint: 'positive_tick_size', what: 'zero tick size', change: { tick_size: '0' } },
  { table: 'instrument_definitions', constraint: 'positive_multiplier', what: 'negative multiplier', change: { multiplier: '-50' } },
];

/** Rows the contract allows although they look odd: NULLs pass, equality is fine. */
const ALLOWED: readonly Case[] = [
  {
    table: 'tbbo_data',
    constraint: '-',
    what: 'no quote at all (all NULL)',
    change: { bid_px_00: null, ask_px_00: null, bid_sz_00: null, ask_sz_00: null },
  },
  { table: 'tbbo_data', constraint: '-', what: 'one-sided quote', change: { ask_px_00: null, ask_sz_00: null } },
  { table: 'tbbo_data', constraint: '-', what: 'locked quote (ask = bid)', change: { ask_px_00: '5100.25' } },
  {
    table: 'ohlcv_data',
    constraint: '-',
    what: 'flat bar with zero volume',
    change: { open_price: '1', high_price: '1', low_price: '1', close_price: '1', volume: '0' },
  },
  { table: 'trades_data', constraint: '-', what: 'sell side, no trade id', change: { side: 'S', trade_id: null } },
  // Migration 6: 'N' (no aggressor) is a real value, stored.
  { table: 'trades_data', constraint: '-', what: "DBN side 'N' (no aggressor)", change: { side: 'N' } },
  {
    table: 'instrument_definitions',
    constraint: '-',
    what: 'no tick size or multiplier published (equities)',
    change: { tick_size: null, multiplier: null },
  },
];

// ------------------------------------------------------------------------------------------------
// Normalized values (schema/types.ts), computed independently of the loader's normalizer.

function scaled(decimal: string, scale: number): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!m) throw new Error(`bad decimal ${decimal}`);
  const frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale) throw new Error(`too many decimals in ${decimal}`);
  const v = BigInt(m[2]! + frac);
  return m[1] ? -v : v;
}

function normalize(type: ColumnType, text: string | null): CellValue {
  if (text === null) return null;
  switch (type.kind) {
    case 'timestamptz':
      return BigInt(Date.parse(text)) * 1000n;
    case 'int2':
    case 'int4':
      return Number(text);
    case 'int8':
      return BigInt(text);
    case 'numeric':
      return scaled(text, type.scale);
    case 'bool':
      return text === 'true';
    case 'date':
      return Date.parse(`${text}T00:00:00Z`) / 86_400_000;
    default:
      return text;
  }
}

function normalizedRow(spec: TableSpec, row: SqlRow): Row {
  const out: Record<string, CellValue> = {};
  for (const c of spec.columns) if (c.name in row) out[c.name] = normalize(c.type, row[c.name]!);
  return out;
}

async function insert(tx: Connection, table: string, row: SqlRow): Promise<void> {
  const cols = Object.keys(row);
  await tx.query(
    `INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
    // PGlite serializes parameters by their column type and wants a JS boolean for BOOLEAN.
    cols.map((c) =>
      tableSpec(table).columns.find((k) => k.name === c)?.type.kind === 'bool' && row[c] !== null ? row[c] === 'true' : row[c],
    ),
  );
}

const ROLLBACK = Symbol('rollback');

/** Inserts the row in a transaction that is always rolled back; resolves to the database error, if any. */
async function tryInsert(
  engine: Engine,
  table: string,
  row: SqlRow,
): Promise<{ code?: string; constraint?: string; message: string } | null> {
  try {
    await engine.transaction(async (tx) => {
      await insert(tx, table, row);
      throw ROLLBACK;
    });
  } catch (err) {
    if (err === ROLLBACK) return null;
    return err as { code?: string; constraint?: string; message: string };
  }
  throw new Error('unreachable');
}

describe('the CHECK cases cover the schema', () => {
  it('every CHECK constraint of tables.ts has at least one violation case, and nothing else is listed', () => {
    const declared = MARKET_TABLES.flatMap((s) => s.checks.map((c) => `${s.name}.${c.name}`)).sort();
    const covered = [...new Set(VIOLATIONS.map((v) => `${v.table}.${v.constraint}`))].sort();
    expect(covered).toEqual(declared);
  });
});

describe.each(ENGINE_KINDS)('CHECK constraints on the %s engine', (kind) => {
  let t: TestEngine;

  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'schema_checks' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('the database knows exactly the CHECK constraints that tables.ts declares', async () => {
    const { rows } = await t.engine.query<{ name: string }>(
      `SELECT conrelid::regclass::text || '.' || conname AS name FROM pg_constraint
        WHERE contype = 'c' AND conrelid = ANY($1::regclass[])`,
      [MARKET_TABLES.map((s) => s.name)],
    );
    expect(rows.map((r) => r.name).sort()).toEqual(MARKET_TABLES.flatMap((s) => s.checks.map((c) => `${s.name}.${c.name}`)).sort());
  });

  it.each(Object.keys(VALID))('the valid %s row is accepted by the database and by every predicate', async (table) => {
    const spec = tableSpec(table);
    const row = VALID[table]!;
    for (const check of spec.checks) expect(check.holds(normalizedRow(spec, row)), check.name).toBe(true);
    expect(await tryInsert(t.engine, table, row)).toBeNull();
  });

  it.each(VIOLATIONS.map((v) => [`${v.table}.${v.constraint}`, v.what, v] as const))(
    '%s rejects a row with %s (SQLSTATE 23514) and its predicate says false',
    async (_name, _what, c) => {
      const spec = tableSpec(c.table);
      const row = { ...VALID[c.table]!, ...c.change };
      const check = spec.checks.find((k) => k.name === c.constraint);
      expect(check, `tables.ts declares ${c.constraint}`).toBeDefined();
      const normalized = normalizedRow(spec, row);
      expect(check!.holds(normalized)).toBe(false);
      // The other constraints of the table still hold: the row violates exactly this one.
      for (const other of spec.checks.filter((k) => k !== check)) expect(other.holds(normalized), other.name).toBe(true);

      const err = await tryInsert(t.engine, c.table, row);
      expect(err, 'the database accepted the row').not.toBeNull();
      expect(err!.code).toBe('23514');
      expect(err!.message).toContain(`"${c.constraint}"`);
    },
  );

  it.each(ALLOWED.map((a) => [a.table, a.what, a] as const))('%s accepts %s (database and predicates)', async (_table, _what, a) => {
    const spec = tableSpec(a.table);
    const row = { ...VALID[a.table]!, ...a.change };
    for (const check of spec.checks) expect(check.holds(normalizedRow(spec, row)), check.name).toBe(true);
    expect(await tryInsert(t.engine, a.table, row)).toBeNull();
  });

  it('NOT NULL columns reject NULL (SQLSTATE 23502)', async () => {
    const err = await tryInsert(t.engine, 'trades_data', { ...VALID.trades_data!, side: null });
    expect(err?.code).toBe('23502');
    const err2 = await tryInsert(t.engine, 'ohlcv_data', { ...VALID.ohlcv_data!, granularity: null });
    expect(err2?.code).toBe('23502');
  });

  it('instrument_definitions: unique_symbol and the primary key reject duplicates (SQLSTATE 23505)', async () => {
    const attempt = async (second: SqlRow) => {
      try {
        await t.engine.transaction(async (tx) => {
          await insert(tx, 'instrument_definitions', VALID.instrument_definitions!);
          await insert(tx, 'instrument_definitions', second);
          throw ROLLBACK;
        });
      } catch (err) {
        return err === ROLLBACK ? null : (err as { code?: string; message: string });
      }
      return null;
    };
    const sameSymbol = await attempt({ ...VALID.instrument_definitions!, instrument_id: '43' });
    expect(sameSymbol?.code).toBe('23505');
    expect(sameSymbol?.message).toContain('"unique_symbol"');
    const sameId = await attempt({ ...VALID.instrument_definitions!, symbol: 'ESM4' });
    expect(sameId?.code).toBe('23505');
    expect(sameId?.message).toContain('"instrument_definitions_pkey"');
    expect(await attempt({ ...VALID.instrument_definitions!, instrument_id: '43', symbol: 'ESM4' })).toBeNull();
  });

  it('the varchar/char lengths of the contract are enforced (SQLSTATE 22001)', async () => {
    expect((await tryInsert(t.engine, 'trades_data', { ...VALID.trades_data!, symbol: 'X'.repeat(51) }))?.code).toBe('22001');
    expect((await tryInsert(t.engine, 'ohlcv_data', { ...VALID.ohlcv_data!, granularity: '12345678901' }))?.code).toBe('22001');
    expect((await tryInsert(t.engine, 'instrument_definitions', { ...VALID.instrument_definitions!, currency: 'USDT' }))?.code).toBe(
      '22001',
    );
    expect(await tryInsert(t.engine, 'trades_data', { ...VALID.trades_data!, symbol: 'X'.repeat(50) })).toBeNull();
  });

  it('DECIMAL(20,8) keeps 8 decimals and 12 integer digits exactly', async () => {
    const { rows } = await t.engine.query<{ a: string }>(`SELECT $1::numeric(20,8)::text AS a`, ['123456789012.12345678']);
    expect(rows[0]!.a).toBe('123456789012.12345678');
    const err = await tryInsert(t.engine, 'trades_data', { ...VALID.trades_data!, price: '1234567890123' });
    expect(err?.code).toBe('22003'); // numeric field overflow
  });
});
