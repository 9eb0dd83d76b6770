/**
 * Regression: on the embedded engine, `tickvault load --replace` of a file whose instrument ids
 * the file cannot name itself (no symbol mappings: the stored symbol history names them) hung on
 * itself — the replace holds the engine's only connection in one transaction, and the symbol
 * lookup mid-load waited behind it. The process then ran out of work and exited 0 with no output,
 * having replaced nothing: a load the caller took for done. The replace now reads the symbols it
 * needs before its transaction, and a CLI command that stops without finishing exits 1 saying so.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { SYMBOL_HISTORY_TABLE } from '../../src/schema/bookkeeping.js';
import { cli } from '../support/cli.js';
import { count, loadRows, reset } from '../support/db.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { fixture } from '../support/fixtures.js';
import { SYNTH_ID, SYNTH_SYMBOL, synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const ROWS = 500;
let tmp: ReturnType<typeof tmpDir>;
let unnamed: string;

beforeAll(async () => {
  tmp = tmpDir('tickvault-replace-self-');
  // Instrument 42 with no mapping in the file: only the stored symbol history names it.
  unnamed = path.join(tmp.dir, 'unnamed.trades.dbn');
  await writeSynth(synthTrades(ROWS), { file: unnamed, mappings: [], symbols: [] });
});
afterAll(() => tmp?.cleanup());

async function storeHistory(t: TestEngine): Promise<void> {
  await t.engine.query(
    `INSERT INTO ${SYMBOL_HISTORY_TABLE} (instrument_id, symbol, valid_from, valid_to, source) VALUES ($1, $2, '2024-01-01', NULL, 'test')`,
    [SYNTH_ID, SYNTH_SYMBOL],
  );
}

describe.each(ENGINE_KINDS)('replace of a file named by the stored symbol history (%s)', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'replace_self' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('completes, replaces the first load and names every row', async () => {
    await reset(t.engine);
    await storeHistory(t);
    const first = await loadDbnFile(t.engine, unnamed);
    expect(first.recordsInserted).toBe(ROWS);
    const again = await loadDbnFile(t.engine, unnamed, { mode: 'replace' });
    expect(again.status).toBe('completed');
    expect(again.replacedLoadId).toBe(first.loadId);
    expect(again.recordsInserted).toBe(ROWS);
    expect(await count(t.engine, 'trades_data')).toBe(ROWS);
    expect(await count(t.engine, 'trades_data', 'symbol = $1', [SYNTH_SYMBOL])).toBe(ROWS);
  }, 60_000);

  it('ids nobody names: the replace completes with the same quarantine as the first load', async () => {
    await reset(t.engine);
    const stats = fixture('test_data.statistics.dbn');
    const first = await loadDbnFile(t.engine, stats);
    const again = await loadDbnFile(t.engine, stats, { mode: 'replace' });
    expect([first.recordsRejected, again.recordsRejected]).toEqual([2, 2]);
    expect(again.unresolvedIds).toEqual(first.unresolvedIds);
    expect((await loadRows(t.engine, 'statistics_data')).map((l) => l.status)).toEqual(['superseded', 'completed']);
  }, 60_000);
});

describe('the CLI on the embedded engine', () => {
  it('load --replace of a file whose ids nobody names prints its result and exits 3, like the first load', async () => {
    const dir = path.join(tmp.dir, 'db');
    expect((await cli(['--data-dir', dir, 'init'])).code).toBe(0);
    const first = await cli(['--data-dir', dir, 'load', unnamed]);
    const replaced = await cli(['--data-dir', dir, 'load', '--replace', unnamed]);
    expect(replaced.stderr).not.toMatch(/INTERNAL/);
    expect(first.code, first.stderr).toBe(3);
    expect(replaced.code, replaced.stderr).toBe(3);
    expect(replaced.stdout).toMatch(/→ trades_data: \d+ inserted/);
  }, 180_000);
});
