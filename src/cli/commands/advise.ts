import type { Command } from 'commander';
import { adviseChunkIntervals, formatAdvice, parseBytes } from '../../maintain/advise.js';
import type { TableName } from '../../schema/tables.js';
import { printJson, withEngine } from '../run.js';

interface AdviseOpts {
  file?: string;
  table?: TableName;
  memory?: string;
  json?: boolean;
}

export function registerAdvise(program: Command): void {
  program
    .command('advise')
    .description(
      'recommend chunk_time_interval per table from rows per day, bytes per row and memory (one recent chunk ≈ 25% of memory); warns about > 1,000 chunks or oversized recent chunks',
    )
    .option('--file <dbn>', 'advise for a DBN file about to be loaded (records per day from a header-only pass)')
    .option('--table <table>', 'only this table (with --file: the target table, default from the file schema)')
    .option('--memory <size>', 'memory to size chunks against, e.g. 16GB (default: shared_buffers on a server, RAM in-process)')
    .option('--json', 'print the advice as JSON')
    .action(async (opts: AdviseOpts, cmd: Command) => {
      const advice = await withEngine(cmd, (engine) =>
        adviseChunkIntervals(engine, {
          file: opts.file,
          table: opts.table,
          memoryBytes: opts.memory ? parseBytes(opts.memory) : undefined,
        }),
      );
      if (opts.json) printJson(advice);
      else process.stdout.write(`${formatAdvice(advice)}\n`);
    });
}
