import { describe, expect, it } from 'vitest';
import { BinaryCopyWriter, encodeRows, fieldWriterFor } from '../../src/copy/index.js';
import { t, type CellValue, type ColumnType } from '../../src/schema/types.js';
import { catchError, fieldHex, HEADER_HEX, TRAILER_HEX } from '../support/copy-bytes.js';

// Every expected payload below is PostgreSQL 15's own *_send output
// (SELECT encode(<type>send(...), 'hex')), prefixed with the int32 field length.
describe('field golden bytes', () => {
  it('NULL', () => {
    expect(fieldHex((w) => w.null())).toBe('ffffffff');
  });

  it('int2', () => {
    expect(fieldHex((w) => w.int2(-2))).toBe('00000002' + 'fffe');
    expect(fieldHex((w) => w.int2(32767))).toBe('00000002' + '7fff');
    expect(fieldHex((w) => w.int2(-32768))).toBe('00000002' + '8000');
  });

  it('int4', () => {
    expect(fieldHex((w) => w.int4(-2))).toBe('00000004' + 'fffffffe');
    expect(fieldHex((w) => w.int4(2147483647))).toBe('00000004' + '7fffffff');
    expect(fieldHex((w) => w.int4(-2147483648))).toBe('00000004' + '80000000');
  });

  it('int8', () => {
    expect(fieldHex((w) => w.int8(-2n))).toBe('00000008' + 'fffffffffffffffe');
    expect(fieldHex((w) => w.int8(9223372036854775807n))).toBe('00000008' + '7fffffffffffffff');
    expect(fieldHex((w) => w.int8(-9223372036854775808n))).toBe('00000008' + '8000000000000000');
    expect(fieldHex((w) => w.int8(4294967296n))).toBe('00000008' + '0000000100000000');
    expect(fieldHex((w) => w.int8(-4294967296n))).toBe('00000008' + 'ffffffff00000000');
  });

  it.each([
    // [µs since 1970, timestamptz_send of the same instant]
    [0n, 'fffca2fec4c82000'], // 1970-01-01 00:00:00+00
    [946684800000000n, '0000000000000000'], // 2000-01-01
    [-1n, 'fffca2fec4c81fff'], // 1969-12-31 23:59:59.999999
    [946684799999999n, 'ffffffffffffffff'], // 1999-12-31 23:59:59.999999
    [1710510330123456n, '0002b6b1fd64b4c0'], // 2024-03-15 13:45:30.123456
    [-5364662400000000n, 'ffe993dcf8170000'], // 1800-01-01
    [16725225600000000n, '00380e7fcf754000'], // 2500-01-01
    [-210866803200000000n, 'fd0f7cc1411fa000'], // 4714-11-24 00:00:00 BC, PostgreSQL's minimum
    [9224318015999999999n, '7fffff5bb3b29fff'], // 294276-12-31 23:59:59.999999, beyond int64 µs since 1970
  ])('timestamptz %s', (micros, hex) => {
    expect(fieldHex((w) => w.timestamptz(micros))).toBe(`00000008${hex}`);
  });

  it('timestamptz outside PostgreSQL range is rejected', () => {
    expect(catchError(() => new BinaryCopyWriter().timestamptz(-210866803200000001n)).code).toBe('COPY_VALUE');
    expect(catchError(() => new BinaryCopyWriter().timestamptz(9224318016000000000n)).code).toBe('COPY_VALUE');
    expect(catchError(() => new BinaryCopyWriter().timestamptz(-(2n ** 63n))).code).toBe('COPY_VALUE');
    expect(catchError(() => new BinaryCopyWriter().timestamptz(2n ** 70n)).code).toBe('COPY_VALUE');
  });

  it.each([
    // [days since 1970, date_send]
    [10957, '00000000'], // 2000-01-01
    [0, 'ffffd533'], // 1970-01-01
    [-1, 'ffffd532'], // 1969-12-31
    [19797, '00002288'], // 2024-03-15
    [-719528, 'fff4da8b'], // 0001-01-01 BC
    [2932896, '002c95d3'], // 9999-12-31
  ])('date %i', (days, hex) => {
    expect(fieldHex((w) => w.date(days))).toBe(`00000004${hex}`);
  });

  it('bool', () => {
    expect(fieldHex((w) => w.bool(true))).toBe('00000001' + '01');
    expect(fieldHex((w) => w.bool(false))).toBe('00000001' + '00');
  });

  it('text: ASCII, empty, unicode (2-, 3- and 4-byte UTF-8)', () => {
    expect(fieldHex((w) => w.text('ESH4'))).toBe('00000004' + '45534834');
    expect(fieldHex((w) => w.text(''))).toBe('00000000');
    expect(fieldHex((w) => w.text('héllo €𝄞'))).toBe('0000000e' + '68c3a96c6c6f20e282acf09d849e');
    const long = `${'x'.repeat(100)}€`; // beyond the JS ASCII loop
    expect(fieldHex((w) => w.text(long))).toBe(`00000067${'78'.repeat(100)}e282ac`);
    const longAscii = 'abc'.repeat(50);
    expect(fieldHex((w) => w.text(longAscii))).toBe(`00000096${Buffer.from(longAscii).toString('hex')}`);
  });

  it('char', () => {
    expect(fieldHex((w) => w.char('B'))).toBe('00000001' + '42');
  });

  it('jsonb: version 1 + text', () => {
    expect(fieldHex((w) => w.jsonb('{"a": 1}'))).toBe('00000009' + '017b2261223a20317d');
    expect(fieldHex((w) => w.jsonb('"é"'))).toBe('00000005' + '0122c3a922');
  });

  it('numeric with length prefix', () => {
    expect(fieldHex((w) => w.numeric(150000000n, 8))).toBe('0000000c' + '000200000000000800011388');
    expect(fieldHex((w) => w.numeric(0n, 8))).toBe('00000008' + '0000000000000008');
    expect(fieldHex((w) => w.numeric(-1n, 8))).toBe('0000000a' + '0001fffe400000080001');
  });

  it('raw bytes', () => {
    expect(fieldHex((w) => w.raw(Uint8Array.from([1, 2, 255])))).toBe('00000003' + '0102ff');
  });
});

