import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveEngineSettings, resolveTls } from '../../src/config/settings.js';
import { clientConfigFromUrl } from '../../src/engine/server.js';
import { isTransientError, withRetry, backoffMs } from '../../src/engine/retry.js';
import { ConfigError, ConnectionError } from '../../src/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tv-settings-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, value: unknown): string {
  const d = fs.mkdtempSync(path.join(dir, name));
  fs.writeFileSync(path.join(d, 'tickvault.config.json'), typeof value === 'string' ? value : JSON.stringify(value));
  return d;
}

describe('pool settings: code > env > file > defaults', () => {
  it('defaults when nothing is set', () => {
    const s = resolveEngineSettings({ env: {}, useFile: false });
    expect(s.pool).toMatchObject({ poolSize: 5, maxOverflow: 10, poolTimeout: 30, poolRecycle: 3600, poolPrePing: true, echo: false });
    expect(s.origin.poolSize).toBe('default');
  });

  it('each key resolved on its own, by precedence', () => {
    const cwd = writeConfig('prec', { pool: { poolSize: 7, poolTimeout: 12, maxOverflow: 1, echo: true } });
    const s = resolveEngineSettings({
      cwd,
      code: { poolSize: 3 },
      env: { TICKVAULT_POOL_TIMEOUT: '2.5', TICKVAULT_POOL_PRE_PING: 'off', TICKVAULT_POOL_RECYCLE: '60' },
    });
    expect(s.pool).toMatchObject({ poolSize: 3, poolTimeout: 2.5, poolPrePing: false, poolRecycle: 60, maxOverflow: 1, echo: true });
    expect(s.origin).toMatchObject({ poolSize: 'code', poolTimeout: 'env', maxOverflow: 'file', idleTimeoutSeconds: 'default' });
  });

  it('TICKVAULT_CONFIG names the file; a missing named file is an error', () => {
    const cwd = writeConfig('named', { pool: { poolSize: 9 } });
    const file = path.join(cwd, 'tickvault.config.json');
    expect(resolveEngineSettings({ env: { TICKVAULT_CONFIG: file }, cwd: dir }).pool.poolSize).toBe(9);
    expect(() => resolveEngineSettings({ env: { TICKVAULT_CONFIG: path.join(dir, 'nope.json') } })).toThrow(
      /cannot read the config file .*TICKVAULT_CONFIG/,
    );
  });

  it.each([
    [{ TICKVAULT_POOL_SIZE: 'abc' }, /TICKVAULT_POOL_SIZE must be a whole number; got "abc"/],
    [{ TICKVAULT_POOL_SIZE: '0' }, /TICKVAULT_POOL_SIZE must be an integer >= 1/],
    [{ TICKVAULT_MAX_OVERFLOW: '1.5' }, /TICKVAULT_MAX_OVERFLOW must be an integer >= 0/],
    [{ TICKVAULT_POOL_TIMEOUT: '-1' }, /TICKVAULT_POOL_TIMEOUT must be a number of seconds/],
    [{ TICKVAULT_POOL_PRE_PING: 'maybe' }, /TICKVAULT_POOL_PRE_PING must be true or false/],
    [{ TICKVAULT_ECHO: '2' }, /TICKVAULT_ECHO must be true or false/],
  ])('invalid env %o is rejected naming the variable', (env, re) => {
    expect(() => resolveEngineSettings({ env, useFile: false })).toThrow(ConfigError);
    expect(() => resolveEngineSettings({ env, useFile: false })).toThrow(re);
  });

  it('invalid code and file values are rejected naming the key', () => {
    expect(() => resolveEngineSettings({ env: {}, useFile: false, code: { poolRecycle: Number.NaN } })).toThrow(
      /"poolRecycle" \(set in code\) must be a number of seconds/,
    );
    const bad = writeConfig('bad', { pool: { poolTimeout: '30' } });
    expect(() => resolveEngineSettings({ env: {}, cwd: bad })).toThrow(
      /"pool.poolTimeout" in .*tickvault.config.json must be a number of seconds/,
    );
    const unknown = writeConfig('unknown', { pool: { poolsize: 3 } });
    expect(() => resolveEngineSettings({ env: {}, cwd: unknown })).toThrow(/unknown key "pool.poolsize"/);
    const notJson = writeConfig('notjson', '{ pool: ');
    expect(() => resolveEngineSettings({ env: {}, cwd: notJson })).toThrow(/is not valid JSON/);
  });
});

