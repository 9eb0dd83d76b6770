/**
 * Typed errors of the COPY encoder. Each is a TickvaultError with a stable `code` so callers (the
 * loader's quarantine, the CLI) can branch on it without parsing messages.
 */
import { TickvaultError } from '../errors.js';

/** Stable error codes raised by `src/copy`. */
export type CopyErrorCode =
  /** A decimal string is not a number (syntax). */
  | 'DECIMAL_SYNTAX'
  /** A decimal value cannot be represented (exponent too large, NaN/Infinity, scale out of range). */
  | 'DECIMAL_RANGE'
  /** A cell's JS type does not match the column's representation (see src/schema/types.ts). */
  | 'COPY_TYPE'
  /** A cell has the right JS type but its value does not fit the column (range, precision, length, NUL byte). */
  | 'COPY_VALUE'
  /** A row has a different number of cells than the table has columns. */
  | 'COPY_ROW_SHAPE';

export class CopyError extends TickvaultError {
  declare readonly code: CopyErrorCode;
  constructor(code: CopyErrorCode, message: string) {
    super(code, message);
  }
}

/** A decimal text could not be parsed or represented at the requested scale. */
export class DecimalError extends CopyError {
  /** The offending input text (as given). */
  readonly input: string;
  constructor(code: 'DECIMAL_SYNTAX' | 'DECIMAL_RANGE', input: string, message: string) {
    super(code, message);
    this.input = input;
  }
}

/** A cell could not be encoded for its column. */
export class CopyEncodeError extends CopyError {
  /** 0-based column index within the row, when known. */
  column: number | undefined;
  /** 0-based index of the row in the encoded stream (header excluded), when known. */
  row: number | undefined;
  constructor(code: 'COPY_TYPE' | 'COPY_VALUE' | 'COPY_ROW_SHAPE', message: string, column?: number) {
    super(code, message);
    this.column = column;
    this.row = undefined;
  }
}
