/**
 * `tickvault maintain [--dry-run] [--json]`: refresh rollups, apply due retention and compression,
 * ANALYZE, and report compression effectiveness (src/maintain). The report goes to stdout.
 */
import type { Command } from 'commander';
import { maintain, type MaintainReport } from '../../maintain/index.js';
import { printJson, withEngine } from '../run.js';

export function registerMaintain(program: Command): void {
  program.command('maintain')
    .description('refresh rollups, apply due retention and compression, ANALYZE; report compression per hypertable and chunk')
    .option('--dry-run', 'list what would be done, change nothing')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const report = await withEngine(cmd, (engine) => maintain(engine, { dryRun: opts.dryRun ?? false }));
      if (opts.json) printJson(report);
      else process.stdout.write(formatMaintainReport(report));
    });
}

function mb(bytes: bigint | null): string {
  return bytes === null ? '-' : `${(Number(bytes) / 1048576).toFixed(2)} MiB`;
}

export function formatMaintainReport(r: MaintainReport): string {
  const verb = r.dryRun ? 'would' : 'did';
  const lines: string[] = [`maintain${r.dryRun ? ' (dry run: nothing changed)' : ''} — tier ${r.tier}, policies from ${r.policiesFrom}`];
  lines.push('', 'rollups:');
  for (const a of r.refreshed) {
    const window = a.method === 'refresh_continuous_aggregate' ? ` [${a.start ?? '-∞'} .. ${a.end})` : '';
    lines.push(`  ${a.view}: ${a.method === 'none' ? 'nothing to refresh' : `${verb} ${a.method}${window}`}${a.note ? ` — ${a.note}` : ''}${a.ms !== undefined ? ` (${Math.round(a.ms)} ms)` : ''}`);
  }
  lines.push('', 'retention:');
  if (r.retention.length === 0) lines.push('  nothing due');
  for (const a of r.retention) lines.push(`  ${a.hypertable}: ${verb} drop ${a.chunks.length} chunk(s) older than ${a.olderThan}: ${a.chunks.join(', ')}`);
  lines.push('', 'compression:');
  if (r.compression.length === 0) lines.push(r.compressionStats === null ? '  unavailable on this tier' : '  nothing due');
  for (const a of r.compression) lines.push(`  ${a.hypertable}: ${verb} compress ${a.chunks.length} chunk(s) older than ${a.olderThan}: ${a.chunks.join(', ')}`);
  lines.push('', `analyze: ${r.dryRun ? 'would analyze' : 'analyzed'} ${r.analyzed.join(', ')}`);
  if (r.compressionStats) {
    lines.push('', 'compression effectiveness:');
    for (const h of r.compressionStats) {
      lines.push(`  ${h.hypertable}: ${h.compressedChunks}/${h.totalChunks} chunks compressed, ${mb(h.beforeBytes)} → ${mb(h.afterBytes)}${h.ratio !== null ? `, ratio ${h.ratio.toFixed(2)}x` : ''}`);
      for (const c of h.chunks.filter((x) => x.ratio !== null)) {
        lines.push(`    ${c.chunk}: ${mb(c.beforeBytes)} → ${mb(c.afterBytes)}, ratio ${c.ratio!.toFixed(2)}x`);
      }
    }
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
