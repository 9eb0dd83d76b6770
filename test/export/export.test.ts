import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { DefinitionsLoader } from '../../src/load/definitions.js';
import { OHLCVLoader, StatisticsLoader, TBBOLoader, TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { exportColumns, exportTable, type ExportFormat } from '../../src/export/index.js';
import { tableSpec } from '../../src/schema/tables.js';
import { ExportError, QueryError } from '../../src/errors.js';
import { dbRows, duckRows, parquetTypes, readArrow, readCsv, readParquet, type TextRow } from '../support/read-back.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tickvault-export-'));
const file = (name: string) => path.join(dir, name);

const LONG = 'S'.repeat(50);
const MAX = '999999999999.99999999'; // DECIMAL(20,8)'s largest value
const TINY = '0.00000001';
// Near the epoch on both sides, a leap day, and far in the future.
const TIMES = ['1969-12-31T23:59:59.999999Z', '1970-01-01T00:00:00.000001Z', '2024-02-29T14:30:00.123456Z', '2999-12-31T23:59:59.999999Z'];

function trades(): TradeRecord[] {
  const out: TradeRecord[] = [];
  TIMES.forEach((ts, i) => {
    out.push({
      timestamp: ts,
      instrument_id: 1,
      symbol: LONG,
      price: MAX,
      size: 9_007_199_254_740_993n,
      side: 'B',
      trade_id: `max-${i}`,
      publisher_id: 65535,
    });
    out.push({ timestamp: ts, instrument_id: 2, symbol: 'ESH4', price: TINY, size: 1, side: 'S', trade_id: null });
  });
  // An empty string is not NULL: CSV quotes it ("").
  out.push({ timestamp: '2024-03-01T08:00:00Z', instrument_id: 2, symbol: 'ESH4', price: TINY, size: 3, side: 'B', trade_id: '' });
  // DBN prices have 9 decimals: the 9th is rounded on the way in, the export keeps the stored 8.
  out.push({
    timestamp: '2024-03-01T09:00:00Z',
    instrument_id: 3,
    symbol: 'NQH4',
    price: { value: 5100123456789n, scale: 9 },
    size: 2,
    side: 'N',
    trade_id: 'dbn',
  });
  for (let i = 0; i < 40; i++) {
    out.push({
      timestamp: `2024-03-01T10:00:${String(i).padStart(2, '0')}.${String(i * 7919).padStart(6, '0')}Z`,
      instrument_id: 2,
      symbol: 'ESH4',
      price: `${5100 + i}.${String(i * 37).padStart(2, '0')}`,
      size: i + 1,
      side: i % 2 ? 'B' : 'S',
      trade_id: `t,"${i}"\n`,
    });
  }
  return out;
}

async function loadFixtures(t: TestEngine): Promise<void> {
  const engine = t.engine;
  expect((await new TradesLoader({ engine }).storeBatch(trades())).recordsRejected).toBe(0);
  const quotes = TIMES.map((ts, i) => ({
    timestamp: ts,
    instrument_id: 2,
    symbol: i === 0 ? LONG : 'ESH4',
    bid_px_00: i === 1 ? null : '5100.25',
    ask_px_00: i === 2 ? null : MAX,
    bid_sz_00: i === 1 ? null : 5,
    ask_sz_00: i === 2 ? null : 7,
    sequence: i === 3 ? null : i,
    publisher_id: i,
  }));
  expect((await new TBBOLoader({ engine }).storeBatch(quotes)).recordsRejected).toBe(0);
  const bars = TIMES.map((ts, i) => ({
    timestamp: ts,
    instrument_id: 2,
    symbol: 'ESH4',
    open_price: '5100.5',
    high_price: MAX,
    low_price: TINY,
    close_price: '42.12345678',
    volume: i === 0 ? 0 : 9_223_372_036_854_775_807n,
    granularity: i % 2 ? '1m' : '1d',
  }));
  expect((await new OHLCVLoader({ engine }).storeBatch(bars)).recordsRejected).toBe(0);
  const stats = TIMES.map((ts, i) => ({
    timestamp: ts,
    ts_recv: ts,
    ts_ref: i % 2 ? null : ts,
    instrument_id: 2,
    symbol: 'ESH4',
    stat_type: 1 + i,
    stat_type_name: 'opening_price',
    price: i === 1 ? null : `-${TINY}`.replace('--', '-'),
    quantity: i === 2 ? null : -5,
    sequence: i,
    ts_in_delta: i === 0 ? null : -2147483648,
    channel_id: i === 0 ? null : 32767,
    update_action: 1,
    stat_flags: -32768,
  }));
  expect((await new StatisticsLoader({ engine }).storeBatch(stats)).recordsRejected).toBe(0);
  await new DefinitionsLoader({ engine }).storeBatch([
    {
      instrument_id: 1,
      symbol: LONG,
      raw_symbol: 'R'.repeat(100),
      asset: 'ES',
      exchange: 'XCME',
      currency: 'USD',
      tick_size: '0.25',
      multiplier: MAX,
      expiration_date: '1970-01-01',
      is_active: true,
    },
    {
      instrument_id: 2,
      symbol: 'AAPL',
      raw_symbol: 'AAPL',
      asset: 'AAPL',
      exchange: 'XNAS',
      currency: 'USD',
      tick_size: null,
      multiplier: null,
      expiration_date: null,
      is_active: false,
    },
  ] as never);
}

