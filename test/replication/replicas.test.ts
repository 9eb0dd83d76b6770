/**
 * Reads on a real streaming replica (pg_basebackup -R of a throwaway primary): where reads land
 * (the statements in each host's log under the session's application_name, and pg_stat_activity),
 * a paused or stopped replica skipped and reported with reads on the primary, host roles in
 * status / health / metrics, writes refused with only replicas reachable, read-your-writes.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterEngine } from '../../src/engine/cluster.js';
import { isTransientError } from '../../src/engine/retry.js';
import { ServerEngine } from '../../src/engine/server.js';
import { openEngine } from '../../src/engine/open.js';
import type { Engine } from '../../src/engine/types.js';
import { startHealthServer } from '../../src/health/http.js';
import { renderMetrics } from '../../src/health/metrics.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { collectStatus } from '../../src/health/status.js';
import { cli } from '../support/cli.js';
import { withClient } from '../support/pg-client.js';
import {
  clusterUrl,
  hostListUrl,
  startReplicationSet,
  statementsOf,
  waitForReplay,
  type ReplicationSet,
} from '../support/replication-cluster.js';
import { createTestDatabase, findFreePort } from '../support/server-cluster.js';
import { synthTrades, writeSynth } from '../support/synthetic-dbn.js';
import { tmpDir } from '../support/tmp.js';

let set: ReplicationSet;
let tmp: ReturnType<typeof tmpDir>;
let db: string;
let primaryUrl: string;
let replicaUrl: string;
let engine: ClusterEngine;
const logs: string[] = [];
const day = ['--start', '2024-01-02T00:00:00Z', '--end', '2024-01-03T00:00:00Z', '--interval', '1 day', '--format', 'json'];

function hosts(app: string): string {
  return hostListUrl([set.primary.port, set.standbys[0]!.port], db, { application_name: app });
}

/** A DBN file of n trades; `shiftNs` moves every timestamp, so the rows differ from another file's. */
async function seed(name: string, n: number, stepNs: bigint, shiftNs = 0n): Promise<string> {
  const file = path.join(tmp.dir, `${name}.dbn`);
  const trades = synthTrades(n, { stepNs }).map((t) => ({ ...t, tsEvent: t.tsEvent + shiftNs, tsRecv: t.tsRecv + shiftNs }));
  await writeSynth(trades, { file });
  return file;
}

beforeAll(async () => {
  tmp = tmpDir('tickvault-repl-files-');
  set = await startReplicationSet({ standbys: 1 });
  const created = await createTestDatabase(set.primary.url, 'replicas', { timescaledb: true });
  db = created.name;
  primaryUrl = clusterUrl(set.primary, db);
  replicaUrl = clusterUrl(set.standbys[0]!, db);
  const init = await cli(['--database-url', hosts('tv_init'), 'init']);
  expect(init.code, init.stderr).toBe(0);
  const load = await cli(['--database-url', hosts('tv_load'), 'load', await seed('seed', 1000, 1_000_000_000n)]);
  expect(load.code, load.stderr).toBe(0);
  await waitForReplay(primaryUrl, replicaUrl);
  engine = (await openEngine({ databaseUrl: hosts('tv_lib'), maxReplicaLag: 1, log: (l) => logs.push(l) })) as ClusterEngine;
}, 240_000);

afterAll(async () => {
  await engine?.close();
  await set?.stop();
  tmp?.cleanup();
});

