/**
 * `tickvault policy [--retention t=i|none...] [--compress-after t=i|none...] [--json]`: without
 * flags, shows each hypertable's retention and compression — the stored setting, the live
 * TimescaleDB policy job and who runs it on this tier; with flags, changes them (settings and
 * live jobs together, src/timescale/policies.ts) and shows the result.
 */
import type { Command } from 'commander';
import { parsePolicyPairs } from '../../config/policies.js';
import { applyPolicyChanges, readPolicies, type PoliciesReport, type PolicyChange } from '../../timescale/policies.js';
import { printJson, withEngine } from '../run.js';

export function registerPolicy(program: Command): void {
  program
    .command('policy')
    .description('show or change retention and compression per table (stored settings and the live TimescaleDB policies)')
    .option('--retention <table=interval|none...>', 'drop chunks older than this, e.g. tbbo_data=3y; none keeps the history')
    .option('--compress-after <table=interval|none...>', 'compress chunks older than this (community tier), e.g. trades_data=7d')
    .option('--json', 'print as JSON')
    .action(async (opts: { retention?: string[]; compressAfter?: string[]; json?: boolean }, cmd: Command) => {
      const retainFor = parsePolicyPairs('--retention', opts.retention ?? [], true);
      const compressAfter = parsePolicyPairs('--compress-after', opts.compressAfter ?? [], true);
      const setting = Object.keys(retainFor).length + Object.keys(compressAfter).length > 0;
      const { changes, report } = await withEngine(cmd, async (engine) => ({
        changes: setting ? await applyPolicyChanges(engine, { retainFor, compressAfter }) : [],
        report: await readPolicies(engine),
      }));
      if (opts.json) return printJson(setting ? { changes, ...report } : report);
      if (setting) process.stdout.write(formatPolicyChanges(changes));
      process.stdout.write(formatPolicies(report));
    });
}

const age = (v: string | null) => v ?? 'none';

export function formatPolicyChanges(changes: readonly PolicyChange[]): string {
  return changes
    .map(
      (c) =>
        `${c.policy} ${c.table}: ${c.status === 'unchanged' ? `unchanged (${age(c.to)})` : `${age(c.from)} -> ${age(c.to)}`} — ${c.detail}\n`,
    )
    .join('');
}

export function formatPolicies(r: PoliciesReport): string {
  const lines = [`policies (tier ${r.tier}, from ${r.from}):`];
  const w = Math.max(...r.tables.map((t) => t.table.length));
  for (const t of r.tables) {
    lines.push(`  ${t.table.padEnd(w)}  retention ${age(t.retention).padEnd(10)} ${t.retentionRunsBy}`);
    lines.push(`  ${''.padEnd(w)}  compress  ${age(t.compressAfter).padEnd(10)} ${t.compressionRunsBy}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
