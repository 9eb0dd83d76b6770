#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { tickvaultVersion } from '../config/version.js';
import { DEFAULT_LOCK_WAIT_SECONDS, EXIT, reportError } from './run.js';
import { registerInit } from './commands/init.js';
import { registerStatus } from './commands/status.js';
import { registerLoad } from './commands/load.js';
import { registerInspect } from './commands/inspect.js';
import { registerDemo } from './commands/demo.js';
import { registerHealth } from './commands/health.js';
import { registerServe } from './commands/serve.js';
import { registerRoles } from './commands/roles.js';
import { registerQuery } from './commands/query.js';
import { registerMaintain } from './commands/maintain.js';
import { registerAdvise } from './commands/advise.js';
import { registerConfig } from './commands/config.js';
import { registerPolicy } from './commands/policy.js';
import { registerExport } from './commands/export.js';

export function buildProgram(): Command {
  const program = new Command('tickvault')
    .description('store and query market-data time series on TimescaleDB')
    .version(tickvaultVersion(), '-V, --version', 'print the tickvault version')
    .option('--database-url <url>', 'PostgreSQL URL (default: $TICKVAULT_DATABASE_URL, $DATABASE_URL, else the embedded engine)')
    .option('--data-dir <dir>', 'embedded engine data directory (default: $TICKVAULT_DATA_DIR or ./.tickvault/data)')
    .option(
      '--replica-url <url>',
      'a replica or standby host, repeatable; the primary is found among all hosts (default: $TICKVAULT_REPLICA_URLS, comma-separated)',
      (url: string, list: string[]) => [...list, url],
      [] as string[],
    )
    .option(
      '--max-replica-lag <duration>',
      'reads skip replicas further behind than this, e.g. 5s or 500ms (default: $TICKVAULT_MAX_REPLICA_LAG or 5s)',
    )
    .option(
      '--read-your-writes <mode>',
      'reads that must see earlier writes: off | wait (a replica once it replayed them, at most the lag bound) | primary (default: off)',
    )
    .option(
      '--lock-wait <seconds>',
      `embedded engine: how long to wait for another process using the data directory (default: $TICKVAULT_LOCK_WAIT or ${DEFAULT_LOCK_WAIT_SECONDS})`,
    )
    .exitOverride();
  registerInit(program);
  registerStatus(program);
  registerLoad(program);
  registerInspect(program);
  registerDemo(program);
  registerHealth(program);
  registerServe(program);
  registerRoles(program); // after registerInit: adds `init --roles`
  registerQuery(program);
  registerExport(program);
  registerMaintain(program);
  registerAdvise(program);
  registerConfig(program);
  usageAfterErrors(program, 'tickvault');
  registerPolicy(program);
  return program;
}

/** After a usage error: the command's one-line usage and where the rest is, not the whole help. */
function usageAfterErrors(cmd: Command, name: string): void {
  cmd.showHelpAfterError(`usage: ${name} ${cmd.usage()}\n(run \`${name} --help\` for the options)`);
  for (const sub of cmd.commands) usageAfterErrors(sub, `${name} ${sub.name()}`);
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err);
  }
}

let finished = false;
// A command whose promise never settles (a wait that nothing will wake) would otherwise end with
// exit 0 and no output once the event loop is empty: the caller would take it for success.
process.on('beforeExit', () => {
  if (finished) return;
  finished = true;
  process.stderr.write(
    'tickvault: error [INTERNAL]: the command stopped without finishing (nothing was left to wait for); its result is unknown — please report this\n',
  );
  process.exitCode = EXIT.failure;
});

main(process.argv).then((code) => {
  finished = true;
  process.exitCode = code;
});
