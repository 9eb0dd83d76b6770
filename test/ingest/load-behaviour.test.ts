/**
 * DBN loads that go wrong or are repeated: truncated, corrupted, empty and wrong-magic files fail
 * with a message naming the byte offset and leave nothing behind (no rows, ledger 'failed' never
 * 'completed'); a re-load is a no-op; --replace swaps a file's rows; ts_out and multi-frame zstd
 * files load with exact counts; ids nothing can name are reported.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbnFormatError } from '../../src/dbn/errors.js';
import type { DbnRecord } from '../../src/dbn/records.js';
import { writeDbn } from '../../src/dbn/writer.js';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { SYNTH_ID, SYNTH_MAPPINGS, SYNTH_SYMBOL, headerLength, synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { T0 } from '../support/time.js';
import { loadRows, quarantineByConstraint, quarantineRows, reset, count, tableText } from '../support/db.js';
import { tmpDir } from '../support/tmp.js';

const TRADE = 48; // bytes per v3 trade record
const N = 60;
const BATCH = 10; // several committed batches before the damage

/** tbbo records (bid, ask) at successive microseconds. */
function mbp1Pair(levels: [bigint, bigint][]): DbnRecord[] {
  return synthTrades(levels.length).map((t, i) => ({
    ...t,
    kind: 'mbp1' as const,
    rtype: 1,
    bidPx: levels[i]![0],
    askPx: levels[i]![1],
    bidSz: 5,
    askSz: 6,
    bidCt: 1,
    askCt: 1,
  }));
}

const zstd = (bytes: Uint8Array): Buffer => {
  const r = spawnSync('zstd', ['-q', '-c'], { input: bytes });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return r.stdout;
};

