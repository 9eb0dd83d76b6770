/**
 * Time intervals of the schema: chunk sizes and policy ages. Defaults are DESIGN.md §2's; every
 * value is configuration. Values travel to the server as bound `interval` parameters, so an
 * interval string is parsed by PostgreSQL itself and can never inject SQL.
 */
import { ConfigError } from '../errors.js';

export type HypertableName = 'ohlcv_data' | 'trades_data' | 'tbbo_data' | 'statistics_data';

export interface PolicySettings {
  readonly chunkInterval: Readonly<Record<HypertableName, string>>;
  /** Compress chunks older than this; absent = never compress that table. */
  readonly compressAfter: Readonly<Partial<Record<HypertableName, string>>>;
  /** Drop chunks older than this; absent = keep forever. */
  readonly retainFor: Readonly<Partial<Record<HypertableName, string>>>;
  readonly hourlyRefresh: { readonly startOffset: string; readonly endOffset: string; readonly scheduleInterval: string };
}

export const DEFAULT_POLICIES: PolicySettings = {
  chunkInterval: { ohlcv_data: '1 day', trades_data: '1 hour', tbbo_data: '1 hour', statistics_data: '1 day' },
  // statistics_data: 7 days, like bars: statistics arrive daily and are read by day.
  compressAfter: { ohlcv_data: '7 days', trades_data: '1 day', tbbo_data: '3 days', statistics_data: '7 days' },
  retainFor: { ohlcv_data: '5 years', trades_data: '2 years', tbbo_data: '1 year' },
  hourlyRefresh: { startOffset: '1 month', endOffset: '1 hour', scheduleInterval: '1 hour' },
};

const INTERVAL_SHAPE = /^\s*\d+(\.\d+)?\s*(microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|months?|years?|s|m|h|d|w|y)\s*$/i;

export function resolvePolicies(overrides: DeepPartial<PolicySettings> = {}): PolicySettings {
  const merged: PolicySettings = {
    chunkInterval: { ...DEFAULT_POLICIES.chunkInterval, ...(overrides.chunkInterval ?? {}) } as PolicySettings['chunkInterval'],
    compressAfter: { ...DEFAULT_POLICIES.compressAfter, ...(overrides.compressAfter ?? {}) },
    retainFor: { ...DEFAULT_POLICIES.retainFor, ...(overrides.retainFor ?? {}) },
    hourlyRefresh: { ...DEFAULT_POLICIES.hourlyRefresh, ...(overrides.hourlyRefresh ?? {}) },
  };
  const check = (key: string, v: unknown) => {
    if (typeof v !== 'string' || !INTERVAL_SHAPE.test(v)) {
      throw new ConfigError(`"${key}" must be an interval such as '1 day' or '6 hours' (got ${JSON.stringify(v)})`);
    }
  };
  for (const [k, v] of Object.entries(merged.chunkInterval)) check(`chunkInterval.${k}`, v);
  for (const [k, v] of Object.entries(merged.compressAfter)) if (v !== undefined) check(`compressAfter.${k}`, v);
  for (const [k, v] of Object.entries(merged.retainFor)) if (v !== undefined) check(`retainFor.${k}`, v);
  for (const [k, v] of Object.entries(merged.hourlyRefresh)) check(`hourlyRefresh.${k}`, v);
  return merged;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };
export type PolicyOverrides = DeepPartial<PolicySettings>;
