import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../support/pg-client.js';
import { cliSync } from '../support/cli.js';
import { ServerEngine } from '../../src/engine/server.js';
import { ConfigError } from '../../src/errors.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { createRoles, validateRoleName } from '../../src/security/roles.js';
import { createTestDatabase, type ServerCluster } from '../support/server-cluster.js';
import { startPasswordCluster, withCredentials } from '../support/password-cluster.js';

const errCode = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: { code?: string }) => e.code,
  );

describe('least-privilege roles (private cluster, password auth)', () => {
  let cluster: ServerCluster;
  let url: string;
  let owner: ServerEngine;
  const READER_PW = 'rd-Pw-7f3k9q';
  const LOADER_PW = 'ld-Pw-2m8x4z';

  beforeAll(async () => {
    cluster = await startPasswordCluster('tv-roles-');
    url = (await createTestDatabase(cluster.url, 'roles')).url;
    owner = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 1 }, log: () => undefined });
    await migrate(owner);
  });
  afterAll(async () => {
    await owner?.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('validates role names before any SQL', async () => {
    for (const bad of ['x; DROP TABLE trades_data', 'a"b', '', '1abc', 'pg_monitor', 'public', 'x'.repeat(64), 'ümlaut']) {
      expect(() => validateRoleName(bad, 'reader role')).toThrow(ConfigError);
    }
    await expect(createRoles(owner, { readerRole: 'evil"; DROP TABLE trades_data; --' })).rejects.toThrow(/not a valid role name/);
    await expect(createRoles(owner, { readerRole: 'same', loaderRole: 'same' })).rejects.toThrow(/must be different/);
    await expect(createRoles(owner, { loaderRole: 'postgres' })).rejects.toThrow(/superuser/);
  });

  it('creates a reader that can only SELECT and a loader that can load but not DROP/ALTER/TRUNCATE', async () => {
    const logs: string[] = [];
    const echoing = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 0, echo: true }, log: (l) => logs.push(l) });
    let result: Awaited<ReturnType<typeof createRoles>>;
    try {
      result = await createRoles(echoing, {
        readerRole: 'tv_reader',
        loaderRole: 'tv_loader',
        readerPassword: READER_PW,
        loaderPassword: LOADER_PW,
      });
    } finally {
      await echoing.close();
    }
    expect(result.created).toEqual(['tv_reader', 'tv_loader']);
    expect(logs.length).toBeGreaterThan(5);
    expect(logs.join('\n')).not.toContain(READER_PW);
    expect(logs.join('\n')).not.toContain(LOADER_PW);
    // Idempotent: a second run changes nothing and creates nothing.
    expect((await createRoles(owner, { readerRole: 'tv_reader', loaderRole: 'tv_loader' })).created).toEqual([]);

    const readerUrl = withCredentials(url, 'tv_reader', READER_PW);
    const loaderUrl = withCredentials(url, 'tv_loader', LOADER_PW);

    // The loader loads through the real loader (ledger, quarantine, sequences, new chunks).
    const loaderEngine = new ServerEngine({ url: loaderUrl, pool: { poolSize: 1, maxOverflow: 1 }, log: () => undefined });
    try {
      const res = await new TradesLoader({ engine: loaderEngine, batchSize: 50 }).bulkLoad(
        Array.from({ length: 120 }, (_, i) => ({
          timestamp: new Date(Date.UTC(2026, 3, 1, 0, 0, i)),
          instrument_id: 1,
          symbol: 'ESZ6',
          price: i === 5 ? '0' : '10.5',
          size: 2,
          side: 'S',
          trade_id: `r${i}`,
        })),
        { source: { source: 'roles', contentHash: 'roles-v1' } },
      );
      expect(res).toMatchObject({ status: 'completed', recordsInserted: 119, recordsRejected: 1 });
    } finally {
      await loaderEngine.close();
    }

    await withClient(loaderUrl, async (c) => {
      expect(Number((await c.query('SELECT count(*) AS n FROM trades_data')).rows[0].n)).toBe(119);
      expect(await errCode(c.query('DROP TABLE trades_data'))).toBe('42501');
      expect(await errCode(c.query('DROP TABLE tickvault_loads'))).toBe('42501');
      expect(await errCode(c.query('ALTER TABLE trades_data ADD COLUMN x int'))).toBe('42501');
      expect(await errCode(c.query('TRUNCATE trades_data'))).toBe('42501');
      expect(await errCode(c.query('DROP INDEX idx_trades_side_time'))).toBe('42501');
      expect(await errCode(c.query('CREATE TABLE sneaky (a int)'))).toBe('42501');
      expect(await errCode(c.query('DELETE FROM tickvault_schema_version'))).toBe('42501');
    });

    await withClient(readerUrl, async (c) => {
      expect(Number((await c.query('SELECT count(*) AS n FROM trades_data')).rows[0].n)).toBe(119);
      expect(Number((await c.query('SELECT count(*) AS n FROM tickvault_loads')).rows[0].n)).toBe(1);
      await c.query('SELECT * FROM ohlcv_hourly LIMIT 1');
      expect(
        await errCode(
          c.query(`INSERT INTO trades_data (timestamp, instrument_id, symbol, price, size, side) VALUES (now(), 1, 'X', 1, 1, 'B')`),
        ),
      ).toBe('42501');
      expect(await errCode(c.query('UPDATE trades_data SET size = 3'))).toBe('42501');
      expect(await errCode(c.query('DELETE FROM trades_data'))).toBe('42501');
      expect(await errCode(c.query(`INSERT INTO tickvault_quarantine (target_table, reason, record) VALUES ('x', 'y', '{}')`))).toBe(
        '42501',
      );
      expect(await errCode(c.query(`SELECT nextval('tickvault_loads_load_id_seq')`))).toBe('42501');
      expect(await errCode(c.query('DROP TABLE trades_data'))).toBe('42501');
    });

    // The passwords really are required.
    expect(await errCode(withClient(withCredentials(url, 'tv_reader', 'wrong-password'), async () => undefined))).toBe('28P01');
  });

  it('`tickvault init --roles` and `tickvault roles --json` create the roles from the CLI', () => {
    const env = { TICKVAULT_DATABASE_URL: url, TICKVAULT_LOADER_PASSWORD: 'cli-loader-secret-99' };
    const init = cliSync(['init', '--roles', '--reader-role', 'cli_reader', '--loader-role', 'cli_loader'], { env });
    // Only the loader got a password: the reader is a LOGIN role without one, and `roles` says so.
    expect(init.stderr.trim()).toMatch(
      /^tickvault: warning: role cli_reader was created with LOGIN but without a password: .*TICKVAULT_READER_PASSWORD/,
    );
    expect(init.stderr).not.toMatch(/role cli_loader was created/);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/created role cli_reader[\s\S]*created role cli_loader[\s\S]*roles ready/);
    expect(init.stdout + init.stderr).not.toContain('cli-loader-secret-99');
    const again = cliSync(['roles', '--json', '--reader-role', 'cli_reader', '--loader-role', 'cli_loader'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ readerRole: 'cli_reader', loaderRole: 'cli_loader', created: [] });
    const bad = cliSync(['roles', '--reader-role', 'bad;name'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/\[CONFIG\].*not a valid role name/);
  });
});
