/**
 * Every column type through the loader (normalization → binary COPY, or the INSERT path) and
 * back, read as text (`::text`) and compared exactly. The table is a scratch table declared the
 * same way as the contract tables, so this is the loaders' own code path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseLoader } from '../../src/load/loader.js';
import { createTableSql } from '../../src/schema/ddl.js';
import type { TableSpec } from '../../src/schema/tables.js';
import { t } from '../../src/schema/types.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { count, quarantined, reset } from '../support/db.js';

const spec = {
  name: 'tv_roundtrip',
  columns: [
    { name: 'id', type: t.int4, nullable: false },
    { name: 'ts', type: t.timestamptz, nullable: true },
    { name: 'i2', type: t.int2, nullable: true },
    { name: 'i4', type: t.int4, nullable: true },
    { name: 'i8', type: t.int8, nullable: true },
    { name: 'num', type: t.numeric(20, 8), nullable: true },
    { name: 'vc', type: t.varchar(50), nullable: true },
    { name: 'ch', type: t.char(1), nullable: true },
    { name: 'tx', type: t.text, nullable: true },
    { name: 'b', type: t.bool, nullable: true },
    { name: 'd', type: t.date, nullable: true },
    { name: 'j', type: t.jsonb, nullable: true },
  ],
  checks: [],
  indexes: [],
  naturalKey: ['id'],
} as unknown as TableSpec;

type Case = readonly [column: string, input: unknown, expected: string | null];

/** Input → the exact text PostgreSQL prints back. */
const CASES: readonly Case[] = [
  // timestamptz (printed in UTC)
  ['ts', 1_704_189_600_123_456_789n, '2024-01-02 10:00:00.123456'], // ns → µs, truncated
  ['ts', 1_704_189_600_123_456_999n, '2024-01-02 10:00:00.123456'], // truncated, not rounded
  ['ts', 1_704_189_600_000_001_000n, '2024-01-02 10:00:00.000001'], // exactly 1 µs
  ['ts', -1n, '1969-12-31 23:59:59.999999'], // before 1970: floor, not toward zero
  ['ts', 0n, '1970-01-01 00:00:00'],
  ['ts', '2024-01-02T10:00:00.123456Z', '2024-01-02 10:00:00.123456'], // µs ISO
  ['ts', '2024-01-02T10:00:00.123456789Z', '2024-01-02 10:00:00.123456'], // ns ISO, truncated
  ['ts', '2024-01-02T12:00:00.5+02:00', '2024-01-02 10:00:00.5'],
  ['ts', '2024-01-02 10:00:00', '2024-01-02 10:00:00'], // no zone = UTC
  ['ts', new Date('2024-01-02T10:00:00.123Z'), '2024-01-02 10:00:00.123'],
  ['ts', null, null],
  // smallint / integer / bigint
  ['i2', -32768, '-32768'],
  ['i2', 32767, '32767'],
  ['i4', -2147483648, '-2147483648'],
  ['i4', 2147483647, '2147483647'],
  ['i4', '17', '17'],
  ['i8', 9223372036854775807n, '9223372036854775807'],
  ['i8', '-9223372036854775808', '-9223372036854775808'],
  ['i8', 42, '42'],
  ['i8', null, null],
  // DECIMAL(20,8): rounding half away from zero at the 9th decimal, exact limits
  ['num', '999999999999.99999999', '999999999999.99999999'],
  ['num', '-999999999999.99999999', '-999999999999.99999999'],
  ['num', '1e-8', '0.00000001'],
  ['num', '0.1234567800', '0.12345678'], // trailing zeros are not digits lost
  ['num', '12345e-4', '1.23450000'],
  ['num', '-0.00000000', '0.00000000'], // no negative zero
  ['num', 1e-8, '0.00000001'],
  ['num', '-1e-8', '-0.00000001'],
  ['num', '0', '0.00000000'],
  ['num', 0.1, '0.10000000'],
  ['num', 4780.25, '4780.25000000'],
  ['num', '45035996.27370497', '45035996.27370497'], // beyond the 2^52 fast path
  ['num', '12345678901.23456789', '12345678901.23456789'],
  ['num', 42n, '42.00000000'],
  ['num', { value: 123_456_789n, scale: 9 }, '0.12345679'], // DBN fixed point, 9th decimal 9
  ['num', { value: 123_456_785n, scale: 9 }, '0.12345679'], // half → away from zero
  ['num', { value: -123_456_785n, scale: 9 }, '-0.12345679'],
  ['num', { value: 4n, scale: 9 }, '0.00000000'],
  ['num', { value: -5n, scale: 9 }, '-0.00000001'],
  ['num', { value: 4_780_250_000_000n, scale: 9 }, '4780.25000000'],
  ['num', { value: 999_999_999_999_999_999_990n, scale: 9 }, '999999999999.99999999'],
  ['num', { value: 25n, scale: 2 }, '0.25000000'], // scale up
  ['num', null, null],
  // text types
  ['vc', 'ESH4', 'ESH4'],
  ['vc', 'x'.repeat(50), 'x'.repeat(50)],
  ['vc', 'Ü€😀 ok', 'Ü€😀 ok'], // 6 characters, more bytes
  ['vc', '', ''],
  ['ch', 'B', 'B'],
  ['ch', 'é', 'é'],
  ['tx', 'a,"b"\n\\c\td\r;\'', 'a,"b"\n\\c\td\r;\''],
  ['tx', 'y'.repeat(10_000), 'y'.repeat(10_000)],
  // boolean, date, jsonb
  ['b', true, 'true'],
  ['b', false, 'false'],
  ['d', '2024-03-15', '2024-03-15'],
  ['d', new Date('2024-03-15T00:00:00Z'), '2024-03-15'],
  ['d', '1969-07-20', '1969-07-20'],
  ['j', { a: 1, b: [1, 'x'] }, '{"a": 1, "b": [1, "x"]}'],
];

