/**
 * Where the data lives. With a PostgreSQL URL tickvault uses the server engine; without one it
 * runs embedded (PGlite + TimescaleDB) with a data directory, so a newcomer needs no setup.
 *
 * Precedence (highest first): explicit options in code, TICKVAULT_DATABASE_URL, DATABASE_URL,
 * TICKVAULT_DATA_DIR, the default directory ./.tickvault/data.
 */
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { splitHosts, type ReadYourWrites } from './topology.js';

export interface PoolSettings {
  /** Connections kept open (idle ones beyond this are closed after `idleTimeoutSeconds`). */
  readonly poolSize: number;
  /** Extra connections allowed under load, on top of poolSize. */
  readonly maxOverflow: number;
  /** Seconds to wait for a free connection before failing with a clear error. */
  readonly poolTimeout: number;
  /** Maximum age of a connection in seconds (0 = unlimited); older ones are replaced. */
  readonly poolRecycle: number;
  /** Validate a connection with a round trip before handing it out. */
  readonly poolPrePing: boolean;
  /** Log SQL statements (never their parameter values). */
  readonly echo: boolean;
  /** Seconds an overflow connection may stay idle before it is closed. */
  readonly idleTimeoutSeconds: number;
  /**
   * Seconds a load keeps retrying a lost server (connection refused, reset, restart) before it
   * gives up; 0 = fail at the first transient error.
   */
  readonly retryWindow: number;
}

export const DEFAULT_POOL: PoolSettings = {
  poolSize: 5,
  maxOverflow: 10,
  poolTimeout: 30,
  poolRecycle: 3600,
  poolPrePing: true,
  echo: false,
  idleTimeoutSeconds: 10,
  retryWindow: 60,
};

export type DatabaseTarget = { readonly kind: 'server'; readonly url: string } | { readonly kind: 'embedded'; readonly dataDir: string };

export interface ConnectionOptions {
  /** postgres:// URL (server) or memory:// / a directory path (embedded). */
  readonly databaseUrl?: string;
  /** Embedded data directory; ignored when a server URL is set. */
  readonly dataDir?: string;
  readonly pool?: Partial<PoolSettings>;
  /** Where a server engine's log lines go (idle-connection errors, echo, skipped replicas); default: nowhere. */
  readonly log?: (line: string) => void;
  /**
   * Extra hosts (replicas or standbys) beside the database URL's; default TICKVAULT_REPLICA_URLS,
   * then "replicas.urls" in the config file. Server engine only.
   */
  readonly replicaUrls?: readonly string[];
  /** Replicas further behind than this are skipped for reads: seconds or '5s' / '500ms' (default 5 s). */
  readonly maxReplicaLag?: number | string;
  /** How reads that must see earlier writes are served (default 'off'; see config/topology.ts). */
  readonly readYourWrites?: ReadYourWrites;
}

export const DEFAULT_DATA_DIR = path.join('.tickvault', 'data');

export function resolveTarget(options: ConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  return resolveTargetWithOrigin(options, env).target;
}

/** Where the target setting came from: the option in code / on the command line, a variable, or the default. */
export type TargetOrigin = 'option' | 'TICKVAULT_DATABASE_URL' | 'DATABASE_URL' | 'TICKVAULT_DATA_DIR' | 'default';

export function resolveTargetWithOrigin(
  options: ConnectionOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): { target: DatabaseTarget; origin: TargetOrigin } {
  const urls: [string | undefined, TargetOrigin][] = [
    [options.databaseUrl, 'option'],
    [nonEmpty(env.TICKVAULT_DATABASE_URL), 'TICKVAULT_DATABASE_URL'],
    [nonEmpty(env.DATABASE_URL), 'DATABASE_URL'],
  ];
  for (const [url, origin] of urls) if (url !== undefined) return { target: targetFromUrl(url), origin };
  const dirs: [string | undefined, TargetOrigin][] = [
    [options.dataDir, 'option'],
    [nonEmpty(env.TICKVAULT_DATA_DIR), 'TICKVAULT_DATA_DIR'],
  ];
  for (const [dir, origin] of dirs) if (dir !== undefined) return { target: { kind: 'embedded', dataDir: dir }, origin };
  return { target: { kind: 'embedded', dataDir: DEFAULT_DATA_DIR }, origin: 'default' };
}

function targetFromUrl(url: string): DatabaseTarget {
  if (url.startsWith('memory://')) return { kind: 'embedded', dataDir: 'memory://' };
  if (url.startsWith('pglite://')) return { kind: 'embedded', dataDir: url.slice('pglite://'.length) || DEFAULT_DATA_DIR };
  if (url.startsWith('file://')) return { kind: 'embedded', dataDir: url.slice('file://'.length) };
  // A multi-host URL (h1:p1,h2:p2) is valid when each of its hosts is.
  for (const single of splitHosts(url)) checkServerUrl(single);
  return { kind: 'server', url };
}

/** Throws a ConfigError unless `url` is a single-host postgres:// URL. */
export function checkServerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      'the database URL is not a valid URL; expected postgres://user@host:port/database (or memory:// for an in-memory embedded database)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(`the database URL has scheme "${parsed.protocol}"; expected postgres:// or postgresql://`);
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) {
    throw new ConfigError('the database URL has no host; expected postgres://user@host:port/database');
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function resolvePool(overrides: Partial<PoolSettings> = {}): PoolSettings {
  const merged = { ...DEFAULT_POOL, ...overrides };
  const positiveInt = (key: keyof PoolSettings, min: number) => {
    const v = merged[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new ConfigError(`pool setting "${key}" must be an integer >= ${min} (got ${String(v)})`);
    }
  };
  positiveInt('poolSize', 1);
  positiveInt('maxOverflow', 0);
  positiveInt('idleTimeoutSeconds', 0);
  for (const key of ['poolTimeout', 'poolRecycle', 'retryWindow'] as const) {
    const v = merged[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`pool setting "${key}" must be a number of seconds >= 0 (got ${String(v)})`);
    }
  }
  // node-postgres reads a connection timeout of 0 as "wait forever": a full pool would hang a
  // load without a word. Waiting long must be asked for with a number.
  if (merged.poolTimeout === 0) {
    throw new ConfigError(
      'pool setting "poolTimeout" must be > 0 seconds (0 would wait forever for a free connection); to wait long, give a large number such as 3600',
    );
  }
  for (const key of ['poolPrePing', 'echo'] as const) {
    if (typeof merged[key] !== 'boolean') throw new ConfigError(`pool setting "${key}" must be true or false`);
  }
  return merged;
}
