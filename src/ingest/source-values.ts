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

/** A text cell; empty → null (a NOT NULL column then says so). */
export function textValue(cell: unknown): string | null {
  if (cell === null || cell === undefined) return null;
  const t = typeof cell === 'string' ? cell : typeof cell === 'number' || typeof cell === 'bigint' ? String(cell) : undefined;
  if (t === undefined) throw new CellProblem(`cannot read text from ${typeof cell}`);
  return t === '' ? null : t;
}
