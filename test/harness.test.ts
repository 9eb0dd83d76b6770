// Proves the throwaway-cluster harness works (TimescaleDB Apache build, per-file databases,
// restart keeps data) and that it fails loudly instead of skipping.

import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withClient } from './support/pg-client.js';
import {
  createTestDatabase,
  startServerCluster,
  ServerClusterError,
  type ServerCluster,
  type TestDatabase,
} from './support/server-cluster.js';

describe('shared test server (globalSetup)', () => {
  const serverUrl = inject('serverUrl');
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(serverUrl, 'harness');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('provides a reachable URL', async () => {
    expect(serverUrl).toMatch(/^postgres(ql)?:\/\//);
    const one = await withClient(serverUrl, (c) => c.query<{ one: number }>('SELECT 1 AS one'));
    expect(one.rows[0]?.one).toBe(1);
  });

  it('runs TimescaleDB 2.x under the apache license', async () => {
    await withClient(db.url, async (c) => {
      await c.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      const v = await c.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`);
      expect(v.rows[0]?.extversion).toMatch(/^2\./);
      const lic = await c.query<{ license: string }>(`SELECT current_setting('timescaledb.license') AS license`);
      expect(lic.rows[0]?.license).toBe('apache');

      await c.query('CREATE TABLE ticks (ts timestamptz NOT NULL, px double precision)');
      await c.query(`SELECT create_hypertable('ticks', 'ts')`);
      await expect(c.query(`SELECT add_retention_policy('ticks', INTERVAL '7 days')`)).rejects.toThrow(
        /function "add_retention_policy" is not supported under the current "apache" license/,
      );
    });
  });

  it('gives each createTestDatabase call its own database', async () => {
    const other = await createTestDatabase(serverUrl, 'harness');
    try {
      expect(other.name).not.toBe(db.name);
      const tables = await withClient(other.url, (c) => c.query(`SELECT 1 FROM pg_tables WHERE tablename = 'ticks'`));
      expect(tables.rowCount).toBe(0);
    } finally {
      await other.drop();
    }
    const gone = await withClient(serverUrl, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.name]));
    expect(gone.rowCount).toBe(0);
  });
});

describe('private cluster', () => {
  let cluster: ServerCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps data across restart() and stopServer()/startServer(), and stop() removes everything', async () => {
    cluster = await startServerCluster();
    console.info(`[harness] private cluster started in ${cluster.startupMs} ms on port ${cluster.port}`);
    expect(cluster.url).toBe(`postgres://postgres@127.0.0.1:${cluster.port}/tickvault_test`);
    expect(cluster.url).not.toBe(inject('serverUrl'));
    const url = cluster.url;

    await withClient(url, async (c) => {
      await c.query('CREATE TABLE kept (id int PRIMARY KEY, note text)');
      await c.query(`INSERT INTO kept SELECT g, 'row ' || g FROM generate_series(1, 1000) g`);
    });

    // A connection open across restart() is terminated; a new one sees the committed data.
    const before = new pg.Client({ connectionString: url });
    before.on('error', () => undefined);
    await before.connect();
    let t = performance.now();
    await cluster.restart();
    console.info(`[harness] restart() took ${Math.round(performance.now() - t)} ms`);
    await expect(before.query('SELECT 1')).rejects.toThrow();
    await before.end().catch(() => undefined);
    const n1 = await withClient(url, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM kept'));
    expect(Number(n1.rows[0]?.n)).toBe(1000);

    // Down for a while: connections are refused; back up on the same port with the same data.
    await cluster.stopServer();
    expect(cluster.isRunning()).toBe(false);
    await expect(withClient(url, (c) => c.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
    t = performance.now();
    await cluster.startServer();
    console.info(`[harness] startServer() took ${Math.round(performance.now() - t)} ms`);
    const n2 = await withClient(url, (c) => c.query<{ n: string }>(`SELECT count(*) AS n FROM kept WHERE note LIKE 'row %'`));
    expect(Number(n2.rows[0]?.n)).toBe(1000);

    const { dir } = cluster;
    await cluster.stop();
    expect(existsSync(dir)).toBe(false);
    expect(cluster.isRunning()).toBe(false);
    await expect(withClient(url, (c) => c.query('SELECT 1'))).rejects.toThrow(/ECONNREFUSED/);
    cluster = undefined;
  });

  it('fails loudly, with the server log and the setup hint, when the server cannot start', async () => {
    const err = await startServerCluster({ settings: { shared_preload_libraries: 'tickvault_no_such_lib' } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServerClusterError);
    const e = err as ServerClusterError;
    expect(e.step).toBe('start');
    expect(e.message).toMatch(/PostgreSQL failed to start/);
    expect(e.message).toMatch(/could not access file "tickvault_no_such_lib"/); // from the server log tail
    expect(e.message).toMatch(/npm run setup:server/);
    expect(e.dir && existsSync(e.dir)).toBe(false); // nothing left behind
  });

  it('fails loudly when the PostgreSQL binaries are missing', async () => {
    await expect(startServerCluster({ binDir: '/nonexistent/postgresql/bin' })).rejects.toThrow(
      /initdb does not exist.*npm run setup:server/s,
    );
  });
});
