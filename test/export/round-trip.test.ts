/**
 * Export → load round trips (issue 17): a DBN file loaded, its table exported to Parquet and to
 * CSV, and each export loaded with no options into another, empty database gives the identical
 * table — every loaded column, exact decimals and microseconds — on both engines.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTable } from '../../src/export/index.js';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { loadFile } from '../../src/ingest/load-file.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { tableSpec } from '../../src/schema/tables.js';
import { reset, snapshot } from '../support/db.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { fixture } from '../support/fixtures.js';
import { tmpDir } from '../support/tmp.js';

const CASES = [
  'databento-python/GLBX.MDP3/test_data.trades.dbn.zst',
  'databento-python/EQUS.MINI/test_data.mbp-1.dbn.zst',
  'test_data.tbbo.dbn',
  'databento-python/GLBX.MDP3/test_data.ohlcv-1m.dbn.zst',
  'test_data.ohlcv-1s.dbn',
  'databento-python/GLBX.MDP3/test_data.statistics.dbn.zst',
];

const tmp = tmpDir('tickvault-round-trip-');
afterAll(() => tmp.cleanup());

describe.each(ENGINE_KINDS)('export → load round trip (%s)', (kind) => {
  let from: TestEngine;
  let into: TestEngine;
  beforeAll(async () => {
    from = await openTestEngine(kind, { name: 'round_trip_from' });
    into = await openTestEngine(kind, { name: 'round_trip_into' });
  });
  afterAll(async () => {
    await from?.dispose();
    await into?.dispose();
  });

  it.each(CASES.flatMap((rel) => (['parquet', 'csv'] as const).map((format) => [rel, format] as const)))(
    '%s exported as %s loads back to the identical table',
    async (rel, format) => {
      await reset(from.engine);
      await reset(into.engine);
      const loaded = await loadDbnFile(from.engine, fixture(rel));
      expect(loaded.recordsInserted).toBeGreaterThan(0);
      const spec = tableSpec(loaded.table);
      const out = path.join(tmp.dir, `${kind}-${rel.replaceAll('/', '_')}.${format}`);
      const exported = await exportTable(from.engine, { table: spec.name, format, out });
      expect(exported.rows).toBe(loaded.recordsInserted);

      const back = await loadFile(into.engine, out);
      expect(back.table).toBe(spec.name);
      expect({ inserted: back.recordsInserted, rejected: back.recordsRejected }).toEqual({ inserted: loaded.recordsInserted, rejected: 0 });
      expect(await snapshot(into.engine, spec)).toEqual(await snapshot(from.engine, spec));
    },
  );

  it.each(['parquet', 'csv'] as const)('an empty string and a NULL stay apart through a %s export and its load', async (format) => {
    await reset(from.engine);
    await reset(into.engine);
    const base = { instrument_id: 1, symbol: 'ESZ6', price: '4000.25', size: 1, side: 'B' as const };
    const stored = await new TradesLoader({ engine: from.engine }).storeBatch(
      ['', null, 'a,b', 'say "hi"', ' '].map((trade_id, i) => ({ ...base, timestamp: new Date(Date.UTC(2024, 0, 2, 0, 0, i)), trade_id })),
    );
    expect(stored.recordsInserted).toBe(5);
    const spec = tableSpec('trades_data');
    const out = path.join(tmp.dir, `${kind}-empty-strings.${format}`);
    await exportTable(from.engine, { table: spec.name, format, out });
    const back = await loadFile(into.engine, out);
    expect(back.recordsInserted).toBe(5);
    const ids = await into.engine.query<{ trade_id: string | null }>('SELECT trade_id FROM trades_data ORDER BY "timestamp"');
    expect(ids.rows.map((r) => r.trade_id)).toEqual(['', null, 'a,b', 'say "hi"', ' ']);
    expect(await snapshot(into.engine, spec)).toEqual(await snapshot(from.engine, spec));
  });
});
