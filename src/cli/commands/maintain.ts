/**
 * `tickvault maintain [--dry-run] [--yes] [--json]`: refresh rollups, apply due retention and
 * compression, ANALYZE, and report compression effectiveness (src/maintain). The report goes to
 * stdout. On a terminal, a retention drop that deletes rows of completed loads is asked about
 * first (on stderr; --yes answers for you); without a terminal (cron) it runs, as it always has.
 */
import readline from 'node:readline/promises';
import type { Command } from 'commander';
import { maintain, type ChunkAction, type MaintainReport, type RetentionQuestion } from '../../maintain/index.js';
import { printJson, withEngine } from '../run.js';

/** Loads listed per table in the question and the report; the rest are counted. */
const LOADS_SHOWN = 10;

function loadLines(a: ChunkAction, indent: string): string[] {
  const loads = a.loads ?? [];
  const lines = loads.slice(0, LOADS_SHOWN).map((l) => `${indent}load ${l.loadId}: ${l.rows} rows (${l.source})`);
  if (loads.length > LOADS_SHOWN)
    lines.push(`${indent}… and ${loads.length - LOADS_SHOWN} more loads, ${loads.slice(LOADS_SHOWN).reduce((n, l) => n + l.rows, 0)} rows`);
  return lines;
}

export function formatRetentionQuestion(q: RetentionQuestion): string {
  const lines = [`retention would delete ${q.loadRows} rows of ${q.loads} completed load(s):`];
  for (const a of q.actions) {
    if (!a.loads?.length) continue;
    lines.push(
      `  ${a.hypertable} (retention ${a.olderThan}): ${a.chunks.length} chunk(s), every row before ${a.before}`,
      ...loadLines(a, '    '),
    );
  }
  lines.push('(keep them: answer no and `tickvault policy --retention <table>=none` or a longer window)');
  return `${lines.join('\n')}\n`;
}

/** Asks on the terminal; only yes/y drops. */
async function askOnTerminal(q: RetentionQuestion): Promise<boolean> {
  process.stderr.write(formatRetentionQuestion(q));
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('drop these chunks? [y/N] ');
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

export function registerMaintain(program: Command): void {
  program
    .command('maintain')
    .description('refresh rollups, apply due retention and compression, ANALYZE; report compression per hypertable and chunk')
    .option('--dry-run', 'list what would be done, change nothing')
    .option('--yes', 'on a terminal, drop rows of completed loads that retention deletes without asking')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { dryRun?: boolean; yes?: boolean; json?: boolean }, cmd: Command) => {
      // Only a person at a terminal can answer; cron (no TTY) keeps today's behaviour.
      const confirm = !opts.yes && process.stdin.isTTY ? askOnTerminal : undefined;
      const report = await withEngine(cmd, (engine) => maintain(engine, { dryRun: opts.dryRun ?? false, confirm }));
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
    lines.push(
      `  ${a.view}: ${a.method === 'none' ? 'nothing to refresh' : `${verb} ${a.method}${window}`}${a.note ? ` — ${a.note}` : ''}${a.ms !== undefined ? ` (${Math.round(a.ms)} ms)` : ''}`,
    );
  }
  lines.push('', 'retention:');
  if (r.retention.length === 0) lines.push('  nothing due');
  for (const a of r.retention) {
    const did = a.status === 'declined' ? 'declined to drop' : `${verb} drop`;
    lines.push(
      `  ${a.hypertable}: ${did} ${a.chunks.length} chunk(s) older than ${a.olderThan} (every row before ${a.before}): ${a.chunks.join(', ')}`,
    );
    const rows = (a.loads ?? []).reduce((n, l) => n + l.rows, 0);
    if (rows > 0)
      lines.push(
        `    rows of completed loads ${a.status === 'done' ? 'deleted' : a.status === 'declined' ? 'kept' : 'it would delete'}: ${rows}`,
        ...loadLines(a, '      '),
      );
  }
  lines.push('', 'compression:');
  if (r.compression.length === 0) lines.push(r.compressionStats === null ? '  unavailable on this tier' : '  nothing due');
  for (const a of r.compression)
    lines.push(`  ${a.hypertable}: ${verb} compress ${a.chunks.length} chunk(s) older than ${a.olderThan}: ${a.chunks.join(', ')}`);
  lines.push('', `analyze: ${r.dryRun ? 'would analyze' : 'analyzed'} ${r.analyzed.join(', ')}`);
  if (r.compressionStats) {
    lines.push('', 'compression effectiveness:');
    for (const h of r.compressionStats) {
      lines.push(
        `  ${h.hypertable}: ${h.compressedChunks}/${h.totalChunks} chunks compressed, ${mb(h.beforeBytes)} → ${mb(h.afterBytes)}${h.ratio !== null ? `, ratio ${h.ratio.toFixed(2)}x` : ''}`,
      );
      for (const c of h.chunks.filter((x) => x.ratio !== null)) {
        lines.push(`    ${c.chunk}: ${mb(c.beforeBytes)} → ${mb(c.afterBytes)}, ratio ${c.ratio!.toFixed(2)}x`);
      }
    }
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
