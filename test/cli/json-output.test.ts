// JSON output carries no binary float noise (issue 15.16): durations and rates to 6 decimals,
// bigints as exact text.
import { describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { cli } from '../support/cli.js';

describe('--json numbers', () => {
  it('every number in `load --json` has at most 6 decimals', async () => {
    const r = await cli(['--database-url', 'memory://', 'load', '--json', fixture('test_data.trades.v3.dbn.zst')]);
    expect(r.code, r.stderr).toBe(0);
    const numbers = [...r.stdout.matchAll(/:\s*(-?\d[\d.eE+-]*)\s*[,\n]/g)].map((m) => m[1]!);
    expect(numbers.length).toBeGreaterThan(3);
    for (const n of numbers) expect(n).toMatch(/^-?\d+(\.\d{1,6})?$/);
    const [result] = JSON.parse(r.stdout) as [{ processingTimeSeconds: number; recordsInserted: number }];
    expect(result.recordsInserted).toBe(2);
    expect(result.processingTimeSeconds).toBeGreaterThan(0);
  });
});
