/**
 * Regression (issue 13.4): a live capture (trades, quotes, definitions, statistics and symbol
 * mappings in one file) needed one `load --table` per table; a schema tickvault has no table for
 * was refused only after its ledger row ("no default table"), and `--table tbbo_data` on a bbo
 * file recorded a completed 0-row load, so the retry said "already loaded". Now one `tickvault
 * load` routes every record type to its table (one ledger load per table, re-run a no-op); a
 * schema without a table is refused before anything is recorded (exit 2, no ledger row), as is a
 * --table the records cannot map to; a glob loads what it can and reports the rest, each message
 * naming the file once.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbnRecord } from '../../src/dbn/records.js';
import { writeDbn } from '../../src/dbn/writer.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import type { Engine } from '../../src/engine/types.js';
import { readAll, fixture } from '../support/fixtures.js';
import { DATA_TABLES, loadRows, count } from '../support/db.js';
import { SYNTH_ID, synthTrades } from '../support/synthetic-dbn.js';
import { T0 } from '../support/time.js';
import { tmpDir } from '../support/tmp.js';
import { cli } from '../support/cli.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

const UNDEF_TS = 0xffffffffffffffffn;
let tmp: ReturnType<typeof tmpDir>;
let mixed: string;
let bbo: string;

beforeAll(async () => {
  tmp = tmpDir('tickvault-mixed-');
  // A real definition (GLBX, v3) re-issued for the synthetic instrument.
  const def = (await readAll(fixture('databento-python/GLBX.MDP3/test_data.definition.dbn.zst'))).records.find(
    (r) => r.kind === 'definition',
  )!;
  const trades = synthTrades(5);
  const records: DbnRecord[] = [
    {
      kind: 'symbolMapping',
      rtype: 0x16,
      publisherId: 0,
      instrumentId: SYNTH_ID,
      tsEvent: T0 - 1n,
      stypeIn: 1,
      stypeInSymbol: 'TESTH4',
      stypeOut: 0,
      stypeOutSymbol: 'TESTH4',
      startTs: UNDEF_TS,
      endTs: UNDEF_TS,
    },
    { ...def, instrumentId: SYNTH_ID, rawSymbol: 'TESTH4', tsRecv: T0, tsEvent: T0 } as DbnRecord,
    ...trades,
    ...trades.map((t) => ({
      ...t,
      kind: 'mbp1' as const,
      rtype: 1,
      bidPx: t.price - 250_000_000n,
      askPx: t.price + 250_000_000n,
      bidSz: 3,
      askSz: 4,
      bidCt: 1,
      askCt: 1,
    })),
    ...[0, 1, 2].map((i) => ({
      kind: 'stat' as const,
      rtype: 0x18,
      publisherId: 1,
      instrumentId: SYNTH_ID,
      tsEvent: T0 + BigInt(i),
      tsRecv: T0 + 10n,
      tsRef: T0,
      price: 1_000_000_000n,
      quantity: 5n,
      sequence: i,
      tsInDelta: 0,
      statType: 3,
      channelId: 1,
      updateAction: 1,
      statFlags: 0,
    })),
    ...[0, 1, 2, 3].map((i) => ({
      kind: 'ohlcv' as const,
      rtype: 0x21,
      publisherId: 1,
      instrumentId: SYNTH_ID,
      tsEvent: T0 + BigInt(i) * 60_000_000_000n,
      open: 4_780_000_000_000n,
      high: 4_781_000_000_000n,
      low: 4_779_000_000_000n,
      close: 4_780_500_000_000n,
      volume: 10n,
    })),
  ];
  mixed = path.join(tmp.dir, 'capture.live.dbn');
  await writeDbn({ version: 3, schema: null, dataset: 'TEST.SYNTH', start: T0, stypeIn: null, stypeOut: 0, records, path: mixed });
  bbo = path.join(tmp.dir, 'quotes.bbo-1s.dbn');
  await writeDbn({ version: 3, schema: 'bbo-1s', dataset: 'TEST.SYNTH', start: T0, records: [], path: bbo });
}, 60_000);
afterAll(() => tmp?.cleanup());

describe.each(ENGINE_KINDS)('files of several schemas, or of none tickvault stores, on the %s engine', (kind) => {
  let t: TestEngine;
  let target: string[];
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'mixed_schema' });
    target = kind === 'embedded' ? ['--data-dir', path.join(tmp.dir, 'data')] : ['--database-url', t.url];
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  async function read<T>(fn: (e: Engine) => Promise<T>): Promise<T> {
    if (kind === 'server') return fn(t.engine);
    const engine = await EmbeddedEngine.open({ dataDir: path.join(tmp.dir, 'data') });
    try {
      return await fn(engine);
    } finally {
      await engine.close();
    }
  }

  it('a schema without a table, and a --table that cannot map, are refused before any ledger row (exit 2)', async () => {
    for (const args of [
      [bbo],
      [bbo, '--table', 'tbbo_data'],
      [fixture('test_data.status.dbn')],
      [fixture('test_data.trades.dbn'), '--table', 'tbbo_data'],
      [mixed, '--table', 'tbbo_data', '--dry-run'],
    ]) {
      const run = await cli(['load', ...args, ...target, '--lock-wait', '0']);
      // The dry run of one table of a mixed file: the other tables' records would not be stored (3).
      expect(run.code, run.stderr).toBe(args.includes('--dry-run') ? 3 : 2);
      if (args.includes('--dry-run')) continue;
      expect(run.stderr).toMatch(
        /: FAILED: schema (bbo-1s|status) is not stored by tickvault \(stored: mbp-1, tbbo, trades, .*statistics.*\); nothing was loaded|schema trades cannot be loaded into tbbo_data \(its records go to trades_data\)/,
      );
      expect(run.stderr.split(args[0]!).length - 1).toBe(1); // the path once
    }
    await read(async (e) => expect(await loadRows(e)).toEqual([]));
  }, 200_000);

  it('one load of a mixed file fills five tables, one ledger load each; a re-run is a no-op', async () => {
    const run = await cli(['load', mixed, ...target, '--lock-wait', '0']);
    expect(run.code, run.stderr).toBe(0);
    for (const table of DATA_TABLES) expect(run.stdout).toContain(`${mixed} → ${table}: `);
    await read(async (e) => {
      const counts = Object.fromEntries(await Promise.all(DATA_TABLES.map(async (tb) => [tb, await count(e, tb)] as const)));
      expect(counts).toEqual({ ohlcv_data: 4, trades_data: 5, tbbo_data: 5, statistics_data: 3, instrument_definitions: 1 });
      const rows = await loadRows(e);
      expect(rows.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
      const { rows: syms } = await e.query<{ symbol: string }>(`SELECT DISTINCT symbol FROM trades_data`);
      expect(syms).toEqual([{ symbol: 'TESTH4' }]); // from the in-band symbol mapping
    });
    const again = await cli(['load', mixed, ...target, '--lock-wait', '0']);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/already loaded/g)).toHaveLength(5);
  }, 200_000);

  it('a glob loads what it can and reports the rest; the LIVE capture names what no table stores', async () => {
    const glob = path.join(tmp.dir, '*.dbn');
    const run = await cli(['load', glob, fixture('databento-python/LIVE/test_data.live.dbn.zst'), ...target, '--lock-wait', '0']);
    expect(run.code).toBe(2); // the bbo file was refused
    expect(run.stderr).toContain(`${bbo}: FAILED: schema bbo-1s is not stored by tickvault`);
    expect(run.stdout).toContain(`${mixed} → trades_data: already loaded`);
    expect(run.stdout).toMatch(/LIVE\/test_data\.live\.dbn\.zst → statistics_data: 9 inserted/);
    expect(run.stdout).toMatch(/LIVE\/test_data\.live\.dbn\.zst: not stored \(tickvault has no table for them\): 2 mbp-10, 5 mbo/);
  }, 200_000);
});
