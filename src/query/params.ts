/**
 * Argument handling shared by every query: times, intervals, symbols and limits are checked here,
 * once, and always travel to the server as bound parameters (`$n::timestamptz`, `$n::interval`).
 *
 * Time inputs follow the loaders' convention (src/load/loaders.ts): a Date, an ISO 8601 string
 * (up to nanoseconds; no zone = UTC) or epoch NANOseconds as bigint. They are truncated to
 * microseconds (TIMESTAMPTZ's resolution) and sent as ISO text with all six fraction digits, so a
 * bound never loses precision through a JS Date.
 */
import { QueryError } from '../errors.js';
import type { Queryable } from '../engine/types.js';
import { usExpr, type TimeInput } from '../sql/time.js';
import { TimestampError, microsToDate, microsToIso, toMicros } from '../values/time.js';

export { usExpr, type TimeInput };

/** A timestamp read back: the Date (millisecond precision) and the exact microseconds since the epoch. */
export interface Instant {
  readonly time: Date;
  /** Microseconds since 1970-01-01T00:00:00Z: TIMESTAMPTZ's full precision. */
  readonly timeUs: bigint;
}

export function micros(name: string, value: TimeInput): bigint {
  try {
    return toMicros(value);
  } catch (err) {
    if (err instanceof TimestampError) throw new QueryError(`${name}: ${err.message}`);
    throw err;
  }
}

/** The bound form of a time: ISO text with microseconds, cast to timestamptz in the SQL. */
export function timeParam(us: bigint): string {
  return microsToIso(us);
}

export function instant(us: string | bigint): Instant {
  const v = typeof us === 'bigint' ? us : BigInt(us);
  return { time: microsToDate(v), timeUs: v };
}

export function range(start: TimeInput, end: TimeInput): { startUs: bigint; endUs: bigint } {
  const startUs = micros('start', start);
  const endUs = micros('end', end);
  if (endUs < startUs) throw new QueryError(`end (${microsToIso(endUs)}) is before start (${microsToIso(startUs)})`);
  return { startUs, endUs };
}

export function symbolParam(symbol: string): string {
  if (typeof symbol !== 'string' || symbol.length === 0) throw new QueryError('symbol must be a non-empty string');
  if (symbol.length > 50) throw new QueryError(`symbol "${symbol.slice(0, 20)}…" is longer than 50 characters (VARCHAR(50))`);
  return symbol;
}

/**
 * A venue filter: undefined = every venue; else a DBN publisher_id (0 = rows stored without one).
 * Returned as a bound parameter; the SQL around it is a constant.
 */
export function publisherParam(v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 0 || v > 65535)
    throw new QueryError(`publisherId must be a DBN publisher id, an integer 0..65535 (got ${v})`);
  return v;
}

export function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new QueryError(`${name} must be a positive integer (got ${v})`);
  return v;
}

/**
 * An interval as PostgreSQL reads it, measured. `months` is non-zero for calendar intervals
 * ('1 month', '1 year'); `us` is the fixed part (days count as 24 h, as time_bucket does in UTC).
 */
export interface IntervalInfo {
  readonly text: string;
  readonly months: number;
  readonly us: bigint;
}

// One or more "<number> <unit>" parts, or a PostgreSQL time literal such as '01:00:00'. Anything
// else is refused before it reaches the server; the server then parses it as a bound ::interval.
const INTERVAL_PART = String.raw`\d+(?:\.\d+)?\s*(?:microseconds?|us|milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|months?|mons?|years?|y)`;
const INTERVAL_TEXT = new RegExp(
  String.raw`^\s*(?:${INTERVAL_PART}(?:\s+${INTERVAL_PART})*|\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*$`,
  'i',
);

export async function measureInterval(db: Queryable, name: string, text: string): Promise<IntervalInfo> {
  if (typeof text !== 'string' || !INTERVAL_TEXT.test(text)) {
    throw new QueryError(
      `${name} must be an interval such as '1 minute', '15 minutes', '1 hour', '1 day' or '1 month' (got ${JSON.stringify(text)})`,
    );
  }
  let row: { months: number; us: string };
  try {
    const res = await db.query<{ months: number; us: string }>(
      `SELECT (extract(year FROM $1::interval) * 12 + extract(month FROM $1::interval))::int AS months,
              ((extract(epoch FROM $1::interval) - (extract(year FROM $1::interval) * 12 + extract(month FROM $1::interval)) * 2592000) * 1000000)::int8 AS us`,
      [text],
    );
    row = res.rows[0]!;
  } catch (err) {
    throw new QueryError(`${name}: PostgreSQL does not read ${JSON.stringify(text)} as an interval`, { cause: err });
  }
  const info: IntervalInfo = { text, months: Number(row.months), us: BigInt(row.us) };
  if (info.months < 0 || info.us < 0n || (info.months === 0 && info.us === 0n)) {
    throw new QueryError(`${name} must be positive (got ${JSON.stringify(text)})`);
  }
  if (info.months > 0 && info.us !== 0n) {
    throw new QueryError(`${name}: a calendar interval cannot mix months/years with days or time (got ${JSON.stringify(text)})`);
  }
  return info;
}
