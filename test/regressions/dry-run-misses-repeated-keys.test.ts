/**
 * Regression (issue 13.5): `load --dry-run` promised to check "exactly as a load would" but did
 * not see natural keys repeated inside the file (a dry run said 0 quarantined where the load
 * quarantined 3). Now, for every fixture, the dry run's counts per table equal a real load's into
 * an empty database — refusals included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDbnFileRouted } from '../../src/ingest/check-dbn.js';
import { loadDbnFileRouted } from '../../src/ingest/load-dbn.js';
import { TickvaultError } from '../../src/errors.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { fixtureFiles, fixture } from '../support/fixtures.js';
import { reset } from '../support/db.js';

const FILES = fixtureFiles();

async function outcome<T>(p: Promise<T>): Promise<T | { refused: string }> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof TickvaultError) return { refused: err.code };
    throw err;
  }
}

describe.each(ENGINE_KINDS)('dry run = load into an empty database (%s)', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'dry_run_equals_load' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('has fixtures with keys repeated inside the file', () => {
    expect(FILES).toContain('databento-python/IFEU.IMPACT/test_data.tbbo.dbn.zst'); // 3 quotes in one µs
  });

  it.each(FILES)('%s', async (rel) => {
    await reset(t.engine);
    const check = await outcome(checkDbnFileRouted(fixture(rel)));
    const load = await outcome(loadDbnFileRouted(t.engine, fixture(rel)));
    if ('refused' in check || 'refused' in load) {
      expect(check).toEqual(load);
      return;
    }
    expect(check.map((c) => ({ table: c.table, records: c.records, stored: c.valid, quarantined: c.rejected }))).toEqual(
      load.parts.map((p) => ({ table: p.table, records: p.totalRecords, stored: p.recordsInserted, quarantined: p.recordsRejected })),
    );
  });
});
