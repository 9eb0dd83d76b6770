// Health on a PRIVATE cluster: this file drops tables and stops the server.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliSync, cleanEnv } from '../support/cli.js';
import { ServerEngine } from '../../src/engine/server.js';
import { startHealthServer, PROMETHEUS_CONTENT_TYPE } from '../../src/health/http.js';
import { ledgerTotals, renderMetrics } from '../../src/health/metrics.js';
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
      expect(exp.types.get('tickvault_load_duration_seconds')).toBe('summary');
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('the metrics renderer escapes label values and the parser rejects malformed text', () => {
    const text = renderMetrics(
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