describe.each(ENGINE_KINDS)('round trip of every column type (%s)', (kind) => {
  let te: TestEngine;

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'load_roundtrip' });
    await te.engine.query(createTableSql(spec));
  });
  afterAll(async () => {
    await te?.dispose();
  });

  describe.each([true, false])('useCopy %s', (useCopy) => {
    it('reads every value back exactly', async () => {
      await reset(te.engine, ['tv_roundtrip']);
      const loader = new BaseLoader(spec, { batchSize: 100 }, { engine: te.engine, useCopy });
      const records = CASES.map(([col, input], i) => ({ id: i, [col]: input }));
      const res = await loader.storeBatch(records);
      expect(res.recordsRejected).toBe(0);
      expect(res.recordsInserted).toBe(CASES.length);
      expect(await quarantined(te.engine, 'tv_roundtrip')).toEqual([]);

      const { rows } = await te.engine.query<Record<string, string | null>>(
        `SELECT id, (ts AT TIME ZONE 'UTC')::text AS ts, i2::text AS i2, i4::text AS i4, i8::text AS i8, num::text AS num,
                vc::text AS vc, ch::text AS ch, tx, b::text AS b, d::text AS d, j::text AS j
           FROM tv_roundtrip ORDER BY id`,
      );
      expect(rows).toHaveLength(CASES.length);
      const got = rows.map((r, i) => [CASES[i]![0], r[CASES[i]![0]]]);
      const want = CASES.map(([col, , expected]) => [col, expected]);
      expect(got).toEqual(want);
      // every other column of each row is NULL
      for (const [i, r] of rows.entries()) {
        for (const [k, v] of Object.entries(r)) if (k !== 'id' && k !== CASES[i]![0]) expect(v, `${i}.${k}`).toBeNull();
      }
    });

    it('a batch spanning several COPY chunks lands completely', async () => {
      await reset(te.engine, ['tv_roundtrip']);
      const loader = new BaseLoader(spec, { batchSize: 5000 }, { engine: te.engine, useCopy });
      const n = 12_000; // > 256 KiB of COPY data: several chunks per batch, three batches
      function* gen() {
        for (let i = 0; i < n; i++) {
          yield {
            id: i,
            ts: 1_704_189_600_000_000_000n + BigInt(i) * 1_000n,
            num: `${i}.${String(i % 100_000_000).padStart(8, '0')}`,
            tx: 'z'.repeat(i % 50),
          };
        }
      }
      const res = await loader.bulkLoad(gen());
      expect(res.recordsInserted).toBe(n);
      expect(await count(te.engine, 'tv_roundtrip')).toBe(n);
      const { rows } = await te.engine.query<{ bad: string }>(
        `SELECT count(*)::text AS bad FROM tv_roundtrip
          WHERE num::text <> id::text || '.' || lpad(id::text, 8, '0') OR length(tx) <> id % 50
             OR ts <> '2024-01-02 10:00:00+00'::timestamptz + (id || ' microseconds')::interval`,
      );
      expect(rows[0]!.bad).toBe('0');
    });
  });
});
