/**
 * Every record a multi-venue file holds is stored (issue 13 item 1): bars of one instrument and
 * minute from several publishers (OPRA-style), and TBBO records of distinct trades in one
 * microsecond with one book (ICE-style, told apart by their sequence), in append and in upsert
 * mode; a re-run is a no-op, and the same records under another file identity change nothing.
 * Synthetic DBN written by src/dbn/writer.ts; both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliSync } from '../support/cli.js';
import path from 'node:path';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import type { Mbp1Record, OhlcvRecord } from '../../src/dbn/records.js';
import { RTYPE } from '../../src/dbn/constants.js';
import { bars } from '../../src/query/queries.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { reset, count } from '../support/db.js';
import { SYNTH_ID, SYNTH_SYMBOL, writeSynth } from '../support/synthetic-dbn.js';
import { T0 } from '../support/time.js';
import { tmpDir } from '../support/tmp.js';

const PUBLISHERS = [20, 21, 22, 23]; // four OPRA venues
const MINUTES = 30;
const MINUTE_NS = 60_000_000_000n;

/** One 1m bar per venue and minute of instrument 42: same instrument and start, different values. */
function multiVenueBars(): OhlcvRecord[] {
  const out: OhlcvRecord[] = [];
  for (let m = 0; m < MINUTES; m++) {
    for (const [k, pub] of PUBLISHERS.entries()) {
      const base = 1_000_000_000n * BigInt(10 + k) + BigInt(m) * 10_000_000n; // 10.xx, 11.xx, ... per venue
      out.push({
        kind: 'ohlcv',
        rtype: RTYPE.OHLCV_1M,
        publisherId: pub,
        instrumentId: SYNTH_ID,
        tsEvent: T0 + BigInt(m) * MINUTE_NS,
        open: base,
        high: base + 50_000_000n,
        low: base - 50_000_000n,
        close: base + 10_000_000n,
        volume: BigInt(1 + k + m),
      });
    }
  }
  return out;
}

/** Trades' quotes in one microsecond with the same book (sequences apart), on two venues. */
function sameMicrosecondQuotes(): Mbp1Record[] {
  const out: Mbp1Record[] = [];
  const ts = T0 + 2_731_000n;
  for (const pub of [57, 58]) {
    for (let i = 0; i < 5; i++) {
      out.push({
        kind: 'mbp1',
        rtype: RTYPE.MBP_1,
        publisherId: pub,
        instrumentId: SYNTH_ID,
        tsEvent: ts + BigInt(i), // all in one µs
        price: 77_610_000_000n,
        size: 1 + i,
        action: 'T',
        side: 'N',
        flags: 0,
        depth: 0,
        tsRecv: ts + 10_000n,
        tsInDelta: 0,
        sequence: 54_087 + i,
        bidPx: 77_600_000_000n,
        askPx: 77_620_000_000n,
        bidSz: 10,
        askSz: 12,
        bidCt: 1,
        askCt: 1,
      });
    }
  }
  return out;
}