describe('reads on a streaming replica', () => {
  it('the library finds the primary and sends reads to the replica', async () => {
    expect(engine).toBeInstanceOf(ClusterEngine);
    expect(engine.primaryHost()).toBe(`127.0.0.1:${set.primary.port}`);
    const reads: Engine = await engine.forReads();
    expect(reads).not.toBe(engine);
    const marker = `probe_${Date.now()}`;
    const { rows } = await reads.query<{ n: number; standby: boolean }>(
      `SELECT count(*)::int AS n, pg_is_in_recovery() AS standby FROM trades_data /* ${marker} */`,
    );
    expect(rows[0]).toEqual({ n: 1000, standby: true });
    expect(engine.lastReadRoute()).toMatchObject({ host: `127.0.0.1:${set.standbys[0]!.port}`, role: 'replica', skipped: [] });
    // Observed on the hosts themselves: the replica ran it, the primary never saw it.
    const active = (url: string) =>
      withClient(
        url,
        async (c) =>
          (await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'tv_lib' AND query LIKE $1`, [`%${marker}%`])).rowCount,
      );
    expect(await active(replicaUrl)).toBe(1);
    expect(await active(primaryUrl)).toBe(0);
    expect(statementsOf(set.standbys[0]!, 'tv_lib').some((l) => l.includes(marker))).toBe(true);
    expect(statementsOf(set.primary, 'tv_lib').some((l) => l.includes(marker))).toBe(false);
    // Writes went to the primary: the load's COPY is in the primary's log only.
    expect(statementsOf(set.primary, 'tv_load').some((l) => l.includes('COPY'))).toBe(true);
    expect(statementsOf(set.standbys[0]!, 'tv_load').some((l) => l.includes('COPY'))).toBe(false);
  });

  it('the primary is found wherever it is in the list; a write connection to a standby is refused', async () => {
    const reversed = (await openEngine({ databaseUrl: hostListUrl([set.standbys[0]!.port, set.primary.port], db) })) as ClusterEngine;
    try {
      expect(reversed.primaryHost()).toBe(`127.0.0.1:${set.primary.port}`);
      const { rows } = await reversed.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
      expect(rows[0]!.standby).toBe(false);
    } finally {
      await reversed.close();
    }
    const writer = new ServerEngine({ url: replicaUrl, requirePrimary: true });
    try {
      const err = await writer.query('SELECT 1').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'NOT_PRIMARY', message: expect.stringMatching(/is in recovery/) });
      expect(isTransientError(err)).toBe(true); // a load's retry looks for the primary again
    } finally {
      await writer.close();
    }
  });

  it('`tickvault query` reads from the replica', async () => {
    const r = await cli(['--database-url', hosts('tv_cli_query'), 'query', 'volume', '--symbol', 'TESTH4', ...day]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ trades: '1000' });
    expect(statementsOf(set.standbys[0]!, 'tv_cli_query').some((l) => l.includes('trades_data'))).toBe(true);
    expect(statementsOf(set.primary, 'tv_cli_query').some((l) => l.includes('trades_data'))).toBe(false);
  });

  it("the web console's reads go to the replica", async () => {
    const consoleEngine = await openEngine({ databaseUrl: hosts('tv_console'), maxReplicaLag: 5 });
    const server = await startHealthServer(consoleEngine, { port: 0, host: '127.0.0.1' });
    try {
      const cov = (await (await fetch(`${server.url}/api/coverage`)).json()) as { tables: { symbol: string; rows: number }[] };
      expect(cov.tables).toContainEqual(expect.objectContaining({ symbol: 'TESTH4', rows: 1000 }));
      expect((await fetch(`${server.url}/api/loads`)).status).toBe(200);
    } finally {
      await server.close();
      await consoleEngine.close();
    }
    // The coverage query (array_agg of days) ran on the replica only.
    expect(statementsOf(set.standbys[0]!, 'tv_console').some((l) => l.includes('array_agg'))).toBe(true);
    expect(statementsOf(set.primary, 'tv_console').some((l) => l.includes('array_agg'))).toBe(false);
  });

  it('status, health and the metrics show each host with its role, state and lag', async () => {
    const status = await collectStatus(engine);
    expect(status.hosts).toEqual([
      expect.objectContaining({ host: `127.0.0.1:${set.primary.port}`, role: 'primary', up: true, state: 'ok' }),
      expect.objectContaining({ host: `127.0.0.1:${set.standbys[0]!.port}`, role: 'replica', up: true, state: 'ok', lagSeconds: 0 }),
    ]);
    const health = await new HealthMonitor(engine).check();
    expect(health.hosts).toHaveLength(2);
    expect(health.readsFrom).toContain(`127.0.0.1:${set.standbys[0]!.port}`);
    expect(health.tables.find((t) => t.table === 'trades_data')?.reachable).toBe(true);
    const metrics = await renderMetrics(health, undefined);
    expect(metrics).toContain(`tickvault_host_up{host="127.0.0.1:${set.primary.port}",role="primary"} 1`);
    expect(metrics).toContain(`tickvault_host_up{host="127.0.0.1:${set.standbys[0]!.port}",role="replica"} 1`);
    expect(metrics).toContain(`tickvault_replica_lag_seconds{host="127.0.0.1:${set.standbys[0]!.port}"} 0`);
    const cliStatus = await cli(['--database-url', hosts('tv_status'), 'status', '--json']);
    expect(cliStatus.code, cliStatus.stderr).toBe(0);
    expect(JSON.parse(cliStatus.stdout).hosts.map((h: { role: string }) => h.role)).toEqual(['primary', 'replica']);
  });

  it('a replica lagging past the bound (replay paused) is skipped and reported; reads go to the primary', async () => {
    await withClient(replicaUrl, (c) => c.query('SELECT pg_wal_replay_pause()'));
    try {
      await engine.query('CREATE TABLE lag_probe (n int)');
      await engine.query('INSERT INTO lag_probe VALUES (1)');
      await new Promise((r) => setTimeout(r, 1_500)); // past the 1 s bound
      const replica = (await engine.hosts()).find((h) => h.role === 'replica')!;
      expect(replica).toMatchObject({ state: 'lagging', replayPaused: true });
      expect(replica.lagSeconds!).toBeGreaterThan(1);
      expect(replica.lagBytes!).toBeGreaterThan(0);
      logs.length = 0;
      const reads = await engine.forReads();
      expect(reads).toBe(engine);
      const { rows } = await reads.query<{ n: number; standby: boolean }>(
        'SELECT count(*)::int AS n, pg_is_in_recovery() AS standby FROM lag_probe',
      );
      expect(rows[0]).toEqual({ n: 1, standby: false });
      expect(engine.lastReadRoute()).toMatchObject({
        role: 'primary',
        skipped: [expect.objectContaining({ reason: expect.stringMatching(/lag .* > max 1 s \(replay paused\)/) })],
      });
      expect(logs.join('\n')).toMatch(/replica 127\.0\.0\.1:\d+ skipped: lag .* > max 1 s/);
      expect(logs.join('\n')).toMatch(/reads go to the primary/);
      const health = await new HealthMonitor(engine).check();
      expect(health.warnings.join('\n')).toMatch(/replica 127\.0\.0\.1:\d+ is .* behind: reads skip it/);
      expect(health.readsFrom).toBe('primary');
    } finally {
      await withClient(replicaUrl, (c) => c.query('SELECT pg_wal_replay_resume()'));
    }
    await waitForReplay(primaryUrl, replicaUrl);
    expect(await engine.forReads()).not.toBe(engine);
  });

  it('read-your-writes: after a load, `--read-your-writes wait` reads the last row on the replica', async () => {
    // The replica applies each commit 3 s late: a read right after the load would not see it.
    await withClient(replicaUrl, async (c) => {
      await c.query(`ALTER SYSTEM SET recovery_min_apply_delay = '3s'`);
      await c.query('SELECT pg_reload_conf()');
    });
    try {
      const file = await seed('ryw', 1500, 1_000_000_000n, 500n); // 1500 new rows
      const load = await cli(['--database-url', hosts('tv_ryw_load'), 'load', file]);
      expect(load.code, load.stderr).toBe(0);
      const q = await cli([
        '--database-url',
        hosts('tv_ryw'),
        '--max-replica-lag',
        '20s',
        '--read-your-writes',
        'wait',
        'query',
        'volume',
        '--symbol',
        'TESTH4',
        ...day,
      ]);
      expect(q.code, q.stderr).toBe(0);
      expect(JSON.parse(q.stdout)[0]).toMatchObject({ trades: '2500' });
      expect(statementsOf(set.standbys[0]!, 'tv_ryw').some((l) => l.includes('trades_data'))).toBe(true);
      expect(statementsOf(set.primary, 'tv_ryw').some((l) => l.includes('trades_data'))).toBe(false);
      // The same option in the library, after a write in this process: the replica has the row.
      const ryw = (await openEngine({ databaseUrl: hosts('tv_ryw_lib'), maxReplicaLag: '20s', readYourWrites: 'wait' })) as ClusterEngine;
      try {
        await ryw.query('INSERT INTO lag_probe VALUES (2)');
        const reads = await ryw.forReads();
        expect(reads).not.toBe(ryw);
        const { rows } = await reads.query<{ n: number; standby: boolean }>(
          'SELECT max(n) AS n, pg_is_in_recovery() AS standby FROM lag_probe',
        );
        expect(rows[0]).toEqual({ n: 2, standby: true });
        // Without waiting, the delayed replica does not have the row yet: the wait is what made it visible.
        await ryw.query('INSERT INTO lag_probe VALUES (3)');
        const { rows: early } = await withClient(replicaUrl, (c) => c.query<{ n: number }>('SELECT max(n) AS n FROM lag_probe'));
        expect(early[0]!.n).toBe(2);
        // 'primary' sends such reads to the primary.
        expect(await ryw.forReads({ readYourWrites: 'primary' })).toBe(ryw);
      } finally {
        await ryw.close();
      }
    } finally {
      await withClient(replicaUrl, async (c) => {
        await c.query('ALTER SYSTEM RESET recovery_min_apply_delay');
        await c.query('SELECT pg_reload_conf()');
      });
    }
  });

  it('init, load and maintain with only a replica reachable fail: no primary among the listed hosts', async () => {
    const dead = await findFreePort();
    const url = hostListUrl([dead, set.standbys[0]!.port], db);
    const file = await seed('refused', 10, 1_000_000_000n);
    for (const args of [['init'], ['load', file], ['maintain']]) {
      const r = await cli(['--database-url', url, ...args]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toContain('[NO_PRIMARY]');
      expect(r.stderr).toMatch(
        new RegExp(
          `no primary found among the listed hosts: 127\\.0\\.0\\.1:${dead} is unreachable .*; 127\\.0\\.0\\.1:${set.standbys[0]!.port} is in recovery`,
        ),
      );
    }
    // The replica named with --replica-url alongside an unreachable primary: the same refusal.
    const viaFlag = await cli(['--database-url', clusterUrl({ port: dead }, db), '--replica-url', replicaUrl, 'init']);
    expect(viaFlag.stderr).toContain('[NO_PRIMARY]');
    // Nothing was written anywhere: the replica still holds exactly what the primary has.
    await withClient(replicaUrl, async (c) => expect((await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).toBe(true));
  });

  it('a stopped replica is reported down and skipped; reads go to the primary', async () => {
    await set.standbys[0]!.stopServer();
    try {
      const replica = (await engine.hosts()).find((h) => h.host === `127.0.0.1:${set.standbys[0]!.port}`)!;
      expect(replica).toMatchObject({ up: false, state: 'down', role: 'unknown' });
      const reads = await engine.forReads();
      expect(reads).toBe(engine);
      expect(engine.lastReadRoute()?.skipped[0]?.reason).toMatch(/^down/);
      const q = await cli(['--database-url', hosts('tv_down'), 'query', 'volume', '--symbol', 'TESTH4', ...day]);
      expect(q.code, q.stderr).toBe(0);
      expect(q.stderr).toMatch(/replica 127\.0\.0\.1:\d+ skipped: down/);
      expect(statementsOf(set.primary, 'tv_down').some((l) => l.includes('trades_data'))).toBe(true);
      const metrics = await renderMetrics(await new HealthMonitor(engine).check(), undefined);
      expect(metrics).toContain(`tickvault_host_up{host="127.0.0.1:${set.standbys[0]!.port}",role="unknown"} 0`);
    } finally {
      await set.standbys[0]!.startServer();
    }
  });
});
