/**
 * Regression (issue 13.7): a record whose rtype byte was flipped disappeared — `tickvault load`
 * printed "N-1 inserted, 0 rejected" and exited 0 (the count sat unused in skippedRecords). A
 * record of no known rtype is now quarantined with its reason and byte offset; records of known
 * types the target table does not store are named in the summary (human and --json); either
 * makes the CLI exit 3, the same rule as quarantined rows.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { QUARANTINE_TABLE } from '../../src/schema/bookkeeping.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { fixture } from '../support/fixtures.js';
import { headerLength } from '../support/synthetic-dbn.js';
import { reset, count } from '../support/db.js';
import { tmpDir } from '../support/tmp.js';
import { cli } from '../support/cli.js';

let tmp: ReturnType<typeof tmpDir>;
let flipped: string;
let flippedOffset: number;

beforeAll(() => {
  tmp = tmpDir('tickvault-flipped-rtype-');
  // A copy of a real fixture (2 trades, uncompressed), the second record's rtype 0x00 → 0xEE.
  flipped = path.join(tmp.dir, 'flipped.trades.dbn');
  copyFileSync(fixture('test_data.trades.dbn'), flipped);
  const bytes = readFileSync(flipped);
  flippedOffset = headerLength(bytes) + 48;
  expect(bytes[flippedOffset + 1]).toBe(0x00);
  bytes[flippedOffset + 1] = 0xee;
  writeFileSync(flipped, bytes);
});
afterAll(() => tmp?.cleanup());

describe.each(ENGINE_KINDS)('a flipped rtype byte on the %s engine', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'flipped_rtype' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('is quarantined with the reason and its byte offset, and counted as rejected', async () => {
    const r = await loadDbnFile(t.engine, flipped);
    expect([r.recordsInserted, r.recordsRejected, r.unknownRecords, r.totalRecords]).toEqual([1, 1, 1, 2]);
    expect(r.topRejectReasons).toEqual([{ reason: 'unknown_rtype', count: 1 }]);
    expect(await count(t.engine, 'trades_data')).toBe(1);
    const q = await t.engine.query<{
      reason: string;
      constraint_name: string;
      record_index: string;
      record: { byte_offset: number; rtype: string };
    }>(`SELECT reason, constraint_name, record_index::text AS record_index, record FROM ${QUARANTINE_TABLE} WHERE load_id = $1::bigint`, [
      r.loadId,
    ]);
    expect(q.rows).toHaveLength(1);
    expect(q.rows[0]).toMatchObject({
      constraint_name: 'unknown_rtype',
      record_index: '1',
      record: { byte_offset: flippedOffset, rtype: '0xee' },
    });
    expect(q.rows[0]!.reason).toContain(`unknown rtype 0xee (48-byte record) at byte offset ${flippedOffset}`);
  });

  it('the CLI says so and exits 3; records of other known types are named, in text and --json', async () => {
    if (kind === 'server') await reset(t.engine); // the library test loaded the file into this database
    const target = kind === 'embedded' ? ['--data-dir', path.join(tmp.dir, 'data')] : ['--database-url', t.url];
    const run = await cli(['load', flipped, ...target, '--lock-wait', '0']);
    expect(run.stdout).toMatch(
      /1 inserted, 1 rejected \(unknown_rtype ×1: a record of no known DBN type\).*1 record of unknown rtype \(quarantined\)/,
    );
    expect(run.code).toBe(3);

    const live = fixture('databento-python/LIVE/test_data.live.dbn.zst');
    const text = await cli(['load', live, '--table', 'trades_data', ...target, '--lock-wait', '0']);
    expect(text.stdout).toMatch(/2 inserted, 0 rejected; not stored \(trades_data does not hold them\): .*9 statistics/);
    expect(text.stdout).toContain('5 mbo');
    expect(text.stdout + text.stderr).not.toContain('symbol mapping'); // control records are not data
    expect(text.code).toBe(3);
    const json = await cli(['load', live, '--table', 'tbbo_data', '--json', ...target, '--lock-wait', '0']);
    expect(json.code).toBe(3);
    const [res] = JSON.parse(json.stdout) as [{ notStored: Record<string, number>; recordsInserted: number }];
    expect(res.recordsInserted).toBe(2);
    expect(res.notStored).toEqual({ trades: 2, 'mbp-10': 2, definition: 2, statistics: 9, 'ohlcv-1s': 2, 'ohlcv-1m': 2, mbo: 5 });
  }, 200_000);
});
