/**
 * The CLI boundary: the only place errors become messages and exit codes. Library code throws
 * typed errors; here they are printed without stack traces (set TICKVAULT_DEBUG=1 for them).
 */
import { Command } from 'commander';
import { TickvaultError, errorMessage } from '../errors.js';
import type { ConnectionOptions } from '../config/connection.js';
import { openEngine } from '../engine/open.js';
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
}

export function connectionOptions(cmd: Command): ConnectionOptions {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  return { databaseUrl: o.databaseUrl, dataDir: o.dataDir, log: (line) => process.stderr.write(`${line}\n`) };
}

/** Opens the configured engine, runs `fn`, always closes. */
export async function withEngine<T>(cmd: Command, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine(connectionOptions(cmd));
  try {
    return await fn(engine);
  } finally {
    await engine.close().catch(() => undefined);
  }
}

export function reportError(err: unknown): number {
  const code = err instanceof TickvaultError ? err.code : undefined;
  process.stderr.write(`tickvault: error${code ? ` [${code}]` : ''}: ${errorMessage(err)}\n`);
  if (process.env.TICKVAULT_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return code === 'CONFIG' ? EXIT.usage : EXIT.failure;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
