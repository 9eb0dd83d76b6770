import type { Command } from 'commander';
import path from 'node:path';
import { resolveTargetWithOrigin } from '../../config/connection.js';
import { POOL_ENV, resolveEngineSettings } from '../../config/settings.js';
import { redactUrl } from '../../errors.js';
import { DEFAULT_LOCK_WAIT_SECONDS, printJson, type GlobalOptions } from '../run.js';

interface Setting {
  readonly key: string;
  readonly value: string | number | boolean | null;
  readonly from: string;
}

/**
 * `tickvault config`: the settings a command here would use and where each came from — without
 * opening the database, so it also explains why a connection fails. Passwords are redacted.
 */
export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('print the effective settings (database, pool, TLS, lock wait) and where each came from; opens nothing')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const settings = collectSettings(cmd.optsWithGlobals<GlobalOptions>());
      if (opts.json) {
        printJson(settings);
        return;
      }
      const width = Math.max(...settings.map((s) => s.key.length));
      for (const s of settings) process.stdout.write(`${s.key.padEnd(width)}  ${s.value === null ? '-' : String(s.value)}  (${s.from})\n`);
    });
}

function collectSettings(globals: GlobalOptions): Setting[] {
  const { target, origin } = resolveTargetWithOrigin({ databaseUrl: globals.databaseUrl, dataDir: globals.dataDir });
  const targetFrom =
    origin === 'option'
      ? target.kind === 'server'
        ? '--database-url'
        : globals.dataDir !== undefined
          ? '--data-dir'
          : '--database-url'
      : origin === 'default'
        ? 'default, relative to the working directory'
        : `$${origin}`;
  const out: Setting[] = [{ key: 'engine', value: target.kind, from: targetFrom }];
  if (target.kind === 'server') {
    out.push({ key: 'database', value: redactUrl(target.url), from: targetFrom });
    const engine = resolveEngineSettings();
    out.push({
      key: 'config file',
      value: engine.configFile ?? null,
      from: engine.configFile ? (process.env.TICKVAULT_CONFIG ? '$TICKVAULT_CONFIG' : 'working directory') : 'none found',
    });
    for (const [key, value] of Object.entries(engine.pool)) {
      const o = engine.origin[key as keyof typeof engine.origin];
      const from = o === 'env' ? `$${POOL_ENV[key as keyof typeof POOL_ENV]}` : o === 'file' ? 'config file' : o;
      out.push({ key: `pool.${key}`, value, from });
    }
    out.push({
      key: 'ssl.caFile',
      value: engine.sslCaFile ?? null,
      from: process.env.TICKVAULT_SSL_CA_FILE ? '$TICKVAULT_SSL_CA_FILE' : engine.sslCaFile ? 'config file' : 'not set',
    });
  } else {
    const dir = target.dataDir === 'memory://' ? 'memory:// (in memory, gone at exit)' : path.resolve(target.dataDir);
    out.push({ key: 'data directory', value: dir, from: targetFrom });
    const lockWait = globals.lockWait ?? process.env.TICKVAULT_LOCK_WAIT;
    out.push({
      key: 'lock wait (s)',
      value: lockWait === undefined || lockWait.trim() === '' ? DEFAULT_LOCK_WAIT_SECONDS : Number(lockWait),
      from: globals.lockWait !== undefined ? '--lock-wait' : process.env.TICKVAULT_LOCK_WAIT ? '$TICKVAULT_LOCK_WAIT' : 'default',
    });
  }
  return out;
}
