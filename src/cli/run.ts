/**
 * The CLI boundary: the only place errors become messages and exit codes. Library code throws
 * typed errors; here they are printed without stack traces (set TICKVAULT_DEBUG=1 for them).
 */
import type { Command } from 'commander';
import type { ReadYourWrites } from '../config/topology.js';
import { ConfigError, TickvaultError, errorMessage } from '../errors.js';
import { engineForReads } from '../engine/cluster.js';
import { describeHolder } from '../engine/data-dir-lock.js';
import { openEngine, type OpenOptions } from '../engine/open.js';
import type { Engine } from '../engine/types.js';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** The command finished but some rows were quarantined. */
  partial: 3,
  unhealthy: 4,
} as const;

export interface GlobalOptions {
  databaseUrl?: string;
  dataDir?: string;
  lockWait?: string;
  replicaUrl?: string[];
  maxReplicaLag?: string;
  readYourWrites?: string;
}

/**
 * Seconds a command waits for another process holding the embedded data directory (two cron
 * jobs that overlap then run one after the other); past that it fails with exit code 2.
 */
export const DEFAULT_LOCK_WAIT_SECONDS = 120;

export function connectionOptions(cmd: Command): OpenOptions {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  const wait = lockWaitSeconds(o.lockWait ?? process.env.TICKVAULT_LOCK_WAIT);
  return {
    databaseUrl: o.databaseUrl,
    dataDir: o.dataDir,
    replicaUrls: o.replicaUrl,
    maxReplicaLag: o.maxReplicaLag,
    readYourWrites: o.readYourWrites as ReadYourWrites | undefined,
    log: (line) => process.stderr.write(`${line}\n`),
    embeddedLock: {
      waitMs: wait * 1000,
      onWait: (holder, lockFile) => {
        const who = holder ? describeHolder(holder) : `another process (${lockFile})`;
        process.stderr.write(`tickvault: the embedded database is in use by ${who}; waiting up to ${wait} s for it (--lock-wait)\n`);
      },
    },
  };
}

function lockWaitSeconds(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_LOCK_WAIT_SECONDS;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--lock-wait must be a number of seconds ≥ 0, got "${text}"`);
  return n;
}

/** Opens the configured engine, runs `fn`, always closes. */
export async function withEngine<T>(cmd: Command, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine(connectionOptions(cmd));
  // On a terminal, say which database this is: the embedded default depends on the working directory.
  if (process.stderr.isTTY) process.stderr.write(`tickvault: ${engine.kind} database ${engine.location}\n`);
  try {
    return await fn(engine);
  } finally {
    await engine.close().catch(() => undefined);
  }
}

/** withEngine for commands that only read: `fn` gets a replica under the lag bound where one is configured, else the primary. */
export function withReadEngine<T>(cmd: Command, fn: (engine: Engine) => Promise<T>): Promise<T> {
  return withEngine(cmd, async (engine) => fn(await engineForReads(engine)));
}

/**
 * Codes of errors that refuse a command before it changed anything, for a reason the user can act
 * on (options, config, `tickvault init`, another process at work): exit 2 like a usage error, not
 * 1 (a failure).
 */
const REFUSALS: ReadonlySet<string> = new Set([
  'CONFIG',
  'QUERY',
  'ARGUMENT',
  'MAPPING',
  'DATA_DIR_LOCKED',
  'LOAD_IN_PROGRESS',
  'RETENTION_EXPIRED',
  'SCHEMA_NOT_STORED',
  'SCHEMA_TABLE_MISMATCH',
  'SCHEMA_MISSING',
  'SCHEMA_OUTDATED',
  'SCHEMA_NEWER',
  'NOT_OWNER',
]);

export function isRefusal(code: string | undefined): boolean {
  return code !== undefined && REFUSALS.has(code);
}

export function reportError(err: unknown): number {
  const code = err instanceof TickvaultError ? err.code : undefined;
  process.stderr.write(`tickvault: error${code ? ` [${code}]` : ''}: ${errorMessage(err)}\n`);
  if (process.env.TICKVAULT_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return isRefusal(code) ? EXIT.usage : EXIT.failure;
}

/**
 * JSON on stdout. bigint as text (exact); fractional numbers — durations, rates, never a stored
 * value (prices travel as decimal strings) — to 6 decimals, without binary noise such as
 * 0.19785855600000002.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonValue, 2)}\n`);
}

function jsonValue(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return Number(v.toFixed(6));
  return v;
}