const TABLES = ['trades_data', 'ohlcv_data', 'tbbo_data', 'statistics_data', 'instrument_definitions'] as const;
const FORMATS: readonly ExportFormat[] = ['parquet', 'csv', 'arrow'];

function orderOf(table: string): string {
  const spec = tableSpec(table);
  const time = spec.hypertable?.timeColumn;
  return [...(time ? [time] : []), ...spec.naturalKey.filter((k) => k !== time)].map((c) => `"${c}"`).join(', ');
}

async function readBack(format: ExportFormat, out: string, table: string): Promise<TextRow[]> {
  const columns = exportColumns(tableSpec(table));
  if (format === 'parquet') return readParquet(out, columns);
  if (format === 'csv') return readCsv(out, columns);
  return readArrow(out, columns).rows;
}

describe.each(ENGINE_KINDS)('export on %s', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'export' });
    await loadFixtures(t);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  for (const table of TABLES) {
    it(`${table}: every format reads back value for value, decimals exact`, async () => {
      const columns = exportColumns(tableSpec(table));
      const want = await dbRows(t.engine, table, columns, orderOf(table));
      expect(want.length).toBeGreaterThan(1);
      for (const format of FORMATS) {
        const out = file(`${kind}-${table}.${format}`);
        const r = await exportTable(t.engine, { table, format, out });
        expect(r.rows).toBe(want.length);
        expect(existsSync(`${out}.partial`)).toBe(false);
        expect(await readBack(format, out, table), `${table} as ${format}`).toEqual(want);
      }
    });
  }

  it('CSV: the server-written COPY and the row writer give the same bytes, every table, filtered or not', async () => {
    const cases = [
      ...TABLES.map((table) => ({ table })),
      { table: 'trades_data', symbols: ['ESH4', 'it\'s "odd"'], start: '1969-12-31T23:59:59.999999Z', end: '2024-03-01T10:00:20Z' },
    ];
    for (const c of cases) {
      const viaCopy = file(`${kind}-${c.table}-copy.csv`);
      const viaCursor = file(`${kind}-${c.table}-cursor.csv`);
      const progress: number[] = [];
      const a = await exportTable(t.engine, { ...c, format: 'csv', out: viaCopy, via: 'copy', onFetch: (n) => progress.push(n) });
      expect(
        progress.reduce((x, y) => x + y, 0),
        `${c.table}: progress counts rows, not the header`,
      ).toBe(a.rows);
      const b = await exportTable(t.engine, { ...c, format: 'csv', out: viaCursor, via: 'cursor' });
      expect(a.rows, c.table).toBe(b.rows);
      expect(a.rows, c.table).toBeGreaterThan(0);
      expect(readFileSync(viaCopy, 'utf8'), c.table).toBe(readFileSync(viaCursor, 'utf8'));
    }
    // The default on each engine: the server streams COPY; the embedded engine takes the cursor.
    const caps = await t.engine.capabilities();
    expect(caps.streamingCopyOut).toBe(kind === 'server');
  });

  it('Parquet types: DECIMAL(20,8), TIMESTAMP WITH TIME ZONE, zstd pages; Arrow Decimal128 and Timestamp(µs, UTC)', async () => {
    const out = file(`${kind}-types.parquet`);
    await exportTable(t.engine, { table: 'tbbo_data', format: 'parquet', out });
    const types = await parquetTypes(out, []);
    expect(types).toMatchObject({
      timestamp: 'TIMESTAMP WITH TIME ZONE',
      bid_px_00: 'DECIMAL(20,8)',
      spread: 'DECIMAL(20,8)',
      bid_sz_00: 'BIGINT',
      instrument_id: 'INTEGER',
      symbol: 'VARCHAR',
    });
    const codecs = await duckRows(`SELECT DISTINCT compression FROM parquet_metadata('${out}')`);
    expect(codecs).toEqual([['ZSTD']]);
    const sums = await duckRows(`SELECT sum(ask_px_00)::VARCHAR, typeof(sum(ask_px_00)) FROM read_parquet('${out}')`);
    const { rows } = await t.engine.query<{ s: string }>('SELECT sum(ask_px_00)::text AS s FROM tbbo_data');
    expect(sums[0]![0]).toBe(rows[0]!.s);
    const arrowOut = file(`${kind}-types.arrow`);
    await exportTable(t.engine, { table: 'tbbo_data', format: 'arrow', out: arrowOut });
    const arrow = readArrow(arrowOut, exportColumns(tableSpec('tbbo_data')));
    expect(arrow.types).toMatchObject({
      timestamp: 'Timestamp<MICROSECOND, UTC>',
      bid_px_00: 'Decimal128(20,8)',
      bid_sz_00: 'Int64',
      symbol: 'Utf8',
    });
  });

  it('symbols and a half-open time range select rows; CSV has a header and exact text', async () => {
    const out = file(`${kind}-range.csv`);
    const r = await exportTable(t.engine, {
      table: 'trades_data',
      format: 'csv',
      out,
      symbols: ['ESH4'],
      start: '2024-03-01T10:00:00Z',
      end: '2024-03-01T10:00:02Z',
    });
    expect(r.rows).toBe(2);
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toBe('timestamp,instrument_id,symbol,price,size,side,trade_id,publisher_id,created_at');
    expect(lines[1]).toMatch(/^2024-03-01T10:00:00\.000000Z,2,ESH4,5100\.00000000,1,S,"t,""0""\n?/);
  });

  it('an empty range is a valid file with the schema and no rows, in every format', async () => {
    const columns = exportColumns(tableSpec('trades_data'));
    for (const format of FORMATS) {
      const out = file(`${kind}-empty.${format}`);
      const r = await exportTable(t.engine, {
        table: 'trades_data',
        format,
        out,
        start: '2001-01-01T00:00:00Z',
        end: '2001-01-02T00:00:00Z',
      });
      expect(r.rows).toBe(0);
      expect(await readBack(format, out, 'trades_data')).toEqual([]);
    }
    expect((await parquetTypes(file(`${kind}-empty.parquet`), columns)).price).toBe('DECIMAL(20,8)');
    expect(readFileSync(file(`${kind}-empty.csv`), 'utf8')).toBe(
      'timestamp,instrument_id,symbol,price,size,side,trade_id,publisher_id,created_at\n',
    );
    expect(readArrow(file(`${kind}-empty.arrow`), columns).types.price).toBe('Decimal128(20,8)');
  });

  it('streams to a Writable, and refuses an unknown table, format or bad range before writing', async () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const r = await exportTable(t.engine, { table: 'ohlcv_data', format: 'csv', stream });
    expect(Buffer.concat(chunks).toString('utf8').trim().split('\n')).toHaveLength(r.rows + 1);
    await expect(exportTable(t.engine, { table: 'nope', format: 'csv', out: file('x') })).rejects.toThrow(QueryError);
    await expect(exportTable(t.engine, { table: 'trades_data', format: 'xlsx' as never, out: file('x') })).rejects.toThrow(
      /unknown export format/,
    );
    await expect(
      exportTable(t.engine, { table: 'instrument_definitions', format: 'csv', out: file('x'), start: '2024-01-01' }),
    ).rejects.toThrow(/no time column/);
    await expect(
      exportTable(t.engine, { table: 'trades_data', format: 'csv', out: file('x'), start: '2024-01-02', end: '2024-01-01' }),
    ).rejects.toThrow(/before start/);
    expect(existsSync(file('x'))).toBe(false);
  });
});

