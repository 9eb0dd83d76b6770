import type { Command } from 'commander';
import { migrate, type MigrateResult } from '../../schema/migrate.js';
import { printJson, withEngine } from '../run.js';
import { parsePolicyPairs, type PolicyOverrides } from '../../config/policies.js';
import { readPolicyConfig } from '../../config/settings.js';
import { applyPolicyChanges, type PolicyChange } from '../../timescale/policies.js';
import { formatPolicyChanges } from './policy.js';

interface InitOpts {
  chunkInterval?: string[];
  retention?: string[];
  compressAfter?: string[];
  json?: boolean;
}

/**
 * The policies `init` was asked for: the config file's "policies" section, then the flags (a flag
 * wins over the file for the same table). Only what is named: tables not named keep their policies.
 */
export function requestedPolicies(opts: Pick<InitOpts, 'chunkInterval' | 'retention' | 'compressAfter'>): PolicyOverrides {
  const file = readPolicyConfig();
  return {
    chunkInterval: { ...(file.chunkInterval ?? {}), ...parsePolicyPairs('--chunk-interval', opts.chunkInterval ?? [], false) },
    retainFor: { ...(file.retainFor ?? {}), ...parsePolicyPairs('--retention', opts.retention ?? [], true) },
    compressAfter: { ...(file.compressAfter ?? {}), ...parsePolicyPairs('--compress-after', opts.compressAfter ?? [], true) },
  };
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create or upgrade the schema (idempotent): tables, hypertables, indexes, policies of the detected tier; run again to change retention or compression',
    )
    .option('--chunk-interval <table=interval...>', "chunk interval per hypertable on a new database, e.g. trades_data='30 minutes'")
    .option(
      '--retention <table=interval|none...>',
      'drop chunks older than this per table (default: none, history is kept), e.g. tbbo_data=3y trades_data=none',
    )
    .option('--compress-after <table=interval|none...>', 'compress chunks older than this per table (community tier), e.g. trades_data=7d')
    .option('--json', 'print the result as JSON')
    .action(async (opts: InitOpts, cmd: Command) => {
      const policies = requestedPolicies(opts);
      const { result, changes } = await withEngine(cmd, async (engine): Promise<{ result: MigrateResult; changes: PolicyChange[] }> => {
        const result = await migrate(engine, { policies });
        // A database initialised before keeps its policies; what was asked for now is applied
        // to them (a no-op when they already are so, e.g. on a new database).
        const caps = await engine.capabilities();
        const changes =
          caps.hypertables && (Object.keys(policies.retainFor ?? {}).length > 0 || Object.keys(policies.compressAfter ?? {}).length > 0)
            ? await applyPolicyChanges(engine, { retainFor: policies.retainFor, compressAfter: policies.compressAfter })
            : [];
        return { result, changes };
      });
      if (opts.json) return printJson({ ...result, policyChanges: changes });
      const applied = result.migrations.filter((m) => m.status === 'applied');
      if (result.extensionCreated) process.stdout.write('created extension timescaledb\n');
      if (applied.length === 0) {
        process.stdout.write(`schema is up to date (version ${result.toVersion}); nothing to do\n`);
      } else {
        for (const m of applied) {
          process.stdout.write(`applied migration ${m.version}: ${m.name}\n`);
          for (const a of m.actions) process.stdout.write(`  - ${a}\n`);
        }
        process.stdout.write(`schema version ${result.fromVersion} -> ${result.toVersion}\n`);
      }
      const changed = changes.filter((c) => c.status === 'changed');
      if (changed.length > 0) process.stdout.write(formatPolicyChanges(changed));
      if (Object.keys(policies.chunkInterval ?? {}).length > 0 && !applied.some((m) => m.version === 1)) {
        process.stdout.write('note: chunk intervals are set when the tables are created; this database already has them (unchanged)\n');
      }
    });
}
