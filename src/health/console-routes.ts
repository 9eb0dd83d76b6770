/**
 * Routes of the web console: GET /api/* answers JSON from console-api.ts, anything else under /
 * is a file of the bundled front end (dist/web). Returns undefined for paths it does not serve.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../engine/types.js';
import { engineForReads } from '../engine/cluster.js';
import { ArgumentError, QueryError } from '../errors.js';
import type { BarSource } from '../query/queries.js';
import { candles, coverage, loads, quarantineView } from './console-api.js';
import type { HealthOptions, HealthReport } from './monitor.js';

export interface Reply {
  readonly status: number;
  readonly type: string;
  readonly body: string | Buffer;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const FILE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

const json = (status: number, value: unknown): Reply => ({
  status,
  type: JSON_TYPE,
  body: `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v), 2)}\n`,
});

export interface ConsoleContext {
  readonly engine: Engine;
  readonly check: () => Promise<HealthReport>;
  readonly health: HealthOptions;
  /** The bundled front end (index.html, app.js); undefined when it was not built. */
  readonly webRoot: string | undefined;
}

export async function routeConsole(ctx: ConsoleContext, pathname: string, query: URLSearchParams): Promise<Reply | undefined> {
  if (pathname.startsWith('/api/')) {
    try {
      return await api(ctx, pathname, query);
    } catch (err) {
      // The caller's mistakes (a bad time, an unknown interval) are 400s; the rest propagate as 500s.
      if (err instanceof QueryError || err instanceof ArgumentError) return json(400, { error: err.message });
      throw err;
    }
  }
  return staticFile(ctx.webRoot, pathname);
}

async function api(ctx: ConsoleContext, pathname: string, q: URLSearchParams): Promise<Reply | undefined> {
  // The console only reads: with replicas configured, a replica under the lag bound answers
  // (engine/cluster.ts), else the primary.
  const reads = () => engineForReads(ctx.engine);
  switch (pathname) {
    case '/api/coverage':
      return json(200, { tables: await coverage(await reads()) });
    case '/api/candles': {
      const symbol = q.get('symbol');
      const start = q.get('start');
      const end = q.get('end');
      if (!symbol || !start || !end) return json(400, { error: 'symbol, start and end are required' });
      const source = (q.get('source') ?? 'trades') as BarSource;
      if (source !== 'trades' && source !== 'ohlcv') return json(400, { error: "source must be 'trades' or 'ohlcv'" });
      return json(200, await candles(await reads(), { symbol, start, end, interval: q.get('granularity') ?? '1 minute', source }));
    }
    case '/api/loads':
      return json(200, { loads: await loads(await reads()) });
    case '/api/quarantine':
      return json(
        200,
        await quarantineView(await reads(), {
          ...(q.get('table') ? { table: q.get('table')! } : {}),
          ...(q.get('reason') ? { reason: q.get('reason')! } : {}),
          ...(q.get('load') ? { load: q.get('load')! } : {}),
        }),
      );
    case '/api/health': {
      const report = await ctx.check();
      const limits = ctx.health.maxStalenessSeconds;
      const freshness = report.tables.map((t) => {
        const limit = typeof limits === 'number' ? limits : (limits?.[t.table] ?? null);
        return {
          table: t.table,
          newest: t.newest,
          seconds: t.freshnessSeconds,
          limitSeconds: limit,
          stale: limit !== null && t.freshnessSeconds !== null && t.freshnessSeconds > limit,
        };
      });
      return json(report.healthy ? 200 : 503, { ...report, freshness });
    }
    default:
      return json(404, { error: `no such endpoint: ${pathname}` });
  }
}

async function staticFile(root: string | undefined, pathname: string): Promise<Reply | undefined> {
  if (!root) return undefined;
  const rel = pathname === '/' ? 'index.html' : pathname.slice(1);
  const file = path.resolve(root, rel);
  // Only files inside the bundle: "/../" in a request must not reach the rest of the disk.
  if (!file.startsWith(root + path.sep)) return undefined;
  const type = FILE_TYPES[path.extname(file)];
  if (!type) return undefined;
  try {
    return { status: 200, type, body: await readFile(file) };
  } catch {
    return undefined;
  }
}
