/**
 * Time intervals of the schema: chunk sizes and policy ages. Every value is configuration. Values
 * travel to the server as bound `interval` parameters, so an interval string is parsed by
 * PostgreSQL itself and can never inject SQL.
 *
 * Retention is off by default (every table keeps its history): a default that deletes rows is a
 * default that deletes a backfill the day it is loaded (issue 13). DESIGN.md §2's windows (bars 5
 * years, trades 2 years, quotes 1 year) are what a user turns on with `--retention`; once a window
 * is set, a load past it is refused (load/retention-guard.ts) and `maintain` asks before it drops
 * rows of completed loads.
 */
import { ConfigError } from '../errors.js';

export type HypertableName = 'ohlcv_data' | 'trades_data' | 'tbbo_data' | 'statistics_data';
export const HYPERTABLE_NAMES: readonly HypertableName[] = ['ohlcv_data', 'trades_data', 'tbbo_data', 'statistics_data'];

/** An age interval, or null: never (keep forever / never compress). */
export type PolicyAge = string | null;

export interface PolicySettings {
  readonly chunkInterval: Readonly<Record<HypertableName, string>>;
  /** Compress chunks older than this; null = never compress that table. */
  readonly compressAfter: Readonly<Record<HypertableName, PolicyAge>>;
  /** Drop chunks older than this; null = keep forever. */
  readonly retainFor: Readonly<Record<HypertableName, PolicyAge>>;
  readonly hourlyRefresh: { readonly startOffset: string; readonly endOffset: string; readonly scheduleInterval: string };
}

export const DEFAULT_POLICIES: PolicySettings = {
  chunkInterval: { ohlcv_data: '1 day', trades_data: '1 hour', tbbo_data: '1 hour', statistics_data: '1 day' },
  // statistics_data: 7 days, like bars: statistics arrive daily and are read by day.
  compressAfter: { ohlcv_data: '7 days', trades_data: '1 day', tbbo_data: '3 days', statistics_data: '7 days' },
  // No default deletes data: see the header.
  retainFor: { ohlcv_data: null, trades_data: null, tbbo_data: null, statistics_data: null },
  hourlyRefresh: { startOffset: '1 month', endOffset: '1 hour', scheduleInterval: '1 hour' },
};

const INTERVAL_SHAPE =
  /^\s*\d+(\.\d+)?\s*(microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?|months?|years?|s|m|h|d|w|y)\s*$/i;

/** 'none' (any case), 'never', 'off' or null: no policy. */
export function isNone(v: unknown): boolean {
  return v === null || (typeof v === 'string' && /^\s*(none|never|off)\s*$/i.test(v));
}

/** Checks an interval the user typed; `where` names the flag or key for the message. */
export function checkInterval(where: string, v: unknown): string {
  if (typeof v !== 'string' || !INTERVAL_SHAPE.test(v)) {
    throw new ConfigError(`${where} must be an interval such as '1 day', '6 hours', '7d' or '3y' (got ${JSON.stringify(v)})`);
  }
  return v.trim();
}

/** An age policy value: an interval, or none. */
export function checkAge(where: string, v: unknown): PolicyAge {
  return isNone(v) ? null : checkInterval(`${where} (or none)`, v);
}

function checkTables(key: string, o: object): void {
  for (const k of Object.keys(o)) {
    if (!HYPERTABLE_NAMES.includes(k as HypertableName))
      throw new ConfigError(`${key}: unknown table "${k}"; expected one of ${HYPERTABLE_NAMES.join(', ')}`);
  }
}

export function resolvePolicies(overrides: PolicyOverrides = {}): PolicySettings {
  for (const key of ['chunkInterval', 'compressAfter', 'retainFor'] as const) checkTables(key, overrides[key] ?? {});
  const ages = (key: 'compressAfter' | 'retainFor') => {
    const out = { ...DEFAULT_POLICIES[key] } as Record<HypertableName, PolicyAge>;
    for (const [k, v] of Object.entries(overrides[key] ?? {})) if (v !== undefined) out[k as HypertableName] = checkAge(`${key}.${k}`, v);
    return out;
  };
  const chunkInterval = { ...DEFAULT_POLICIES.chunkInterval, ...(overrides.chunkInterval ?? {}) } as Record<HypertableName, string>;
  for (const [k, v] of Object.entries(chunkInterval)) chunkInterval[k as HypertableName] = checkInterval(`chunkInterval.${k}`, v);
  const hourlyRefresh = { ...DEFAULT_POLICIES.hourlyRefresh, ...(overrides.hourlyRefresh ?? {}) };
  for (const [k, v] of Object.entries(hourlyRefresh)) checkInterval(`hourlyRefresh.${k}`, v);
  return { chunkInterval, compressAfter: ages('compressAfter'), retainFor: ages('retainFor'), hourlyRefresh };
}

export interface PolicyOverrides {
  readonly chunkInterval?: Partial<Record<HypertableName, string>>;
  /** An interval, or null / 'none' for never. */
  readonly compressAfter?: Partial<Record<HypertableName, string | null>>;
  /** An interval, or null / 'none' for keep forever. */
  readonly retainFor?: Partial<Record<HypertableName, string | null>>;
  readonly hourlyRefresh?: Partial<PolicySettings['hourlyRefresh']>;
}

/**
 * `table=value` pairs of a CLI flag (`--retention trades_data=none tbbo_data=3y`; a pair may also
 * hold several comma-separated ones). `age`: the value may be none.
 */
export function parsePolicyPairs(flag: string, pairs: readonly string[], age: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const p of pairs.flatMap((x) => x.split(','))) {
    if (p.trim() === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${flag} expects table=${age ? 'interval|none' : 'interval'}, got "${p}"`);
    const table = p.slice(0, eq).trim();
    if (!HYPERTABLE_NAMES.includes(table as HypertableName))
      throw new ConfigError(`${flag}: unknown table "${table}"; expected one of ${HYPERTABLE_NAMES.join(', ')}`);
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/^'(.*)'$/, '$1');
    out[table] = age ? checkAge(`${flag} ${table}`, value) : checkInterval(`${flag} ${table}`, value);
  }
  return out;
}
