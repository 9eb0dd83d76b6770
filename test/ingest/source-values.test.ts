import { describe, expect, it } from 'vitest';
import { CellProblem, isoToNanos, timestampNanos } from '../../src/ingest/source-values.js';

/** A deterministic generator (the test controls its randomness). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

describe('ISO 8601 timestamps → epoch ns', () => {
  it('agrees with Date on 20,000 generated instants: every separator, fraction length and zone offset', () => {
    const rnd = lcg(17);
    const lo = Date.UTC(1000, 0, 1);
    const hi = Date.UTC(9999, 11, 31);
    for (let k = 0; k < 20_000; k++) {
      const ms = lo + Math.floor(rnd() * (hi - lo));
      const subMs = Math.floor(rnd() * 1_000_000); // ns below the millisecond
      const fracDigits = Math.floor(rnd() * 10); // 0..9
      const offsetMin = [0, 0, 60, -300, 330, -570, 845][Math.floor(rnd() * 7)]!;
      // The wall time at that offset, written the way the zone says.
      const local = new Date(ms + offsetMin * 60_000);
      const msInSecond = ((ms % 1000) + 1000) % 1000; // before 1970 too
      const nsInSecond = msInSecond * 1_000_000 + subMs;
      const frac = pad(nsInSecond, 9).slice(0, fracDigits);
      const zoneStyle = Math.floor(rnd() * 4);
      const sign = offsetMin < 0 ? '-' : '+';
      const oh = pad(Math.floor(Math.abs(offsetMin) / 60), 2);
      const om = pad(Math.abs(offsetMin) % 60, 2);
      const zone =
        offsetMin === 0 && zoneStyle === 0
          ? ''
          : offsetMin === 0 && zoneStyle === 1
            ? 'Z'
            : zoneStyle === 2
              ? `${sign}${oh}${om}`
              : `${sign}${oh}:${om}`;
      const text =
        `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1, 2)}-${pad(local.getUTCDate(), 2)}${rnd() < 0.5 ? 'T' : ' '}` +
        `${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${pad(local.getUTCSeconds(), 2)}` +
        `${fracDigits > 0 ? (rnd() < 0.9 ? '.' : ',') + frac : ''}${zone}`;
      const wholeSecondNs = BigInt(ms - msInSecond) * 1_000_000n;
      const expected = wholeSecondNs + BigInt(frac.padEnd(9, '0') || '0');
      expect(isoToNanos(text), text).toBe(expected);
    }
  });

  it('reads the edges: leap days, the last second of a day, surrounding space, lower-case z, an hour-only offset', () => {
    expect(isoToNanos('2024-02-29T23:59:59.999999999Z')).toBe(
      (BigInt(Date.UTC(2024, 1, 29, 23, 59, 59)) * 1_000_000_000n) / 1000n + 999_999_999n,
    );
    expect(isoToNanos('2000-02-29 00:00:00')).toBe(BigInt(Date.UTC(2000, 1, 29)) * 1_000_000n);
    expect(isoToNanos('  1970-01-01T00:00:00.5z ')).toBe(500_000_000n);
    expect(isoToNanos('1970-01-01T01:00:00+01')).toBe(0n);
    expect(isoToNanos('1969-12-31T23:59:59.000000001Z')).toBe(-999_999_999n);
  });

  it('refuses what is not a valid date-time, naming the text', () => {
    for (const bad of [
      '2023-02-29T00:00:00Z', // not a leap year
      '1900-02-29T00:00:00Z', // century, not a leap year
      '2024-04-31T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-01-01T23:59:60Z',
      '2024-01-01T00:00:00.Z',
      '2024-01-01T00:00:00.1234567890Z', // 10 fraction digits
      '2024-01-01T00:00:00Zjunk',
      '2024-01-01T00:00:00+05:',
      '2024-01-01X00:00:00',
      '2024-1-01T00:00:00',
      'yesterday',
    ]) {
      expect(() => isoToNanos(bad), bad).toThrow(CellProblem);
      expect(() => isoToNanos(bad), bad).toThrow(bad);
    }
  });

  it('a timestamp cell with no unit: integer ns or ISO text', () => {
    expect(timestampNanos('1700000000123456789', undefined)).toBe(1700000000123456789n);
    expect(timestampNanos('2023-11-14T22:13:20.123456789Z', undefined)).toBe(1700000000123456789n);
    expect(timestampNanos('', undefined)).toBeNull();
  });
});
