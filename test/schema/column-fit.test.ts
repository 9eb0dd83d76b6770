/**
 * The column-fit rules, derived from each column's type in the table description, agree with
 * what the database accepts: at the edge of every INTEGER/SMALLINT/BIGINT range, VARCHAR length
 * (in characters, not UTF-16 units) and DECIMAL precision.
 */
import { describe, expect, it } from 'vitest';
import { columnMisfit, INT2_MAX, INT4_MIN, INT8_MAX, maxTextLength } from '../../src/schema/column-fit.js';
import { MARKET_TABLES, type Column } from '../../src/schema/tables.js';
import { t } from '../../src/schema/types.js';

const col = (type: Column['type']): Column => ({ name: 'c', type, nullable: true });

describe('column fit', () => {
  it('integers: the edges fit, one beyond does not', () => {
    expect(columnMisfit(col(t.int2), INT2_MAX)).toBeNull();
    expect(columnMisfit(col(t.int2), INT2_MAX + 1)).toBe('32768 is out of range for SMALLINT');
    expect(columnMisfit(col(t.int4), INT4_MIN)).toBeNull();
    expect(columnMisfit(col(t.int4), INT4_MIN - 1)).toBe('-2147483649 is out of range for INTEGER');
    expect(columnMisfit(col(t.int8), INT8_MAX)).toBeNull();
    expect(columnMisfit(col(t.int8), INT8_MAX + 1n)).toBe('9223372036854775808 is out of range for BIGINT');
  });

  it('text: characters are counted, not UTF-16 units', () => {
    expect(columnMisfit(col(t.varchar(3)), '€€€')).toBeNull();
    expect(columnMisfit(col(t.varchar(3)), '😀😀😀')).toBeNull(); // 6 UTF-16 units, 3 characters
    expect(columnMisfit(col(t.varchar(3)), 'abcd')).toBe('"abcd" is longer than 3 characters');
    expect(maxTextLength(t.text)).toBe(Infinity);
  });

  it('decimals: |scaled| < 10^precision', () => {
    expect(columnMisfit(col(t.numeric(20, 8)), 99_999_999_999_999_999_999n)).toBeNull();
    expect(columnMisfit(col(t.numeric(20, 8)), -100_000_000_000_000_000_000n)).toBe('does not fit DECIMAL(20,8)');
  });

  it('every market column has a rule or needs none', () => {
    for (const spec of MARKET_TABLES) {
      for (const c of spec.columns) {
        if (c.type.kind === 'varchar' || c.type.kind === 'char') expect(maxTextLength(c.type)).toBe(c.type.length);
      }
    }
  });
});
