/**
 * Exact decimal text → unscaled integer. PostgreSQL prints a NUMERIC as text ("-5100.25000000");
 * Parquet and Arrow store a DECIMAL(p, s) as the integer value × 10^s. The conversion works on
 * the digits, never on a binary float, so every stored value comes out exactly.
 */
import { ExportError } from '../errors.js';

const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

/** "5100.25" with scale 8 → 510025000000n. More fraction digits than `scale` is an ExportError (never rounded). */
export function decimalToUnscaled(text: string, scale: number): bigint {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) throw new ExportError(`not a decimal number: ${JSON.stringify(text)}`);
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    // Trailing zeros beyond the scale are no precision ("1.500000000" fits 8 decimals).
    const kept = frac.replace(/0+$/, '');
    if (kept.length > scale) throw new ExportError(`${text} has more than ${scale} decimals`);
    frac = kept;
  }
  const digits = BigInt(m[2]! + frac.padEnd(scale, '0'));
  return m[1] === '-' ? -digits : digits;
}

/** Bytes of the big-endian two's complement FIXED_LEN_BYTE_ARRAY that holds `precision` digits (Parquet spec). */
export function decimalByteLength(precision: number): number {
  let bytes = 1;
  while (10n ** BigInt(precision) > 2n ** BigInt(8 * bytes - 1)) bytes += 1;
  return bytes;
}
