// `tickvault config` (issue 15.14): the effective settings and where each came from, password
// redacted, without opening a database.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliCwd } from '../support/cli.js';

const rows = (stdout: string) => JSON.parse(stdout) as { key: string; value: unknown; from: string }[];
const get = (all: ReturnType<typeof rows>, key: string) => all.find((r) => r.key === key);

describe('tickvault config', () => {
  it('embedded by default: names the absolute data directory and says it is relative to the working directory', async () => {
    const r = await cli(['config', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const all = rows(r.stdout);
    expect(get(all, 'engine')).toMatchObject({ value: 'embedded', from: 'default, relative to the working directory' });
    expect(get(all, 'data directory')!.value).toBe(path.join(fs.realpathSync(cliCwd()), '.tickvault', 'data'));
    expect(get(all, 'lock wait (s)')).toMatchObject({ value: 120, from: 'default' });
    // Nothing was opened or created.
    expect(fs.existsSync(path.join(cliCwd(), '.tickvault'))).toBe(false);
  });

  it('server: each pool value with its origin (flag, env, config file, default); the password never printed', async () => {
    const dir = fs.mkdtempSync(path.join(cliCwd(), 'cfg-'));
    const file = path.join(dir, 'custom.json');
    fs.writeFileSync(file, JSON.stringify({ pool: { poolTimeout: 12, retryWindow: 90 } }));
    const r = await cli(['--database-url', 'postgres://alice:s3cr3t-pw@db.example:5433/ticks', 'config', '--json'], {
      env: { TICKVAULT_CONFIG: file, TICKVAULT_POOL_SIZE: '3' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('s3cr3t-pw');
    const all = rows(r.stdout);
    expect(get(all, 'database')).toEqual({ key: 'database', value: 'postgres://alice:***@db.example:5433/ticks', from: '--database-url' });
    expect(get(all, 'config file')).toMatchObject({ value: file, from: '$TICKVAULT_CONFIG' });
    expect(get(all, 'pool.poolSize')).toMatchObject({ value: 3, from: '$TICKVAULT_POOL_SIZE' });
    expect(get(all, 'pool.poolTimeout')).toMatchObject({ value: 12, from: 'config file' });
    expect(get(all, 'pool.retryWindow')).toMatchObject({ value: 90, from: 'config file' });
    expect(get(all, 'pool.maxOverflow')).toMatchObject({ value: 10, from: 'default' });
    const text = await cli(['config'], { env: { TICKVAULT_DATABASE_URL: 'postgres://bob:pw-42@h/db' } });
    expect(text.stdout).toMatch(/^database +postgres:\/\/bob:\*\*\*@h\/db +\(\$TICKVAULT_DATABASE_URL\)$/m);
    expect(text.stdout).not.toContain('pw-42');
  });
});
