/**
 * The schema contract (DESIGN.md §2), read back from the catalogs of a freshly migrated database on
 * both engines. The expectations below are written out by hand from DESIGN.md, NOT derived from
 * src/schema/tables.ts: if the table descriptions drift from the contract, these tests fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Engine } from '../../src/engine/types.js';
import { LATEST_VERSION, migrate } from '../../src/schema/migrate.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

// ------------------------------------------------------------------------------------------------
// The contract, literally.

/** [column, information_schema data_type, char length, numeric precision, numeric scale, nullable, default] */
type Col = readonly [string, string, number | null, number | null, number | null, boolean, string | null];

const TSTZ = 'timestamp with time zone';
const ts = (name: string, nullable = false, def: string | null = null): Col => [name, TSTZ, null, null, null, nullable, def];
const int4 = (name: string, nullable = false): Col => [name, 'integer', null, 32, 0, nullable, null];
const int8 = (name: string, nullable = false): Col => [name, 'bigint', null, 64, 0, nullable, null];
const int2 = (name: string, nullable = false): Col => [name, 'smallint', null, 16, 0, nullable, null];
const dec = (name: string, nullable = false): Col => [name, 'numeric', null, 20, 8, nullable, null];
const vc = (name: string, len: number, nullable = false): Col => [name, 'character varying', len, null, null, nullable, null];
const createdAt = ts('created_at', true, 'now()');
/** Migration 6 (DESIGN.md §3 revision): the venue of every row; added columns come last. */
const publisherId: Col = ['publisher_id', 'integer', null, 32, 0, false, '0'];

const COLUMNS: Record<string, readonly Col[]> = {
  ohlcv_data: [
    ts('timestamp'),
    int4('instrument_id'),
    vc('symbol', 50),
    dec('open_price'),
    dec('high_price'),
    dec('low_price'),
    dec('close_price'),
    int8('volume'),
    vc('granularity', 10),
    createdAt,
    publisherId,
  ],
  trades_data: [
    ts('timestamp'),
    int4('instrument_id'),
    vc('symbol', 50),
    dec('price'),
    int8('size'),
    ['side', 'character', 1, null, null, false, null],
    vc('trade_id', 100, true),
    createdAt,
    publisherId,
  ],
  tbbo_data: [
    ts('timestamp'),
    int4('instrument_id'),
    vc('symbol', 50),
    dec('bid_px_00', true),
    dec('ask_px_00', true),
    int8('bid_sz_00', true),
    int8('ask_sz_00', true),
    dec('spread', true),
    createdAt,
    publisherId,
    int8('sequence', true),
  ],
  instrument_definitions: [
    int4('instrument_id'),
    vc('symbol', 50),
    vc('raw_symbol', 100),
    vc('asset', 20),
    vc('exchange', 20),
    // tick_size and multiplier nullable since migration 6: equities publish neither.
    vc('currency', 3),
    dec('tick_size', true),
    dec('multiplier', true),
    ['expiration_date', 'date', null, null, null, true, null],
    ['is_active', 'boolean', null, null, null, true, 'true'],
    createdAt,
    ts('updated_at', true, 'now()'),
    publisherId,
  ],
  // Not specified by the user; DESIGN.md §2 asks for "at least" ts_event (timestamp), ts_recv,
  // ts_ref, instrument_id, symbol, stat_type (+ name), price DECIMAL(20,8) NULL, quantity NULL,
  // sequence, update_action, stat_flags. This is tickvault's design of it, pinned as well.
  statistics_data: [
    ts('timestamp'),
    ts('ts_recv'),
    ts('ts_ref', true),
    int4('instrument_id'),
    vc('symbol', 50),
    int2('stat_type'),
    vc('stat_type_name', 40),
    dec('price', true),
    int8('quantity', true),
    int8('sequence'),
    int4('ts_in_delta', true),
    int2('channel_id', true),
    int2('update_action'),
    int2('stat_flags'),
    createdAt,
    publisherId,
  ],
};

