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
import { clusterUrl, hostListUrl, startReplicationSet, withPg, type ReplicationSet } from '../support/replication-cluster.js';
import { createTestDatabase } from '../support/server-cluster.js';
import { synthTradeStream, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

const ROWS = 1_000_000;
let set: ReplicationSet;
let tmp: ReturnType<typeof tmpDir>;
let db: string;
let file: string;

beforeAll(async () => {
  tmp = tmpDir('tickvault-failover-');
  // The standby promoted later; statement logging off (a million rows of COPY is enough work).
  set = await startReplicationSet({ standbys: 1, settings: { log_statement: 'none' } });
  db = (await createTestDatabase(set.primary.url, 'failover', { timescaledb: true })).name;
  file = path.join(tmp.dir, 'million.dbn');
  // 20 ms apart: one UTC day, so the file's single symbol mapping covers every row.
  await writeSynth(synthTradeStream(ROWS, { stepNs: 20_000_000n }), { file });
  const init = await cli(['--database-url', hostListUrl([set.primary.port, set.standbys[0]!.port], db), 'init']);
  expect(init.code, init.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  await set?.stop();
  tmp?.cleanup();
});

async function loadedSoFar(url: string): Promise<number> {
  return withPg(url, async (c) =>
    Number((await c.query('SELECT coalesce(sum(records_inserted), 0)::int AS n FROM tickvault_load_batches')).rows[0].n),
  );
}

it('kill -9 of the primary mid-load, promote the standby, re-run: every row exactly once, ledger consistent', async () => {
  const hosts = hostListUrl([set.primary.port, set.standbys[0]!.port], db);
  const primaryUrl = clusterUrl(set.primary, db);
  const standbyUrl = clusterUrl(set.standbys[0]!, db);
  const args = ['--database-url', hosts, 'load', file];
  // No retry window: the killed load fails at once instead of waiting for the promotion.
  const child = spawn(process.execPath, [CLI, ...args], { cwd: cliCwd(), env: cleanEnv({ TICKVAULT_RETRY_WINDOW: '0' }), stdio: 'pipe' });
  let childErr = '';
  child.stderr.on('data', (d: Buffer) => (childErr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

  // Kill once a few batches are committed and well before the end.
  const deadline = Date.now() + 120_000;
  let atKill = 0;
  for (;;) {
    atKill = await loadedSoFar(primaryUrl).catch(() => 0);
    if (atKill >= 150_000) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the load did not get going: ${childErr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  set.primary.killPostmaster();
  expect(atKill).toBeLessThan(ROWS);
  const code = await exited;
  expect(code, childErr).not.toBe(0);

  // The standby holds what it replayed: at most what the primary committed; maybe less (async).
  const onStandby = await loadedSoFar(standbyUrl);
  expect(onStandby).toBeLessThan(ROWS);
  const rowsOnStandby = await withPg(standbyUrl, async (c) =>
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

  await withPg(standbyUrl, async (c) => {
    const t = (await c.query('SELECT count(*)::int AS n, count(DISTINCT "timestamp")::int AS distinct_rows FROM trades_data')).rows[0];
    expect(t).toEqual({ n: ROWS, distinct_rows: ROWS });
    const loads = (
      await c.query(
        `SELECT status, records_inserted::int AS inserted, records_rejected::int AS rejected FROM tickvault_loads WHERE target_table = 'trades_data'`,
      )
    ).rows;
    expect(loads).toEqual([{ status: 'completed', inserted: ROWS, rejected: 0 }]);
    expect(await loadedSoFar(standbyUrl)).toBe(ROWS);
    const quarantined = Number((await c.query('SELECT count(*)::int AS n FROM tickvault_quarantine')).rows[0].n);
    expect(quarantined).toBe(0);
  });
  // A third run is a no-op: already loaded.
  const again = await cli(args);
  expect(again.code, again.stderr).toBe(0);
  await withPg(standbyUrl, async (c) => expect((await c.query('SELECT count(*)::int AS n FROM trades_data')).rows[0].n).toBe(ROWS));
}, 900_000);
