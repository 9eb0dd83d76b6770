import { InvalidArgumentError, type Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { startHealthServer } from '../../health/http.js';
import { openEngineForHealth } from '../../health/open.js';
import { connectionOptions } from '../run.js';
import { parseSeconds } from './health.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve GET /health (JSON, 200 healthy / 503 unhealthy) and GET /metrics (Prometheus text) until interrupted')
    .requiredOption('--port <port>', 'TCP port (0 = any free port)', parsePort)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--max-staleness <seconds>', 'unhealthy when the newest row of a time-series table is older than this', parseSeconds)
    .option('--metrics-max-age <seconds>', '/metrics reuses its database reads for this long (0 = read on every scrape)', parseSeconds, 10)
    .action(async (opts: { port: number; host: string; maxStaleness?: number; metricsMaxAge: number }, cmd: Command) => {
      if (!isLoopback(opts.host))
        process.stderr.write(
          `tickvault: warning: --host ${opts.host} exposes health, metrics and data details beyond this machine; put it behind a proxy with access control\n`,
        );
      const engine = await openEngineForHealth(connectionOptions(cmd));
      const server = await startHealthServer(engine, {
        port: opts.port,
        host: opts.host,
        metricsMaxAgeMs: opts.metricsMaxAge * 1000,
        ...(opts.maxStaleness === undefined ? {} : { maxStalenessSeconds: opts.maxStaleness }),
      }).catch(async (err: unknown) => {
        await engine.close().catch(() => undefined);
        throw new ConfigError(`cannot listen on ${opts.host}:${opts.port}: ${(err as Error).message}`);
      });
      process.stdout.write(`tickvault: serving ${server.url}/health and ${server.url}/metrics for ${engine.location}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await engine.close().catch(() => undefined);
    });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`expected a port number 0-65535, got "${value}"`);
  return n;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
