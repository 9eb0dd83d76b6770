import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/pg-client.js';
import { ServerEngine } from '../../src/engine/server.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { TradesLoader, type TradeRecord } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { createTestDatabase, startServerCluster, type ServerCluster } from '../support/server-cluster.js';

function* trades(n: number, startMs: number): Generator<TradeRecord> {
  for (let i = 0; i < n; i++) {
    yield {
      timestamp: new Date(startMs + i * 10),
      instrument_id: 1 + (i % 3),
      symbol: ['ESZ6', 'NQZ6', 'CLF7'][i % 3]!,
      price: `${4000 + (i % 500)}.25`,
      size: 1 + (i % 9),
      side: i % 2 ? 'B' : 'S',
      trade_id: `t${i}`,
    };
  }
}

describe('bulk load recovery (private cluster)', () => {
  let cluster: ServerCluster;
  let url: string;
  let engine: ServerEngine;
  const logs: string[] = [];

  beforeAll(async () => {
    cluster = await startServerCluster({ tmpPrefix: 'tv-recov-' });
    url = (await createTestDatabase(cluster.url, 'recovery')).url;
    engine = new ServerEngine({ url, pool: { poolSize: 2, maxOverflow: 2, poolTimeout: 30 }, log: (l) => logs.push(l) });
    await migrate(engine);
  });
  afterAll(async () => {
    await engine?.close().catch(() => undefined);
    await cluster?.stop();
  });

  const counts = async (from: Date, to: Date) => {
    const { rows } = await engine.query<{ n: string; d: string }>(
      'SELECT count(*)::text AS n, count(DISTINCT trade_id)::text AS d FROM trades_data WHERE "timestamp" >= $1 AND "timestamp" < $2',
      [from, to],
    );
    return { rows: Number(rows[0]!.n), distinct: Number(rows[0]!.d) };
  };

  it('survives pg_terminate_backend of its connections mid-load', async () => {
    const N = 60_000;
    const start = Date.UTC(2026, 0, 5);
    const loader = new TradesLoader({ engine, batchSize: 2_000 });
    let killed = 0;
    let fired = false;
    const result = await loader.bulkLoad(trades(N, start), {
      source: { source: 'recovery-terminate', contentHash: 'recovery-terminate-v1' },
      onProgress: (done) => {
        if (!fired && done >= 10_000) {
          fired = true;
          // Not awaited: the next batch is on the wire when the backend dies.
          void withClient(cluster.url.replace(/\/[^/]*$/, '/postgres'), async (c) => {
            await new Promise((r) => setTimeout(r, 20));
            const r = await c.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
              [new URL(url).pathname.slice(1)],
            );
            killed = r.rowCount ?? 0;
          });
        }
      },
    });
    expect(fired).toBe(true);
    expect(killed).toBeGreaterThan(0);
    expect(result.status).toBe('completed');
    expect(result.recordsInserted).toBe(N);
    expect(await counts(new Date(start), new Date(start + N * 10))).toEqual({ rows: N, distinct: N });
  });

  it('survives a full cluster restart mid-load with an exact final row count', async () => {
    const N = 80_000;
    const start = Date.UTC(2026, 1, 9);
    const loader = new TradesLoader({ engine, batchSize: 2_000 });
    let restart: Promise<void> | undefined;
    const result = await loader.bulkLoad(trades(N, start), {
      source: { source: 'recovery-restart', contentHash: 'recovery-restart-v1' },
      onProgress: (done) => {
        if (!restart && done >= 20_000) restart = cluster.restart();
      },
    });
    await restart;
    expect(restart).toBeDefined();
    expect(result.status).toBe('completed');
    expect(result.totalRecords).toBe(N);
    expect(result.recordsInserted).toBe(N);
    expect(await counts(new Date(start), new Date(start + N * 10))).toEqual({ rows: N, distinct: N });
    const { rows } = await engine.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM tickvault_load_batches b JOIN tickvault_loads l USING (load_id) WHERE l.source = 'recovery-restart'`,
    );
    expect(Number(rows[0]!.n)).toBe(N / 2_000);
    // Re-running the same input is a no-op: still exactly one copy.
    const again = await loader.bulkLoad(trades(N, start), { source: { source: 'recovery-restart', contentHash: 'recovery-restart-v1' } });
    expect(again.status).toBe('already-loaded');
    expect(await counts(new Date(start), new Date(start + N * 10))).toEqual({ rows: N, distinct: N });
  });

  it('a batch whose COMMIT succeeded but whose acknowledgement was lost is not loaded twice (ledger check)', async () => {
    const N = 10_000;
    const start = Date.UTC(2026, 2, 2);
    let lost = 0;
    // The real engine, except that the 3rd transaction commits and then "loses" the reply.
    let calls = 0;
    const flaky = new Proxy(engine, {
      get(target, prop, receiver) {
        if (prop === 'transaction') {
          return async <T>(fn: Parameters<ServerEngine['transaction']>[0]) => {
            const out = await target.transaction(fn);
            calls += 1;
            if (calls === 3) {
              lost += 1;
              throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
            }
            return out as T;
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const loader = new TradesLoader({ engine: flaky, batchSize: 1_000 });
    const result = await loader.bulkLoad(trades(N, start), {
      source: { source: 'recovery-lost-commit', contentHash: 'recovery-lost-commit-v1' },
    });
    expect(lost).toBe(1);
    expect(result.recordsInserted).toBe(N);
    expect(await counts(new Date(start), new Date(start + N * 10))).toEqual({ rows: N, distinct: N });
  });

  it('a connection lost while a batch is prepared (the fresh-slot probe, outside the write) is retried, not fatal', async () => {
    const N = 10_000;
    // 10 ms apart from 50 s before the hour: with 1-hour chunks the load crosses into a second slot at row 5,000.
    const start = Date.UTC(2026, 2, 16) - 50_000;
    let failed = 0;
    // The real engine, except that the 2nd fresh-slot probe fails as pg fails a pooled client whose
    // socket broke (what a failover mid-load produced in CI).
    let probes = 0;
    const flaky = new Proxy(engine, {
      get(target, prop, receiver) {
        if (prop === 'query') {
          return async (sql: string, params?: unknown[]) => {
            if (/^SELECT instrument_id AS id, .* GROUP BY instrument_id$/s.test(sql.trim()) && ++probes === 2) {
              failed += 1;
              throw new Error('Client has encountered a connection error and is not queryable');
            }
            return target.query(sql, params as never);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const loader = new TradesLoader({ engine: flaky, batchSize: 1_000 });
    const result = await loader.bulkLoad(trades(N, start), {
      source: { source: 'recovery-lost-probe', contentHash: 'recovery-lost-probe-v1' },
    });
    expect(failed).toBe(1);
    expect(result.status).toBe('completed');
    expect(result.recordsInserted).toBe(N);
    expect(await counts(new Date(start), new Date(start + N * 10))).toEqual({ rows: N, distinct: N });
  });

  it('an outage longer than the retry window fails naming the window; health flags the stale load; a re-run resumes it exactly', async () => {
    const N = 40_000;
    const start = Date.UTC(2026, 3, 6);
    const identity = { source: 'recovery-outage', contentHash: 'recovery-outage-v1' };
    const short = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 1, poolTimeout: 5, retryWindow: 1 }, log: () => undefined });
    let stopped: Promise<void> | undefined;
    let stoppedAt = 0;
    try {
      const err = await new TradesLoader({ engine: short, batchSize: 2_000 })
        .bulkLoad(trades(N, start), {
          source: identity,
          onProgress: (done) => {
            if (!stopped && done >= 10_000)
              stopped = cluster.stopServer().then(() => {
                stoppedAt = Date.now();
              });
          },
        })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      await stopped;
      expect(err?.message).toMatch(
        /load \d+ into trades_data failed: .*stayed unreachable through the 1 s retry window: pool setting retryWindow, TICKVAULT_RETRY_WINDOW/,
      );
      expect(err?.message).toMatch(/the ledger could not be updated, so load \d+ shows as running until a re-run takes it over/);
      // Two windows at most (the batches', then the ledger's), plus the pool's connect attempts.
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    } finally {
      await short.close().catch(() => undefined);
      await cluster.startServer();
    }

    // Pretend the heartbeat stopped long ago (the owner is gone): health names the stale load.
    await withClient(url, (c) =>
      c.query(`UPDATE tickvault_loads SET updated_at = NOW() - interval '10 minutes' WHERE source = $1`, [identity.source]),
    );
    const fresh = new ServerEngine({ url, pool: { poolSize: 2, maxOverflow: 2 }, log: () => undefined });
    try {
      const report = await new HealthMonitor(fresh).check();
      expect(report.warnings.join('\n')).toMatch(
        /load \d+ into trades_data \(recovery-outage\) is marked running but has had no heartbeat for 10 min \(owner pid \d+ on .+\): .*re-run the same load/,
      );
      const res = await new TradesLoader({ engine: fresh, batchSize: 2_000 }).bulkLoad(trades(N, start), { source: identity });
      expect(res.status).toBe('completed');
      expect(res.batchesResumed).toBeGreaterThan(0);
      expect(res.thisRun!.records).toBe(N - res.batchesResumed * 2_000);
      expect(res.recordsInserted).toBe(N);
      const { rows } = await fresh.query<{ n: string; d: string }>(
        'SELECT count(*)::text AS n, count(DISTINCT trade_id)::text AS d FROM trades_data WHERE "timestamp" >= $1 AND "timestamp" < $2',
        [new Date(start), new Date(start + N * 10)],
      );
      expect(rows[0]).toEqual({ n: String(N), d: String(N) });
    } finally {
      await fresh.close();
    }
  }, 120_000);
});
