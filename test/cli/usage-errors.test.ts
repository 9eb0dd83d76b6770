// Usage errors (issue 15.9): exit 2, one line saying what is wrong and the command's usage — not
// the whole help; a malformed time is a usage error too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradesLoader } from '../../src/load/loaders.js';
import { cli } from '../support/cli.js';
import { openTestEngine, type TestEngine } from '../support/engines.js';

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
    const r = await cli([
      '--database-url',
      'memory://',
      'query',
      'bars',
      '--symbol',
      'ESH4',
      '--start',
      'yesterday',
      '--end',
      '2024-01-02',
      '--interval',
      '1 hour',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('tickvault: error [QUERY]: start: "yesterday" is not an ISO 8601 timestamp');
  });
});

describe('an unknown symbol (server)', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine('server', { name: 'unknown_symbol' });
    await new TradesLoader({ engine: t.engine }).storeBatch(
      ['ESZ6', 'NQZ6', 'CLF7'].map((symbol, i) => ({
        timestamp: `2024-03-04T10:00:0${i}Z`,
        instrument_id: 1 + i,
        symbol,
        price: '10.5',
        size: 1,
        side: 'B',
      })),
    );
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('says no such symbol is stored and offers the closest names (exit 2), instead of an empty table', async () => {
    const args = ['--database-url', t.url, 'query'];
    const bars = await cli([...args, 'bars', '--symbol', 'ESZ9', '--start', '2024-03-04', '--end', '2024-03-05', '--interval', '1 hour']);
    expect(bars.code).toBe(2);
    expect(bars.stderr.trim()).toBe('tickvault: error [QUERY]: no symbol "ESZ9" is stored in trades_data (closest: ESZ6, NQZ6, CLF7)');
    const volume = await cli([
      ...args,
      'volume',
      '--symbol',
      'nqz6',
      '--start',
      '2024-03-04',
      '--end',
      '2024-03-05',
      '--interval',
      '1 hour',
    ]);
    expect(volume.code).toBe(2);
    expect(volume.stderr).toMatch(/no symbol "nqz6" is stored in trades_data \(closest: NQZ6,/);
    const spread = await cli([...args, 'spread', '--symbol', 'ESZ6', '--start', '2024-03-04', '--end', '2024-03-05']);
    expect(spread.code).toBe(2);
    expect(spread.stderr).toMatch(/no symbol "ESZ6" is stored in tbbo_data \(it is empty\)/);
    // A stored symbol with nothing in the range is an empty answer, not an error.
    const empty = await cli([
      ...args,
      'bars',
      '--symbol',
      'ESZ6',
      '--start',
      '2025-01-01',
      '--end',
      '2025-01-02',
      '--interval',
      '1 hour',
      '--format',
      'csv',
    ]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe('time,publisher,open,high,low,close,volume,trades\n');
  });
});
