/**
 * Parquet sources (ingest/parquet-source.ts): databento-python `to_parquet` encodings of the DBN
 * fixtures (written by DuckDB: DOUBLE prices and TIMESTAMP(NANOS), or BIGINT both), read row
 * group by row group, store exactly the rows of the DBN file; DECIMAL columns stay exact; a DOUBLE
 * price is its shortest decimal (Databento's: on the 1e-9 grid); bad rows are quarantined with
 * their row group and row.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { loadFile } from '../../src/ingest/load-file.js';
import { parseMapArg } from '../../src/ingest/column-mapping.js';
import { tableSpec, tradesData } from '../../src/schema/tables.js';
import { quarantineRows, readRows, reset, snapshot } from '../support/db.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { FIXTURES } from '../support/fixtures.js';
import { duckRun } from '../support/read-back.js';
import { tmpDir } from '../support/tmp.js';
import { recordsWithSymbols, toParquet } from '../support/databento-tabular.js';

const CASES = [
  'test_data.trades.v2.dbn.zst',
  'test_data.tbbo.dbn',
  'test_data.ohlcv-1s.dbn',
  'databento-python/GLBX.MDP3/test_data.trades.dbn.zst',
  'databento-python/EQUS.MINI/test_data.mbp-1.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.ohlcv-1h.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.statistics.dbn.zst',
];

const tmp = tmpDir('tickvault-parquet-');
afterAll(() => tmp.cleanup());

describe.each(ENGINE_KINDS)('Parquet sources (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'parquet_source' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it.each(
    CASES.flatMap(
      (rel) =>
        [
          [rel, true],
          [rel, false],
        ] as const,
    ),
  )('%s as to_parquet (pretty %s) stores what the DBN file stores', async (rel, pretty) => {
    await reset(te.engine);
    const dbn = await loadDbnFile(te.engine, path.join(FIXTURES, rel));
    const spec = tableSpec(dbn.table);
    const expected = await snapshot(te.engine, spec);
    await reset(te.engine);
    const { records, symbols } = await recordsWithSymbols(path.join(FIXTURES, rel));
    const file = path.join(tmp.dir, `${rel.replaceAll('/', '_')}.${pretty}.parquet`);
    await toParquet(records, symbols, file, pretty, { rowGroupSize: 2 });
    const r = await loadFile(te.engine, file);
    expect(r.table).toBe(dbn.table);
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({
      inserted: dbn.recordsInserted,
      rejected: dbn.recordsRejected,
    });
    expect(await snapshot(te.engine, spec)).toEqual(expected);
  });

  it('DOUBLE prices: the shortest decimal (vendor), the 1e-9 grid (Databento); DECIMAL exact; bad rows by row group and row', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'vendor.parquet');
    // 5000.1 and 0.1 + 0.2 are not exact doubles; DECIMAL(20,9) values are exact integers.
    await duckRun(`COPY (SELECT * FROM (VALUES
        (make_timestamp_ns(1709546400000000000), 'ESH4', 5000.1::DOUBLE, 1234.56789012::DECIMAL(20,9), 1::BIGINT),
        (make_timestamp_ns(1709546400000001000), 'ESH4', 0.1::DOUBLE + 0.2::DOUBLE, 0.00000001::DECIMAL(20,9), 2::BIGINT),
        (make_timestamp_ns(1709546400000002000), 'ESH4', 0.5::DOUBLE, 7.000000001::DECIMAL(20,9), 3::BIGINT)
      ) t(ts, ticker, px, dpx, qty)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2)`);
    const base = 'timestamp=ts,symbol=ticker,size=qty,side=const:N,instrument_id=const:7';
    const r = await loadFile(te.engine, file, { table: 'trades_data', mapping: parseMapArg(`${base},price=px`) });
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 2, rejected: 1 });
    expect((await readRows(te.engine, tradesData)).map((x) => x.price)).toEqual(['5000.10000000', '0.50000000']);
    const [q] = await quarantineRows(te.engine, r.loadId);
    expect(q!.reason).toMatch(/0\.30000000000000004.* has 17 decimals/);
    expect(JSON.parse(q!.record)).toMatchObject({ source_row_group: 0, source_row: 1 });

    await reset(te.engine);
    const d = await loadFile(te.engine, file, { table: 'trades_data', mapping: parseMapArg(`${base},price=dpx`) });
    expect({ inserted: d.recordsInserted, rejected: d.recordsRejected }).toEqual({ inserted: 2, rejected: 1 });
    expect((await readRows(te.engine, tradesData)).map((x) => x.price)).toEqual(['1234.56789012', '0.00000001']);
    const [dq] = await quarantineRows(te.engine, d.loadId);
    expect(dq!.reason).toMatch(/7\.000000001" has 9 decimals/);
    expect(JSON.parse(dq!.record)).toMatchObject({ source_row_group: 0, source_row: 2 });
  });

  it('rows are read row group by row group; a bad row is located by its group and row', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'groups.parquet');
    const n = 5;
    const ts = Array.from({ length: n }, (_, i) => 1709546400000000000n + BigInt(i) * 1000n);
    writeFileSync(
      file,
      new Uint8Array(
        parquetWriteBuffer({
          rowGroupSize: 2,
          columnData: [
            { name: 'ts_ns', data: ts, type: 'INT64' },
            { name: 'ticker', data: ['A', 'A', 'A', 'A', 'A'], type: 'STRING' },
            { name: 'px', data: [1.5, 2.5, 3.5, -1, 5.5], type: 'DOUBLE' },
            { name: 'qty', data: [1n, 2n, 3n, 4n, 5n], type: 'INT64' },
          ],
        }),
      ),
    );
    const r = await loadFile(te.engine, file, {
      mapping: parseMapArg('timestamp=ts_ns:ns,symbol=ticker,price=px,size=qty,side=const:B,instrument_id=const:1'),
    });
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 4, rejected: 1 });
    const [q] = await quarantineRows(te.engine, r.loadId);
    expect(q!.constraint_name).toBe('trades_price_check');
    expect(JSON.parse(q!.record)).toMatchObject({ source_row_group: 1, source_row: 1 });
    expect((await readRows(te.engine, tradesData)).map((x) => x.price)).toEqual(['1.50000000', '2.50000000', '3.50000000', '5.50000000']);
  });

  it('a row only the database refuses is quarantined with its cells, row group and row (kept by reference until COMMIT)', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'db-refused.parquet');
    // OPTIONAL columns (hyparquet's plain arrays) and BigInt timestamps: the compact column path.
    const ts = Array.from({ length: 6 }, (_, i) => 1709546400000000000n + BigInt(i) * 1000n);
    writeFileSync(
      file,
      new Uint8Array(
        parquetWriteBuffer({
          rowGroupSize: 3,
          columnData: [
            { name: 'ts_ns', data: ts, type: 'INT64' },
            { name: 'ticker', data: ['A', 'B', 'A', 'B', 'A', 'B'], type: 'STRING' },
            { name: 'px', data: [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], type: 'DOUBLE' },
            { name: 'qty', data: [1n, 2n, 3n, 777n, 5n, 6n], type: 'INT64' },
          ],
        }),
      ),
    );
    // A rule tickvault does not know: only the COPY finds the row (bisection, then the quarantine).
    await te.engine.query('ALTER TABLE trades_data ADD CONSTRAINT tv_test_qty CHECK (size <> 777)');
    try {
      const r = await loadFile(te.engine, file, {
        mapping: parseMapArg('timestamp=ts_ns:ns,symbol=ticker,price=px,size=qty,side=const:B,instrument_id=const:1'),
      });
      expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 5, rejected: 1 });
      const [q] = await quarantineRows(te.engine, r.loadId);
      expect(q!.reason).toMatch(/tv_test_qty/);
      expect(JSON.parse(q!.record)).toMatchObject({ source_row_group: 1, source_row: 0, symbol: 'B', price: '4.5', size: '777' });
      expect((await readRows(te.engine, tradesData)).map((x) => x.size).sort()).toEqual(['1', '2', '3', '5', '6']);
    } finally {
      await te.engine.query('ALTER TABLE trades_data DROP CONSTRAINT IF EXISTS tv_test_qty');
    }
  });

  it('a Databento DOUBLE price (to_parquet pretty_px) is read on the 1e-9 grid: 0.1 + 0.2 stores 0.3', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'db-double.parquet');
    await duckRun(`COPY (SELECT make_timestamp_ns(1709546400000000000) AS ts_recv, make_timestamp_ns(1709546400000000000) AS ts_event, 0::UTINYINT AS rtype,
        1::USMALLINT AS publisher_id, 7::UINTEGER AS instrument_id, 'T' AS action, 'B' AS side, 0::UTINYINT AS depth,
        0.1::DOUBLE + 0.2::DOUBLE AS price, 1::UINTEGER AS size, 0::UTINYINT AS flags, 0::INTEGER AS ts_in_delta, 9::UINTEGER AS sequence, 'ESH4' AS symbol)
      TO '${file}' (FORMAT parquet)`);
    const r = await loadFile(te.engine, file);
    expect(r.recordsInserted).toBe(1);
    expect((await readRows(te.engine, tradesData)).map((x) => [x.price, x.trade_id])).toEqual([['0.30000000', '1:9']]);
  });
});
