import type { Command } from 'commander';
import { migrate } from '../../schema/migrate.js';
import { printJson, withEngine } from '../run.js';
import { ConfigError } from '../../errors.js';
import type { PolicyOverrides } from '../../config/policies.js';

export function registerInit(program: Command): void {
  program.command('init')
    .description('create or upgrade the schema (idempotent): tables, hypertables, indexes, policies of the detected tier')
    .option('--chunk-interval <table=interval...>', "chunk interval per hypertable, e.g. trades_data='30 minutes'")
    .option('--json', 'print the result as JSON')
    .action(async (opts: { chunkInterval?: string[]; json?: boolean }, cmd: Command) => {
      const policies: PolicyOverrides = { chunkInterval: parsePairs(opts.chunkInterval ?? []) };
      const result = await withEngine(cmd, (engine) => migrate(engine, { policies }));
      if (opts.json) return printJson(result);
      const applied = result.migrations.filter((m) => m.status === 'applied');
      if (result.extensionCreated) process.stdout.write('created extension timescaledb\n');
      if (applied.length === 0) {
        process.stdout.write(`schema is up to date (version ${result.toVersion}); nothing to do\n`);
        return;
      }
      for (const m of applied) {
        process.stdout.write(`applied migration ${m.version}: ${m.name}\n`);
        for (const a of m.actions) process.stdout.write(`  - ${a}\n`);
      }
      process.stdout.write(`schema version ${result.fromVersion} -> ${result.toVersion}\n`);
    });
}

function parsePairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--chunk-interval expects table=interval, got "${p}"`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
