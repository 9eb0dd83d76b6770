/**
 * Test-side decoder of PostgreSQL binary COPY, written independently of src/copy (plain
 * Buffer reads and bigint arithmetic, no shared code), used to check the encoder's output.
 * Values come back in the representation of src/schema/types.ts.
 */
import type { CellValue, ColumnKind } from '../../src/schema/types.js';

export interface DecodedNumeric {
  ndigits: number;
  weight: number;
  sign: number;
  dscale: number;
  digits: number[];
  /** value × 10^dscale */
  scaled: bigint;
}

/** Decodes numeric_send bytes; throws if the digits are not normalized or exceed dscale. */
export function decodeNumeric(b: Buffer): DecodedNumeric {
  const ndigits = b.readInt16BE(0);
  const weight = b.readInt16BE(2);
  const sign = b.readUInt16BE(4);
  const dscale = b.readInt16BE(6);
  if (b.length !== 8 + 2 * ndigits) throw new Error(`numeric length ${b.length} != 8 + 2*${ndigits}`);
  if (sign !== 0 && sign !== 0x4000) throw new Error(`bad numeric sign ${sign.toString(16)}`);
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = b.readInt16BE(8 + 2 * i);
    if (d < 0 || d > 9999) throw new Error(`numeric digit ${d} out of range`);
    digits.push(d);
  }
  if (ndigits > 0 && (digits[0] === 0 || digits[ndigits - 1] === 0)) throw new Error('numeric digits not normalized');
  if (ndigits === 0 && (weight !== 0 || sign !== 0)) throw new Error('zero must have weight 0 and positive sign');
  // value × 10^dscale = Σ d_i × 10^(4(weight − i) + dscale)
  let scaled = 0n;
  for (let i = 0; i < ndigits; i++) {
    const e = 4 * (weight - i) + dscale;
    if (e >= 0) {
      scaled += BigInt(digits[i]!) * 10n ** BigInt(e);
    } else {
      const div = 10n ** BigInt(-e);
      if (BigInt(digits[i]!) % div !== 0n) throw new Error('numeric has digits beyond dscale');
      scaled += BigInt(digits[i]!) / div;
    }
  }
  return { ndigits, weight, sign, dscale, digits, scaled: sign === 0x4000 ? -scaled : scaled };
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Decodes a whole COPY binary stream into raw field buffers (null for SQL NULL). */
export function decodeCopyRaw(b: Buffer): (Buffer | null)[][] {
  if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('bad COPY signature');
  if (b.readInt32BE(11) !== 0) throw new Error('flags must be 0');
  const ext = b.readInt32BE(15);
  let p = 19 + ext;
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const n = b.readInt16BE(p);
    p += 2;
    if (n === -1) break;
    const row: (Buffer | null)[] = [];
    for (let i = 0; i < n; i++) {
      const len = b.readInt32BE(p);
      p += 4;
      if (len === -1) {
        row.push(null);
      } else {
        row.push(b.subarray(p, p + len));
        p += len;
      }
    }
    rows.push(row);
  }
  if (p !== b.length) throw new Error(`${b.length - p} bytes after the trailer`);
  return rows;
}

const PG_EPOCH_US = 946684800000000n;
const PG_EPOCH_DAYS = 10957;

export function decodeField(kind: ColumnKind, f: Buffer | null): CellValue {
  if (f === null) return null;
  switch (kind) {
    case 'timestamptz':
      return f.readBigInt64BE(0) + PG_EPOCH_US;
    case 'int2':
      return f.readInt16BE(0);
    case 'int4':
      return f.readInt32BE(0);
    case 'int8':
      return f.readBigInt64BE(0);
    case 'numeric':
      return decodeNumeric(f).scaled;
    case 'varchar':
    case 'char':
    case 'text':
      return new TextDecoder('utf-8', { fatal: true }).decode(f);
    case 'bool':
      return f[0] === 1;
    case 'date':
      return f.readInt32BE(0) + PG_EPOCH_DAYS;
    case 'jsonb':
      if (f[0] !== 1) throw new Error('jsonb version must be 1');
      return new TextDecoder('utf-8', { fatal: true }).decode(f.subarray(1));
  }
}

export function decodeCopy(kinds: readonly ColumnKind[], b: Buffer): CellValue[][] {
  return decodeCopyRaw(b).map((row) => {
    if (row.length !== kinds.length) throw new Error(`row has ${row.length} fields, expected ${kinds.length}`);
    return row.map((f, i) => decodeField(kinds[i]!, f));
  });
}
