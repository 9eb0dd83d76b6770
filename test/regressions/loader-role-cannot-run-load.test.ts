import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/pg-client.js';
import { ServerEngine } from '../../src/engine/server.js';
import { migrate } from '../../src/schema/migrate.js';
import { createRoles } from '../../src/security/roles.js';
import { fixture } from '../support/fixtures.js';
import { startPasswordCluster, withCredentials } from '../support/password-cluster.js';
import { cli } from '../support/cli.js';
import { createTestDatabase, type ServerCluster } from '../support/server-cluster.js';

const TRADES = fixture('test_data.trades.v3.dbn.zst');
const LOADER_PW = 'ld-Pw-9c2v7b';

describe('the loader role runs tickvault load (private cluster, password auth)', () => {
  let cluster: ServerCluster;
  let url: string;
  let loaderUrl: string;

  beforeAll(async () => {
    cluster = await startPasswordCluster('tv-loader-role-');
    url = (await createTestDatabase(cluster.url, 'loaderrole')).url;
    const owner = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 1 }, log: () => undefined });
    try {
      await migrate(owner);
      await createRoles(owner, { readerRole: 'lr_reader', loaderRole: 'lr_loader', loaderPassword: LOADER_PW, readerPassword: 'rd-x-1' });
    } finally {
      await owner.close();
    }
    loaderUrl = withCredentials(url, 'lr_loader', LOADER_PW);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('loads a DBN file as the loader and re-runs it as a no-op', async () => {
    const env = { TICKVAULT_DATABASE_URL: loaderUrl };
    const first = await cli(['load', TRADES], { env });
    expect(first.stderr).not.toMatch(/permission denied/);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/inserted/);
    const again = await cli(['load', TRADES], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/already loaded/);
    const n = await withClient(url, async (c) => Number((await c.query('SELECT count(*) AS n FROM trades_data')).rows[0].n));
    expect(n).toBeGreaterThan(0);
  });

  it('with migrations pending, the loader is told to run `tickvault init` as the owner (exit 2, nothing written)', async () => {
    const latest = await withClient(url, async (c) =>
      Number((await c.query('SELECT max(version) AS v FROM tickvault_schema_version')).rows[0].v),
    );
    const before = await withClient(url, async (c) => Number((await c.query('SELECT count(*) AS n FROM tickvault_loads')).rows[0].n));
    await withClient(url, (c) => c.query('DELETE FROM tickvault_schema_version WHERE version = $1', [latest]));
    try {
      const r = await cli(['load', fixture('test_data.trades.v2.dbn.zst')], { env: { TICKVAULT_DATABASE_URL: loaderUrl } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/\[SCHEMA_OUTDATED\].*version \d+.*needs version \d+.*tickvault init.*owner/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      const after = await withClient(url, async (c) => Number((await c.query('SELECT count(*) AS n FROM tickvault_loads')).rows[0].n));
      expect(after).toBe(before);
    } finally {
      await withClient(url, (c) =>
        c.query(`INSERT INTO tickvault_schema_version (version, name) VALUES ($1, 'restored by test')`, [latest]),
      );
    }
  });

  it('`tickvault maintain` as the loader says in one line that it needs the owner (exit 2); --dry-run works', async () => {
    const r = await cli(['maintain'], { env: { TICKVAULT_DATABASE_URL: loaderUrl } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /\[NOT_OWNER\]: maintain .* needs the owner of tickvault's tables \(postgres\); role lr_loader is not: run it as postgres/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const dry = await cli(['maintain', '--dry-run'], { env: { TICKVAULT_DATABASE_URL: loaderUrl } });
    expect(dry.code, dry.stderr).toBe(0);
  });

  it('`tickvault roles` warns when it creates a LOGIN role without a password', async () => {
    const r = await cli(['roles', '--reader-role', 'nopw_reader', '--loader-role', 'nopw_loader'], {
      env: { TICKVAULT_DATABASE_URL: url },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: role nopw_reader was created with LOGIN but without a password/);
    expect(r.stderr).toMatch(/warning: role nopw_loader was created with LOGIN but without a password/);
  });
});
