/**
 * Splitting a bigint into two 32-bit halves without Number(bigint) or bigint arithmetic:
 * storing into a BigInt64Array and reading the same 8 bytes through 32-bit views costs a
 * few ns, several times less than Number(v) or `v - c` (which allocates a new bigint).
 * Callers must first check BigInt.asIntN(64, v) === v: the store silently wraps modulo 2^64.
 */

const cell = new BigInt64Array(1);
/** The stored value, as int64. */
export const I64: BigInt64Array = cell;
/** Signed 32-bit view of the same bytes; I32[HI] is the high half. */
export const I32: Int32Array = new Int32Array(cell.buffer);
/** Unsigned 32-bit view of the same bytes; U32[LO] is the low half. */
export const U32: Uint32Array = new Uint32Array(cell.buffer);

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Index of the high 32 bits in I32/U32 on this platform. */
export const HI: number = littleEndian ? 1 : 0;
/** Index of the low 32 bits in I32/U32 on this platform. */
export const LO: number = littleEndian ? 0 : 1;
