import { TickvaultError } from '../errors.js';

/**
 * Stable codes for everything that can be wrong with a DBN byte stream. Callers branch on
 * `code`; the message is for humans and always names the byte offset.
 */
export type DbnErrorCode =
  | 'DBN_EMPTY' // 0 bytes of input (compressed or not)
  | 'DBN_BAD_MAGIC' // does not start with "DBN" (after zstd decompression, if any)
  | 'DBN_UNSUPPORTED_VERSION' // version byte not 1, 2 or 3 (0 = legacy DBZ)
  | 'DBN_TRUNCATED_METADATA' // stream ends inside the prelude or metadata
  | 'DBN_BAD_METADATA' // metadata fields contradict its length or each other
  | 'DBN_TRUNCATED_RECORD' // stream ends inside a record
  | 'DBN_BAD_LENGTH' // record length word 0, smaller than a header, or too small for its rtype
  | 'DBN_ZSTD'; // the zstd layer is corrupt or truncated

/**
 * A DBN stream is malformed. `byteOffset` counts bytes of the *decompressed* DBN stream
 * (prelude byte 0 = offset 0), because that is where records live; for DBN_ZSTD it is the
 * number of decompressed bytes produced before the failure.
 */
export class DbnFormatError extends TickvaultError {
  declare readonly code: DbnErrorCode;
  readonly byteOffset: number;
  constructor(code: DbnErrorCode, byteOffset: number, message: string, options?: { cause?: unknown }) {
    super(code, message.includes('byte offset') ? message : `${message} at byte offset ${byteOffset}`, options);
    this.byteOffset = byteOffset;
  }
}

export function truncatedRecord(byteOffset: number, needs: number, available: number): DbnFormatError {
  return new DbnFormatError(
    'DBN_TRUNCATED_RECORD',
    byteOffset,
    `truncated record at byte offset ${byteOffset}: needs ${needs} bytes, ${available} available`,
  );
}
