/**
 * PostgreSQL's value limits and epochs for the types the COPY encoders write, defined once for the
 * whole copy/ room. The encoders test ranges with cheaper equivalent expressions ((n | 0) === n for
 * INTEGER, BigInt.asIntN for BIGINT) on the hot path; these constants are the ranges those
 * expressions stand for, and what a column-fit rule compares against.
 */

// The integer ranges are column rules: one definition, in schema/column-fit.ts.
export { INT2_MIN, INT2_MAX, INT4_MIN, INT4_MAX, INT8_MIN, INT8_MAX } from '../schema/column-fit.js';

/** Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's timestamp epoch). */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n;
/** Days between 1970-01-01 and 2000-01-01 (PostgreSQL's date epoch). */
export const PG_EPOCH_OFFSET_DAYS = 10_957;

/** PostgreSQL's valid timestamp range in µs since 2000-01-01: [PG_MIN_TIMESTAMP, PG_END_TIMESTAMP). */
export const PG_MIN_TIMESTAMP = -211_813_488_000_000_000n; // 4714-11-24 00:00:00 BC
export const PG_END_TIMESTAMP = 9_223_371_331_200_000_000n; // 294277-01-01 00:00:00
