/**
 * Exact decimal arithmetic on PostgreSQL's NUMERIC text ("4512.25000000"), for the few values a
 * query computes in JS instead of SQL (the as-of join's mid prices). Digits go through BigInt,
 * never through a float, so a mid of two DECIMAL(20,8) prices is exact.
 */
import { QueryError } from '../errors.js';

const NUMERIC_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/** NUMERIC text → { value × 10^scale, scale } (scale = the decimals written). */
function parse(text: string): { v: bigint; scale: number } {
  const m = NUMERIC_TEXT.exec(text);
  if (!m) throw new QueryError(`not a NUMERIC value: ${JSON.stringify(text)}`);
  const frac = m[3] ?? '';
  const v = BigInt(m[2]! + frac);
  return { v: m[1] ? -v : v, scale: frac.length };
}

/** value × 10^-scale as NUMERIC text with exactly `scale` decimals. */
function format(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ''}`;
}

/**
 * (bid + ask) / 2, exactly, or null when a side is missing. The result keeps the inputs' scale
 * (the larger of the two), with one more decimal only when the half needs it:
 * ("4512.25000000", "4512.50000000") → "4512.37500000"; ("0.00000001", "0.00000002") → "0.000000015".
 */
export function midPrice(bid: string | null, ask: string | null): string | null {
  if (bid === null || ask === null) return null;
  const b = parse(bid);
  const a = parse(ask);
  const scale = Math.max(a.scale, b.scale);
  const sum = b.v * 10n ** BigInt(scale - b.scale) + a.v * 10n ** BigInt(scale - a.scale);
  if (sum % 2n === 0n) return format(sum / 2n, scale);
  return format(sum * 5n, scale + 1);
}
