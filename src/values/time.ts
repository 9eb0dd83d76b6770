/**
 * Timestamps as bigint microseconds since the Unix epoch: TIMESTAMPTZ's own resolution.
 * Nanosecond inputs (DBN) are truncated toward the past (floor), explicitly — PostgreSQL's text
 * input would instead round half to even, which can move a trade into the next microsecond.
 */
import { TickvaultError } from '../errors.js';

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A value cannot be read as a timestamp or date (the message says which and why). */
export class TimestampError extends TickvaultError {
  constructor(message: string) {
    super('TIMESTAMP', message);
  }
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * 'YYYY-MM-DD' must name a day of the calendar. JavaScript's Date.parse rolls impossible dates
 * over ('2024-02-30' becomes 2024-03-01), which would store a record under another day.
 */
function checkCalendarDate(text: string, date: string): void {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = m === 2 && leap ? 29 : DAYS_IN_MONTH[m - 1];
  if (days === undefined) throw new TimestampError(`"${text}" has month ${m}: months run 01-12`);
  if (d < 1 || d > days) throw new TimestampError(`"${text}" has day ${d}: ${date.slice(0, 7)} has days 01-${days}`);
}

/** Clock fields in range (the same rule as the date: never rolled over into the next unit). */
function checkClock(text: string, hh: string, mm: string, ss: string, frac: string, zone: string): void {
  const h = Number(hh);
  const midnight = h === 24 && mm === '00' && ss === '00' && /^0*$/.test(frac);
  if (h > 23 && !midnight) throw new TimestampError(`"${text}" has hour ${hh}: hours run 00-23 (24:00:00 means the end of the day)`);
  if (Number(mm) > 59) throw new TimestampError(`"${text}" has minute ${mm}: minutes run 00-59`);
  if (Number(ss) > 59) throw new TimestampError(`"${text}" has second ${ss}: seconds run 00-59 (leap seconds are not representable)`);
  const z = /^[+-](\d{2}):?(\d{2})?$/.exec(zone);
  if (z && (Number(z[1]) > 15 || Number(z[2] ?? 0) > 59))
    throw new TimestampError(`"${text}" has zone offset ${zone}: offsets run -15:59 to +15:59`);
}

export function nanosToMicros(ns: bigint): bigint {
  // BigInt division truncates toward zero; floor keeps pre-1970 values consistent.
  const q = ns / 1000n;
  return ns < 0n && q * 1000n !== ns ? q - 1n : q;
}

export function dateToMicros(d: Date): bigint {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new TimestampError('invalid Date');
  return BigInt(ms) * 1000n;
}

/** Parses ISO 8601 (date, time, optional fraction up to ns, optional zone; no zone = UTC). */
export function isoToMicros(text: string): bigint {
  const m = ISO.exec(text.trim());
  if (!m) {
    const dateOnly = /^(\d{4}-\d{2}-\d{2})$/.exec(text.trim());
    if (dateOnly) {
      checkCalendarDate(text, dateOnly[1]!);
      return BigInt(Date.parse(`${dateOnly[1]}T00:00:00Z`)) * 1000n;
    }
    throw new TimestampError(`"${text}" is not an ISO 8601 timestamp`);
  }
  const [, date, hh, mm, ss = '00', frac = '', zone = 'Z'] = m as unknown as [string, string, string, string, string?, string?, string?];
  checkCalendarDate(text, date);
  checkClock(text, hh, mm, ss, frac, zone);
  const tz =
    zone.toUpperCase() === 'Z'
      ? 'Z'
      : zone.length === 3
        ? `${zone}:00`
        : zone.includes(':')
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}${tz}`);
  if (Number.isNaN(ms)) throw new TimestampError(`"${text}" is not a valid timestamp`);
  const fracMicros = BigInt(`${frac}000000`.slice(0, 6));
  return BigInt(ms) * 1000n + fracMicros;
}

export function toMicros(value: unknown): bigint {
  if (value instanceof Date) return dateToMicros(value);
  if (typeof value === 'bigint') return nanosToMicros(value);
  if (typeof value === 'string') return isoToMicros(value);
  if (typeof value === 'number') {
    throw new TimestampError(
      'a timestamp given as a number is ambiguous (seconds? ms? ns?): pass a Date, an ISO string or epoch nanoseconds as bigint',
    );
  }
  throw new TimestampError(`cannot read a timestamp from ${typeof value}`);
}

/** ISO 8601 with microseconds, UTC: what the full-precision read path returns. */
export function microsToIso(us: bigint): string {
  const ms = us >= 0n ? us / 1000n : -((-us + 999n) / 1000n);
  const rest = us - ms * 1000n;
  const base = new Date(Number(ms)).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  return `${base.slice(0, 23)}${rest.toString().padStart(3, '0')}Z`;
}

export function microsToDate(us: bigint): Date {
  return new Date(Number(us >= 0n ? us / 1000n : -((-us + 999n) / 1000n)));
}

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 from a Date or 'YYYY-MM-DD'. */
export function toEpochDays(value: unknown): number {
  if (value instanceof Date) return Math.floor(value.getTime() / MS_PER_DAY);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    checkCalendarDate(value, value);
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isNaN(ms)) return ms / MS_PER_DAY;
  }
  throw new TimestampError(`cannot read a date from ${JSON.stringify(String(value))}: expected a Date or 'YYYY-MM-DD'`);
}

export function epochDaysToIso(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}
