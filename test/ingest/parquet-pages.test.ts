/**
 * The flat page decoder (ingest/parquet-pages.ts) against hyparquet: every cell of files written
 * by DuckDB (each codec, V1 and V2 pages, OPTIONAL and REQUIRED columns, nulls, dictionaries, one
 * value, all nulls, every integer width, timestamps in three units, decimals) and by
 * hyparquet-writer (many V2 pages per chunk) reads the same through ParquetReader with either
 * decoder; the columns it does not handle go to hyparquet, counted per column chunk.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { SourceFormatError } from '../../src/errors.js';
import { ParquetReader, type ParquetDecoder } from '../../src/ingest/parquet-source.js';
import { duckRun } from '../support/read-back.js';
import { tmpDir } from '../support/tmp.js';

const tmp = tmpDir('tickvault-parquet-pages-');
afterAll(() => tmp.cleanup());

/** A cell as a string that tells every value and type apart (bigint from number, -0 from 0, null from ''). */
function cellKey(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? 'number:-0' : `number:${v}`;
  if (typeof v === 'string') return `string:${v}`;
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`;
  if (v instanceof Date) return `date:${v.toISOString()}`;
  return `${typeof v}:${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}`;
}

async function readAll(file: string, decoder: ParquetDecoder): Promise<{ rows: string[][]; decoded: ParquetReader['decoded'] }> {
  const reader = await ParquetReader.open(file, { decoder });
  const rows: string[][] = [];
  for await (const chunk of reader.chunks()) for (const row of chunk.rows) rows.push(row.map(cellKey));
  return { rows, decoded: { ...reader.decoded } };
}

/** A file by hyparquet-writer (the writer whose options reach REQUIRED columns and many pages per chunk). */
function writeParquet(file: string, options: Parameters<typeof parquetWriteBuffer>[0]): void {
  writeFileSync(file, new Uint8Array(parquetWriteBuffer(options)));
}

const ROWS = 20_000;
const GROUP = 7_000;
const GROUPS = Math.ceil(ROWS / GROUP);

/** Columns of every kind the decoder meets in market files, and three it leaves to hyparquet. */
const SELECT = `SELECT
    i::INTEGER AS i32,
    (i * 7919)::BIGINT * -1000003 AS i64,
    CASE WHEN i % 5 = 0 THEN NULL ELSE i::BIGINT END AS i64_nulls,
    (4000000000 + i)::UINTEGER AS u32,
    (18446744073709551615 - i)::UBIGINT AS u64,
    (i % 3)::UTINYINT AS u8,
    (i % 300 - 150)::SMALLINT AS i16,
    (i * 0.25)::FLOAT AS f32,
    CASE WHEN i % 7 = 0 THEN -0.0::DOUBLE WHEN i % 11 = 0 THEN 'NaN'::DOUBLE WHEN i % 13 = 0 THEN '-inf'::DOUBLE ELSE i / 3.0 END AS f64,
    ['ESH4', 'NQM4', 'été ✓', ''][i % 4 + 1] AS sym,
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'x' || (i * 104729 % 100003) END AS str_nulls,
    'only' AS one_value,
    NULL::BIGINT AS all_null,
    make_timestamp_ns(1709546400000000000 + i * 1001) AS ts_ns,
    make_timestamp(1709546400000000 + i * 3) AS ts_us,
    CASE WHEN i % 4 = 0 THEN NULL ELSE (TIMESTAMP '2024-03-04' + INTERVAL (i) MILLISECOND)::TIMESTAMP_MS END AS ts_ms,
    (i / 100.0 - 50)::DECIMAL(9,2) AS d32,
    (i / 10000.0)::DECIMAL(18,4) AS d64,
    DATE '2024-03-04' + (i % 30)::INTEGER AS day,
    (i / 1e9)::DECIMAL(38,9) AS d128,
    i % 2 = 0 AS flag
  FROM range(${ROWS}) r(i)`;
/** day, d128 and flag: DATE, FIXED_LEN_BYTE_ARRAY and BOOLEAN, hyparquet's in every group. */
const LEFT_TO_HYPARQUET = 3;
const COLUMNS = 21;

describe('Parquet flat page decoder', () => {
  it.each(['zstd', 'snappy', 'gzip', 'brotli', 'uncompressed'])(
    'DuckDB, %s, V1 pages: every cell as hyparquet reads it; only DATE, FLBA and BOOLEAN chunks go to hyparquet',
    async (codec) => {
      const file = path.join(tmp.dir, `duck-${codec}.parquet`);
      await duckRun(`COPY (${SELECT}) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${GROUP})`);
      const own = await readAll(file, 'auto');
      const theirs = await readAll(file, 'hyparquet');
      expect(own.rows.length).toBe(ROWS);
      expect(own.rows).toEqual(theirs.rows);
      expect(own.decoded).toEqual({ pages: GROUPS * (COLUMNS - LEFT_TO_HYPARQUET), hyparquet: GROUPS * LEFT_TO_HYPARQUET });
      expect(theirs.decoded).toEqual({ pages: 0, hyparquet: GROUPS * COLUMNS });
      // Spot checks against the SQL, so the two decoders cannot agree on a wrong value.
      const r = 1_234;
      const cells = own.rows[r]!;
      expect(cells.slice(0, 10)).toEqual([
        'number:1234',
        `${1234n * 7919n * -1000003n}n`,
        '1234n',
        'number:4000001234',
        `${18446744073709551615n - 1234n}n`,
        'number:1',
        'number:-116',
        'number:308.5',
        'number:411.3333333333333',
        'string:été ✓',
      ]);
      expect(cells[13]).toBe(`${1709546400000000000n + 1234n * 1001n}n`);
      expect(cells[14]).toBe(`${(1709546400000000n + 1234n * 3n) * 1000n}n`);
      expect(cells[15]).toBe(`${(1709510400000n + 1234n) * 1_000_000n}n`);
      expect([own.rows[0]![8], own.rows[11]![8], own.rows[13]![8], own.rows[0]![12], own.rows[3]![0 + 10]]).toEqual([
        'number:-0',
        'number:NaN',
        'number:-Infinity',
        'null',
        'null',
      ]);
    },
  );

  it('DuckDB V2 pages (DATA_PAGE_V2, DELTA and BYTE_STREAM_SPLIT encodings): the same cells, the unhandled encodings by hyparquet', async () => {
    const file = path.join(tmp.dir, 'duck-v2.parquet');
    await duckRun(`COPY (${SELECT}) TO '${file}' (FORMAT parquet, PARQUET_VERSION V2, ROW_GROUP_SIZE ${GROUP})`);
    const own = await readAll(file, 'auto');
    const theirs = await readAll(file, 'hyparquet');
    expect(own.rows).toEqual(theirs.rows);
    expect(own.decoded.pages).toBeGreaterThan(0);
    expect(own.decoded.hyparquet).toBeGreaterThan(GROUPS * LEFT_TO_HYPARQUET);
  });

  it('REQUIRED columns: the same cells, none left to hyparquet', async () => {
    const n = 3_000;
    const file = path.join(tmp.dir, 'required.parquet');
    writeParquet(file, {
      rowGroupSize: 1_000,
      columnData: [
        { name: 'ts', data: Array.from({ length: n }, (_, i) => 1709546400000000000n + BigInt(i)), type: 'INT64', nullable: false },
        { name: 'sym', data: Array.from({ length: n }, (_, i) => ['A', 'B'][i % 2]!), type: 'STRING', nullable: false },
        { name: 'px', data: Array.from({ length: n }, (_, i) => i / 8), type: 'DOUBLE', nullable: false },
        { name: 'qty', data: Array.from({ length: n }, (_, i) => i % 1000), type: 'INT32', nullable: false },
      ],
    });
    const reader = await ParquetReader.open(file);
    expect((reader as unknown as { metadata: { schema: { repetition_type?: string }[] } }).metadata.schema[1]!.repetition_type).toBe(
      'REQUIRED',
    );
    const own = await readAll(file, 'auto');
    expect(own.rows).toEqual((await readAll(file, 'hyparquet')).rows);
    expect(own.decoded).toEqual({ pages: 3 * 4, hyparquet: 0 });
    expect(own.rows[2_999]).toEqual(['1709546400000002999n', 'string:B', 'number:374.875', 'number:999']);
  });

  it('hyparquet-writer: many V2 pages per column chunk, nulls across page boundaries, PLAIN and dictionary', async () => {
    const n = 5_000;
    const file = path.join(tmp.dir, 'hyparquet-writer.parquet');
    writeParquet(file, {
      rowGroupSize: 2_000,
      pageSize: 1_024,
      columnData: [
        { name: 'ts', data: Array.from({ length: n }, (_, i) => 1709546400000000000n + BigInt(i) * 7n), type: 'INT64' },
        { name: 'sym', data: Array.from({ length: n }, (_, i) => (i % 17 === 0 ? null : `S${i % 5}`)), type: 'STRING' },
        { name: 'name', data: Array.from({ length: n }, (_, i) => `unique-${i}-${'z'.repeat(i % 9)}`), type: 'STRING' },
        { name: 'px', data: Array.from({ length: n }, (_, i) => (i % 23 === 0 ? null : i * 1.1)), type: 'DOUBLE' },
        { name: 'qty', data: Array.from({ length: n }, (_, i) => (i % 29 === 0 ? null : i % 100)), type: 'INT32' },
      ],
    });
    const own = await readAll(file, 'auto');
    const theirs = await readAll(file, 'hyparquet');
    expect(own.rows.length).toBe(n);
    expect(own.rows).toEqual(theirs.rows);
    expect(own.decoded).toEqual({ pages: 3 * 5, hyparquet: 0 });
    expect(own.rows[17]!.slice(1, 2)).toEqual(['null']);
    expect(own.rows[4_999]!).toEqual([
      `${1709546400000000000n + 4999n * 7n}n`,
      'string:S4',
      `string:unique-4999-${'z'.repeat(4999 % 9)}`,
      `number:${4999 * 1.1}`,
      'number:99',
    ]);
  });

  it('a TIMESTAMP whose nanoseconds leave int64 (year 2300 in microseconds) is left to hyparquet, value kept', async () => {
    const file = path.join(tmp.dir, 'far-future.parquet');
    await duckRun(
      `COPY (SELECT make_timestamp(10413792000000000 + i) AS ts, i::BIGINT AS n FROM range(10) r(i)) TO '${file}' (FORMAT parquet)`,
    );
    const own = await readAll(file, 'auto');
    expect(own.rows).toEqual((await readAll(file, 'hyparquet')).rows);
    expect(own.decoded).toEqual({ pages: 1, hyparquet: 1 });
    expect(own.rows[0]![0]).toBe(`${10413792000000000n * 1000n}n`);
  });

  it('a damaged page: the file fails as unreadable at its row group (hyparquet tried too), not with a codec error', async () => {
    const file = path.join(tmp.dir, 'damaged.parquet');
    await duckRun(`COPY (SELECT i::BIGINT AS n, 'x' || i AS s FROM range(1000) r(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
    const reader = await ParquetReader.open(file);
    const meta = (reader as unknown as { metadata: { row_groups: { columns: { meta_data: { data_page_offset: bigint } }[] }[] } }).metadata;
    const at = Number(meta.row_groups[0]!.columns[0]!.meta_data.data_page_offset);
    const bytes = readFileSync(file);
    // The zstd frame's magic number right after the first data page's header: fzstd refuses it.
    const magic = bytes.indexOf(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), at);
    expect(magic - at).toBeGreaterThan(0);
    expect(magic - at).toBeLessThan(64);
    bytes.fill(0, magic, magic + 4);
    writeFileSync(file, bytes);
    const damaged = await ParquetReader.open(file);
    const read = async () => {
      for await (const _ of damaged.chunks());
    };
    await expect(read()).rejects.toThrow(SourceFormatError);
    await expect(read()).rejects.toThrow(/row group 0 unreadable/);
    expect(damaged.decoded.hyparquet).toBeGreaterThan(0);
  });
});
