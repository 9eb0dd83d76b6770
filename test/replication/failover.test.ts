/**
 * Failover without loss or duplicates: a 1M-row load (a spawned `tickvault load`) runs against
 * `primary,standby`; the primary's postmaster is killed with SIGKILL mid-load; with no primary the
 * same command is refused (it never writes to the host in recovery); the standby is promoted and
 * the same command, against the same host list, completes the load: every row exactly once, and
 * a ledger whose batches add up to the table.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, cleanEnv, cli, cliCwd } from '../support/cli.js';
import { withClient } from '../support/pg-client.js';
import { clusterUrl, hostListUrl, startReplicationSet, type ReplicationSet } from '../support/replication-cluster.js';
import { createTestDatabase } from '../support/server-cluster.js';
import { synthTradeStream, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const ROWS = 1_000_000;
let tmp: ReturnType<typeof tmpDir>;
let file: string;
const sets: ReplicationSet[] = [];

/** A primary + standby with a fresh, initialised database. */
async function freshSet(): Promise<{ set: ReplicationSet; db: string }> {
  // Statement logging off: a million rows of COPY is enough work.
  const set = await startReplicationSet({ standbys: 1, settings: { log_statement: 'none' } });
  sets.push(set);
  const db = (await createTestDatabase(set.primary.url, 'failover', { timescaledb: true })).name;
  const init = await cli(['--database-url', hostListUrl([set.primary.port, set.standbys[0]!.port], db), 'init']);
  expect(init.code, init.stderr).toBe(0);
  return { set, db };
}

beforeAll(async () => {
  tmp = tmpDir('tickvault-failover-');
  file = path.join(tmp.dir, 'million.dbn');
  // 20 ms apart: one UTC day, so the file's single symbol mapping covers every row.
  await writeSynth(synthTradeStream(ROWS, { stepNs: 20_000_000n }), { file });
}, 240_000);

afterAll(async () => {
  await Promise.all(sets.map((s) => s.stop()));
  tmp?.cleanup();
});

/** Spawns `tickvault load` as a user would; resolves with its exit code. */
function spawnLoad(
  args: string[],
  env: Record<string, string>,
): { exited: Promise<number | null>; stderr: () => string; running: () => boolean } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: cliCwd(), env: cleanEnv(env), stdio: 'pipe' });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { exited, stderr: () => err, running: () => child.exitCode === null };
}

/** Waits until the primary's ledger holds `rows` loaded rows (a few batches committed). */
async function waitForBatches(url: string, rows: number, load: ReturnType<typeof spawnLoad>): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const n = await loadedSoFar(url).catch(() => 0);
    if (n >= rows) return n;
    if (Date.now() > deadline || !load.running()) throw new Error(`the load did not get going: ${load.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectExactlyOnce(url: string): Promise<void> {
  await withClient(url, async (c) => {
    const t = (await c.query('SELECT count(*)::int AS n, count(DISTINCT "timestamp")::int AS distinct_rows FROM trades_data')).rows[0];
    expect(t).toEqual({ n: ROWS, distinct_rows: ROWS });
    const loads = (
      await c.query(
        `SELECT status, records_inserted::int AS inserted, records_rejected::int AS rejected FROM tickvault_loads WHERE target_table = 'trades_data'`,
      )
    ).rows;
    expect(loads).toEqual([{ status: 'completed', inserted: ROWS, rejected: 0 }]);
    expect(await loadedSoFar(url)).toBe(ROWS);
    expect(Number((await c.query('SELECT count(*)::int AS n FROM tickvault_quarantine')).rows[0].n)).toBe(0);
  });
}

async function loadedSoFar(url: string): Promise<number> {
  return withClient(url, async (c) =>
    Number((await c.query('SELECT coalesce(sum(records_inserted), 0)::int AS n FROM tickvault_load_batches')).rows[0].n),
  );
}

it('kill -9 of the primary mid-load, promote the standby, re-run: every row exactly once, ledger consistent', async () => {
  const { set, db } = await freshSet();
  const hosts = hostListUrl([set.primary.port, set.standbys[0]!.port], db);
  const primaryUrl = clusterUrl(set.primary, db);
  const standbyUrl = clusterUrl(set.standbys[0]!, db);
  const args = ['--database-url', hosts, 'load', file];
  // No retry window: the killed load fails at once instead of waiting for the promotion.
  const load = spawnLoad(args, { TICKVAULT_RETRY_WINDOW: '0' });
  const atKill = await waitForBatches(primaryUrl, 150_000, load);
  set.primary.killPostmaster();
  expect(atKill).toBeLessThan(ROWS);
  expect(await load.exited, load.stderr()).not.toBe(0);

  // The standby holds what it replayed: at most what the primary committed; maybe less (async).
  const onStandby = await loadedSoFar(standbyUrl);
  expect(onStandby).toBeLessThan(ROWS);
  const rowsOnStandby = await withClient(standbyUrl, async (c) =>
    Number((await c.query('SELECT count(*)::int AS n FROM trades_data')).rows[0].n),
  );
  expect(rowsOnStandby).toBe(onStandby); // every replayed batch came with its ledger row, and nothing else did

  // No primary: the same command is refused, nothing written to the standby.
  const refused = await cli(args, { env: { TICKVAULT_RETRY_WINDOW: '0' } });
  expect(refused.code, refused.stderr).toBe(1);
  expect(refused.stderr).toMatch(/\[NO_PRIMARY\].*no primary found among the listed hosts/);
  expect(await loadedSoFar(standbyUrl)).toBe(onStandby);

  await set.standbys[0]!.promote();
  const rerun = await cli(args, { timeoutMs: 600_000 });
  expect(rerun.code, rerun.stderr).toBe(0);
  await expectExactlyOnce(standbyUrl);
  // A third run is a no-op: already loaded.
  const again = await cli(args);
  expect(again.code, again.stderr).toBe(0);
  await withClient(standbyUrl, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM trades_data')).rows[0].n).toBe(ROWS));
}, 900_000);

it('a load running through the failover retries, finds the promoted standby and finishes there: every row exactly once', async () => {
  const { set, db } = await freshSet();
  const hosts = hostListUrl([set.primary.port, set.standbys[0]!.port], db);
  const load = spawnLoad(['--database-url', hosts, 'load', file], { TICKVAULT_RETRY_WINDOW: '120' });
  await waitForBatches(clusterUrl(set.primary, db), 150_000, load);
  set.primary.killPostmaster();
  // While no host is primary the load keeps retrying (NO_PRIMARY is transient), writing nowhere.
  await new Promise((r) => setTimeout(r, 2_000));
  expect(load.running(), load.stderr()).toBe(true);
  await set.standbys[0]!.promote();
  expect(await load.exited, load.stderr()).toBe(0);
  await expectExactlyOnce(clusterUrl(set.standbys[0]!, db));
}, 900_000);
