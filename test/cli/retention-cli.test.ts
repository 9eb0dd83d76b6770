/**
 * Retention end to end through the built CLI (issue 13.2), on an embedded data directory and on
 * a server database: policies from `init` flags and the config file are live (jobs on the
 * community tier; the Apache tier says it has none), `status` and `policy` show them; a load past
 * the window exits 2 and writes nothing, `--plan` says it would be refused, `--allow-expired`
 * loads; `maintain` on a terminal (a pseudo-TTY from util-linux `script`) asks before dropping
 * rows of completed loads and keeps them on "n", runs without asking when there is no terminal
 * (cron) or with --yes; a re-run of the dropped load says its rows are gone and offers --replace.
 * The CLI measures from the wall clock: the rows are from 2024-01-02 and the window is 1 year, so
 * they are past it on any day after 2025-01-02.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { ServerEngine } from '../../src/engine/server.js';
import type { Engine } from '../../src/engine/types.js';
import { ENGINE_KINDS } from '../support/engines.js';
import { createTestDatabase, type TestDatabase } from '../support/server-cluster.js';
import { count } from '../support/db.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SLOW = 240_000;
const ROWS = 50;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TICKVAULT_|DATABASE_URL$|PG)/.test(k)) env[k] = v;
  return env;
}

function run(file: string, args: readonly string[], cwd: string, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { cwd, env: cleanEnv(), timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe.each(ENGINE_KINDS)('retention through the CLI (%s)', (kind) => {
  let tmp: ReturnType<typeof tmpDir>;
  let db: TestDatabase | undefined;
  let target: string[];
  let file: string;
  const cli = (args: readonly string[], input?: string) => run(process.execPath, [CLI, ...target, ...args], tmp.dir, input);
  /** The CLI under a pseudo-terminal: stdin, stdout and stderr are a TTY; `input` is typed into it. */
  const tty = (args: readonly string[], input: string) =>
    run('script', ['-qfec', [process.execPath, CLI, ...target, ...args].map(quote).join(' '), '/dev/null'], tmp.dir, input);
  async function withDb<T>(fn: (e: Engine) => Promise<T>): Promise<T> {
    const e = kind === 'embedded' ? await EmbeddedEngine.open({ dataDir: path.join(tmp.dir, 'data') }) : new ServerEngine({ url: db!.url });
    try {
      return await fn(e);
    } finally {
      await e.close();
    }
  }
  const trades = () => withDb((e) => count(e, 'trades_data'));

  beforeAll(async () => {
    tmp = tmpDir('tickvault-retention-cli-');
    if (kind === 'embedded') target = ['--data-dir', path.join(tmp.dir, 'data')];
    else {
      db = await createTestDatabase(inject('serverUrl'), 'cli_retention');
      target = ['--database-url', db.url];
    }
    file = path.join(tmp.dir, 'old.trades.dbn');
    await writeSynth(synthTrades(ROWS), { file });
    writeFileSync(
      path.join(tmp.dir, 'tickvault.config.json'),
      JSON.stringify({
        policies: { retention: { tbbo_data: '3 years', trades_data: '5 years' }, compressAfter: { trades_data: '7 days' } },
      }),
    );
  });
  afterAll(async () => {
    await db?.drop();
    tmp?.cleanup();
  });

  it('init takes policies from the config file and the flags (a flag wins); they are live; status and policy show them', {
    timeout: SLOW,
  }, async () => {
    const init = await cli(['init', '--retention', 'trades_data=1y']);
    expect(init.code, init.stderr).toBe(0);
    const caps = await withDb((e) => e.capabilities());
    const jobs = await withDb(async (e) =>
      (
        await e.query<{ k: string }>(
          `SELECT proc_name || ' ' || hypertable_name || ' ' || COALESCE(config->>'drop_after', config->>'compress_after') AS k FROM timescaledb_information.jobs
        WHERE proc_name IN ('policy_retention', 'policy_compression') ORDER BY 1`,
        )
      ).rows.map((r) => r.k),
    );
    if (caps.policies) {
      expect(jobs).toEqual(
        expect.arrayContaining([
          'policy_retention tbbo_data 3 years',
          'policy_retention trades_data 1 year',
          'policy_compression trades_data 7 days',
        ]),
      );
      expect(jobs.filter((j) => j.startsWith('policy_retention'))).toHaveLength(2);
    } else {
      expect(jobs).toEqual([]);
    }
    const status = await cli(['status']);
    expect(status.stdout).toMatch(/policies:\n/);
    expect(status.stdout).toMatch(/trades_data +retention 1y +/);
    expect(status.stdout).toMatch(/ohlcv_data +retention none +nothing: history is kept/);
    const policy = await cli(['policy']);
    expect(policy.code).toBe(0);
    if (caps.policies) expect(policy.stdout).toMatch(/trades_data +retention 1y +policy job \d+/);
    else expect(policy.stdout).toMatch(/policies do not exist in this edition/);
    // init again with the same request changes nothing; `policy` changes one table.
    expect((await cli(['init', '--retention', 'trades_data=1y'])).stdout).not.toMatch(/retention trades_data/);
    const set = await cli(['policy', '--retention', 'statistics_data=10y']);
    expect(set.stdout).toMatch(/retention statistics_data: none -> 10y/);
    const bad = await cli(['policy', '--retention', 'nosuch_data=1y']);
    expect(bad.code).toBe(2);
  });

  it('a load past the window exits 2 and writes nothing; --plan says so; --allow-expired loads it', { timeout: SLOW }, async () => {
    const refused = await cli(['load', file]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/is refused: its oldest row \(2024-01-02T10:00:00\.000000Z\) is past trades_data's retention window/);
    expect(refused.stderr).toMatch(/--allow-expired/);
    expect(await trades()).toBe(0);
    const plan = await cli(['load', '--plan', file]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/retention: .*past the window — the load would be REFUSED/);
    const loaded = await cli(['load', '--allow-expired', file]);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(await trades()).toBe(ROWS);
  });

  it('maintain on a terminal asks before dropping loaded rows; no keeps them; without a terminal it drops (cron); the re-run says they are gone', {
    timeout: SLOW,
  }, async () => {
    const no = await tty(['maintain'], 'n\n');
    expect(no.code, no.stdout).toBe(0);
    expect(no.stdout).toMatch(/retention would delete 50 rows of 1 completed load\(s\)/);
    expect(no.stdout).toMatch(/load \d+: 50 rows \(.*old\.trades\.dbn\)/);
    expect(no.stdout).toMatch(/drop these chunks\? \[y\/N\]/);
    expect(no.stdout).toMatch(/trades_data: declined to drop 1 chunk/);
    expect(await trades()).toBe(ROWS);

    const cron = await cli(['maintain']);
    expect(cron.code, cron.stderr).toBe(0);
    expect(cron.stderr).not.toMatch(/\[y\/N\]/);
    expect(cron.stdout).toMatch(/rows of completed loads deleted: 50/);
    expect(await trades()).toBe(0);

    const rerun = await cli(['load', file]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/all 50 stored rows are gone \(retention 1y/);
    expect(rerun.stdout).toMatch(/tickvault load --replace/);
    expect(rerun.stdout).not.toMatch(/nothing to do/);

    const back = await cli(['load', '--replace', '--allow-expired', file]);
    expect(back.code, back.stderr).toBe(0);
    expect(await trades()).toBe(ROWS);
    const yes = await tty(['maintain', '--yes'], '');
    expect(yes.code, yes.stdout).toBe(0);
    expect(yes.stdout).not.toMatch(/\[y\/N\]/);
    expect(await trades()).toBe(0);
  });
});
