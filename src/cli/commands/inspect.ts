import type { Command } from 'commander';
import { openDbn } from '../../dbn/decoder.js';
import { RTYPE } from '../../dbn/constants.js';
import { printJson } from '../run.js';

const RTYPE_NAMES = new Map<number, string>(Object.entries(RTYPE).map(([k, v]) => [v, k.toLowerCase()]));

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("print a DBN file's metadata and its record counts by type (decodes the whole file)")
    .argument('<file>')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const decoder = await openDbn(file);
      for await (const _batch of decoder.batches()) {
        /* counting happens in the decoder */
      }
      const md = decoder.metadata;
      const counts = Object.fromEntries(
        Object.entries(decoder.rtypeCounts()).map(([rt, n]) => [RTYPE_NAMES.get(Number(rt)) ?? `rtype_${rt}`, n]),
      );
      const report = {
        file,
        version: md.version,
        compressed: decoder.compressed,
        dataset: md.dataset,
        schema: md.schemaName ?? 'mixed',
        start: md.start.toString(),
        end: md.end?.toString() ?? null,
        stypeIn: md.stypeIn,
        stypeOut: md.stypeOut,
        tsOut: md.tsOut,
        symbols: md.symbols,
        mappings: md.mappings.length,
        records: decoder.recordCount,
        recordsByType: counts,
      };
      if (opts.json) return printJson(report);
      process.stdout.write(
        `${[
          `file:      ${file}${decoder.compressed ? ' (zstd)' : ''}`,
          `DBN:       v${md.version}, dataset ${md.dataset}, schema ${report.schema}`,
          `symbols:   ${md.symbols.join(', ') || '-'} (${md.mappings.length} mappings)`,
          `records:   ${decoder.recordCount}`,
          ...Object.entries(counts).map(([k, n]) => `  ${k.padEnd(16)} ${n}`),
        ].join('\n')}\n`,
      );
    });
}
