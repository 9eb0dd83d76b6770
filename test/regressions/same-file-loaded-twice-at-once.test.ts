import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { hashFile } from '../../src/ingest/file-hash.js';
import { loadDbnFile } from '../../src/ingest/load-dbn.js';
import { LoadInProgressError } from '../../src/load/load-claim.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { LOADS_TABLE, QUARANTINE_TABLE } from '../../src/schema/bookkeeping.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const ROWS = 30_000;
const SLOW = 300_000;

let tmp: ReturnType<typeof tmpDir>;
beforeAll(() => {
  tmp = tmpDir('tickvault-same-file-');
});
afterAll(() => tmp?.cleanup());

async function tradesFile(name: string, shiftMinutes: number): Promise<string> {
  const file = path.join(tmp.dir, `${name}.trades.dbn`);
  const shift = BigInt(shiftMinutes) * 60_000_000_000n;
  await writeSynth(
    synthTrades(ROWS, { stepNs: 1_000_000n }).map((r) => ({ ...r, tsEvent: r.tsEvent + shift, tsRecv: r.tsRecv + shift })),
    { file },
  );
  return file;
}

async function counts(t: TestEngine, source: string): Promise<{ rows: number; quarantined: number; loads: string[] }> {
  const rows = await t.engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM trades_data`);
  const q = await t.engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${QUARANTINE_TABLE}`);
  const l = await t.engine.query<{ status: string }>(`SELECT status FROM ${LOADS_TABLE} WHERE source = $1 ORDER BY load_id`, [source]);
  return { rows: Number(rows.rows[0]!.n), quarantined: Number(q.rows[0]!.n), loads: l.rows.map((r) => r.status) };
}

describe('the same file loaded twice at once, server: 20 races of two CLI processes', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine('server', { name: 'same_file_race' });
  }, SLOW);
  afterAll(async () => {
    await t?.dispose();
  });

  it(
    'one copy, no quarantine, one completed ledger row; the other exits 2 or finds it loaded',
    async () => {
      let refused = 0;
      for (let r = 0; r < 20; r++) {
        const file = await tradesFile(`race${r}`, r);
        const [a, b] = await Promise.all([cli(['--database-url', t.url, 'load', file]), cli(['--database-url', t.url, 'load', file])]);
        const codes = [a.code, b.code].sort();
        expect(codes[0], `${a.stderr}\n${b.stderr}`).toBe(0);
        expect([0, 2]).toContain(codes[1]);
        if (codes[1] === 2) {
          refused++;
          const loser = a.code === 2 ? a : b;
          expect(loser.stderr).toMatch(
            new RegExp(`FAILED: the same source is being loaded into trades_data right now \\(load \\d+, pid \\d+ on ${os.hostname()}`),
          );
        } else {
          expect(a.stdout + b.stdout).toMatch(/already loaded/);
        }
        const c = await counts(t, file);
        expect(c.rows).toBe((r + 1) * ROWS);
        expect(c.quarantined).toBe(0);
        expect(c.loads).toEqual(['completed']);
      }
      // The races were real: at least one second process met the first one running.
      expect(refused).toBeGreaterThan(0);
    },
    SLOW,
  );
});

describe.each(ENGINE_KINDS)('one running load per source, in one process (%s)', (kind) => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(kind, { name: 'same_file_claim' });
  }, SLOW);
  afterAll(async () => {
    await t?.dispose();
  });

  it('two bulkLoads of the same source at once: one stores it, the other is refused with the running load named', async () => {
    const records = Array.from({ length: 20_000 }, (_, i) => ({
      timestamp: 1_704_189_600_000_000_000n + BigInt(i) * 1_000_000n,
      instrument_id: 7,
      symbol: 'ESH4',
      price: '5100.25',
      size: 1,
      side: 'B' as const,
      trade_id: `t${i}`,
    }));
    const source = { source: 'same-records', contentHash: `sha256:same-${kind}` };
    const loader = new TradesLoader({ engine: t.engine, batchSize: 1000 });
    const results = await Promise.allSettled([loader.bulkLoad(records, { source }), loader.bulkLoad(records, { source })]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(LoadInProgressError);
    expect((refused[0]!.reason as LoadInProgressError).code).toBe('LOAD_IN_PROGRESS');
    expect((refused[0]!.reason as Error).message).toMatch(new RegExp(`pid ${process.pid} on `));
    const c = await counts(t, 'same-records');
    expect(c).toEqual({ rows: 20_000, quarantined: 0, loads: ['completed'] });
    expect(await loader.bulkLoad(records, { source }).then((r) => r.status)).toBe('already-loaded');
  });

  it('a running load whose process is gone is taken over and resumed at once', async () => {
    await t.engine.query('TRUNCATE trades_data');
    const file = await tradesFile(`stale-${kind}`, 500);
    const hash = await hashFile(file);
    const dead = { pid: 2 ** 22 + 11, host: os.hostname(), since: '2026-01-01T00:00:00.000Z' };
    const { rows } = await t.engine.query<{ id: string }>(
      `INSERT INTO ${LOADS_TABLE} (source, content_hash, target_table, mode, status, batch_size, details)
       VALUES ($1, $2, 'trades_data', 'append', 'running', 50000, $3::jsonb) RETURNING load_id::text AS id`,
      [path.resolve(file), hash, JSON.stringify({ owner: dead })],
    );
    const r = await loadDbnFile(t.engine, file);
    expect(r.loadId).toBe(rows[0]!.id);
    expect(r.status).toBe('completed');
    expect(r.recordsInserted).toBe(ROWS);
    const { rows: d } = await t.engine.query<{ details: { takenOverFrom?: { pid: number } } }>(
      `SELECT details FROM ${LOADS_TABLE} WHERE load_id = $1::bigint`,
      [r.loadId],
    );
    expect(d[0]!.details.takenOverFrom?.pid).toBe(dead.pid);
  });
});