describe('TLS pass-through', () => {
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n');
  const p = (q: string) => new URLSearchParams(q);

  it('maps sslmode like libpq', () => {
    expect(resolveTls(p(''), undefined)).toBe(false);
    expect(resolveTls(p('sslmode=disable'), ca)).toBe(false);
    expect(resolveTls(p('sslmode=require'), undefined)).toEqual({ rejectUnauthorized: false });
    const req = resolveTls(p('sslmode=require'), ca) as { ca: string; rejectUnauthorized: boolean; checkServerIdentity?: unknown };
    expect(req.rejectUnauthorized).toBe(true);
    expect(req.ca).toContain('fake');
    expect(typeof req.checkServerIdentity).toBe('function');
    const full = resolveTls(p('sslmode=verify-full'), ca) as unknown as Record<string, unknown>;
    expect(full).toMatchObject({ rejectUnauthorized: true });
    expect(full.checkServerIdentity).toBeUndefined();
    expect(resolveTls(p(''), ca)).toMatchObject({ rejectUnauthorized: true }); // a CA alone means verify-full
    expect(resolveTls(p(`sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`), undefined)).toMatchObject({ rejectUnauthorized: true });
  });

  it('rejects bad modes and unreadable CA files with a ConfigError', () => {
    expect(() => resolveTls(p('sslmode=sometimes'), undefined)).toThrow(/sslmode "sometimes"/);
    expect(() => resolveTls(p('sslmode=verify-ca'), undefined)).toThrow(/verify-ca needs a CA/);
    expect(() => resolveTls(p('sslmode=require'), '/nonexistent/ca.pem')).toThrow(/cannot read the TLS CA file/);
  });

  it('TICKVAULT_SSL_CA_FILE reaches the pg config; the password is never an enumerable value', () => {
    const s = resolveEngineSettings({ env: { TICKVAULT_SSL_CA_FILE: ca }, useFile: false });
    const cfg = clientConfigFromUrl(
      'postgres://app:s3cr%40t-pw@db.example:6543/market?sslmode=verify-full&application_name=tv',
      s.sslCaFile,
    );
    expect(cfg).toMatchObject({ user: 'app', host: 'db.example', port: 6543, database: 'market', application_name: 'tv' });
    expect((cfg.ssl as { ca: string }).ca).toContain('fake');
    expect(typeof cfg.password).toBe('function');
    expect((cfg.password as () => string)()).toBe('s3cr@t-pw');
    expect(JSON.stringify(cfg)).not.toContain('s3cr');
    expect('sslmode' in cfg).toBe(false);
  });
});

describe('withRetry', () => {
  it('classifies transient errors, including through a cause chain', () => {
    const pgErr = (code: string) => Object.assign(new Error('x'), { code });
    for (const code of ['57P01', '40001', '40P01', 'ECONNRESET', 'ECONNREFUSED', '57P03']) expect(isTransientError(pgErr(code))).toBe(true);
    expect(isTransientError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientError(new ConnectionError('cannot connect', { cause: pgErr('ECONNREFUSED') }))).toBe(true);
    for (const code of ['23505', '42P01', '28P01', '3D000']) expect(isTransientError(pgErr(code))).toBe(false);
    expect(isTransientError(new ConnectionError('no database connection became free within poolTimeout=1s'))).toBe(false);
  });

  it('retries transient failures with bounded jittered backoff, then gives up', async () => {
    let calls = 0;
    const delays: number[] = [];
    const ok = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error('deadlock'), { code: '40P01' });
        return 'done';
      },
      { attempts: 5, baseMs: 1, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(ok).toBe('done');
    expect(calls).toBe(3);
    expect(delays).toHaveLength(2);

    let n = 0;
    await expect(
      withRetry(
        async () => {
          n += 1;
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        },
        { attempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow('reset');
    expect(n).toBe(3);
    let m = 0;
    await expect(
      withRetry(
        async () => {
          m += 1;
          throw Object.assign(new Error('dup'), { code: '23505' });
        },
        { attempts: 3, baseMs: 1 },
      ),
    ).rejects.toThrow('dup');
    expect(m).toBe(1);
  });

  it('a retry window bounds the retries in time, whatever the attempt count', async () => {
    let n = 0;
    const started = Date.now();
    await expect(
      withRetry(
        async () => {
          n += 1;
          throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        },
        { baseMs: 20, maxMs: 40, windowMs: 300 },
      ),
    ).rejects.toThrow('refused');
    expect(Date.now() - started).toBeLessThanOrEqual(300 + 100);
    expect(n).toBeGreaterThan(3);
    let once = 0;
    await expect(
      withRetry(
        async () => {
          once += 1;
          throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        },
        { baseMs: 20, windowMs: 0 },
      ),
    ).rejects.toThrow('refused');
    expect(once).toBe(1);
  });

  it('retryWindow comes from code, TICKVAULT_RETRY_WINDOW or the file (default 60 s); poolTimeout 0 is refused (node-postgres would wait forever)', () => {
    expect(resolveEngineSettings({ env: {}, useFile: false }).pool.retryWindow).toBe(60);
    expect(resolveEngineSettings({ env: { TICKVAULT_RETRY_WINDOW: '5' }, useFile: false }).pool).toMatchObject({ retryWindow: 5 });
    expect(resolveEngineSettings({ cwd: writeConfig('retry', { pool: { retryWindow: 7 } }), env: {} }).pool.retryWindow).toBe(7);
    expect(() => resolveEngineSettings({ env: { TICKVAULT_RETRY_WINDOW: 'soon' }, useFile: false })).toThrow(
      /TICKVAULT_RETRY_WINDOW must be a number of seconds/,
    );
    expect(() => resolveEngineSettings({ env: { TICKVAULT_POOL_TIMEOUT: '0' }, useFile: false })).toThrow(
      /poolTimeout.*must be > 0.*wait forever/,
    );
    expect(() => resolveEngineSettings({ code: { poolTimeout: 0 }, env: {}, useFile: false })).toThrow(ConfigError);
  });

  it('backoff doubles, is capped and jittered within [step/2, step]', () => {
    expect(backoffMs(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffMs(1, 100, 1000, () => 0.999)).toBe(100);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(200);
    expect(backoffMs(10, 100, 1000, () => 0.999)).toBe(1000);
  });
});
