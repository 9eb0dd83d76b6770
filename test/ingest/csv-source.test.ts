/**
 * CSV sources (ingest/csv-source.ts, tabular-source.ts, column-mapping.ts): Databento's own CSV
 * encodings of the DBN fixtures (`dbn --csv` raw and pretty, databento-python to_csv) load with no
 * options to exactly the rows the DBN file loads (every column); gzip and zstd too; a vendor's
 * CSV loads with a mapping; bad rows are quarantined with their reason and line; a file loaded
 * twice is a no-op; the dry run counts what the load does; maxRejects stops the load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { checkTabularFile, loadFile } from '../../src/ingest/load-file.js';
import { parseMapArg } from '../../src/ingest/column-mapping.js';
import { MaxRejectsError } from '../../src/load/max-rejects.js';
import { tableSpec, tradesData } from '../../src/schema/tables.js';
import { count, quarantineRows, readRows, reset, snapshot } from '../support/db.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { FIXTURES } from '../support/fixtures.js';
import { tmpDir } from '../support/tmp.js';
import { recordsWithSymbols, toCsv, type Style } from '../support/databento-tabular.js';

const CASES = [
  'test_data.trades.v2.dbn.zst',
  'test_data.tbbo.dbn',
  'test_data.mbp-1.dbn',
  'test_data.ohlcv-1s.dbn',
  'test_data.statistics.dbn',
  'databento-python/GLBX.MDP3/test_data.trades.dbn.zst',
  'databento-python/EQUS.MINI/test_data.mbp-1.dbn.zst',
  'databento-python/EQUS.MINI/test_data.trades.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.ohlcv-1m.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.statistics.dbn.zst',
];
const STYLES: Style[] = ['raw', 'pretty', 'python'];

const tmp = tmpDir('tickvault-csv-');
afterAll(() => tmp.cleanup());

async function writeCsv(rel: string, style: Style, suffix = ''): Promise<string> {
  const { records, symbols } = await recordsWithSymbols(path.join(FIXTURES, rel));
  const file = path.join(tmp.dir, `${rel.replaceAll('/', '_')}.${style}${suffix}.csv`);
  writeFileSync(file, toCsv(records, symbols, style));
  return file;
}

describe.each(ENGINE_KINDS)('CSV sources (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'csv_source' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  it.each(CASES.flatMap((rel) => STYLES.map((s) => [rel, s] as const)))(
    '%s as %s CSV stores what the DBN file stores',
    async (rel, style) => {
      await reset(te.engine);
      const dbn = await loadDbnFile(te.engine, path.join(FIXTURES, rel));
      const spec = tableSpec(dbn.table);
      const expected = await snapshot(te.engine, spec);
      expect(dbn.recordsInserted + dbn.recordsRejected).toBeGreaterThan(0);
      await reset(te.engine);
      const csv = await writeCsv(rel, style);
      const r = await loadFile(te.engine, csv);
      expect(r.table).toBe(dbn.table);
      expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({
        inserted: dbn.recordsInserted,
        rejected: dbn.recordsRejected,
      });
      expect(await snapshot(te.engine, spec)).toEqual(expected);
    },
  );

  it.each(['gz', 'zst'])('a .csv.%s loads like the plain CSV', async (ext) => {
    await reset(te.engine);
    const plain = await writeCsv('databento-python/GLBX.MDP3/test_data.trades.dbn.zst', 'pretty', ext);
    const packed = `${plain}.${ext}`;
    if (ext === 'gz') writeFileSync(packed, gzipSync(readFileSync(plain)));
    else execFileSync('zstd', ['-q', '-f', plain, '-o', packed]);
    const r = await loadFile(te.engine, packed);
    expect(r.recordsInserted).toBe(4);
    const viaPlain = await snapshot(te.engine, tradesData);
    await reset(te.engine);
    await loadFile(te.engine, plain);
    expect(await snapshot(te.engine, tradesData)).toEqual(viaPlain);
  });

  it('a vendor CSV loads with a mapping (ms timestamps, decimal prices, a constant)', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'vendor.csv');
    writeFileSync(
      file,
      'ts_ms,ticker,px,qty,aggressor,id\n1709546400123,ESH4,5100.25,3,B,t1\n1709546400124,ESH4,5100.123456789,1,A,t2\n1709546400125,ESH4,0.00000001,2,N,t3\n',
    );
    const mapping = parseMapArg('timestamp=ts_ms:ms,symbol=ticker,price=px,size=qty,side=aggressor,trade_id=id,instrument_id=const:7');
    const r = await loadFile(te.engine, file, { table: 'trades_data', mapping });
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 2, rejected: 1 });
    const rows = await readRows(te.engine, tradesData);
    expect(rows.map((x) => [x.timestamp, x.symbol, x.price, x.size, x.side, x.trade_id, x.instrument_id])).toEqual([
      ['2024-03-04 10:00:00.123', 'ESH4', '5100.25000000', '3', 'B', 't1', '7'],
      ['2024-03-04 10:00:00.125', 'ESH4', '0.00000001', '2', 'N', 't3', '7'],
    ]);
    // 9 decimals in a vendor's price: refused, never rounded.
    const [q] = await quarantineRows(te.engine, r.loadId);
    expect(q!.reason).toMatch(/price: .*has 9 decimals; the column keeps 8/);
    expect(JSON.parse(q!.record)).toMatchObject({ source_line: 3, cells: { px: '5100.123456789' } });
  });

  it('bad rows are quarantined with their reason and line; nothing else is lost', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'bad.csv');
    const good = await recordsWithSymbols(path.join(FIXTURES, 'databento-python/GLBX.MDP3/test_data.trades.dbn.zst'));
    const lines = toCsv(good.records, good.symbols, 'pretty').trimEnd().split('\n');
    const header = lines[0]!;
    const bad = [
      lines[1]!.replace(/,\d+\.\d{9},/, ',12x.5,'), // line 3: a bad number
      lines[2]!.split(',').slice(0, 5).join(','), // line 4: a short row
      lines[3]!.replace(/,([^,]*)$/, ',"$1"x'), // line 5: text after a closing quote
    ];
    const body = `${[header, lines[1], ...bad, lines[2]].join('\n')}\n`;
    // line 7: the symbol's bytes are not UTF-8
    const notUtf8 = Buffer.concat([Buffer.from(lines[3]!.slice(0, -4)), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]);
    writeFileSync(file, Buffer.concat([Buffer.from(body), notUtf8]));
    const r = await loadFile(te.engine, file);
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 2, rejected: 4 });
    const q = (await quarantineRows(te.engine, r.loadId)).map((x) => ({ reason: x.reason, line: JSON.parse(x.record).source_line }));
    expect(q).toEqual([
      { reason: expect.stringMatching(/^price: not a number: "12x\.5"/), line: 3 },
      { reason: 'the row has 5 fields, the header 14', line: 4 },
      { reason: expect.stringMatching(/^the row is not CSV: text after the closing quote of field 14: "x"/), line: 5 },
      { reason: expect.stringMatching(/not valid UTF-8/), line: 7 },
    ]);
  });

  it('the same file twice: the second load is a no-op that says so', async () => {
    await reset(te.engine);
    const csv = await writeCsv('databento-python/GLBX.MDP3/test_data.trades.dbn.zst', 'raw', '-twice');
    const first = await loadFile(te.engine, csv);
    const second = await loadFile(te.engine, csv);
    expect(first.status).toBe('completed');
    expect(second.status).toBe('already-loaded');
    expect(second.loadId).toBe(first.loadId);
    expect(await count(te.engine, 'trades_data')).toBe(4);
  });

  it('the dry run counts what a real load stores and quarantines', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'dry.csv');
    const { records, symbols } = await recordsWithSymbols(path.join(FIXTURES, 'databento-python/EQUS.MINI/test_data.trades.dbn.zst'));
    const text = toCsv(records, symbols, 'python').trimEnd().split('\n');
    writeFileSync(file, `${[...text, text[1]!.replace(/,[^,]*$/, ',')].join('\n')}\n`); // + a row without a symbol
    const dry = await checkTabularFile(file);
    const real = await loadFile(te.engine, file);
    expect(dry.records).toBe(real.totalRecords);
    expect({ valid: dry.valid, rejected: dry.rejected }).toEqual({ valid: real.recordsInserted, rejected: real.recordsRejected });
    expect(real.recordsRejected).toBeGreaterThan(0);
  });

  it('maxRejects stops the load before it quarantines more', async () => {
    await reset(te.engine);
    const file = path.join(tmp.dir, 'rejects.csv');
    const rows = ['ts,symbol,instrument_id,price,size,side'];
    for (let i = 0; i < 10; i++) rows.push(`2024-03-04T10:00:0${i}Z,ESH4,1,${i % 2 ? 'bad' : '10.5'},1,B`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    await expect(
      loadFile(te.engine, file, { mapping: parseMapArg('timestamp=ts:iso'), maxRejects: 2, batchSize: 2 }),
    ).rejects.toBeInstanceOf(MaxRejectsError);
    expect(await count(te.engine, 'tickvault_quarantine')).toBeLessThanOrEqual(2);
    const r = await loadFile(te.engine, file, { mapping: parseMapArg('timestamp=ts:iso'), batchSize: 2 });
    expect({ inserted: r.recordsInserted, rejected: r.recordsRejected }).toEqual({ inserted: 5, rejected: 5 });
  });
});
