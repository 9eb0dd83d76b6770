// Pool behaviour on a PRIVATE cluster (restarts here must not disturb other test files).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerEngine } from '../../src/engine/server.js';
import { ConnectionError } from '../../src/errors.js';
import { startServerCluster, type ServerCluster } from '../support/server-cluster.js';

/**
 * A TCP proxy in front of the cluster. In `silent` mode, connections that existed when it was
 * switched on never hear from the server again (not its FATAL message, not its close): the client
 * keeps believing in a dead connection until it writes — what a failover behind a load balancer or
 * a NAT that forgot the connection looks like. New connections pass through normally.
 */
async function startProxy(targetPort: number) {
  const live = new Set<{ silent: boolean; client: net.Socket }>();
  const server = net.createServer((client) => {
    const state = { silent: false, upClosed: false, client };
    live.add(state);
    const up = net.connect(targetPort, '127.0.0.1');
    client.on('data', (d) => {
      if (state.upClosed) client.destroy();
      else up.write(d);
    });
    up.on('data', (d) => {
      if (!state.silent) client.write(d);
    });
    up.on('close', () => {
      state.upClosed = true;
      if (!state.silent) client.destroy();
    });
    client.on('close', () => {
      up.destroy();
      live.delete(state);
    });
    client.on('error', () => undefined);
    up.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    silenceExisting: () => {
      for (const s of live) s.silent = true;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of live) s.client.destroy();
      }),
  };
}

describe('server engine pool (private cluster)', () => {
  let cluster: ServerCluster;
  const engines: ServerEngine[] = [];
  const open = (pool: ConstructorParameters<typeof ServerEngine>[0]['pool'], log?: (l: string) => void) => {
    const e = new ServerEngine({ url: cluster.url, pool, log: log ?? (() => undefined) });
    engines.push(e);
    return e;
  };

  beforeAll(async () => {
    cluster = await startServerCluster({ tmpPrefix: 'tv-pool-' });
  });
  afterAll(async () => {
    for (const e of engines) await e.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('a call waiting on an exhausted pool fails after poolTimeout with a clear ConnectionError', async () => {
    const engine = open({ poolSize: 1, maxOverflow: 0, poolTimeout: 0.5 });
    let release!: () => void;
    const held = engine.withConnection(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(engine.poolStatus()).toMatchObject({ size: 1, inUse: 1 });
    const t0 = Date.now();
    const err = await engine.query('SELECT 1').catch((e: unknown) => e);
    const waited = Date.now() - t0;
    release();
    await held;
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/no database connection became free within poolTimeout=0.5s/);
    expect((err as Error).message).toMatch(/raise poolSize\/maxOverflow or poolTimeout/);
    expect(waited).toBeGreaterThanOrEqual(400);
    expect(waited).toBeLessThan(3000);
    // The pool is usable again once the holder is done.
    expect((await engine.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });

  it('overflow connections are allowed under load and reported', async () => {
    const engine = open({ poolSize: 1, maxOverflow: 2, poolTimeout: 5 });
    await Promise.all([1, 2, 3].map(() => engine.query('SELECT pg_sleep(0.3)')));
    const s = engine.poolStatus();
    expect(s.size).toBe(3);
    expect(s.overflow).toBe(2);
  });

  it('poolRecycle replaces connections older than its age', async () => {
    const engine = open({ poolSize: 1, maxOverflow: 0, poolRecycle: 1, poolPrePing: false });
    const pid = async () => Number((await engine.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const first = await pid();
    expect(await pid()).toBe(first); // same connection while young
    await new Promise((r) => setTimeout(r, 1500));
    const later = await pid();
    expect(later).not.toBe(first);
    expect(engine.poolStatus().recycled).toBeGreaterThanOrEqual(1);
  });

  it('with pre-ping, a cluster restart between two queries is invisible to the caller', async () => {
    const proxy = await startProxy(cluster.port);
    try {
      const url = cluster.url.replace(`:${cluster.port}/`, `:${proxy.port}/`);
      const engine = new ServerEngine({ url, pool: { poolSize: 2, maxOverflow: 0, poolPrePing: true }, log: () => undefined });
      engines.push(engine);
      await Promise.all([engine.query('SELECT pg_sleep(0.05)'), engine.query('SELECT pg_sleep(0.05)')]);
      const before = Number((await engine.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
      proxy.silenceExisting(); // the pooled connections will not hear of the restart
      await cluster.restart();
      const after = await engine.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(Number(after.rows[0]!.pid)).not.toBe(before);
      expect(engine.poolStatus().recycled).toBeGreaterThanOrEqual(1); // the dead connection was discarded

      // The same situation without pre-ping reaches the caller: that is what pre-ping hides.
      const plain = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 0, poolPrePing: false }, log: () => undefined });
      engines.push(plain);
      await plain.query('SELECT 1');
      proxy.silenceExisting();
      await cluster.restart();
      await expect(plain.query('SELECT 1')).rejects.toThrow(/Connection terminated|ECONNRESET/);
      expect((await plain.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1); // and then recovers
    } finally {
      await proxy.close();
    }
  });

  it('idle connections dropped by a restart never crash the process (error handlers on pool and clients)', async () => {
    const logged: string[] = [];
    const engine = open({ poolSize: 2, maxOverflow: 0, poolPrePing: false }, (l) => logged.push(l));
    await Promise.all([engine.query('SELECT pg_sleep(0.05)'), engine.query('SELECT pg_sleep(0.05)')]);
    await cluster.restart();
    await new Promise((r) => setTimeout(r, 200));
    // Without pre-ping the first query may or may not meet a dead connection; either way the
    // engine stays usable.
    await engine.query('SELECT 1').catch((e: unknown) => expect(e).toBeInstanceOf(Error));
    expect((await engine.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });

  it('echo logs statements but never parameter values', async () => {
    const lines: string[] = [];
    const engine = open({ poolSize: 1, maxOverflow: 0, echo: true }, (l) => lines.push(l));
    await engine.query('SELECT $1::text AS secret_value', ['parameter-value-xyz']);
    expect(lines.some((l) => l.includes('SELECT $1::text AS secret_value'))).toBe(true);
    expect(lines.join('\n')).not.toContain('parameter-value-xyz');
  });
});
