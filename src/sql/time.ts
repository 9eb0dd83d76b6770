/**
 * Times in statements: how a timestamptz is read back exactly and how a caller's time argument
 * becomes bound microseconds. Shared by the query API, load plans, chunk operations and rollup
 * refreshes; each caller that has its own error vocabulary (the query API's QueryError) wraps it.
 */
import { ArgumentError } from '../errors.js';
import { TimestampError, toMicros } from '../values/time.js';

/** A Date, an ISO 8601 string (no zone = UTC) or epoch NANOseconds as bigint (the loaders' convention). */
export type TimeInput = Date | string | bigint;

/** SQL that selects a timestamptz expression as exact epoch microseconds (int8). */
export function usExpr(expr: string): string {
  return `(extract(epoch FROM ${expr}) * 1000000)::int8`;
}

/** The argument `name` in microseconds; a value that is no time is an ArgumentError naming it. */
export function timeArgMicros(name: string, value: TimeInput): bigint {
  try {
    return toMicros(value);
  } catch (err) {
    if (err instanceof TimestampError) throw new ArgumentError(`${name}: ${err.message}`);
    throw err;
  }
}

/** [minTime, maxTime] in microseconds, both inclusive; a reversed range is an ArgumentError. */
export function timeRangeArgMicros(minTime: TimeInput, maxTime: TimeInput): { minUs: bigint; maxUs: bigint } {
  const minUs = timeArgMicros('minTime', minTime);
  const maxUs = timeArgMicros('maxTime', maxTime);
  if (maxUs < minUs) throw new ArgumentError('maxTime is before minTime');
  return { minUs, maxUs };
}
