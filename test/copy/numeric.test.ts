import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecimalError } from '../../src/copy/errors.js';
import {
  encodeNumericBinary,
  fitsPrecision,
  formatDecimal,
  fromNumber,
  integerDigits,
  numericDigits,
  parseDecimal,
  rescaleFixed,
} from '../../src/copy/numeric.js';
import { decodeNumeric } from '../support/pgcopy-decode.js';

const MAX_20_8 = 99999999999999999999n; // 999999999999.99999999

/** Independent reference: round |digits| × 10^-drop half away from zero (bigint only). */
function refRound(mag: bigint, drop: number): bigint {
  if (drop <= 0) return mag * 10n ** BigInt(-drop);
  const p = 10n ** BigInt(drop);
  const q = mag / p;
  return (mag % p) * 2n >= p ? q + 1n : q;
}

/** Independent reference of parseDecimal for sign / int digits / frac digits / exponent. */
function refParse(neg: boolean, int: string, frac: string, exp: number, scale: number): bigint {
  const mag = BigInt(int + frac || '0');
  const r = refRound(mag, frac.length - exp - scale);
  return neg ? -r : r;
}

describe('parseDecimal', () => {
  it.each([
    // rounding at the 9th decimal, both directions, half away from zero (PostgreSQL NUMERIC input)
    ['0.123456785', 12345679n],
    ['0.123456775', 12345678n],
    ['-0.123456785', -12345679n],
    ['-0.123456775', -12345678n],
    ['0.123456784999', 12345678n],
    ['0.000000005', 1n],
    ['-0.000000005', -1n],
    ['0.0000000049999999999', 0n],
    ['0.999999995', 100000000n], // carry into the integer part
    ['99999999.999999995', 10000000000000000n],
    ['123456789012.345678905', 12345678901234567891n], // > 15 digits: bigint path
    ['123456789012.345678904', 12345678901234567890n],
    // plain forms
    ['0', 0n],
    ['-0', 0n],
    ['+1', 100000000n],
    ['1', 100000000n],
    ['1.', 100000000n],
    ['.5', 50000000n],
    ['-.5', -50000000n],
    ['00012.50', 1250000000n],
    ['  42.1\t\n', 4210000000n],
    ['0.00000001', 1n],
    ['-0.00000001', -1n],
    ['999999999999.99999999', MAX_20_8],
    ['-999999999999.99999999', -MAX_20_8],
    ['10000', 1000000000000n],
    ['100000000', 10000000000000000n],
    // exponent notation
    ['1e-8', 1n],
    ['-1e-8', -1n],
    ['1.5E3', 150000000000n],
    ['1.5e+3', 150000000000n],
    ['5e-9', 1n],
    ['4.9e-9', 0n],
    ['-5E-9', -1n],
    ['1e-1000', 0n],
    ['2e21', 200000000000000000000000000000n],
    ['12345.678e-3', 1234567800n],
    ['0.00012345678e5', 1234567800n],
  ])('%j → %s at scale 8', (text, expected) => {
    expect(parseDecimal(text, 8)).toBe(expected);
  });

  it('respects other scales', () => {
    expect(parseDecimal('1.25', 0)).toBe(1n);
    expect(parseDecimal('1.5', 0)).toBe(2n);
    expect(parseDecimal('-2.5', 0)).toBe(-3n);
    expect(parseDecimal('1.005', 2)).toBe(101n); // 1.005 is exact in decimal: rounds up
    expect(parseDecimal('123', 20)).toBe(12300000000000000000000n);
  });

  it.each([
    '',
    ' ',
    '-',
    '+',
    '.',
    '-.',
    'e5',
    '.e1',
    '1e',
    '1e+',
    '1e-',
    'abc',
    '1.2.3',
    '1,5',
    'NaN',
    'nan',
    'Infinity',
    '-Infinity',
    '0x10',
    '1_000',
    '--1',
    '+-1',
    '1 2',
    '1e2.5',
    '\u0661',
    '١٢',
    '1d',
    '1 e5',
    '1e 5',
    '٫5',
  ])('rejects %j with DECIMAL_SYNTAX', (text) => {
    let err: unknown;
    try {
      parseDecimal(text, 8);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DecimalError);
    expect((err as DecimalError).code).toBe('DECIMAL_SYNTAX');
    expect((err as DecimalError).input).toBe(text);
  });

  it('rejects huge exponents with DECIMAL_RANGE', () => {
    expect(() => parseDecimal('1e1001', 8)).toThrow(expect.objectContaining({ code: 'DECIMAL_RANGE' }));
    expect(() => parseDecimal('1e-99999999999', 8)).toThrow(expect.objectContaining({ code: 'DECIMAL_RANGE' }));
  });

  it('rejects invalid scales', () => {
    expect(() => parseDecimal('1', -1)).toThrow(RangeError);
    expect(() => parseDecimal('1', 1.5)).toThrow(RangeError);
    expect(() => parseDecimal('1', 1001)).toThrow(RangeError);
  });

  it('matches an independent bigint reference (digits, point, sign, exponent)', () => {
    const digits = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: max });
    fc.assert(
      fc.property(
        fc.boolean(),
        digits(25),
        digits(25),
        fc.option(fc.integer({ min: -40, max: 40 }), { nil: undefined }),
        fc.integer({ min: 0, max: 20 }),
        (neg, int, frac, exp, scale) => {
          fc.pre(int.length + frac.length > 0);
          const text = `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}${exp === undefined ? '' : `e${exp}`}`;
          expect(parseDecimal(text, scale)).toBe(refParse(neg, int, frac, exp ?? 0, scale));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('round-trips with formatDecimal for any value and scale', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.integer({ min: 0, max: 30 }), (v, scale) => {
        const text = formatDecimal(v, scale);
        expect(parseDecimal(text, scale)).toBe(v);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('formatDecimal', () => {
  it.each([
    [0n, 8, '0.00000000'],
    [1n, 8, '0.00000001'],
    [-1n, 8, '-0.00000001'],
    [150000000n, 8, '1.50000000'],
    [MAX_20_8, 8, '999999999999.99999999'],
    [-MAX_20_8, 8, '-999999999999.99999999'],
    [-12345n, 0, '-12345'],
    [5n, 1, '0.5'],
  ])('%s at scale %i → %s', (v, scale, text) => {
    expect(formatDecimal(v, scale)).toBe(text);
  });
});

describe('rescaleFixed (DBN 1e-9 prices → scale 8)', () => {
  it.each([
    [123456785n, 12345679n],
    [123456775n, 12345678n],
    [-123456785n, -12345679n],
    [-123456775n, -12345678n],
    [5n, 1n],
    [4n, 0n],
    [-5n, -1n],
    [-4n, 0n],
    [0n, 0n],
    [5123250000000n, 512325000000n],
    [9223372036854775807n, 922337203685477581n], // int64 max (beyond the double fast path)
    [-9223372036854775808n, -922337203685477581n],
    [4503599627370495n, 450359962737050n], // around 2^52
    [4503599627370496n, 450359962737050n],
    [4503599627370497n, 450359962737050n],
  ])('%s → %s', (v, expected) => {
    expect(rescaleFixed(v, 9, 8)).toBe(expected);
  });

  it('upscales exactly and keeps equal scales', () => {
    expect(rescaleFixed(15n, 1, 8)).toBe(150000000n);
    expect(rescaleFixed(-7n, 8, 8)).toBe(-7n);
  });

  it('matches the bigint reference over int64 and several scale drops', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
          fc.bigInt({ min: -100000n, max: 100000n }),
        ),
        fc.integer({ min: 0, max: 18 }),
        fc.integer({ min: 0, max: 18 }),
        (v, from, to) => {
          const mag = v < 0n ? -v : v;
          const r = refRound(mag, from - to);
          expect(rescaleFixed(v, from, to)).toBe(v < 0n ? -r : r);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('fromNumber', () => {
  it.each([
    [0.1, 10000000n],
    [1e-7, 10n],
    [1e-9, 0n],
    [5e-9, 1n],
    [-5e-9, -1n],
    // 0.123456785 * 1e8 in doubles is 12345678.499999998 and would round down; the decimal
    // string "0.123456785" rounds up like PostgreSQL does
    [0.123456785, 12345679n],
    [123, 12300000000n],
    [-0, 0n],
    [1.5e21, 150000000000000000000000000000n],
    // shortest round trip, also for large integers: String(2 ** 60) is "1152921504606847000"
    [2 ** 60, 115292150460684700000000000n],
    [2 ** 53 - 1, 900719925474099100000000n],
    [5123.25, 512325000000n],
  ])('%s → %s', (n, expected) => {
    expect(fromNumber(n, 8)).toBe(expected);
  });

  it.each([NaN, Infinity, -Infinity])('rejects %s', (n) => {
    expect(() => fromNumber(n, 8)).toThrow(expect.objectContaining({ code: 'DECIMAL_RANGE' }));
  });

  it('equals parseDecimal(String(n)) for every double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 12 }), (n, scale) => {
        expect(fromNumber(n, scale)).toBe(parseDecimal(String(n), scale));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('fitsPrecision', () => {
  it('DECIMAL(20,8) bounds', () => {
    expect(fitsPrecision(MAX_20_8, 20, 8)).toBe(true);
    expect(fitsPrecision(-MAX_20_8, 20, 8)).toBe(true);
    expect(fitsPrecision(MAX_20_8 + 1n, 20, 8)).toBe(false);
    expect(fitsPrecision(-MAX_20_8 - 1n, 20, 8)).toBe(false);
    expect(fitsPrecision(0n, 20, 8)).toBe(true);
  });
  it('small precisions', () => {
    expect(fitsPrecision(99999n, 5, 2)).toBe(true); // 999.99
    expect(fitsPrecision(100000n, 5, 2)).toBe(false); // 1000.00
  });
});

// Expected bytes: PostgreSQL 15's own numeric_send, from
//   SELECT encode(numeric_send('<v>'::numeric(20,8)), 'hex')
const PG_NUMERIC_20_8: [string, string][] = [
  ['0', '0000000000000008'],
  ['1', '00010000000000080001'],
  ['-1', '00010000400000080001'],
  ['0.00000001', '0001fffe000000080001'],
  ['-0.00000001', '0001fffe400000080001'],
  ['999999999999.99999999', '0005000200000008270f270f270f270f270f'],
  ['-999999999999.99999999', '0005000240000008270f270f270f270f270f'],
  ['0.123456785', '0002ffff0000000804d2162f'],
  ['0.123456775', '0002ffff0000000804d2162e'],
  ['-0.123456785', '0002ffff4000000804d2162f'],
  ['10000', '00010001000000080001'],
  ['1.5', '000200000000000800011388'],
  ['100000000', '00010002000000080001'],
  ['-100000000', '00010002400000080001'],
  ['12345678.9', '000300010000000804d2162e2328'],
  ['10000.0001', '0003000100000008000100000001'],
  ['0.0001', '0001ffff000000080001'],
  ['0.00010001', '0002ffff0000000800010001'],
  ['5123.25', '0002000000000008140309c4'],
  ['45035996.27370496', '00040001000000081197176c0ab101f0'], // 2^52 scaled: edge of the fast path
  ['-45035996.27370497', '00040001400000081197176c0ab101f1'],
  ['123456789012.3456789', '000500020000000804d2162e23340d801ed2'],
  ['100000000.00000001', '000500020000000800010000000000000001'], // zero groups inside
  ['0.0000000049999', '0000000000000008'],
  ['-0.000000005', '0001fffe400000080001'],
];

describe('encodeNumericBinary', () => {
  it.each(PG_NUMERIC_20_8)('%s matches PostgreSQL numeric_send for DECIMAL(20,8)', (text, hex) => {
    expect(encodeNumericBinary(parseDecimal(text, 8), 8).toString('hex')).toBe(hex);
  });

  it.each([
    ['0', 0, '0000000000000000'],
    ['123456789012345678901234567890', 0, '0008000700000000000c0d801ed204d2162e23340d801ed2'],
    ['-10000', 0, '00010001400000000001'],
    ['99990000', 0, '0001000100000000270f'],
    ['1.5', 2, '000200000000000200011388'],
    ['-0.05', 2, '0001ffff4000000201f4'],
    ['12345678.90', 2, '000300010000000204d2162e2328'],
    ['0.00000000000000000001', 20, '0001fffb000000140001'],
    ['-12345678901234567890.12345678901234567890', 20, '000a00044000001404d2162e23340d801ed204d2162e23340d801ed2'],
  ])('%s at scale %i matches PostgreSQL numeric_send', (text, scale, hex) => {
    expect(encodeNumericBinary(parseDecimal(text, scale), scale).toString('hex')).toBe(hex);
  });

  it('decodes back to the value with normalized digits (property, all magnitudes and scales)', () => {
    const values = fc.oneof(
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
      fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }), // around the fast-path boundary 2^52
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
      // values made of base-10000 groups with many zero groups
      fc
        .array(fc.constantFrom(0n, 0n, 0n, 1n, 9999n, 10n, 5000n), { minLength: 1, maxLength: 8 })
        .map((gs) => gs.reduce((a: bigint, g) => a * 10000n + g, 0n)),
      fc.constantFrom(0n, 1n, -1n, MAX_20_8, -MAX_20_8, 2n ** 52n, -(2n ** 52n), 2n ** 52n + 1n, -(2n ** 52n) - 1n, 2n ** 63n, 10n ** 16n),
    );
    fc.assert(
      fc.property(values, fc.integer({ min: 0, max: 24 }), (v, scale) => {
        const d = decodeNumeric(encodeNumericBinary(v, scale));
        expect(d.scaled).toBe(v);
        expect(d.dscale).toBe(scale);
        expect(d.sign).toBe(v < 0n ? 0x4000 : 0);
      }),
      { numRuns: 10000 },
    );
  });

  it('trailing zeros and zero groups do not become digits', () => {
    expect(decodeNumeric(encodeNumericBinary(1000000000000n, 8)).digits).toEqual([1]); // 10000
    expect(decodeNumeric(encodeNumericBinary(150000000n, 8)).digits).toEqual([1, 5000]); // 1.5
    expect(decodeNumeric(encodeNumericBinary(10000000000000000n, 8)).digits).toEqual([1]); // 100000000
    expect(decodeNumeric(encodeNumericBinary(10000000000000001n, 8)).digits).toEqual([1, 0, 0, 0, 1]);
  });
});

describe('numericDigits / integerDigits', () => {
  it('integerDigits is floor(log10|v|)+1 like PostgreSQL apply_typmod', () => {
    const id = (v: bigint, s: number) => integerDigits(numericDigits(v, s));
    expect(id(0n, 8)).toBe(0);
    expect(id(1n, 8)).toBe(-7); // 0.00000001
    expect(id(10000000n, 8)).toBe(0); // 0.1
    expect(id(100000000n, 8)).toBe(1); // 1
    expect(id(MAX_20_8, 8)).toBe(12);
    expect(id(MAX_20_8 + 1n, 8)).toBe(13);
    expect(id(-123456789n, 2)).toBe(7);
  });
});
