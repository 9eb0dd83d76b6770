/**
 * Cell values of CSV and Parquet files → the values the loaders' normalizer takes, exactly:
 * timestamps become epoch nanoseconds as bigint (the normalizer floors them to µs, as for DBN),
 * prices become fixed-point integers ({ value, scale }) or decimal text — never a binary float.
 * A Parquet DOUBLE is read by its shortest round-trip decimal text (`String(x)`), the one decimal
 * that the double stands for. Each converter throws a CellProblem naming the value; the source
 * turns it into a quarantined row.
 */
import { formatDecimal, parseDecimal } from '../copy/numeric.js';
import type { FixedPoint } from '../load/normalize.js';

export class CellProblem extends Error {}

export type TimeUnit = 'ns' | 'us' | 'ms' | 's' | 'iso';

const NS_PER: Record<Exclude<TimeUnit, 'iso'>, bigint> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n };
const SCALE_OF: Record<Exclude<TimeUnit, 'iso'>, number> = { ns: 0, us: 3, ms: 6, s: 9 };

/** DBN's UNDEF_PRICE (i64::MAX) and UNDEF_TIMESTAMP (u64::MAX), as `dbn --csv` writes them without pretty_px/pretty_ts. */
export const UNDEF_PRICE = 9223372036854775807n;
export const UNDEF_TIMESTAMP = 18446744073709551615n;

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * ISO 8601 date-time → epoch ns: 'T' or ' ' between date and time (pandas writes a space), up to 9
 * fractional digits, 'Z' or an offset ('+00:00'); no zone = UTC.
 */
export function isoToNanos(text: string): bigint {
  return isoToNanosFast(text) ?? isoToNanosByPattern(text);
}

/** Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The digit at `i` of `t`, or -1. */
function dig(t: string, i: number): number {
  const c = t.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** `n` digits of `t` from `i` as a number, or -1 if any is not a digit. */
function digits(t: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = dig(t, i + k);
    if (c < 0) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * The shape every writer of market data uses (`YYYY-MM-DD[T ]HH:MM:SS[.f…][Z|±HH[:]MM]`, years
 * 1000–9999, no surrounding space) read by character codes: a regular expression and a Date per
 * cell were a fifth of a CSV load's client time. Anything else (or anything invalid) is undefined
 * and goes to isoToNanosByPattern, which names the problem; both give the same value where both
 * read a text (test/ingest/source-values.test.ts).
 */
function isoToNanosFast(t: string): bigint | undefined {
  const len = t.length;
  if (len < 19 || t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined;
  const sep = t.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return undefined;
  const y = digits(t, 0, 4);
  const mo = digits(t, 5, 2);
  const d = digits(t, 8, 2);
  const h = digits(t, 11, 2);
  const mi = digits(t, 14, 2);
  const s = digits(t, 17, 2);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
  if (d > DAYS_IN_MONTH[mo - 1]! + leap) return undefined;
  let i = 19;
  let frac = 0;
  let fracDigits = 0;
  if (i < len && (t.charCodeAt(i) === 46 || t.charCodeAt(i) === 44)) {
    i++;
    for (let c = dig(t, i); c >= 0 && fracDigits < 9; c = dig(t, i)) {
      frac = frac * 10 + c;
      fracDigits++;
      i++;
    }
    if (fracDigits === 0) return undefined;
  }
  let offsetMin = 0;
  if (i < len) {
    const z = t.charCodeAt(i);
    if ((z === 90 || z === 122) && i + 1 === len) i++;
    else if (z === 43 || z === 45) {
      const oh = digits(t, i + 1, 2);
      if (oh < 0) return undefined;
      let j = i + 3;
      let om = 0;
      if (j < len) {
        if (t.charCodeAt(j) === 58) j++;
        om = digits(t, j, 2);
        if (om < 0) return undefined;
        j += 2;
      }
      if (j !== len) return undefined;
      offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
      i = j;
    } else return undefined;
  }
  if (i !== len) return undefined;
  for (let k = fracDigits; k < 9; k++) frac *= 10;
  // Seconds since the epoch and the fraction in ns are both exact Numbers; one BigInt step joins them.
  const seconds = daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offsetMin * 60;
  return BigInt(seconds) * 1_000_000_000n + BigInt(frac);
}

function isoToNanosByPattern(text: string): bigint {
  const m = ISO.exec(text.trim());
  if (!m) throw new CellProblem(`not an ISO 8601 timestamp: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw new CellProblem(`not a valid date-time: ${JSON.stringify(text)}`);
  }
  let offsetMin = 0;
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  const fracNs = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1_000_000n + fracNs;
}

const INTEGER = /^\s*[+-]?\d+\s*$/;

/**
 * A timestamp cell in `unit` → epoch ns. Integers (text, number or bigint) are scaled exactly;
 * decimal text in s/ms/us ("1700000000.123456") too. `unit` undefined: ISO text, or an integer
 * in ns (Databento's encoding). Empty/null → null.
 */
export function timestampNanos(cell: unknown, unit: TimeUnit | undefined): bigint | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'bigint') return unit === undefined || unit === 'iso' ? cell : cell * NS_PER[unit];
  if (typeof cell === 'number') {
    if (!Number.isInteger(cell)) {
      if (unit === undefined || unit === 'iso' || unit === 'ns') throw new CellProblem(`timestamp ${cell} is not an integer`);
      return parseDecimal(String(cell), SCALE_OF[unit]);
    }
    return BigInt(cell) * (unit === undefined || unit === 'iso' ? 1n : NS_PER[unit]);
  }
  if (cell instanceof Date) return BigInt(cell.getTime()) * 1_000_000n;
  if (typeof cell !== 'string') throw new CellProblem(`cannot read a timestamp from ${typeof cell}`);
  if (cell.trim() === '') return null;
  if (unit === 'iso') return isoToNanos(cell);
  if (INTEGER.test(cell)) {
    const v = BigInt(cell.trim());
    return unit === undefined ? v : v * NS_PER[unit];
  }
  if (unit === undefined) return isoToNanos(cell);
  if (unit === 'ns') throw new CellProblem(`timestamp ${JSON.stringify(cell)} is not an integer number of nanoseconds`);
  try {
    const ns = parseDecimal(cell, SCALE_OF[unit]);
    if (parseDecimal(cell, SCALE_OF[unit] + 3) !== ns * 1000n)
      throw new CellProblem(`timestamp ${JSON.stringify(cell)} has digits below a nanosecond`);
    return ns;
  } catch (e) {
    if (e instanceof CellProblem) throw e;
    throw new CellProblem(`not a timestamp in ${unit}: ${JSON.stringify(cell)}`);
  }
}

/** How a price column is encoded. */
export type PriceEncoding =
  /** Decimal text (or a DOUBLE, read as its shortest decimal): exact, more decimals than the column keeps are refused. */
  | { readonly kind: 'decimal' }
  /** Integers in units of 10^-scale (Databento: 9). */
  | { readonly kind: 'fixed'; readonly scale: number }
  /**
   * Databento's: per value, an integer is 1e-9 units, anything else a decimal of the 1e-9 grid
   * (pretty_px), rounded to it — the 9th decimal then follows the DBN rule. UNDEF → NULL.
   */
  | { readonly kind: 'databento' };

/** A price cell → what the normalizer takes exactly: a FixedPoint, decimal text, or null. */
export function priceValue(cell: unknown, enc: PriceEncoding): FixedPoint | string | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'object' && cell !== null && 'scale' in cell) {
    // A Parquet DECIMAL, unscaled. Only Databento's prices take the DBN rule for a 9th decimal
    // (FixedPoint scale 9 is rounded); anyone else's digits are kept or the row refused.
    const fp = cell as FixedPoint;
    return enc.kind === 'databento' ? fp : formatDecimal(fp.value, fp.scale);
  }
  if (typeof cell === 'number' && !Number.isFinite(cell)) return null; // NaN: pandas' UNDEF price
  const text =
    typeof cell === 'string'
      ? cell.trim()
      : typeof cell === 'number'
        ? String(cell)
        : typeof cell === 'bigint'
          ? cell.toString()
          : undefined;
  if (text === undefined) throw new CellProblem(`cannot read a price from ${typeof cell}`);
  if (text === '' || text === 'NaN' || text === 'nan') return null;
  const integer = typeof cell === 'bigint' || (typeof cell === 'string' && INTEGER.test(text));
  switch (enc.kind) {
    case 'decimal':
      return text;
    case 'fixed': {
      if (!integer) throw new CellProblem(`price ${JSON.stringify(text)} is not an integer in units of 1e-${enc.scale}`);
      // As text: a fixed-point FixedPoint of scale 9 would take the DBN rounding rule.
      return formatDecimal(BigInt(text), enc.scale);
    }
    case 'databento': {
      if (integer) {
        const v = BigInt(text);
        return v === UNDEF_PRICE ? null : { value: v, scale: 9 };
      }
      try {
        return { value: parseDecimal(text, 9), scale: 9 };
      } catch {
        throw new CellProblem(`not a number: ${JSON.stringify(text)}`);
      }
    }
  }
}

/** An integer cell → text, number or bigint for the normalizer; empty → null. */
export function integerValue(cell: unknown): string | number | bigint | null {
  if (cell === null || cell === undefined) return null;
  if (typeof cell === 'string') {
    const t = cell.trim();
    return t === '' ? null : t;
  }
  if (typeof cell === 'number' || typeof cell === 'bigint') return cell;
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  throw new CellProblem(`cannot read an integer from ${typeof cell}`);
}

/** A text cell, as it is: an empty string stays one (a CSV's unquoted empty field arrives as null, csv-records.ts). */
export function textValue(cell: unknown): string | null {
  if (cell === null || cell === undefined) return null;
  const t = typeof cell === 'string' ? cell : typeof cell === 'number' || typeof cell === 'bigint' ? String(cell) : undefined;
  if (t === undefined) throw new CellProblem(`cannot read text from ${typeof cell}`);
  return t;
}
