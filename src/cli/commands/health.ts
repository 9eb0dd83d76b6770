import { InvalidArgumentError, type Command } from 'commander';
import { ConnectionError, errorMessage } from '../../errors.js';
import { HealthMonitor, formatHealth, type HealthOptions } from '../../health/monitor.js';
import { openEngineForHealth } from '../../health/open.js';
import { EXIT, connectionOptions, printJson } from '../run.js';

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description(
      'check connectivity, pool, tables, TimescaleDB jobs, chunks, compression, last loads and data freshness; exit 4 when unhealthy',
    )
    .option('--json', 'print the report as JSON')
    .option('--max-staleness <seconds>', 'unhealthy when the newest row of a time-series table is older than this', parseSeconds)
    .action(async (opts: { json?: boolean; maxStaleness?: number }, cmd: Command) => {
      const options: HealthOptions = opts.maxStaleness === undefined ? {} : { maxStalenessSeconds: opts.maxStaleness };
      let engine: Awaited<ReturnType<typeof openEngineForHealth>>;
      try {
        engine = await openEngineForHealth(connectionOptions(cmd));
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        const reason = errorMessage(err);
        if (opts.json) printJson({ healthy: false, reasons: [reason] });
        else process.stdout.write(`health:       UNHEALTHY\n  - ${reason}\n`);
        process.exitCode = EXIT.unhealthy;
        return;
      }
      try {
        const report = await new HealthMonitor(engine, options).check();
        if (opts.json) printJson(report);
        else process.stdout.write(`${formatHealth(report)}\n`);
        process.exitCode = report.healthy ? EXIT.ok : EXIT.unhealthy;
      } finally {
        await engine.close().catch(() => undefined);
      }
    });
}

export function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n)) {
    throw new InvalidArgumentError(`expected a number of seconds, got "${value}"`);
  }
  return n;
}