/** Every constraint of each table: name → pg_get_constraintdef (PostgreSQL's normalized spelling). */
const CONSTRAINTS: Record<string, Record<string, string>> = {
  ohlcv_data: {
    ohlcv_price_check:
      'CHECK (((high_price >= low_price) AND (low_price <= open_price) AND (open_price <= high_price) AND (low_price <= close_price) AND (close_price <= high_price)))',
    ohlcv_volume_check: 'CHECK ((volume >= 0))',
  },
  trades_data: {
    trades_price_check: 'CHECK ((price > (0)::numeric))',
    trades_size_check: 'CHECK ((size > 0))',
    // 'N' (no aggressor) admitted by migration 6.
    trades_side_check: "CHECK ((side = ANY (ARRAY['B'::bpchar, 'S'::bpchar, 'N'::bpchar])))",
  },
  tbbo_data: {
    tbbo_prices_check:
      'CHECK ((((bid_px_00 IS NULL) OR (bid_px_00 > (0)::numeric)) AND ((ask_px_00 IS NULL) OR (ask_px_00 > (0)::numeric)) AND ((bid_px_00 IS NULL) OR (ask_px_00 IS NULL) OR (ask_px_00 >= bid_px_00))))',
    tbbo_sizes_check: 'CHECK ((((bid_sz_00 IS NULL) OR (bid_sz_00 > 0)) AND ((ask_sz_00 IS NULL) OR (ask_sz_00 > 0))))',
  },
  instrument_definitions: {
    instrument_definitions_pkey: 'PRIMARY KEY (instrument_id)',
    unique_symbol: 'UNIQUE (symbol)',
    positive_tick_size: 'CHECK ((tick_size > (0)::numeric))',
    positive_multiplier: 'CHECK ((multiplier > (0)::numeric))',
  },
  statistics_data: {
    statistics_update_action_check: 'CHECK ((update_action = ANY (ARRAY[1, 2])))',
    statistics_stat_type_check: 'CHECK ((stat_type > 0))',
  },
};

/** Every index of each table (including those backing PK/UNIQUE), as "[UNIQUE ]col, col DESC". */
const INDEXES: Record<string, readonly string[]> = {
  ohlcv_data: ['symbol, timestamp DESC', 'instrument_id, timestamp DESC', 'granularity, timestamp DESC'],
  trades_data: ['symbol, timestamp DESC', 'side, timestamp DESC', 'symbol, price, timestamp DESC'],
  tbbo_data: ['symbol, timestamp DESC', 'symbol, spread, timestamp DESC'],
  instrument_definitions: ['UNIQUE instrument_id', 'UNIQUE symbol', 'symbol', 'asset, is_active', 'exchange, is_active'],
  // Contract: (symbol, stat_type, timestamp DESC); tickvault adds (instrument_id, timestamp DESC).
  statistics_data: ['symbol, stat_type, timestamp DESC', 'instrument_id, timestamp DESC'],
};

const CHUNK_INTERVALS: Record<string, string> = {
  ohlcv_data: '1 day',
  trades_data: '1 hour',
  tbbo_data: '1 hour',
  statistics_data: '1 day',
};
const HYPERTABLES = Object.keys(CHUNK_INTERVALS).sort();

const COMPRESS_AFTER: Record<string, string> = {
  ohlcv_data: '7 days',
  trades_data: '1 day',
  tbbo_data: '3 days',
  statistics_data: '7 days', // tickvault's choice (DESIGN.md asks to state it)
};
// Retention is off by default (no default deletes history; config/policies.ts): the jobs exist
// when asked for. The contract's windows are what the database of these tests is created with.
const RETAIN_FOR: Record<string, string> = { ohlcv_data: '5 years', trades_data: '2 years', tbbo_data: '1 year' };
const HOURLY_REFRESH = { start_offset: '1 month', end_offset: '1 hour', schedule_interval: '1 hour' };

const BOOKKEEPING_TABLES = [
  'tickvault_load_batches',
  'tickvault_loads',
  'tickvault_quarantine',
  'tickvault_schema_version',
  'tickvault_settings',
  'tickvault_symbol_history',
];

// ------------------------------------------------------------------------------------------------
// Catalog helpers

/** PostgreSQL's own spelling of an interval, so '1 hour' and '01:00:00' compare equal. */
async function iv(engine: Engine, text: string): Promise<string> {
  const { rows } = await engine.query<{ t: string }>('SELECT $1::interval::text AS t', [text]);
  return rows[0]!.t;
}

