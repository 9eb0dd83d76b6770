/**
 * `tickvault export <table> --format parquet|csv|arrow --out FILE [--symbols …] [--start] [--end]`:
 * a table, or a slice of it, into a file readers such as DuckDB, pandas and polars open directly
 * (src/export). `--out -` writes to stdout. The summary goes to stderr (or stdout with --json).
 * The table and the times are checked before the database is opened, so a typo costs nothing.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError } from '../../errors.js';
import { EXPORT_FORMATS, exportTable, exportTableSpec, type ExportFormat } from '../../export/index.js';
import { printJson, withEngine } from '../run.js';

function positive(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${name} must be a positive integer (got ${JSON.stringify(v)})`);
    return n;
  };
}

/** --symbols ESH4 NQH4, --symbols ESH4,NQH4, or the option repeated. */
function collectSymbols(v: string, prev: string[] = []): string[] {
  return [
    ...prev,
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
}

interface ExportOpts {
  format: ExportFormat;
  out: string;
  symbols?: string[];
  start?: string;
  end?: string;
  rowGroupRows?: number;
  fetchRows?: number;
  json?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a table (or some symbols and a time range of it) to a Parquet, CSV or Arrow file')
    .argument('<table>', 'ohlcv_data, trades_data, tbbo_data, statistics_data or instrument_definitions')
    .addOption(new Option('--format <format>', 'file format').choices(EXPORT_FORMATS as string[]).makeOptionMandatory())
    .requiredOption('--out <file>', "the file to write ('-' = stdout)")
    .option('--symbols <symbols...>', 'only these symbols (space- or comma-separated; default: all)', collectSymbols)
    .option('--start <time>', 'start (inclusive), ISO 8601; no zone = UTC')
    .option('--end <time>', 'end (exclusive), ISO 8601')
    .option('--row-group-rows <n>', 'rows per Parquet row group / Arrow record batch (default 122880)', positive('--row-group-rows'))
    .option('--fetch-rows <n>', 'rows per cursor FETCH (default 10000)', positive('--fetch-rows'))
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (table: string, o: ExportOpts, cmd: Command) => {
      exportTableSpec(table); // an unknown table is refused before a database is opened
      const toStdout = o.out === '-';
      if (toStdout && o.json) throw new ConfigError('--json needs --out FILE: stdout carries the export');
      const started = performance.now();
      const result = await withEngine(cmd, (engine) =>
        exportTable(engine, {
          table,
          format: o.format,
          ...(toStdout ? { stream: process.stdout } : { out: o.out }),
          ...(o.symbols ? { symbols: o.symbols } : {}),
          ...(o.start === undefined ? {} : { start: o.start }),
          ...(o.end === undefined ? {} : { end: o.end }),
          ...(o.rowGroupRows === undefined ? {} : { rowGroupRows: o.rowGroupRows }),
          ...(o.fetchRows === undefined ? {} : { fetchRows: o.fetchRows }),
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      if (o.json) {
        printJson({ ...result, seconds });
        return;
      }
      const where = toStdout ? 'stdout' : o.out;
      process.stderr.write(
        `tickvault: exported ${result.rows.toLocaleString('en-US')} row${result.rows === 1 ? '' : 's'} of ${result.table} to ${where} (${result.format}, ${result.bytes.toLocaleString('en-US')} bytes, ${seconds.toFixed(1)} s)\n`,
      );
    });
}
