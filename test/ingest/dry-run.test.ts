import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliSync } from '../support/cli.js';
import { DbnFormatError } from '../../src/dbn/errors.js';
import { checkDbnFile } from '../../src/ingest/check-dbn.js';
import { fixture } from '../support/fixtures.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const dir = tmpDir('tickvault-dryrun-');
afterAll(() => dir.cleanup());

describe('checkDbnFile (dry run)', () => {
  it('counts valid and would-be-quarantined rows per the table rules', async () => {
    const xnas = await checkDbnFile(fixture('databento-python/XNAS.ITCH/test_data.trades.dbn.zst'));
    expect(xnas).toMatchObject({ table: 'trades_data', records: 4, valid: 4, rejected: 0 }); // side N is stored
    const stats = await checkDbnFile(fixture('test_data.statistics.dbn'));
    expect(stats).toMatchObject({ table: 'statistics_data', records: 2, valid: 0, rejected: 2, unresolvedIds: [146945] });
    const defs = await checkDbnFile(fixture('databento-python/XNAS.ITCH/test_data.definition.dbn.zst'));
    expect(defs).toMatchObject({ table: 'instrument_definitions', records: 1, valid: 1, rejected: 0 }); // NULL tick size is stored
    const synth = path.join(dir.dir, 'ok.dbn');
    await writeSynth(synthTrades(1000, { badSide: (i) => i % 10 === 0 }), { file: synth });
    expect(await checkDbnFile(synth)).toMatchObject({ records: 1000, valid: 900, rejected: 100 });
  });

  it('fails on a truncated file with the byte offset', async () => {
    const file = path.join(dir.dir, 'cut.dbn');
    const bytes = (await writeSynth(synthTrades(10)))!;
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 7));
    await expect(checkDbnFile(file)).rejects.toBeInstanceOf(DbnFormatError);
    await expect(checkDbnFile(file)).rejects.toThrow(/byte offset \d+/);
  });

  it('CLI: exit 3 when rows would be quarantined, 0 when clean, and no database is created', () => {
    const cwd = dir.dir;
    const partial = cliSync(['load', '--dry-run', fixture('test_data.statistics.dbn')], { cwd });
    expect(partial.code, partial.stderr).toBe(3);
    expect(partial.stdout).toMatch(/2 records, 0 valid, 2 would be quarantined/);
    const clean = cliSync(['load', '--dry-run', fixture('test_data.trades.v3.dbn.zst')], { cwd });
    expect(clean.code, clean.stderr).toBe(0);
    expect(fs.existsSync(path.join(cwd, '.tickvault'))).toBe(false);
  });
});
