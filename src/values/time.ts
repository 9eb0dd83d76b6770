/**
 * Timestamps as bigint microseconds since the Unix epoch: TIMESTAMPTZ's own resolution.
 * Nanosecond inputs (DBN) are truncated toward the past (floor), explicitly — PostgreSQL's text
 * input would instead round half to even, which can move a trade into the next microsecond.
 */
const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

export class TimestampError extends Error {}

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
    if (dateOnly) return BigInt(Date.parse(`${dateOnly[1]}T00:00:00Z`)) * 1000n;
    throw new TimestampError(`"${text}" is not an ISO 8601 timestamp`);
  }
  const [, date, hh, mm, ss = '00', frac = '', zone = 'Z'] = m;
  const tz = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}${tz}`);
  if (Number.isNaN(ms)) throw new TimestampError(`"${text}" is not a valid timestamp`);
  const fracMicros = BigInt((frac + '000000').slice(0, 6));
  return BigInt(ms) * 1000n + fracMicros;
}

export function toMicros(value: unknown): bigint {
  if (value instanceof Date) return dateToMicros(value);
  if (typeof value === 'bigint') return nanosToMicros(value);
  if (typeof value === 'string') return isoToMicros(value);
  if (typeof value === 'number') {
    throw new TimestampError('a timestamp given as a number is ambiguous (seconds? ms? ns?): pass a Date, an ISO string or epoch nanoseconds as bigint');
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
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (!Number.isNaN(ms)) return ms / MS_PER_DAY;
  }
  throw new TimestampError(`cannot read a date from ${JSON.stringify(String(value))}: expected a Date or 'YYYY-MM-DD'`);
}

export function epochDaysToIso(days: number): string {
  return new Date(days * MS_PER_DAY).toISOString().slice(0, 10);
}