describe('fieldWriterFor', () => {
  const encodeOne = (type: ColumnType, v: CellValue): Buffer => encodeRows([{ type }], [[v]]);

  it('writes NULL for null in every column type', () => {
    const types: ColumnType[] = [
      t.timestamptz,
      t.int2,
      t.int4,
      t.int8,
      t.numeric(20, 8),
      t.varchar(5),
      t.char(1),
      t.text,
      t.bool,
      t.date,
      t.jsonb,
    ];
    for (const type of types) {
      expect(encodeOne(type, null).toString('hex')).toBe(`${HEADER_HEX}0001ffffffff${TRAILER_HEX}`);
    }
  });

  it.each<[ColumnType, CellValue]>([
    [t.timestamptz, 1],
    [t.timestamptz, '2024-01-01'],
    [t.int2, 1n],
    [t.int4, 1n],
    [t.int4, '1'],
    [t.int8, 1],
    [t.numeric(20, 8), 1.5],
    [t.numeric(20, 8), '1.5'],
    [t.varchar(5), 1],
    [t.char(1), true],
    [t.text, 1n],
    [t.bool, 1],
    [t.date, 1n],
    [t.jsonb, 1],
  ])('%j rejects %s with COPY_TYPE', (type, v) => {
    const err = catchError(() => encodeOne(type, v));
    expect(err.code).toBe('COPY_TYPE');
    expect(err.column).toBe(0);
    expect(err.row).toBe(0);
  });

  it.each<[ColumnType, CellValue]>([
    [t.int2, 32768],
    [t.int2, -32769],
    [t.int2, 1.5],
    [t.int4, 2147483648],
    [t.int4, -2147483649],
    [t.int4, 0.5],
    [t.int4, NaN],
    [t.int8, 2n ** 63n],
    [t.int8, -(2n ** 63n) - 1n],
    [t.numeric(20, 8), 10n ** 20n],
    [t.numeric(20, 8), -(10n ** 20n)],
    [t.numeric(5, 2), 100000n],
    [t.varchar(5), 'abcdef'],
    [t.varchar(3), 'ab€€'],
    [t.char(1), 'BS'],
    [t.text, 'a\0b'],
    [t.text, `${'x'.repeat(80)}\0`],
    [t.text, 'lone \ud800 surrogate'],
    [t.text, `${'x'.repeat(80)}\udc00`],
    [t.jsonb, '"\0"'],
    [t.date, 1.5],
    [t.date, 2 ** 31 + 10957],
  ])('%j rejects %s with COPY_VALUE', (type, v) => {
    expect(catchError(() => encodeOne(type, v)).code).toBe('COPY_VALUE');
  });

  it('accepts boundary values', () => {
    expect(() => encodeOne(t.numeric(20, 8), 10n ** 20n - 1n)).not.toThrow();
    expect(() => encodeOne(t.numeric(20, 8), -(10n ** 20n) + 1n)).not.toThrow();
    expect(() => encodeOne(t.numeric(5, 2), 99999n)).not.toThrow();
    expect(() => encodeOne(t.varchar(5), 'abcde')).not.toThrow();
    expect(() => encodeOne(t.varchar(3), '𝄞𝄞𝄞')).not.toThrow(); // 6 UTF-16 units, 3 characters
    expect(() => encodeOne(t.varchar(3), 'abc   ')).not.toThrow(); // PostgreSQL truncates excess spaces
    expect(() => encodeOne(t.char(1), 'B ')).not.toThrow();
    expect(() => encodeOne(t.text, '😀 ok')).not.toThrow();
  });

  it('numeric uses the column scale as dscale', () => {
    const hex = encodeOne(t.numeric(10, 2), 150n).toString('hex');
    expect(hex).toBe(`${HEADER_HEX}00010000000c000200000000000200011388${TRAILER_HEX}`);
    expect(typeof fieldWriterFor(t.numeric(10, 2))).toBe('function');
  });

  it('rejects unsupported numeric typmods when built', () => {
    expect(() => fieldWriterFor(t.numeric(20, -1))).toThrow(RangeError);
    expect(() => fieldWriterFor(t.numeric(0, 0))).toThrow(RangeError);
  });
});