describe.each(ENGINE_KINDS)('multi-venue files store every record (%s)', (kind) => {
  let te: TestEngine;
  const tmp = tmpDir('tickvault-venues-');
  const barsFile = path.join(tmp.dir, 'opra-style.ohlcv-1m.dbn');
  const barsAgain = path.join(tmp.dir, 'opra-style-again.ohlcv-1m.dbn');
  const quotesFile = path.join(tmp.dir, 'ifeu-style.tbbo.dbn');
  const quotesAgain = path.join(tmp.dir, 'ifeu-style-again.tbbo.dbn');
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'ingest_venues' });
    await writeSynth(multiVenueBars(), { schema: 'ohlcv-1m', file: barsFile });
    // The same records under another identity (another dataset name: other bytes, other hash).
    await writeSynth(multiVenueBars(), { schema: 'ohlcv-1m', file: barsAgain, dataset: 'TEST.AGAIN' });
    await writeSynth(sameMicrosecondQuotes(), { schema: 'tbbo', file: quotesFile });
    await writeSynth(sameMicrosecondQuotes(), { schema: 'tbbo', file: quotesAgain, dataset: 'TEST.AGAIN' });
  });
  afterAll(async () => {
    await te?.dispose();
    tmp.cleanup();
  });

  for (const mode of ['append', 'upsert'] as const) {
    it(`ohlcv, ${mode}: one bar per venue and minute, none quarantined or superseded; re-run and the same records again change nothing`, async () => {
      await reset(te.engine);
      const n = PUBLISHERS.length * MINUTES;
      const r = await loadDbnFile(te.engine, barsFile, { mode });
      expect({
        status: r.status,
        inserted: r.recordsInserted,
        rejected: r.recordsRejected,
        superseded: r.backfill?.superseded ?? 0,
      }).toEqual({ status: 'completed', inserted: n, rejected: 0, superseded: 0 });
      expect(await count(te.engine, 'ohlcv_data')).toBe(n);
      const { rows } = await te.engine.query<{ p: number; n: string; v: string }>(
        'SELECT publisher_id AS p, count(*)::text AS n, sum(volume)::text AS v FROM ohlcv_data GROUP BY 1 ORDER BY 1',
      );
      expect(rows.map((x) => [Number(x.p), Number(x.n)])).toEqual(PUBLISHERS.map((p) => [p, MINUTES]));

      expect((await loadDbnFile(te.engine, barsFile, { mode })).status).toBe('already-loaded');
      const again = await loadDbnFile(te.engine, barsAgain, { mode });
      if (mode === 'append') expect([again.recordsInserted, again.duplicates]).toEqual([0, n]);
      else expect([again.recordsInserted, again.recordsUpdated, again.backfill?.superseded ?? 0]).toEqual([0, 0, 0]);
      expect(await count(te.engine, 'ohlcv_data')).toBe(n);

      // Bars are per venue by default; a publisher filter picks one venue.
      const start = '2024-01-02T10:00:00Z';
      const end = '2024-01-02T11:00:00Z';
      const perVenue = await bars(te.engine, SYNTH_SYMBOL, start, end, '1 hour', { source: 'ohlcv', rollup: 'raw' });
      expect(perVenue.map((b) => b.publisherId)).toEqual(PUBLISHERS);
      const one = await bars(te.engine, SYNTH_SYMBOL, start, end, '1 hour', { source: 'ohlcv', rollup: 'raw', publisherId: 21 });
      expect(one).toHaveLength(1);
      expect(one[0]).toMatchObject({ publisherId: 21, open: '11.00000000', close: '11.30000000' });
      expect(one[0]!.volume).toBe(BigInt(rows.find((x) => Number(x.p) === 21)!.v));
      if (kind === 'server' && mode === 'append') {
        // The CLI (built dist/) says the same: a publisher column, --publisher for one venue.
        const cli = (extra: string[]) =>
          cliSync([
            '--database-url',
            te.url,
            'query',
            'bars',
            '--symbol',
            SYNTH_SYMBOL,
            '--start',
            start,
            '--end',
            end,
            '--interval',
            '1 hour',
            '--source',
            'ohlcv',
            '--rollup',
            'raw',
            '--format',
            'csv',
            ...extra,
          ]);
        const all = cli([]);
        expect(all.code, all.stderr).toBe(0);
        expect(
          all.stdout
            .trimEnd()
            .split('\n')
            .map((l) => l.split(',')[1]),
        ).toEqual(['publisher', ...PUBLISHERS.map(String)]);
        const only = cli(['--publisher', '21']);
        expect(
          only.stdout
            .trimEnd()
            .split('\n')
            .slice(1)
            .map((l) => l.split(',').slice(1, 3)),
        ).toEqual([['21', '11.00000000']]);
        expect(cli(['--publisher', 'x']).code).toBe(2);
      }
    });

    it(`tbbo, ${mode}: quotes of distinct trades in one microsecond with one book are all stored (by sequence, per venue)`, async () => {
      await reset(te.engine);
      const r = await loadDbnFile(te.engine, quotesFile, { mode });
      expect({ inserted: r.recordsInserted, rejected: r.recordsRejected, superseded: r.backfill?.superseded ?? 0 }).toEqual({
        inserted: 10,
        rejected: 0,
        superseded: 0,
      });
      const { rows } = await te.engine.query<{ p: number; s: string; t: string }>(
        `SELECT publisher_id AS p, sequence::text AS s, to_char("timestamp" AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS t FROM tbbo_data ORDER BY 1, 2`,
      );
      expect(rows.map((x) => `${x.p}:${x.s}@${x.t}`)).toEqual(
        [57, 58].flatMap((p) => [0, 1, 2, 3, 4].map((i) => `${p}:${54_087 + i}@10:00:00.002731`)),
      );
      expect((await loadDbnFile(te.engine, quotesFile, { mode })).status).toBe('already-loaded');
      const again = await loadDbnFile(te.engine, quotesAgain, { mode });
      if (mode === 'append') expect([again.recordsInserted, again.duplicates]).toEqual([0, 10]);
      else expect([again.recordsInserted, again.recordsUpdated]).toEqual([0, 0]);
      expect(await count(te.engine, 'tbbo_data')).toBe(10);
    });
  }
});
