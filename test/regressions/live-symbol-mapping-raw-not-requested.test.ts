/**
 * Regression (issue 13.5): symbol-mapping records inside a live file gave rows the raw symbol
 * (stype_out_symbol) while the mappings of a historical file give the requested one: the same
 * request (`ES.FUT`) was stored under two names. Both now store the requested symbol; a request
 * by instrument_id (all-digit input) still gets the output symbol.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbnRecord } from '../../src/dbn/records.js';
import { writeDbn } from '../../src/dbn/writer.js';
import { loadDbnFileRouted } from '../../src/ingest/load-dbn.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { T0 } from '../support/time.js';
import { synthTrades } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const UNDEF_TS = 0xffffffffffffffffn;
let tmp: ReturnType<typeof tmpDir>;
let historical: string;
let live: string;

const mapping = (id: number, requested: string, raw: string): DbnRecord => ({
  kind: 'symbolMapping',
  rtype: 0x16,
  publisherId: 0,
  instrumentId: id,
  tsEvent: T0 - 1n,
  stypeIn: 4,
  stypeInSymbol: requested,
  stypeOut: 1,
  stypeOutSymbol: raw,
  startTs: UNDEF_TS,
  endTs: UNDEF_TS,
});

beforeAll(async () => {
  tmp = tmpDir('tickvault-live-symbols-');
  // The same request, ES.FUT (parent), as a historical file (metadata mappings: requested → id) …
  historical = path.join(tmp.dir, 'hist.trades.dbn');
  await writeDbn({
    version: 3,
    schema: 'trades',
    dataset: 'GLBX.MDP3',
    start: T0,
    stypeIn: 4,
    stypeOut: 0,
    symbols: ['ES.FUT'],
    mappings: [{ rawSymbol: 'ES.FUT', intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '42' }] }],
    records: synthTrades(3, { id: 42 }),
    path: historical,
  });
  // … and as a live capture (in-band mappings: requested ES.FUT, raw ESH4), plus one request by id.
  live = path.join(tmp.dir, 'capture.dbn');
  const later = synthTrades(3, { id: 43 }).map((r) => ({ ...r, sequence: r.sequence + 100 }));
  await writeDbn({
    version: 3,
    schema: null,
    dataset: 'GLBX.MDP3',
    start: T0,
    stypeIn: null,
    stypeOut: 1,
    records: [
      mapping(43, 'ES.FUT', 'ESH4'),
      mapping(44, '44', 'NQH4'),
      ...later,
      ...synthTrades(1, { id: 44 }).map((r) => ({ ...r, sequence: 7 })),
    ],
    path: live,
  });
}, 60_000);
afterAll(() => tmp?.cleanup());

describe.each(ENGINE_KINDS)('requested vs raw symbols on the %s engine', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'live_symbols' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('a historical file and a live capture of the same request store the same, requested, symbol', async () => {
    await loadDbnFileRouted(t.engine, historical);
    await loadDbnFileRouted(t.engine, live);
    const { rows } = await t.engine.query<{ instrument_id: number; symbol: string; n: string }>(
      `SELECT instrument_id, symbol, count(*)::text AS n FROM trades_data GROUP BY 1, 2 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { instrument_id: 42, symbol: 'ES.FUT', n: '3' },
      { instrument_id: 43, symbol: 'ES.FUT', n: '3' },
      { instrument_id: 44, symbol: 'NQH4', n: '1' }, // requested by id: the output symbol names it
    ]);
  });
});