async function ivMap(engine: Engine, m: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k] = await iv(engine, v);
  return out;
}

/** "symbol, \"timestamp\" DESC" from an indexdef → "symbol, timestamp DESC" (btree only). */
function indexShape(indexdef: string): string {
  const m = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING btree \((.*)\)$/.exec(indexdef);
  if (!m) return `unexpected: ${indexdef}`;
  return `${m[1] ?? ''}${m[2]!.replace(/"/g, '')}`;
}

async function columnsOf(engine: Engine, table: string): Promise<Col[]> {
  const { rows } = await engine.query<{
    column_name: string;
    data_type: string;
    character_maximum_length: number | null;
    numeric_precision: number | null;
    numeric_scale: number | null;
    is_nullable: string;
    column_default: string | null;
  }>(
    `SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => [
    r.column_name,
    r.data_type,
    r.character_maximum_length,
    r.numeric_precision,
    r.numeric_scale,
    r.is_nullable === 'YES',
    r.column_default,
  ]);
}

const ROLLBACK = Symbol('rollback');

/** Runs `fn` in a transaction that is always rolled back, so the tables stay empty. */
async function rolledBack<T>(engine: Engine, fn: (tx: Connection) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await engine
    .transaction(async (tx) => {
      out = await fn(tx);
      throw ROLLBACK;
    })
    .catch((err: unknown) => {
      if (err !== ROLLBACK) throw err;
    });
  return out as T;
}

describe.each(ENGINE_KINDS)('schema contract on the %s engine', (kind) => {
  let t: TestEngine;
  let engine: Engine;

  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'schema_contract', migrate: false });
    engine = t.engine;
    await migrate(engine, { policies: { retainFor: RETAIN_FOR } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('detects the tier of DESIGN.md §4 (community embedded, Apache build on the server)', async () => {
    const caps = await engine.capabilities();
    expect(caps.tier).toBe(kind === 'embedded' ? 'timescaledb' : 'timescaledb-apache');
    expect(caps.hypertables).toBe(true);
    expect(caps.compression).toBe(kind === 'embedded');
    expect(caps.continuousAggregates).toBe(kind === 'embedded');
  });

  it.each(Object.keys(COLUMNS))('%s has exactly the contract columns, types, lengths, nullability and defaults', async (table) => {
    expect(await columnsOf(engine, table)).toEqual(COLUMNS[table]);
  });

  it('tbbo_data.spread is a STORED generated column ask_px_00 - bid_px_00, computed exactly', async () => {
    const { rows } = await engine.query<{ is_generated: string; generation_expression: string | null }>(
      `SELECT is_generated, generation_expression FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'tbbo_data' AND column_name = 'spread'`,
    );
    expect(rows).toEqual([{ is_generated: 'ALWAYS', generation_expression: '(ask_px_00 - bid_px_00)' }]);
    const stored = await engine.query<{ attgenerated: string }>(
      `SELECT attgenerated FROM pg_attribute WHERE attrelid = 'tbbo_data'::regclass AND attname = 'spread'`,
    );
    expect(stored.rows[0]!.attgenerated).toBe('s');
    // Only one generated column anywhere in the contract tables.
    const others = await engine.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.columns
        WHERE table_schema = current_schema() AND is_generated = 'ALWAYS' AND table_name = ANY($1::text[])`,
      [Object.keys(COLUMNS)],
    );
    expect(others.rows[0]!.n).toBe(1);

    const spread = await rolledBack(engine, async (tx) => {
      const r = await tx.query<{ spread: string }>(
        `INSERT INTO tbbo_data ("timestamp", instrument_id, symbol, bid_px_00, ask_px_00, bid_sz_00, ask_sz_00)
         VALUES ('2024-03-01 14:30:00+00', 1, 'ESH4', 5100.12345678, 5100.37345679, 3, 7) RETURNING spread::text AS spread`,
      );
      return r.rows[0]!.spread;
    });
    expect(spread).toBe('0.25000001');
  });

  it.each(Object.keys(CONSTRAINTS))('%s has exactly the contract constraints, by name', async (table) => {
    const { rows } = await engine.query<{ conname: string; def: string }>(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = $1::regclass ORDER BY conname`,
      [table],
    );
    expect(Object.fromEntries(rows.map((r) => [r.conname, r.def]))).toEqual(CONSTRAINTS[table]);
  });

  it.each(Object.keys(INDEXES))('%s has exactly the contract indexes (columns, order, DESC)', async (table) => {
    const { rows } = await engine.query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1',
      [table],
    );
    expect(rows.map((r) => indexShape(r.indexdef)).sort()).toEqual([...INDEXES[table]!].sort());
  });

  it('the four time-series tables are hypertables on "timestamp" with the contract chunk intervals', async () => {
    const hts = await engine.query<{ hypertable_name: string; num_dimensions: number }>(
      `SELECT hypertable_name, num_dimensions FROM timescaledb_information.hypertables
        WHERE hypertable_schema = current_schema() ORDER BY hypertable_name`,
    );
    expect(hts.rows).toEqual(HYPERTABLES.map((h) => ({ hypertable_name: h, num_dimensions: 1 })));
    const dims = await engine.query<{ hypertable_name: string; column_name: string; dimension_type: string; interval: string }>(
      `SELECT hypertable_name, column_name, dimension_type, time_interval::text AS interval
         FROM timescaledb_information.dimensions WHERE hypertable_schema = current_schema() ORDER BY hypertable_name`,
    );
    const expected = await ivMap(engine, CHUNK_INTERVALS);
    expect(dims.rows).toEqual(
      HYPERTABLES.map((h) => ({
        hypertable_name: h,
        column_name: 'timestamp',
        dimension_type: 'Time',
        interval: expected[h],
      })),
    );
    // instrument_definitions stays a plain table with a primary key.
    const plain = await engine.query<{ relkind: string }>(`SELECT relkind FROM pg_class WHERE oid = 'instrument_definitions'::regclass`);
    expect(plain.rows[0]!.relkind).toBe('r');
  });

  it("tickvault's bookkeeping tables exist, and the version table records every migration once", async () => {
    const { rows } = await engine.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'tickvault\\_%' ORDER BY tablename`,
    );
    // Later migrations may add bookkeeping tables of their own; these must always be there.
    expect(rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(BOOKKEEPING_TABLES));
    const v = await engine.query<{ version: number }>('SELECT version FROM tickvault_schema_version ORDER BY version');
    expect(LATEST_VERSION).toBeGreaterThanOrEqual(3);
    expect(v.rows.map((r) => Number(r.version))).toEqual(Array.from({ length: LATEST_VERSION }, (_, i) => i + 1));
    const q = await columnsOf(engine, 'tickvault_quarantine');
    expect(q.map((c) => c[0])).toEqual(expect.arrayContaining(['load_id', 'target_table', 'reason', 'record']));
    const l = await columnsOf(engine, 'tickvault_loads');
    expect(l.map((c) => c[0])).toEqual(
      expect.arrayContaining([
        'source',
        'content_hash',
        'target_table',
        'records_in',
        'records_inserted',
        'records_rejected',
        'min_time',
        'max_time',
        'status',
        'started_at',
        'finished_at',
      ]),
    );
  });

  if (kind === 'embedded') {
    it('compression: enabled on every hypertable, segment by symbol, order by timestamp DESC', async () => {
      const { rows } = await engine.query<{
        hypertable_name: string;
        attname: string;
        segmentby_column_index: number | null;
        orderby_column_index: number | null;
        orderby_asc: boolean | null;
      }>(
        `SELECT hypertable_name, attname, segmentby_column_index, orderby_column_index, orderby_asc
           FROM timescaledb_information.compression_settings WHERE hypertable_schema = current_schema()
          ORDER BY hypertable_name, segmentby_column_index NULLS LAST, orderby_column_index`,
      );
      const byTable = new Map<string, { segmentBy: string[]; orderBy: string[] }>();
      for (const r of rows) {
        const e = byTable.get(r.hypertable_name) ?? { segmentBy: [], orderBy: [] };
        if (r.segmentby_column_index !== null) e.segmentBy.push(r.attname);
        if (r.orderby_column_index !== null) e.orderBy.push(`${r.attname}${r.orderby_asc ? '' : ' DESC'}`);
        byTable.set(r.hypertable_name, e);
      }
      expect(Object.fromEntries(byTable)).toEqual({
        ohlcv_data: { segmentBy: ['symbol'], orderBy: ['timestamp DESC'] },
        trades_data: { segmentBy: ['symbol'], orderBy: ['timestamp DESC'] },
        tbbo_data: { segmentBy: ['symbol'], orderBy: ['timestamp DESC'] },
        // tickvault's choice: statistics are read per symbol and statistic.
        statistics_data: { segmentBy: ['symbol', 'stat_type'], orderBy: ['timestamp DESC'] },
      });
      const ht = await engine.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM timescaledb_information.hypertables
          WHERE hypertable_schema = current_schema() AND compression_enabled`,
      );
      expect(ht.rows[0]!.n).toBe(4);
    });

    it('compression and retention policies (retention as asked at init) are jobs with the contract intervals', async () => {
      const { rows } = await engine.query<{ proc_name: string; hypertable_name: string; after: string }>(
        `SELECT proc_name, hypertable_name,
                COALESCE(config->>'compress_after', config->>'drop_after')::interval::text AS after
           FROM timescaledb_information.jobs
          WHERE hypertable_schema = current_schema() AND proc_name IN ('policy_compression', 'policy_retention')`,
      );
      const compress = Object.fromEntries(
        rows.filter((r) => r.proc_name === 'policy_compression').map((r) => [r.hypertable_name, r.after]),
      );
      const retain = Object.fromEntries(rows.filter((r) => r.proc_name === 'policy_retention').map((r) => [r.hypertable_name, r.after]));
      expect(compress).toEqual(await ivMap(engine, COMPRESS_AFTER));
      expect(retain).toEqual(await ivMap(engine, RETAIN_FOR));
      expect(rows).toHaveLength(Object.keys(COMPRESS_AFTER).length + Object.keys(RETAIN_FOR).length);
    });

    it('ohlcv_hourly is a continuous aggregate over 1m bars with its refresh policy (1 month, 1 hour, every 1 hour)', async () => {
      const cagg = await engine.query<{ hypertable_name: string; view_definition: string; materialized_only: boolean }>(
        `SELECT hypertable_name, view_definition, materialized_only FROM timescaledb_information.continuous_aggregates
          WHERE view_schema = current_schema() AND view_name = 'ohlcv_hourly'`,
      );
      expect(cagg.rows).toHaveLength(1);
      const c = cagg.rows[0]!;
      expect(c.hypertable_name).toBe('ohlcv_data');
      expect(c.view_definition).toMatch(/time_bucket\('01:00:00'::interval, "timestamp"\) AS bucket/);
      expect(c.view_definition).toMatch(/first\(open_price, "timestamp"\) AS open_price/);
      expect(c.view_definition).toMatch(/max\(high_price\) AS high_price/);
      expect(c.view_definition).toMatch(/min\(low_price\) AS low_price/);
      expect(c.view_definition).toMatch(/last\(close_price, "timestamp"\) AS close_price/);
      expect(c.view_definition).toMatch(/sum\(volume\) AS volume/);
      expect(c.view_definition).toMatch(/WHERE \(\(granularity\)::text = '1m'::text\)/);
      expect(c.view_definition).toMatch(/GROUP BY \(time_bucket\('01:00:00'::interval, "timestamp"\)\), instrument_id, symbol/);

      const jobs = await engine.query<{ start_offset: string; end_offset: string; schedule_interval: string }>(
        `SELECT (config->>'start_offset')::interval::text AS start_offset, (config->>'end_offset')::interval::text AS end_offset,
                schedule_interval::text AS schedule_interval
           FROM timescaledb_information.jobs
          WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_name = 'ohlcv_hourly'`,
      );
      expect(jobs.rows).toEqual([await ivMap(engine, HOURLY_REFRESH)]);
    });
  } else {
    it('compression is not enabled anywhere (Apache build): no compression settings', async () => {
      const { rows } = await engine.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM timescaledb_information.compression_settings WHERE hypertable_schema = current_schema()',
      );
      expect(rows[0]!.n).toBe(0);
      const ht = await engine.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_schema = current_schema() AND compression_enabled`,
      );
      expect(ht.rows[0]!.n).toBe(0);
    });

    it('no policy jobs (retention runs through `maintain`)', async () => {
      const { rows } = await engine.query<{ proc_name: string }>(
        `SELECT proc_name FROM timescaledb_information.jobs
          WHERE hypertable_name IS NOT NULL OR proc_name IN ('policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate')`,
      );
      expect(rows).toEqual([]);
    });

    it('ohlcv_hourly is a plain materialized view with the same columns, populated (readable at once)', async () => {
      const cagg = await engine.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.continuous_aggregates');
      expect(cagg.rows[0]!.n).toBe(0);
      const mv = await engine.query<{ ispopulated: boolean; definition: string }>(
        `SELECT ispopulated, definition FROM pg_matviews WHERE schemaname = current_schema() AND matviewname = 'ohlcv_hourly'`,
      );
      expect(mv.rows).toHaveLength(1);
      expect(mv.rows[0]!.ispopulated).toBe(true);
      const d = mv.rows[0]!.definition.replace(/ohlcv_data\./g, '');
      expect(d).toMatch(/time_bucket\('01:00:00'::interval, "timestamp"\) AS bucket/);
      expect(d).toMatch(/first\(open_price, "timestamp"\) AS open_price/);
      expect(d).toMatch(/last\(close_price, "timestamp"\) AS close_price/);
      expect(d).toMatch(/WHERE \(\(granularity\)::text = '1m'::text\)/);
    });
  }

  it('ohlcv_hourly has the contract columns and rolls 1m bars into hourly OHLCV (first/max/min/last/sum)', async () => {
    // A continuous aggregate is a view, a materialized view is neither in information_schema.columns.
    const cols = await engine.query<{ attname: string; type: string }>(
      `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = 'ohlcv_hourly'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    );
    expect(cols.rows.map((c) => [c.attname, c.type])).toEqual([
      ['bucket', TSTZ],
      ['instrument_id', 'integer'],
      ['symbol', 'character varying(50)'],
      ['publisher_id', 'integer'],
      ['open_price', 'numeric'],
      ['high_price', 'numeric'],
      ['low_price', 'numeric'],
      ['close_price', 'numeric'],
      ['volume', 'numeric'],
    ]);
    await engine.query(
      `INSERT INTO ohlcv_data ("timestamp", instrument_id, symbol, open_price, high_price, low_price, close_price, volume, granularity) VALUES
        ('2024-03-01 14:00:00+00', 7, 'ROLLUP', 10.5, 11, 10, 10.75, 100, '1m'),
        ('2024-03-01 14:01:00+00', 7, 'ROLLUP', 10.75, 12.25, 10.25, 11.5, 200, '1m'),
        ('2024-03-01 14:59:00+00', 7, 'ROLLUP', 11.5, 11.75, 9.5, 9.75, 300, '1m'),
        ('2024-03-01 14:30:00+00', 7, 'ROLLUP', 99, 99, 1, 50, 999999, '1h'),
        ('2024-03-01 15:00:00+00', 7, 'ROLLUP', 1, 1, 1, 1, 1, '1m')`,
    );
    const caps = await engine.capabilities();
    if (caps.continuousAggregates) await engine.query(`CALL refresh_continuous_aggregate('ohlcv_hourly', NULL, NULL)`);
    else await engine.query('REFRESH MATERIALIZED VIEW ohlcv_hourly');
    const { rows } = await engine.query(
      `SELECT to_char(bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS bucket, open_price::text AS o, high_price::text AS h,
              low_price::text AS l, close_price::text AS c, volume::text AS v
         FROM ohlcv_hourly WHERE symbol = 'ROLLUP' ORDER BY bucket`,
    );
    expect(rows).toEqual([
      { bucket: '2024-03-01 14:00', o: '10.50000000', h: '12.25000000', l: '9.50000000', c: '9.75000000', v: '600' },
      { bucket: '2024-03-01 15:00', o: '1.00000000', h: '1.00000000', l: '1.00000000', c: '1.00000000', v: '1' },
    ]);
  });
});
