import type { Command } from 'commander';
import { collectStatus, formatStatus } from '../../health/status.js';
import { printJson, withEngine } from '../run.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('engine, versions, tier, schema version, feature states, rows and chunks per table')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const report = await withEngine(cmd, collectStatus);
      if (opts.json) printJson(report);
      else process.stdout.write(`${formatStatus(report)}\n`);
    });
}
