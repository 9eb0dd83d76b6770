/** Shared by the writer tests: the stream framing as hex, one field's bytes, a caught encode error. */
import { expect } from 'vitest';
import { BinaryCopyWriter } from '../../src/copy/index.js';
import { CopyEncodeError } from '../../src/copy/errors.js';

export const HEADER_HEX = '5047434f50590aff0d0a00' + '00000000' + '00000000';
export const TRAILER_HEX = 'ffff';

/** Hex of one single-field row (length + payload), as written by `write`. */
export function fieldHex(write: (w: BinaryCopyWriter) => void): string {
  const w = new BinaryCopyWriter();
  w.beginRow(1);
  write(w);
  const hex = w.finish().toString('hex');
  expect(hex.startsWith(`${HEADER_HEX}0001`)).toBe(true);
  expect(hex.endsWith(TRAILER_HEX)).toBe(true);
  return hex.slice(HEADER_HEX.length + 4, -TRAILER_HEX.length);
}

export function catchError(f: () => void): CopyEncodeError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CopyEncodeError);
    return err as CopyEncodeError;
  }
  throw new Error('expected a CopyEncodeError');
}