describe.each(ENGINE_KINDS)('DBN load behaviour (%s)', (kind) => {
  let te: TestEngine;
  let tmp: ReturnType<typeof tmpDir>;
  let good: Uint8Array;
  let hdr: number;
  const file = (name: string) => path.join(tmp.dir, name);

  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'ingest_behaviour' });
    tmp = tmpDir();
    good = (await writeSynth(synthTrades(N)))!;
    hdr = headerLength(good);
    expect(good.length).toBe(hdr + N * TRADE);
  });
  afterAll(async () => {
    await te?.dispose();
    tmp?.cleanup();
  });

  /** Loads a broken file: it must throw DbnFormatError (code, offset) and leave the table empty, no ledger row completed. */
  async function expectCleanFailure(f: string, code: string, message: RegExp): Promise<void> {
    await reset(te.engine);
    const err = await loadDbnFile(te.engine, f, { batchSize: BATCH }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, 'the load must fail').toBeInstanceOf(DbnFormatError);
    expect((err as DbnFormatError).code).toBe(code);
    expect((err as Error).message).toMatch(message);
    expect(await count(te.engine, 'trades_data')).toBe(0);
    expect(await count(te.engine, 'tickvault_quarantine')).toBe(0);
    for (const l of await loadRows(te.engine)) expect(l.status).toBe('failed');
  }

  it('truncated mid-record (plain): DBN_TRUNCATED_RECORD naming the offset, no rows', async () => {
    const cut = hdr + 25 * TRADE + 20; // 25 whole records, then 20 bytes of the 26th
    writeFileSync(file('cut.dbn'), good.subarray(0, cut));
    await expectCleanFailure(
      file('cut.dbn'),
      'DBN_TRUNCATED_RECORD',
      new RegExp(`truncated record at byte offset ${hdr + 25 * TRADE}: needs 48 bytes, 20 available`),
    );
  });

  it('truncated mid-record inside a whole zstd frame, and a cut zstd stream', async () => {
    writeFileSync(file('cut.dbn.zst'), zstd(good.subarray(0, hdr + 41 * TRADE + 7)));
    await expectCleanFailure(file('cut.dbn.zst'), 'DBN_TRUNCATED_RECORD', new RegExp(`byte offset ${hdr + 41 * TRADE}`));
    const z = zstd(good);
    writeFileSync(file('cutz.dbn.zst'), z.subarray(0, z.length - 9));
    await expectCleanFailure(file('cutz.dbn.zst'), 'DBN_ZSTD', /zstd decompression failed .* at byte offset \d+/);
  });

  it('corrupted length byte: 0, below the header, and too small for the rtype', async () => {
    for (const [k, len, re] of [
      [30, 0, /corrupted record length 0 .* at byte offset OFF/],
      [31, 2, /corrupted record length 2 \(x4 = 8 bytes.* at byte offset OFF/],
      [32, 5, /corrupted record length 20 bytes for rtype 0x00 \(needs at least 48\) at byte offset OFF/],
    ] as const) {
      const bad = Uint8Array.from(good);
      bad[hdr + k * TRADE] = len;
      writeFileSync(file(`bad${k}.dbn`), bad);
      await expectCleanFailure(file(`bad${k}.dbn`), 'DBN_BAD_LENGTH', new RegExp(re.source.replace('OFF', String(hdr + k * TRADE))));
    }
  });

  it('empty (0 bytes), wrong magic, truncated metadata: fail before any ledger row', async () => {
    writeFileSync(file('empty.dbn'), new Uint8Array(0));
    await expectCleanFailure(file('empty.dbn'), 'DBN_EMPTY', /0 bytes at byte offset 0/);
    const magic = Uint8Array.from(good);
    magic.set([0x50, 0x4b, 0x03], 0); // "PK\x03": a zip, not DBN
    writeFileSync(file('magic.dbn'), magic);
    await expectCleanFailure(file('magic.dbn'), 'DBN_BAD_MAGIC', /byte offset 0/);
    writeFileSync(file('meta.dbn'), good.subarray(0, 30));
    await expectCleanFailure(file('meta.dbn'), 'DBN_TRUNCATED_METADATA', /truncated metadata at byte offset 30/);
    expect(await loadRows(te.engine)).toEqual([]);
  });

  it('re-loading the same file is a no-op; a renamed copy is recognised by content', async () => {
    await reset(te.engine);
    writeFileSync(file('ok.dbn'), good);
    const first = await loadDbnFile(te.engine, file('ok.dbn'), { batchSize: BATCH });
    expect([first.status, first.recordsInserted, first.recordsRejected]).toEqual(['completed', N, 0]);
    const again = await loadDbnFile(te.engine, file('ok.dbn'), { batchSize: BATCH });
    expect([again.status, again.loadId, again.recordsInserted, again.totalRecords]).toEqual(['already-loaded', first.loadId, 0, N]);
    writeFileSync(file('copy.dbn'), good);
    expect((await loadDbnFile(te.engine, file('copy.dbn'))).status).toBe('already-loaded');
    expect(await count(te.engine, 'trades_data')).toBe(N);
    expect((await loadRows(te.engine)).map((l) => l.status)).toEqual(['completed']);
  });

  it('an interrupted load resumes after its committed batches: every row exactly once', async () => {
    await reset(te.engine);
    const f = file('resume.dbn.zst');
    await writeSynth(synthTrades(N, { badSide: (i) => i % 10 === 9 }), { file: f, compress: 'zstd' });
    let seen = 0;
    const crash = (done: number) => {
      seen = done;
      if (done >= 3 * BATCH) throw new Error('simulated crash after 3 committed batches');
    };
    // One COMMIT per batch (batches prepared ahead would otherwise share the third one's COMMIT).
    await expect(loadDbnFile(te.engine, f, { batchSize: BATCH, maxRowsPerCommit: BATCH, onProgress: crash })).rejects.toThrow(
      /simulated crash/,
    );
    expect(seen).toBe(3 * BATCH);
    expect((await loadRows(te.engine)).map((l) => l.status)).toEqual(['failed']);
    expect(await count(te.engine, 'trades_data')).toBe(27); // 3 batches of 10, one side X each
    const r = await loadDbnFile(te.engine, f, { batchSize: BATCH });
    expect([r.status, r.batchesResumed, r.recordsInserted, r.recordsRejected]).toEqual(['completed', 3, 54, 6]);
    expect(await count(te.engine, 'trades_data')).toBe(54);
    expect(await count(te.engine, 'tickvault_quarantine')).toBe(6);
    const { rows } = await te.engine.query<{ n: string }>(`SELECT count(DISTINCT trade_id)::text AS n FROM trades_data`);
    expect(rows[0]!.n).toBe('54');
  });

  it('--replace: the new contents of a file replace what its previous load stored, atomically', async () => {
    await reset(te.engine);
    const f = file('replace.dbn');
    writeFileSync(f, good);
    const first = await loadDbnFile(te.engine, f, { batchSize: BATCH });
    // Rows of another instrument in the same time range must survive the replace.
    const other = file('other.dbn');
    await writeSynth(synthTrades(5, { id: 43 }), {
      file: other,
      mappings: [{ rawSymbol: 'OTHER', intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '43' }] }],
    });
    await loadDbnFile(te.engine, other);
    // Same path, new contents: 20 trades with other sizes.
    await writeSynth(
      synthTrades(20).map((t) => ({ ...t, size: t.size + 100 })),
      { file: f },
    );
    const r = await loadDbnFile(te.engine, f, { mode: 'replace', batchSize: BATCH });
    expect([r.status, r.replacedLoadId, r.recordsInserted]).toEqual(['completed', first.loadId, 20]);
    const { rows } = await te.engine.query<{ symbol: string; n: string; min: string }>(
      `SELECT symbol, count(*)::text AS n, min(size)::text AS min FROM trades_data GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { symbol: 'OTHER', n: '5', min: '1' },
      { symbol: SYNTH_SYMBOL, n: '20', min: '101' },
    ]);
    const ledger = await loadRows(te.engine, 'trades_data');
    expect(ledger.map((l) => l.status)).toEqual(['superseded', 'completed', 'completed']);
    // Replacing with identical contents is also fine (same rows, not doubled).
    const same = await loadDbnFile(te.engine, f, { mode: 'replace' });
    expect(same.replacedLoadId).toBe(r.loadId);
    expect(await count(te.engine, 'trades_data')).toBe(25);
  });

  it('ts_out records load exactly like the same records without ts_out', async () => {
    await reset(te.engine);
    const recs = synthTrades(N, { badSide: (i) => i % 6 === 5 });
    await writeSynth(recs, { file: file('plain.dbn') });
    const a = await loadDbnFile(te.engine, file('plain.dbn'));
    expect([a.recordsInserted, a.recordsRejected]).toEqual([50, 10]);
    const plain = await tableText(te.engine, 'trades_data');
    await reset(te.engine);
    await writeSynth(synthTrades(N, { badSide: (i) => i % 6 === 5, tsOut: true }), {
      file: file('tsout.dbn.zst'),
      tsOut: true,
      compress: 'zstd',
    });
    const b = await loadDbnFile(te.engine, file('tsout.dbn.zst'), { batchSize: 7 });
    expect([b.recordsInserted, b.recordsRejected]).toEqual([50, 10]);
    expect(await quarantineByConstraint(te.engine, b.loadId)).toEqual({ trades_side_check: 10 });
    expect(await tableText(te.engine, 'trades_data')).toEqual(plain);
  });

  it('multi-frame zstd: every frame is read, exact counts', async () => {
    await reset(te.engine);
    const n = 5000;
    const w = await writeDbn({
      version: 3,
      schema: 'trades',
      start: T0,
      stypeIn: 1,
      stypeOut: 0,
      symbols: [SYNTH_SYMBOL],
      mappings: SYNTH_MAPPINGS,
      records: synthTrades(n, { badSide: (i) => i % 100 === 0, stepNs: 10_000_123n }),
      path: file('multi.dbn.zst'),
      compress: 'zstd',
      multiFrame: true,
      frameBytes: 16_384,
    });
    expect(w.frames).toBeGreaterThan(10);
    const r = await loadDbnFile(te.engine, file('multi.dbn.zst'), { batchSize: 700, workers: 2 });
    expect([r.recordsInserted, r.recordsRejected, r.totalRecords]).toEqual([n - 50, 50, n]);
    expect(await count(te.engine, 'trades_data')).toBe(n - 50);
    const { rows } = await te.engine.query<{ n: string; lo: string; hi: string }>(
      `SELECT count(DISTINCT trade_id)::text AS n, min(trade_id) AS lo, max(trade_id) AS hi FROM trades_data`,
    );
    expect(rows[0]).toEqual({ n: String(n - 50), lo: '1:1001', hi: '1:5999' });
  });

  it('synthetic edge values: UNDEF/zero/negative prices and zero sizes quarantined, 9th decimal rounded half away from zero, crossed vs locked quotes', async () => {
    await reset(te.engine);
    const base = synthTrades(8);
    const px = [
      0x7fffffffffffffffn,
      0n,
      -1_000_000_000n,
      123_456_785n,
      123_456_775n,
      4_780_250_000_001n,
      4_780_250_000_005n,
      1_000_000_000n,
    ];
    const trades = base.map((t, i) => ({ ...t, price: px[i]!, size: i === 7 ? 0 : t.size }));
    await writeSynth(trades, { file: file('edge.trades.dbn') });
    const r = await loadDbnFile(te.engine, file('edge.trades.dbn'));
    expect([r.recordsInserted, r.recordsRejected]).toEqual([4, 4]);
    expect((await quarantineRows(te.engine, r.loadId)).map((q) => [q.record_index, q.constraint_name])).toEqual([
      ['0', 'price_not_null'],
      ['1', 'trades_price_check'],
      ['2', 'trades_price_check'],
      ['7', 'trades_size_check'],
    ]);
    const { rows } = await te.engine.query<{ p: string }>(`SELECT price::text AS p FROM trades_data ORDER BY "timestamp"`);
    // PostgreSQL's own NUMERIC input rule (reference §2): 0.123456785 -> 0.12345679, 0.123456775 -> 0.12345678.
    expect(rows.map((x) => x.p)).toEqual(['0.12345679', '0.12345678', '4780.25000000', '4780.25000001']);

    const quotes = mbp1Pair([
      [4_780_000_000_000n, 4_779_750_000_000n], // crossed: ask < bid -> quarantined
      [4_780_000_000_000n, 4_780_000_000_000n], // locked: ask = bid -> stored, spread 0
      [4_780_000_000_000n, 4_780_250_000_000n],
    ]);
    await writeSynth(quotes, { file: file('edge.tbbo.dbn'), schema: 'tbbo' });
    const q = await loadDbnFile(te.engine, file('edge.tbbo.dbn'));
    expect([q.recordsInserted, q.recordsRejected]).toEqual([2, 1]);
    expect(await quarantineByConstraint(te.engine, q.loadId)).toEqual({ tbbo_prices_check: 1 });
    const spreads = await te.engine.query<{ s: string }>(`SELECT spread::text AS s FROM tbbo_data ORDER BY "timestamp"`);
    expect(spreads.rows.map((x) => x.s)).toEqual(['0.00000000', '0.25000000']);
  });

  it('values a column cannot hold are quarantined per row, never abort the load (u16 channel_id, 60-char symbol)', async () => {
    await reset(te.engine);
    const stats = [40000, 5, 0xffff].map((channelId, i) => ({
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
      channelId,
      updateAction: 1,
      statFlags: 0,
    }));
    await writeSynth(stats, { file: file('chan.dbn'), schema: 'statistics' });
    const s = await loadDbnFile(te.engine, file('chan.dbn'));
    expect([s.status, s.recordsInserted, s.recordsRejected]).toEqual(['completed', 2, 1]);
    expect((await quarantineRows(te.engine, s.loadId)).map((q) => q.reason)).toEqual(['channel_id: 40000 is out of range for SMALLINT']);
    const { rows } = await te.engine.query<{ c: string | null }>(`SELECT channel_id::text AS c FROM statistics_data ORDER BY "timestamp"`);
    expect(rows.map((r) => r.c)).toEqual(['5', null]); // 0xFFFF = no channel
    // DBN v2/v3 symbols reach 70 characters; symbol is VARCHAR(50).
    const long = 'L'.repeat(60);
    await writeSynth([...synthTrades(1), ...synthTrades(2, { id: 43 })], {
      file: file('long.dbn'),
      symbols: [long, 'OK'],
      mappings: [
        { rawSymbol: long, intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '42' }] },
        { rawSymbol: 'OK', intervals: [{ startDate: 20240102, endDate: 20240103, symbol: '43' }] },
      ],
    });
    const t = await loadDbnFile(te.engine, file('long.dbn'));
    expect([t.status, t.recordsInserted, t.recordsRejected]).toEqual(['completed', 2, 1]);
    expect((await quarantineRows(te.engine, t.loadId)).map((q) => q.reason)).toEqual([
      `symbol: "${'L'.repeat(40)}" is longer than 50 characters`,
    ]);
  });

  it('rows carry the REQUESTED symbol: a continuous request (ES.c.0) labels rows ES.c.0 across the roll', async () => {
    await reset(te.engine);
    // Day 1 the front month is id 42, day 2 it is id 43 (a roll): both map to the requested ES.c.0.
    const day1 = synthTrades(3);
    const day2 = synthTrades(3, { id: 43 }).map((t) => ({
      ...t,
      tsEvent: t.tsEvent + 86_400_000_000_000n,
      tsRecv: t.tsRecv + 86_400_000_000_000n,
      sequence: t.sequence + 100,
    }));
    await writeSynth([...day1, ...day2], {
      file: file('cont.dbn'),
      stypeIn: 3,
      symbols: ['ES.c.0'],
      mappings: [
        {
          rawSymbol: 'ES.c.0',
          intervals: [
            { startDate: 20240102, endDate: 20240103, symbol: '42' },
            { startDate: 20240103, endDate: 20240104, symbol: '43' },
          ],
        },
      ],
    });
    const r = await loadDbnFile(te.engine, file('cont.dbn'));
    expect([r.recordsInserted, r.unresolvedIds]).toEqual([6, []]);
    const { rows } = await te.engine.query<{ instrument_id: number; symbol: string; n: string }>(
      `SELECT instrument_id, symbol, count(*)::text AS n FROM trades_data GROUP BY 1, 2 ORDER BY 1`,
    );
    expect(rows).toEqual([
      { instrument_id: 42, symbol: 'ES.c.0', n: '3' },
      { instrument_id: 43, symbol: 'ES.c.0', n: '3' },
    ]);
  });

  it('an unmapped instrument_id above INTEGER is quarantined, not a failed history lookup that aborts the load', async () => {
    await reset(te.engine);
    await writeSynth([...synthTrades(3), ...synthTrades(2, { id: 3_000_000_000 }).map((t) => ({ ...t, sequence: t.sequence + 50 }))], {
      file: file('bigid.dbn'),
    });
    const r = await loadDbnFile(te.engine, file('bigid.dbn'));
    expect([r.status, r.recordsInserted, r.recordsRejected, r.unresolvedIds]).toEqual(['completed', 3, 2, [3_000_000_000]]);
    expect((await quarantineRows(te.engine, r.loadId)).map((q) => q.reason)).toEqual([
      'instrument_id 3000000000 does not fit INTEGER',
      'instrument_id 3000000000 does not fit INTEGER',
    ]);
  });

  it('over many decoder batches, only ids the file cannot name are looked up in the stored history', async () => {
    await reset(te.engine);
    // The history knows 77 (not in the file) and also 42 under another name: the file's own
    // mapping of 42 must win on every row, whichever batch a row falls in.
    await te.engine.query(`INSERT INTO tickvault_symbol_history (instrument_id, symbol, valid_from, valid_to) VALUES
      (77, 'HIST77', '2024-01-01', NULL), (42, 'OLD42', '2024-01-01', NULL)`);
    // ~4.6 decoder batches of 1 MiB: 77 and 42 alternate for a while, then 42 with an 88 (named
    // nowhere, so every later batch still has rows to look up) now and then.
    const recs = synthTrades(100_000, { stepNs: 100_000n }).map((t, i) => ({
      ...t,
      instrumentId: i < 25_000 ? (i % 2 === 0 ? 77 : SYNTH_ID) : i % 1000 === 0 ? 88 : SYNTH_ID,
    }));
    await writeSynth(recs, { file: file('history-mix.dbn') });
    const r = await loadDbnFile(te.engine, file('history-mix.dbn'));
    expect([r.recordsInserted, r.recordsRejected, r.unresolvedIds]).toEqual([100_000 - 75, 75, [88]]);
    const { rows } = await te.engine.query<{ instrument_id: number; symbol: string; n: string }>(
      `SELECT instrument_id, symbol, count(*)::text AS n FROM trades_data GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { instrument_id: SYNTH_ID, symbol: SYNTH_SYMBOL, n: String(100_000 - 12_500 - 75) },
      { instrument_id: 77, symbol: 'HIST77', n: '12500' },
    ]);
  });

  it('ids that neither the file nor the stored definitions name are reported and quarantined', async () => {
    await reset(te.engine);
    // Mappings for 42 only; 7 records of id 77 and 3 of id 42 outside the mapped day.
    const recs = [
      ...synthTrades(20),
      ...synthTrades(7, { id: 77 }).map((t) => ({ ...t, tsEvent: t.tsEvent + 1n, sequence: t.sequence + 500 })),
    ];
    const late = synthTrades(3).map((t) => ({
      ...t,
      tsEvent: t.tsEvent + 86_400_000_000_000n,
      tsRecv: t.tsRecv + 86_400_000_000_000n,
      sequence: t.sequence + 900,
    }));
    await writeSynth([...recs, ...late], { file: file('unmapped.dbn') });
    const r = await loadDbnFile(te.engine, file('unmapped.dbn'));
    expect(r.unresolvedIds).toEqual([SYNTH_ID, 77]);
    expect([r.recordsInserted, r.recordsRejected]).toEqual([20, 10]);
    expect(await quarantineByConstraint(te.engine, r.loadId)).toEqual({ symbol_not_null: 10 });
    // A file with no mappings at all.
    await writeSynth(synthTrades(4, { id: 99 }), { file: file('nomap.dbn'), mappings: [], symbols: [], stypeIn: 0 });
    const none = await loadDbnFile(te.engine, file('nomap.dbn'));
    expect([none.unresolvedIds, none.recordsInserted, none.recordsRejected]).toEqual([[99], 0, 4]);
  });
});
