/**
 * Background jobs in the health report on both tiers: never-run jobs (TimescaleDB reports their
 * times as -infinity, which node-postgres reads as -Infinity) give null times, not the warning
 * "cannot read background jobs: Invalid time value" that the Apache tier printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../../src/health/monitor.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

describe.each(ENGINE_KINDS)('health: background jobs on the %s engine', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'health_jobs' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('are read without a warning, with valid or null times', async () => {
    const r = await new HealthMonitor(t.engine).check();
    expect(r.warnings.filter((w) => /background jobs/.test(w))).toEqual([]);
    expect(r.jobsError).toBeUndefined();
    for (const j of r.jobs) {
      for (const v of [j.lastRunStartedAt, j.lastSuccessfulFinish]) {
        if (v !== null) expect(Number.isNaN(Date.parse(v))).toBe(false);
      }
    }
  });
});
