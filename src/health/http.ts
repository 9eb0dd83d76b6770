/**
 * `tickvault serve`: a small node:http server for probes and Prometheus.
 *   GET /health  → the HealthReport as JSON; 200 when healthy, 503 when not
 *   GET /metrics → Prometheus text exposition (see metrics.ts)
 *   GET /api/*   → the web console's JSON (console-api.ts); GET / → the console (dist/web)
 * /health runs a fresh check; concurrent requests share one check in flight so a probe storm
 * cannot exhaust the pool. /metrics reads the database at most once per `metricsMaxAgeMs`: the
 * full check plus the ledger sums take hundreds of ms, and Prometheus scrapes every few seconds
 * from each replica. Failures answer 500 with a message free of credentials.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Engine } from '../engine/types.js';
import { errorMessage } from '../errors.js';
import { packageRoot } from '../config/version.js';
import { cached } from './cache.js';
import { routeConsole } from './console-routes.js';
import { ledgerTotals, type MetricsSnapshot, TickvaultMetrics } from './metrics.js';
import { HealthMonitor, type HealthOptions, type HealthReport } from './monitor.js';

export interface HealthServerOptions extends HealthOptions {
  readonly port: number;
  /** Default 127.0.0.1: exposing health details beyond the host is an explicit choice. */
  readonly host?: string;
  /** A client that has not sent its request headers by then is disconnected (default 5000 ms). */
  readonly headersTimeoutMs?: number;
  /** /metrics reuses its database reads for this long (default 10 000 ms; 0 = every scrape reads). */
  readonly metricsMaxAgeMs?: number;
  /** The registry to serve (default: a new one with process metrics); pass one to add collectors. */
  readonly metrics?: TickvaultMetrics;
  /** Directory of the bundled console (default: dist/web of this package, when built); null = no console. */
  readonly webRoot?: string | null;
}

/**
 * The console's bundle, dist/web of this package (`npm run build`), whether running compiled or
 * from the TypeScript sources (tests); web/ holds only its sources.
 */
export function defaultWebRoot(): string | undefined {
  const root = packageRoot();
  const dir = root === undefined ? undefined : path.join(root, 'dist', 'web');
  return dir !== undefined && existsSync(path.join(dir, 'app.js')) ? dir : undefined;
}

export const DEFAULT_METRICS_MAX_AGE_MS = 10_000;

/**
 * Probes send a few hundred bytes at once; a connection still sending headers after 5 s is
 * broken or hostile (slowloris), and Node's default (60 s, checked every 30 s) would let a few of
 * them hold sockets for a minute.
 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 5_000;

export interface HealthServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export async function startHealthServer(engine: Engine, options: HealthServerOptions): Promise<HealthServer> {
  const monitor = new HealthMonitor(engine, options);
  let inFlight: Promise<HealthReport> | undefined;
  const check = () => {
    inFlight ??= monitor.check().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const metrics = options.metrics ?? new TickvaultMetrics();
  const snapshot = cached<MetricsSnapshot>(async () => {
    const readAt = performance.now();
    const report = await check();
    const ledger = report.connectivity.ok ? await ledgerTotals(engine) : undefined;
    return { report, ledger, readAt };
  }, options.metricsMaxAgeMs ?? DEFAULT_METRICS_MAX_AGE_MS);
  const webRoot = options.webRoot === null ? undefined : (options.webRoot ?? defaultWebRoot());
  const consoleContext = { engine, check, health: options, webRoot };

  const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: headersTimeout * 2,
      // How often Node looks for connections past those timeouts (its default is every 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1_000, headersTimeout / 5)),
    },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const pathname = url.pathname;
      const send = (status: number, type: string, body: string) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
      const handle = async () => {
        if (pathname === '/health') {
          const report = await check();
          return send(report.healthy ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(report, null, 2)}\n`);
        }
        if (pathname === '/metrics') {
          metrics.update(await snapshot.get());
          return send(200, PROMETHEUS_CONTENT_TYPE, await metrics.render());
        }
        const reply = await routeConsole(consoleContext, pathname, url.searchParams);
        if (reply) {
          res.writeHead(reply.status, { 'content-type': reply.type, 'cache-control': 'no-store' });
          return res.end(reply.body);
        }
        return send(404, 'text/plain; charset=utf-8', 'not found: try /, /health, /metrics or /api/coverage\n');
      };
      handle().catch((err: unknown) => {
        if (!res.headersSent) send(500, 'text/plain; charset=utf-8', `health check failed: ${errorMessage(err)}\n`);
        else res.destroy();
      });
    },
  );

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
