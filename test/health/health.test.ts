// Health on a PRIVATE cluster: this file drops tables and stops the server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliSync, cleanEnv } from '../support/cli.js';
import { ServerEngine } from '../../src/engine/server.js';
import { startHealthServer, PROMETHEUS_CONTENT_TYPE } from '../../src/health/http.js';
import { ledgerTotals, renderMetrics, TickvaultMetrics } from '../../src/health/metrics.js';
import { HealthMonitor, formatHealth } from '../../src/health/monitor.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { createTestDatabase, startServerCluster, type ServerCluster } from '../support/server-cluster.js';
import { parsePrometheus } from '../support/prometheus-parser.js';

const cli = (args: string[], url: string) => cliSync(args, { env: { TICKVAULT_DATABASE_URL: url } });

describe('health (private cluster)', () => {
  let cluster: ServerCluster;
  let url: string;
  let engine: ServerEngine;

  beforeAll(async () => {
    cluster = await startServerCluster({ tmpPrefix: 'tv-health-' });
    url = (await createTestDatabase(cluster.url, 'health')).url;
    engine = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 2, poolTimeout: 5 }, log: () => undefined });
    await migrate(engine);
    const recent = Date.now() - 60_000;
    await new TradesLoader({ engine, batchSize: 100 }).bulkLoad(
      Array.from({ length: 250 }, (_, i) => ({
        timestamp: new Date(recent + i),
        instrument_id: 7,
        symbol: 'ESZ6',
        price: i === 3 ? '-1' : '4000.25',
        size: 1,
        side: 'B',
        trade_id: `h${i}`,
      })),
      { source: { source: 'health-fixture', contentHash: 'health-fixture-v1' } },
    );
  });
  afterAll(async () => {
    await engine?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('reports a healthy database in full', async () => {
    const r = await new HealthMonitor(engine).check();
    expect(r.reasons).toEqual([]);
    expect(r.healthy).toBe(true);
    expect(r.connectivity.ok).toBe(true);
    expect(r.connectivity.latencyMs).toBeGreaterThan(0);
    expect(r.timescaledb).toMatchObject({ edition: 'apache' });
    expect(r.timescaledb!.version).toMatch(/^2\./);
    expect(r.pool.size).toBeGreaterThanOrEqual(1);
    const trades = r.tables.find((t) => t.table === 'trades_data')!;
    expect(trades).toMatchObject({ reachable: true, chunks: 1 });
    expect(trades.freshnessSeconds).toBeGreaterThan(0);
    expect(trades.freshnessSeconds).toBeLessThan(600);
    expect(r.tables.find((t) => t.table === 'ohlcv_data')).toMatchObject({
      reachable: true,
      newest: null,
      freshnessSeconds: null,
      chunks: 0,
    });
    expect(r.tables.every((t) => t.compression === null)).toBe(true); // apache: no compression
    const load = r.lastLoads.find((l) => l.table === 'trades_data')!;
    expect(load).toMatchObject({ status: 'completed', recordsInserted: 249, recordsRejected: 1, source: 'health-fixture' });
    expect(r.jobs.every((j) => typeof j.jobId === 'number')).toBe(true);
    expect(formatHealth(r)).toMatch(/^health: +HEALTHY/);
  });

  it('a staleness limit turns old data into a reason', async () => {
    const r = await new HealthMonitor(engine, { maxStalenessSeconds: { trades_data: 1 } }).check();
    expect(r.healthy).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/table trades_data is stale: newest row .* old \(limit 1 s\)/);
  });

  it('/metrics parses as Prometheus text and carries the ledger totals; /health answers 200', async () => {
    const server = await startHealthServer(engine, { port: 0 });
    try {
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { healthy: boolean }).healthy).toBe(true);
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
      const exp = parsePrometheus(await res.text());
      const get = (name: string, labels: Record<string, string> = {}) =>
        exp.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
      expect(get('tickvault_up')).toBe(1);
      expect(get('tickvault_healthy')).toBe(1);
      expect(get('tickvault_rows_loaded_total', { table: 'trades_data' })).toBe(249);
      expect(get('tickvault_rows_rejected_total', { table: 'trades_data' })).toBe(1);
      expect(get('tickvault_load_duration_seconds_count', { table: 'trades_data' })).toBe(1);
      expect(get('tickvault_load_duration_seconds_sum', { table: 'trades_data' })).toBeGreaterThan(0);
      expect(get('tickvault_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(get('tickvault_table_up', { table: 'trades_data' })).toBe(1);
      expect(exp.types.get('tickvault_rows_loaded_total')).toBe('counter');
      expect(exp.types.get('tickvault_load_duration_seconds')).toBe('histogram');
      expect(get('tickvault_load_duration_seconds_bucket', { table: 'trades_data', le: '+Inf' })).toBe(1);
      // The fixture's one rejected row (price -1) by its reason key.
      const quarantined = exp.samples.filter((s) => s.name === 'tickvault_rows_quarantined_total' && s.labels.table === 'trades_data');
      expect(quarantined.map((q) => q.value)).toEqual([1]);
      expect(quarantined[0]!.labels.reason).toMatch(/price/);
      // prom-client's process and Node.js runtime families.
      for (const family of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
      ])
        expect(exp.types.has(family), family).toBe(true);
      expect(get('process_cpu_seconds_total')).toBeGreaterThan(0);
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('the metrics renderer escapes label values and the parser rejects malformed text', async () => {
    const text = await renderMetrics(
      {
        healthy: false,
        reasons: [],
        warnings: [],
        checkedAt: '',
        checkMs: 0,
        engine: 'server',
        location: '',
        connectivity: { ok: false, latencyMs: null },
        pool: { size: 0, inUse: 0, idle: 0, waiting: 0, overflow: 0, recycled: 0, max: 0 },
        postgresVersion: null,
        timescaledb: null,
        tier: null,
        schemaVersion: null,
        latestSchemaVersion: 1,
        tables: [{ table: 'we"ird\\na\nme', reachable: false, newest: null, freshnessSeconds: null, chunks: null, compression: null }],
        jobs: [],
        lastLoads: [],
      },
      undefined,
    );
    const exp = parsePrometheus(text);
    expect(exp.samples.find((s) => s.name === 'tickvault_table_up')!.labels.table).toBe('we"ird\\na\nme');
    expect(exp.samples.find((s) => s.name === 'tickvault_up')!.value).toBe(0);
    expect(() => parsePrometheus('foo 1\n')).toThrow(/without a preceding TYPE/);
    expect(() => parsePrometheus('# TYPE foo gauge\nfoo{a="x} 1\n')).toThrow();
    expect(() => parsePrometheus('# TYPE foo gauge\nfoo 1\nfoo 2\n')).toThrow(/duplicate series/);
    expect(() => parsePrometheus('# TYPE foo gauge\nfoo one\n')).toThrow(/bad value/);
  });

  it('/metrics reads the database once per max age; a max age of 0 reads on every scrape', async () => {
    let queries = 0;
    // Counts the statements the server sends to the real database.
    const counting = new Proxy(engine, {
      get(target, prop) {
        if (prop === 'query')
          return (sql: string, params?: readonly unknown[]) => {
            queries++;
            return target.query(sql, params);
          };
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const scrape = async (base: string) => parsePrometheus(await (await fetch(`${base}/metrics`)).text());
    const cachedServer = await startHealthServer(counting, { port: 0, metricsMaxAgeMs: 3_600_000 });
    try {
      const first = await scrape(cachedServer.url);
      const perRead = queries;
      expect(perRead).toBeGreaterThan(3);
      const second = await scrape(cachedServer.url);
      expect(queries).toBe(perRead);
      const loaded = (e: typeof first) => e.samples.find((x) => x.name === 'tickvault_rows_loaded_total')!.value;
      expect(loaded(second)).toBe(loaded(first));
      // /health is a probe: it always checks afresh.
      await fetch(`${cachedServer.url}/health`);
      expect(queries).toBeGreaterThan(perRead);
    } finally {
      await cachedServer.close();
    }
    const uncachedServer = await startHealthServer(counting, { port: 0, metricsMaxAgeMs: 0 });
    try {
      const before = queries;
      await scrape(uncachedServer.url);
      const one = queries - before;
      await scrape(uncachedServer.url);
      expect(queries - before).toBe(2 * one);
    } finally {
      await uncachedServer.close();
    }
  });

  it('a load given metrics.loadObserver() feeds the batch-write and load-duration histograms', async () => {
    const metrics = new TickvaultMetrics({ defaultMetrics: false });
    await new TradesLoader({ engine, batchSize: 10 }).bulkLoad(
      Array.from({ length: 30 }, (_, i) => ({
        timestamp: new Date(Date.now() - 30_000 + i),
        instrument_id: 8,
        symbol: 'NQZ6',
        price: '18000.5',
        size: 2,
        side: 'B',
        trade_id: `o${i}`,
      })),
      { source: { source: 'observer-fixture', contentHash: 'observer-fixture-v1' }, observer: metrics.loadObserver() },
    );
    const exp = parsePrometheus(await metrics.render());
    const v = (name: string, labels: Record<string, string>) =>
      exp.samples.find((s) => s.name === name && Object.entries(labels).every(([k, x]) => s.labels[k] === x))?.value;
    // Three batches of 10; the write session may combine batches into one write.
    expect(v('tickvault_batch_write_seconds_count', { table: 'trades_data' })).toBeGreaterThanOrEqual(1);
    expect(v('tickvault_batch_write_seconds_count', { table: 'trades_data' })).toBeLessThanOrEqual(3);
    expect(v('tickvault_batch_write_seconds_sum', { table: 'trades_data' })).toBeGreaterThan(0);
    expect(v('tickvault_process_load_seconds_count', { table: 'trades_data', status: 'completed' })).toBe(1);
  });

  it('`tickvault health` prints the report and exits 0 when healthy; --json is machine-readable', () => {
    const human = cli(['health'], url);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/health: +HEALTHY/);
    expect(human.stdout).toMatch(/trades_data +newest/);
    const json = cli(['health', '--json'], url);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: true, connectivity: { ok: true } });
  });

  it('`tickvault serve --port 0` serves /health and /metrics until SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: cleanEnv({ TICKVAULT_DATABASE_URL: url }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    try {
      const deadline = Date.now() + 30_000;
      while (!/serving (http:\/\/\S+)\/health/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`serve did not start: ${out} ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const base = /serving (http:\/\/\S+)\/health/.exec(out)![1]!;
      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      const metrics = parsePrometheus(await (await fetch(`${base}/metrics`)).text());
      expect(metrics.samples.find((x) => x.name === 'tickvault_up')!.value).toBe(1);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(err).toBe('');
  });

  it('a pool larger than the server allows is reported (issue 14.5)', async () => {
    const big = new ServerEngine({ url, pool: { poolSize: 300, maxOverflow: 5 }, log: () => undefined });
    try {
      const r = await new HealthMonitor(big).check();
      expect(r.warnings.join('\n')).toMatch(
        /the pool may open 305 connections \(poolSize \+ maxOverflow\) but the server allows \d+ for non-superusers/,
      );
    } finally {
      await big.close();
    }
    const r = await new HealthMonitor(engine).check();
    expect(r.warnings.join('\n')).not.toMatch(/the pool may open/);
  });

  it('a dropped table makes the database unhealthy with the reason', async () => {
    await engine.query('DROP TABLE tbbo_data CASCADE');
    const r = await new HealthMonitor(engine).check();
    expect(r.healthy).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/table tbbo_data is not reachable: relation "tbbo_data" does not exist/);
    expect(r.tables.find((t) => t.table === 'trades_data')!.reachable).toBe(true);
    const server = await startHealthServer(engine, { port: 0 });
    try {
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { reasons: string[] }).reasons.join('\n')).toMatch(/tbbo_data/);
      const exp = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
      expect(exp.samples.find((s) => s.name === 'tickvault_table_up' && s.labels.table === 'tbbo_data')!.value).toBe(0);
      expect(exp.samples.find((s) => s.name === 'tickvault_healthy')!.value).toBe(0);
    } finally {
      await server.close();
    }
    const out = cli(['health'], url);
    expect(out.code).toBe(4);
    expect(out.stdout).toMatch(/UNHEALTHY[\s\S]*tbbo_data is not reachable/);
  });

  it('a stopped server makes the database unhealthy with the reason (library, HTTP and CLI)', async () => {
    await cluster.stopServer();
    try {
      const r = await new HealthMonitor(engine).check();
      expect(r.healthy).toBe(false);
      expect(r.connectivity.ok).toBe(false);
      expect(r.reasons[0]).toMatch(
        /^cannot reach the database: cannot connect to postgres:\/\/postgres@127\.0\.0\.1:\d+\/\S+: .*ECONNREFUSED.*is the server running/,
      );
      const server = await startHealthServer(engine, { port: 0 });
      try {
        const res = await fetch(`${server.url}/health`);
        expect(res.status).toBe(503);
        const exp = parsePrometheus(await (await fetch(`${server.url}/metrics`)).text());
        expect(exp.samples.find((s) => s.name === 'tickvault_up')!.value).toBe(0);
      } finally {
        await server.close();
      }
      const out = cli(['health', '--json'], url);
      expect(out.code).toBe(4);
      expect(JSON.parse(out.stdout)).toMatchObject({ healthy: false, connectivity: { ok: false } });
    } finally {
      await cluster.startServer();
    }
    // And it recovers by itself once the server is back.
    const again = await new HealthMonitor(engine).check();
    expect(again.connectivity.ok).toBe(true);
  });

  it('ledgerTotals is undefined (not an error) when the ledger is unreachable', async () => {
    const other = new ServerEngine({ url: url.replace(/\/[^/]*$/, '/postgres'), pool: { poolSize: 1, maxOverflow: 0 } });
    try {
      expect(await ledgerTotals(other)).toBeUndefined();
      const r = await new HealthMonitor(other).check();
      expect(r.healthy).toBe(false);
      expect(r.reasons).toContain('the schema is not initialised: run `tickvault init`');
    } finally {
      await other.close();
    }
  });
});
