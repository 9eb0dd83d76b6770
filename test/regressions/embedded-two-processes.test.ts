/**
 * Regression (issue 14.1): two `tickvault load` processes started together on one embedded data
 * directory both printed success, and the database afterwards held only the last one's rows and
 * ledger row — each process had worked on its own copy of the directory. Now the second waits
 * for the first (both stored in full) or, with --lock-wait 0, fails with exit 2 and writes nothing.
 * The same holds for a load beside `tickvault serve`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, CLI, ROOT, cleanEnv } from '../support/cli.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { lockFileFor } from '../../src/engine/data-dir-lock.js';
import { loadRows, count } from '../support/db.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const SLOW = 300_000;
const ROWS = 20_000;

let tmp: ReturnType<typeof tmpDir>;
let dir: string;
let files: string[];

/** Distinct trades per file: each file's records are shifted by its own minute. */
async function tradesFile(i: number): Promise<string> {
  const file = path.join(tmp.dir, `f${i}.trades.dbn`);
  const shift = BigInt(i) * 60_000_000_000n;
  const records = synthTrades(ROWS, { stepNs: 1_000_000n }).map((r) => ({ ...r, tsEvent: r.tsEvent + shift, tsRecv: r.tsRecv + shift }));
  await writeSynth(records, { file });
  return file;
}

async function stored(): Promise<{ rows: number; loads: { source: string; status: string; records_inserted: string }[] }> {
  const engine = await EmbeddedEngine.open({ dataDir: dir });
  try {
    return { rows: await count(engine, 'trades_data'), loads: await loadRows(engine, 'trades_data') };
  } finally {
    await engine.close();
  }
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  tmp = tmpDir('tickvault-two-writers-');
  dir = path.join(tmp.dir, 'data');
  files = await Promise.all(Array.from({ length: 12 }, (_, i) => tradesFile(i)));
  expect((await cli(['--data-dir', dir, 'init'])).code).toBe(0);
}, SLOW);
afterAll(() => tmp?.cleanup());

describe('two processes on one embedded data directory', () => {
  it(
    'loads of different files started together are both stored in full, one after the other',
    async () => {
      const rounds = 4;
      const stderr: string[] = [];
      for (let r = 0; r < rounds; r++) {
        const [a, b] = await Promise.all([
          cli(['--data-dir', dir, 'load', files[2 * r]!]),
          cli(['--data-dir', dir, 'load', files[2 * r + 1]!]),
        ]);
        expect(a.code, a.stderr).toBe(0);
        expect(b.code, b.stderr).toBe(0);
        expect(`${a.stdout}\n${b.stdout}`).toMatch(new RegExp(`${ROWS} inserted[\\s\\S]*${ROWS} inserted`));
        stderr.push(a.stderr + b.stderr);
      }
      const s = await stored();
      expect(s.rows).toBe(rounds * 2 * ROWS);
      expect(s.loads.map((l) => [path.basename(l.source), l.status, l.records_inserted]).sort()).toEqual(
        files
          .slice(0, 2 * rounds)
          .map((f) => [path.basename(f), 'completed', String(ROWS)])
          .sort(),
      );
      expect(existsSync(lockFileFor(dir))).toBe(false);
      // In every round the one that waited said for whom.
      for (const e of stderr) expect(e).toMatch(/in use by pid \d+ on .* \(tickvault .*load/);
    },
    SLOW,
  );

  it(
    'with --lock-wait 0 the second fails with exit 2, names the holder and writes nothing',
    async () => {
      const before = await stored();
      const [a, b] = await Promise.all([
        cli(['--data-dir', dir, '--lock-wait', '0', 'load', files[8]!]),
        cli(['--data-dir', dir, '--lock-wait', '0', 'load', files[9]!]),
      ]);
      const [won, lost] = a.code === 0 ? [a, b] : [b, a];
      expect(won.code, won.stderr).toBe(0);
      expect(lost.code, lost.stderr).toBe(2);
      expect(lost.stderr).toMatch(/^tickvault: error \[DATA_DIR_LOCKED\]: the embedded database at .* is in use by pid \d+/);
      const after = await stored();
      expect(after.rows).toBe(before.rows + ROWS);
      expect(after.loads).toHaveLength(before.loads.length + 1);
    },
    SLOW,
  );

  it(
    'a load beside `serve` fails clearly while serve runs and works once it stops',
    async () => {
      const before = await stored();
      const serve = spawn(process.execPath, [CLI, '--data-dir', dir, 'serve', '--port', '0'], {
        cwd: ROOT,
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          serve.stdout.on('data', (d: Buffer) => {
            if (d.toString().includes('serving')) resolve();
          });
          serve.once('exit', (c) => reject(new Error(`serve exited with ${c}`)));
        });
        const r = await cli(['--data-dir', dir, '--lock-wait', '1', 'load', files[10]!]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/waiting up to 1 s/);
        expect(r.stderr).toMatch(/in use by pid \d+ .*\(tickvault .*serve --port 0\).*waited 1 s/);
      } finally {
        serve.kill('SIGTERM');
        await new Promise((r) => (serve.exitCode !== null ? r(null) : serve.once('exit', r)));
      }
      expect(serve.exitCode).toBe(0);
      const r = await cli(['--data-dir', dir, 'load', files[10]!]);
      expect(r.code, r.stderr).toBe(0);
      const after = await stored();
      expect(after.rows).toBe(before.rows + ROWS);
    },
    SLOW,
  );

  it('a bad --lock-wait is a usage error', async () => {
    const r = await cli(['--data-dir', dir, '--lock-wait', 'soon', 'status']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lock-wait must be a number of seconds/);
  });
});
