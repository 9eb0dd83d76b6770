/**
 * Which appends skip the per-batch stored-key probes (session.ts inFreshRange): a batch whose time
 * range meets no stored time of its own instruments in its chunk slots. Another instrument's file
 * for the same hours, or later times of the same instrument, take the direct COPY; times that meet
 * stored ones are probed and their stored keys counted as duplicates, on both engines. The
 * statements the loader sends are watched through a wrapper of the real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/types.js';
import { TradesLoader, type TradeRecord } from '../../../src/load/loaders.js';
import { count, reset, uniqueHash } from '../../support/db.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../../support/engines.js';
import { trade } from '../../support/backfill-trades.js';

const DAY = '2024-03-11';

/** The engine, with every SQL text sent through it (and through its connections) recorded. */
function watched(engine: Engine, seen: string[]): Engine {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, key) {
        const v = Reflect.get(t, key);
        if (typeof v !== 'function') return v;
        if (key === 'query')
          return (sql: string, ...rest: unknown[]) => {
            seen.push(sql);
            return v.call(t, sql, ...rest);
          };
        if (key === 'transaction' || key === 'withConnection')
          return (fn: (c: object) => unknown, ...rest: unknown[]) => v.call(t, (c: object) => fn(wrap(c)), ...rest);
        return v.bind(t);
      },
    });
  return wrap(engine);
}

/** The per-batch probes of merge.ts (newest stored time of the batch's instruments; a repeated key after the COPY). */
const PROBE = /instrument_id = ANY\(\$3::int\[\]\)/;

/** 600 trades of `instrument` in hour 10, one every `step` seconds from `from`. */
function trades(instrument: number, from: number, step: number, prefix: string): TradeRecord[] {
  return Array.from({ length: 600 }, (_, k) => trade(DAY, 10, from + k * step, instrument, `${prefix}-${k}`, `${100 + (k % 7)}.25`));
}

describe.each(ENGINE_KINDS)('fresh appends into occupied chunk slots (%s)', (kind) => {
  let te: TestEngine;
  beforeAll(async () => {
    te = await openTestEngine(kind, { name: 'fresh_slots' });
  });
  afterAll(async () => {
    await te?.dispose();
  });

  async function load(records: TradeRecord[], label: string): Promise<{ inserted: number; duplicates: number; probes: number }> {
    const seen: string[] = [];
    const loader = new TradesLoader({ engine: watched(te.engine, seen), batchSize: 100 });
    const r = await loader.bulkLoad(records, { source: { source: label, contentHash: uniqueHash(label) } });
    return { inserted: r.recordsInserted, duplicates: r.duplicates ?? 0, probes: seen.filter((s) => PROBE.test(s)).length };
  }

  it('another instrument in the same hours and later times of the same one skip the probes; times that meet stored ones are probed', async () => {
    await reset(te.engine);
    // Instrument 101, 10:00:00–10:29:57.
    expect(await load(trades(101, 0, 3, 'a'), 'a')).toMatchObject({ inserted: 600, duplicates: 0 });
    // Instrument 102 over the same times: its own keys cannot be stored.
    expect(await load(trades(102, 0, 3, 'b'), 'b')).toEqual({ inserted: 600, duplicates: 0, probes: 0 });
    // Instrument 101 again, 10:30:00–10:39:59: after every stored time of instrument 101.
    expect(await load(trades(101, 1800, 1, 'c'), 'c')).toEqual({ inserted: 600, duplicates: 0, probes: 0 });
    // Instrument 101 from 10:00:00 every 2 s: the even seconds of 'a''s times, with 'a''s trade ids
    // where they coincide (k*2 = j*3 → the same instant as a-j), others new.
    const d = Array.from({ length: 600 }, (_, k) => {
      const s = k * 2;
      return trade(DAY, 10, s, 101, s % 3 === 0 ? `a-${s / 3}` : `d-${k}`, s % 3 === 0 ? `${100 + ((s / 3) % 7)}.25` : '99.5');
    });
    const r = await load(d, 'd');
    // Of d's 600 times up to 10:19:58, 200 (every 6 s) are a's stored trades; 'c' is later.
    expect(r).toMatchObject({ inserted: 400, duplicates: 200 });
    expect(r.probes).toBeGreaterThan(0);
    expect(await count(te.engine, 'trades_data')).toBe(600 * 3 + 400);
  });
});
