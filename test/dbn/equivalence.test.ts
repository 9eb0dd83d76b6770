import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type DbnRecord, zstdCliAvailable } from '../../src/dbn/index.js';
import { chunked, fixture, fixtureFiles, readAll } from '../support/fixtures.js';

/** Keeps only the fields both records have (v1/v2 definitions have fields v3 dropped, and v.v.). */
function common(a: DbnRecord, b: DbnRecord): [Record<string, unknown>, Record<string, unknown>] {
  const x: Record<string, unknown> = {};
  const y: Record<string, unknown> = {};
  for (const k of Object.keys(a)) {
    if (k in b) {
      x[k] = (a as unknown as Record<string, unknown>)[k];
      y[k] = (b as unknown as Record<string, unknown>)[k];
    }
  }
  return [x, y];
}

const SCHEMAS = [
  'definition',
  'imbalance',
  'mbp-1',
  'ohlcv-1d',
  'ohlcv-1h',
  'ohlcv-1m',
  'ohlcv-1s',
  'statistics',
  'status',
  'tbbo',
  'trades',
];

describe('same data, different container', () => {
  it.each(SCHEMAS)('%s: .dbn (v2) and .dbn.zst v1/v2/v3 decode to identical values', async (schema) => {
    const base = (await readAll(fixture(`test_data.${schema}.dbn`))).records;
    for (const v of [1, 2, 3]) {
      const file = `test_data.${schema}.v${v}.dbn.zst`;
      if (schema === 'status' && v === 1) continue; // no v1 file upstream
      const recs = (await readAll(fixture(file))).records;
      expect(recs.length, file).toBe(base.length);
      recs.forEach((r, i) => {
        const [x, y] = common(r, base[i]!);
        expect(Object.keys(x).length).toBeGreaterThan(5);
        expect(x, `${file} record ${i}`).toEqual(y);
      });
    }
  });

  const zst = fixtureFiles().filter((f) => f.endsWith('.zst'));
  it.runIf(zstdCliAvailable())('zstd binary and fzstd give identical records for every compressed fixture', async () => {
    for (const f of zst) {
      const a = (await readAll(fixture(f), { zstd: 'cli' })).records;
      const b = (await readAll(fixture(f), { zstd: 'js' })).records;
      expect(a, f).toEqual(b);
    }
  });

  it('path, in-memory bytes and a 1-byte-chunk stream give identical records', async () => {
    for (const f of ['test_data.definition.dbn', 'databento-python/LIVE/test_data.live.dbn.zst', 'test_data.trades.v1.dbn.zst']) {
      const bytes = readFileSync(fixture(f));
      const a = (await readAll(fixture(f))).records;
      const b = (await readAll(new Uint8Array(bytes))).records;
      const c = (await readAll(chunked(bytes, 1), { zstd: 'js' })).records;
      const d = (await readAll(chunked(bytes, 7), { zstd: 'auto', batchBytes: 64 })).records;
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      expect(d).toEqual(a);
    }
  });
});