describe('export memory bound and row groups (embedded)', () => {
  let t: TestEngine;
  const N = 25_000;
  beforeAll(async () => {
    t = await openTestEngine('embedded');
    const base = Date.UTC(2024, 2, 1);
    const rows = Array.from({ length: N }, (_, i) => ({
      timestamp: new Date(base + i),
      instrument_id: 7,
      symbol: 'ESM4',
      price: `${5000 + (i % 400)}.${String(i % 100).padStart(2, '0')}`,
      size: 1 + (i % 9),
      side: (i % 2 ? 'B' : 'S') as 'B' | 'S',
      trade_id: `m-${i}`,
    }));
    expect((await new TradesLoader({ engine: t.engine, batchSize: 10_000 }).storeBatch(rows)).recordsInserted).toBe(N);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  for (const format of ['parquet', 'arrow'] as const) {
    it(`${format}: never holds more than one row group and one FETCH of rows; groups land in the file`, async () => {
      const fetches: number[] = [];
      const groups: number[] = [];
      const out = file(`mem.${format}`);
      const r = await exportTable(t.engine, {
        table: 'trades_data',
        format,
        out,
        rowGroupRows: 1000,
        fetchRows: 700,
        onFetch: (n) => fetches.push(n),
        onRowGroup: (n) => groups.push(n),
      });
      expect(r.rows).toBe(N);
      expect(Math.max(...fetches)).toBeLessThanOrEqual(700);
      expect(Math.max(...groups)).toBeLessThanOrEqual(1000);
      expect(groups.reduce((a, b) => a + b, 0)).toBe(N);
      expect(groups.length).toBe(Math.ceil(N / 1000));
      if (format === 'parquet') {
        const rg = await duckRows(
          `SELECT count(DISTINCT row_group_id)::VARCHAR, max(row_group_num_rows)::VARCHAR FROM parquet_metadata('${out}')`,
        );
        expect(rg).toEqual([[String(Math.ceil(N / 1000)), '1000']]);
        const sum = await duckRows(`SELECT sum(price)::VARCHAR, count(*)::VARCHAR FROM read_parquet('${out}')`);
        const { rows } = await t.engine.query<{ s: string; n: string }>(
          'SELECT sum(price)::text AS s, count(*)::text AS n FROM trades_data',
        );
        expect(sum).toEqual([[rows[0]!.s, rows[0]!.n]]);
      } else {
        expect(readArrow(out, exportColumns(tableSpec('trades_data'))).batches).toBe(Math.ceil(N / 1000));
      }
    });
  }

  it('parquet: row groups larger than one hand-off to the writer still hold exactly rowGroupRows rows', async () => {
    const groups: number[] = [];
    const out = file('big-groups.parquet');
    const r = await exportTable(t.engine, {
      table: 'trades_data',
      format: 'parquet',
      out,
      rowGroupRows: 20_000,
      onRowGroup: (n) => groups.push(n),
    });
    expect(r.rows).toBe(N);
    expect(groups).toEqual([20_000, N - 20_000]);
    const rg = await duckRows(
      `SELECT row_group_id::VARCHAR, any_value(row_group_num_rows)::VARCHAR FROM parquet_metadata('${out}') GROUP BY 1 ORDER BY 1`,
    );
    expect(rg).toEqual([
      ['0', '20000'],
      ['1', String(N - 20_000)],
    ]);
  });

  it('a failing export leaves no file behind', async () => {
    const out = file('fail.parquet');
    await expect(
      exportTable(t.engine, {
        table: 'trades_data',
        format: 'parquet',
        out,
        onRowGroup: () => {
          throw new ExportError('disk full (simulated)');
        },
        rowGroupRows: 100,
      }),
    ).rejects.toThrow(/disk full/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});
