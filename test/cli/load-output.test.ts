// `tickvault load f > log` logs the result (issue 15.6): results go to stdout, diagnostics and
// progress to stderr; no rows/s for a file of a few rows (issue 15.7); reasons in words (15.16).
import { describe, expect, it } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { cli } from '../support/cli.js';

describe('load output', () => {
  it('the summary is on stdout, nothing else is printed off a terminal, and a 2-row file shows no rate', async () => {
    const r = await cli(['--database-url', 'memory://', 'load', fixture('test_data.trades.v3.dbn.zst')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/test_data\.trades\.v3\.dbn\.zst → trades_data: 2 inserted, 0 rejected, \d+\.\d\d s \(load 1\)\n$/);
    expect(r.stdout).not.toMatch(/rows\/s/);
  });

  it('a dry run prints its counts on stdout, with the reasons in words', async () => {
    const r = await cli(['load', '--dry-run', fixture('databento-python/XNAS.ITCH/test_data.trades.dbn.zst')]);
    expect(r.stdout).toMatch(/→ trades_data \(dry run\): \d+ records/);
    expect(r.stderr).toBe('');
  });
});
