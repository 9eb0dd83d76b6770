// Health on the embedded engine (PGlite + TimescaleDB community): compression ratio and policy jobs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { ledgerTotals, renderMetrics } from '../../src/health/metrics.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { parsePrometheus } from '../support/prometheus-parser.js';

describe('health on the embedded engine (community features)', () => {
  let engine: EmbeddedEngine;

  beforeAll(async () => {
    engine = await EmbeddedEngine.open({ dataDir: 'memory://' });
    // Retention is off by default; a window far longer than the data's age gives the job to report.
    await migrate(engine, { policies: { retainFor: { trades_data: '10 years' } } });
    const start = Date.UTC(2025, 5, 1);
    await new TradesLoader({ engine, batchSize: 2_000 }).bulkLoad(
      Array.from({ length: 6_000 }, (_, i) => ({
        timestamp: new Date(start + i * 1_000),
        instrument_id: 1 + (i % 2),
        symbol: i % 2 ? 'ESZ6' : 'NQZ6',
        price: `${100 + (i % 7)}.5`,
        size: 1 + (i % 4),
        side: i % 3 ? 'B' : 'S',
        trade_id: null,
      })),
      { source: { source: 'embedded-health', contentHash: 'embedded-health-v1' } },
    );
    await engine.query(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('trades_data') c`);
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('reports the community edition, compression ratio, chunks, policy jobs and the last load', async () => {
    const r = await new HealthMonitor(engine).check();
    expect(r.reasons).toEqual([]);
    expect(r.healthy).toBe(true);
    expect(r.engine).toBe('embedded');
    expect(r.timescaledb).toMatchObject({ edition: 'community' });
    const trades = r.tables.find((t) => t.table === 'trades_data')!;
    expect(trades.chunks).toBe(2); // 6,000 s of data over 1-hour chunks
    expect(trades.compression).not.toBeNull();
    expect(trades.compression!.compressedChunks).toBe(2);
    expect(trades.compression!.ratio).toBeGreaterThan(1);
    expect(trades.freshnessSeconds).toBeGreaterThan(86_400);
    const procs = r.jobs.map((j) => j.procedure);
    expect(procs).toEqual(expect.arrayContaining(['policy_compression', 'policy_retention', 'policy_refresh_continuous_aggregate']));
    expect(r.lastLoads).toEqual([expect.objectContaining({ table: 'trades_data', status: 'completed', recordsInserted: 6_000 })]);

    const exp = parsePrometheus(await renderMetrics(r, await ledgerTotals(engine)));
    expect(exp.samples.find((s) => s.name === 'tickvault_compression_ratio' && s.labels.table === 'trades_data')!.value).toBeGreaterThan(1);
    expect(exp.samples.find((s) => s.name === 'tickvault_rows_loaded_total' && s.labels.table === 'trades_data')!.value).toBe(6_000);
    expect(exp.samples.filter((s) => s.name === 'tickvault_job_failures_total').length).toBe(r.jobs.length);
  });

  it('a failed load is a reason (re-run to resume)', async () => {
    await engine.query(`UPDATE tickvault_loads SET status = 'failed', error = 'simulated' WHERE source = 'embedded-health'`);
    const r = await new HealthMonitor(engine).check();
    expect(r.healthy).toBe(false);
    expect(r.reasons.join('\n')).toMatch(/the last load into trades_data .* failed: simulated; re-run it to resume/);
  });
});
