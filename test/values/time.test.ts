/**
 * Timestamp and date text is read exactly or refused with a reason: an impossible calendar date
 * or clock field is never rolled over into the next day, hour or minute (Date.parse would).
 */
import { describe, expect, it } from 'vitest';
import { TickvaultError } from '../../src/errors.js';
import { TimestampError, isoToMicros, microsToIso, toEpochDays, toMicros } from '../../src/values/time.js';

describe('timestamps from text', () => {
  it.each([
    ['2024-02-30T00:00:00Z', /day 30: 2024-02 has days 01-29/],
    ['2023-02-29T12:00:00Z', /day 29: 2023-02 has days 01-28/],
    ['1900-02-29', /day 29: 1900-02 has days 01-28/],
    ['2024-04-31 10:00', /day 31: 2024-04 has days 01-30/],
    ['2024-13-01T00:00:00Z', /month 13: months run 01-12/],
    ['2024-00-10', /month 0/],
    ['2024-01-00T00:00:00Z', /day 0:/],
    ['2024-01-01T25:00:00Z', /hour 25/],
    ['2024-01-01T24:00:01Z', /hour 24/],
    ['2024-01-01T10:60:00Z', /minute 60/],
    ['2024-01-01T10:00:60Z', /second 60: .*leap seconds/],
    ['2024-01-01T10:00:00+16:00', /zone offset \+16:00/],
    ['2024-01-01T10:00:00+05:75', /zone offset/],
  ])('%s is refused: %s', (text, why) => {
    const err = (() => {
      try {
        isoToMicros(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TimestampError);
    expect(err).toBeInstanceOf(TickvaultError);
    expect((err as TimestampError).code).toBe('TIMESTAMP');
    expect((err as Error).message).toMatch(why);
  });

  it.each([
    ['2024-02-29T23:59:59.999999999Z', '2024-02-29T23:59:59.999999Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000000Z'],
    ['2024-12-31 23:59:59+01:00', '2024-12-31T22:59:59.000000Z'],
    ['2024-03-01T24:00:00Z', '2024-03-02T00:00:00.000000Z'],
    ['2024-06-30T10:15-0530', '2024-06-30T15:45:00.000000Z'],
  ])('%s is %s', (text, iso) => {
    expect(microsToIso(isoToMicros(text))).toBe(iso);
  });

  it('dates: impossible ones refused, real ones read', () => {
    expect(() => toEpochDays('2024-02-30')).toThrow(/day 30: 2024-02 has days 01-29/);
    expect(toEpochDays('2024-02-29')).toBe(19782);
    expect(() => toMicros(1_700_000_000)).toThrow(TimestampError);
  });
});
