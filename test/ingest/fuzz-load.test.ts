/**
 * Random byte mutations of real fixtures (record area only), loaded for real: every load either
 * completes with every record accounted for (inserted + quarantined = records of the table) or
 * fails with a DbnFormatError before writing anything. Never another error — a record the
 * decoder accepts must never abort a load (this found a u16 channel_id above SMALLINT, a
 * 51-70 character symbol and an unmapped id above INTEGER that each failed the whole load).
 * Deterministic seeds; the embedded engine (the server shares the code path).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbnFormatError } from '../../src/dbn/errors.js';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { openTestEngine, type TestEngine } from '../support/engines.js';
import { fixture } from '../support/fixtures.js';
import { headerLength } from '../support/synthetic-dbn.js';
import { count } from '../support/db.js';
import { tmpDir } from '../support/tmp.js';

const FILES = [
  'test_data.trades.dbn',
  'test_data.tbbo.dbn',
  'test_data.ohlcv-1s.dbn',
  'test_data.statistics.dbn',
  'test_data.definition.dbn',
  'test_data.mbp-1.v1.dbn.zst',
  'test_data.statistics.v1.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.statistics.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.trades.dbn.zst',
  'databento-python/IFEU.IMPACT/test_data.definition.dbn.zst',
  'databento-python/EQUS.MINI/test_data.mbp-1.dbn.zst',
  'databento-python/GLBX.MDP3/test_data.ohlcv-1h.dbn.zst',
];
const TABLES = ['trades_data', 'tbbo_data', 'ohlcv_data', 'statistics_data', 'instrument_definitions', 'tickvault_quarantine'];

describe('fuzzed fixtures load or fail cleanly (embedded)', () => {
  let te: TestEngine;
  let tmp: ReturnType<typeof tmpDir>;
  let plain: Buffer[];
  beforeAll(async () => {
    te = await openTestEngine('embedded', { name: 'ingest_fuzz' });
    tmp = tmpDir();
    plain = FILES.map((f) => {
      const b = readFileSync(fixture(f));
      return f.endsWith('.zst') ? spawnSync('zstd', ['-dc'], { input: b }).stdout : b;
    });
  });
  afterAll(async () => {
    await te?.dispose();
    tmp?.cleanup();
  });

  it.each([11, 12, 13])(
    'seed %i: 40 mutated files',
    async (seed) => {
      let s = seed;
      const rnd = () => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return s / 2 ** 32;
      };
      const outcomes: Record<string, number> = {};
      for (let it = 0; it < 40; it++) {
        const k = Math.floor(rnd() * FILES.length);
        const b = Buffer.from(plain[k]!);
        const hdr = headerLength(b);
        const n = 1 + Math.floor(rnd() * 12);
        for (let m = 0; m < n; m++) b[hdr + Math.floor(rnd() * (b.length - hdr))] = Math.floor(rnd() * 256);
        const f = path.join(tmp.dir, `fuzz-${seed}-${it}.dbn`);
        writeFileSync(f, b);
        const before = await Promise.all(TABLES.map((t) => count(te.engine, t)));
        try {
          const r = await loadDbnFile(te.engine, f);
          if (r.table !== 'instrument_definitions') expect(r.recordsInserted + r.recordsRejected, FILES[k]).toBe(r.totalRecords);
          outcomes.ok = (outcomes.ok ?? 0) + 1;
        } catch (err) {
          expect(err, `${FILES[k]} mutated (seed ${seed}, #${it}): ${(err as Error).message}`).toBeInstanceOf(DbnFormatError);
          expect(await Promise.all(TABLES.map((t) => count(te.engine, t)))).toEqual(before);
          outcomes[(err as DbnFormatError).code] = (outcomes[(err as DbnFormatError).code] ?? 0) + 1;
        }
      }
      expect(outcomes.ok).toBeGreaterThan(20);
    },
    120_000,
  );
});
