/**
 * The all-types golden table. test/copy/fixtures/all-types.pgcopy holds the COPY binary
 * bytes of ALL_TYPES_ROWS, verified by hand against PostgreSQL 15.20:
 *
 *   CREATE TEMP TABLE g (ts timestamptz, i2 int2, i4 int4, i8 int8, n numeric(20,8),
 *     v varchar(50), c char(1), tx text, b bool, d date, j jsonb);
 *   \copy g FROM 'all-types.pgcopy' WITH (FORMAT binary)      -- COPY 16, values as below
 *   \copy g TO 'pg.bin' WITH (FORMAT binary)                  -- byte-identical to the fixture
 *
 * The comment on each row is what `SELECT * FROM g` printed (TimeZone UTC).
 */
import { t, type CellValue, type ColumnType } from '../../src/schema/types.js';

export const ALL_TYPES_COLUMNS: { name: string; type: ColumnType }[] = [
  { name: 'ts', type: t.timestamptz },
  { name: 'i2', type: t.int2 },
  { name: 'i4', type: t.int4 },
  { name: 'i8', type: t.int8 },
  { name: 'n', type: t.numeric(20, 8) },
  { name: 'v', type: t.varchar(50) },
  { name: 'c', type: t.char(1) },
  { name: 'tx', type: t.text },
  { name: 'b', type: t.bool },
  { name: 'd', type: t.date },
  { name: 'j', type: t.jsonb },
];

export const ALL_TYPES_ROWS: CellValue[][] = [
  // 2024-03-15 13:45:30.123456+00 | -32768 | 2147483647 | -9223372036854775808 | -123.45678900 | ESH4 | B | héllo wörld €𝄞 | t | 2024-03-15 | {"a": 1, "b": [true, null]}
  [
    1710510330123456n,
    -32768,
    2147483647,
    -9223372036854775808n,
    -12345678900n,
    'ESH4',
    'B',
    'héllo wörld €𝄞',
    true,
    19797,
    '{"a": 1, "b": [true, null]}',
  ],
  // 1969-12-31 23:59:59.999999+00 | 32767 | -2147483648 | 9223372036854775807 | 0.00000001 | (empty) | S | (empty) | f | 1969-12-31 | []
  [-1n, 32767, -2147483648, 9223372036854775807n, 1n, '', 'S', '', false, -1, '[]'],
  // all NULL
  [null, null, null, null, null, null, null, null, null, null, null],
  // 1999-12-31 23:59:59.999999+00 | 0 | 0 | 0 | 999999999999.99999999 | x | A | Ω | t | 1970-01-01 | "x"
  [946684799999999n, 0, 0, 0n, 99999999999999999999n, 'x', 'A', 'Ω', true, 0, '"x"'],
  // 1800-01-01 00:00:00+00 | 1 | -1 | -1 | -999999999999.99999999 | 日本語 | Z | tab<TAB>here | f | 2000-01-01 | {}
  [-5364662400000000n, 1, -1, -1n, -99999999999999999999n, '日本語', 'Z', 'tab\there', false, 10957, '{}'],
  // 2500-01-01 00:00:00+00 | -1 | 1 | 4503599627370496 | 10000.00000000 | a | ü | x | t | 0001-01-01 BC | null
  [16725225600000000n, -1, 1, 4503599627370496n, 1000000000000n, 'a', 'ü', 'x', true, -719528, 'null'],
  // 2000-01-01 00:00:00+00 | 2 | 3 | -4503599627370497 | 100.00000000 | b | c | y | f | 9999-12-31 | 1.5
  [946684800000000n, 2, 3, -4503599627370497n, 10000000000n, 'b', 'c', 'y', false, 2932896, '1.5'],
  // 1970-01-01 00:00:00+00 | 3 | 4 | 5 | 1.50000000 | ... | {"k": "v"}
  [0n, 3, 4, 5n, 150000000n, 'c', 'd', 'z', true, 1, '{"k": "v"}'],
  // 1970-01-01 00:00:00.000001+00 | ... | 100000000.00000000 | ... | [1, 2]
  [1n, 4, 5, 6n, 10000000000000000n, 'd', 'e', 'w', true, 2, '[1, 2]'],
  // ... | 1.00000001 | ... | true
  [2n, 5, 6, 7n, 100000001n, 'e', 'f', 'v', true, 3, 'true'],
  // ... | 100000001.00000000 | ... | false
  [3n, 6, 7, 8n, 10000000100000000n, 'f', 'g', 'u', true, 4, 'false'],
  // ... | 0.00000000 | ... | 0
  [4n, 7, 8, 9n, 0n, 'g', 'h', 't', true, 5, '0'],
  // ... | -0.00000001 | ... | -1
  [5n, 8, 9, 10n, -1n, 'h', 'i', 's', true, 6, '-1'],
  // ... | 123456789012.34567890 | ... | "é"
  [6n, 9, 10, 11n, 12345678901234567890n, 'i', 'j', 'r', true, 7, '"é"'],
  // ... | 45035996.27370495 | ...
  [7n, 10, 11, 12n, 4503599627370495n, 'j', 'k', 'q', true, 8, '[]'],
  // ... | 45035996.27370496 | ...
  [8n, 11, 12, 13n, 4503599627370496n, 'k', 'l', 'p', true, 9, '[]'],
];
