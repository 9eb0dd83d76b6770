// Usage errors (issue 15.9): exit 2, one line saying what is wrong and the command's usage — not
// the whole help; a malformed time is a usage error too.
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

describe('usage errors', () => {
  it('a missing required option: the error, the usage line, where the options are (exit 2)', async () => {
    const r = await cli(['--database-url', 'memory://', 'query', 'bars', '--symbol', 'ESH4']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "error: required option '--start <time>' not specified",
      'usage: tickvault query bars [options]',
      '(run `tickvault query bars --help` for the options)',
    ]);
  });

  it('a malformed --start is a usage error (exit 2), not a failure', async () => {
    const r = await cli(['--database-url', 'memory://', 'query', 'bars', '--symbol', 'ESH4', '--start', 'yesterday', '--end', '2024-01-02', '--interval', '1 hour']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('tickvault: error [QUERY]: start: "yesterday" is not an ISO 8601 timestamp');
  });
});
