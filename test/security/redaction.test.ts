// No log line or error message contains the password from the URL. PRIVATE cluster with password
// authentication; every way of failing (wrong password, unreachable port, unknown host, unknown
// database, a failing query, a failing load) is captured from the library and from the CLI.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import util from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerEngine } from '../../src/engine/server.js';
import { HealthMonitor } from '../../src/health/monitor.js';
import { TradesLoader } from '../../src/load/loaders.js';
import { migrate } from '../../src/schema/migrate.js';
import { SecretScrubber } from '../../src/engine/redact.js';
import { redactUrl } from '../../src/errors.js';
import { createTestDatabase, type ServerCluster } from '../support/server-cluster.js';
import { startPasswordCluster, withCredentials } from '../support/password-cluster.js';

const CLI = path.resolve('dist/src/cli/main.js');
// Characters that must be percent-encoded in a URL, so raw, encoded and decoded forms all differ.
const PASSWORD = 'Tv-S3cr3t@pw:9/x%Q';
const ENCODED = encodeURIComponent(PASSWORD);
const FORMS = [PASSWORD, ENCODED, 'Tv-S3cr3t'];

function assertClean(text: string, what: string): void {
  for (const f of FORMS) {
    if (text.includes(f))
      throw new Error(`${what} contains the password (${f === PASSWORD ? 'raw' : f === ENCODED ? 'encoded' : 'prefix'}):\n${text}`);
  }
}

describe('credentials never printed (private cluster, password auth)', () => {
  let cluster: ServerCluster;
  let dbUrl: string;
  let good: string;

  beforeAll(async () => {
    cluster = await startPasswordCluster('tv-redact-');
    dbUrl = (await createTestDatabase(cluster.url, 'redact')).url;
    const admin = new pg.Client({ connectionString: dbUrl });
    await admin.connect();
    await admin.query(`CREATE ROLE tv_secret LOGIN SUPERUSER PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
    await admin.end();
    good = withCredentials(dbUrl, 'tv_secret', PASSWORD);
    expect(good).toContain(ENCODED);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const variants = () => {
    const u = new URL(good);
    const wrongPw = withCredentials(dbUrl, 'tv_secret', `${PASSWORD}-wrong`);
    const deadPort = (() => {
      const x = new URL(good);
      x.port = '1';
      return x.toString();
    })();
    const badHost = (() => {
      const x = new URL(good);
      x.hostname = 'no-such-host.invalid';
      return x.toString();
    })();
    const badDb = (() => {
      const x = new URL(good);
      x.pathname = '/no_such_db';
      return x.toString();
    })();
    const paramPw = `postgres://tv_secret@${u.host}/no_such_db?password=${ENCODED}`;
    return { wrongPw, deadPort, badHost, badDb, paramPw };
  };

  it('library: errors, causes, stacks, inspected objects and logs hold no password', async () => {
    const captured: string[] = [];
    for (const [name, url] of Object.entries(variants())) {
      const logs: string[] = [];
      const engine = new ServerEngine({ url, pool: { poolSize: 1, maxOverflow: 0, poolTimeout: 5, echo: true }, log: (l) => logs.push(l) });
      const err = await engine.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(Error);
      captured.push(`${name}: ${(err as Error).message}`, util.inspect(err, { depth: 10, showHidden: true }), String((err as Error).stack));
      captured.push(util.inspect(engine, { depth: 10, showHidden: true }), engine.location, JSON.stringify(engine.poolStatus()));
      const report = await new HealthMonitor(engine).check();
      expect(report.healthy).toBe(false);
      captured.push(JSON.stringify(report));
      const load = await new TradesLoader({ engine }).bulkLoad([]).then(
        () => undefined,
        (e: unknown) => e,
      );
      captured.push(util.inspect(load, { depth: 10, showHidden: true }));
      captured.push(...logs);
      await engine.close();
    }
    for (const c of captured) assertClean(c, 'library output');
    const all = captured.join('\n');
    expect(all).toMatch(/password authentication failed for user "tv_secret"/);
    expect(all).toMatch(/ECONNREFUSED/);
    expect(all).toMatch(/database "no_such_db" does not exist/);
    expect(all).toContain('tv_secret:***@');
  });

  it('library: a working connection with echo and failing statements leaks nothing either', async () => {
    const logs: string[] = [];
    const engine = new ServerEngine({ url: good, pool: { poolSize: 1, maxOverflow: 0, echo: true }, log: (l) => logs.push(l) });
    try {
      await migrate(engine);
      const err = await engine.query(`SELECT $1::int`, [PASSWORD]).then(
        () => undefined,
        (e: unknown) => e,
      );
      // The server echoes the bad value back; the engine masks it because it is the password.
      assertClean(util.inspect(err, { depth: 10, showHidden: true }), 'query error');
      expect((err as Error).message).toMatch(/invalid input syntax for type integer: "\*\*\*"/);
      const r = await new HealthMonitor(engine).check();
      expect(r.healthy).toBe(true);
      assertClean(JSON.stringify(r), 'health report');
      await engine.query(`SELECT current_setting('application_name')`);
    } finally {
      await engine.close();
    }
    expect(logs.length).toBeGreaterThan(3);
    for (const l of logs) assertClean(l, 'echo log');
  });

  it('CLI: status, health and init never print the password, even with TICKVAULT_DEBUG and TICKVAULT_ECHO', () => {
    const outputs: string[] = [];
    const run = (args: string[], url: string) => {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        env: { ...process.env, TICKVAULT_DATABASE_URL: url, TICKVAULT_DEBUG: '1', TICKVAULT_ECHO: '1', TICKVAULT_POOL_TIMEOUT: '5' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      outputs.push(`$ tickvault ${args.join(' ')} (${r.status})\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    for (const url of [good, ...Object.values(variants())]) {
      run(['status'], url);
      run(['health'], url);
      run(['init'], url);
    }
    // Passing the URL as an argument instead of the environment.
    const r = spawnSync(process.execPath, [CLI, '--database-url', variants().wrongPw, 'status'], {
      env: { ...process.env, TICKVAULT_DEBUG: '1' },
      encoding: 'utf8',
    });
    outputs.push(r.stdout, r.stderr);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/password authentication failed/);
    for (const o of outputs) assertClean(o, 'CLI output');
    const all = outputs.join('\n');
    expect(all).toMatch(/tickvault SQL: /); // echo was on, so there were SQL log lines to check
    expect(all).toMatch(/health: +UNHEALTHY/);
  });

  it('redaction helpers cover URL userinfo, conninfo password= and the literal secret', () => {
    expect(redactUrl(`connect postgres://u:${ENCODED}@h:5432/db failed`)).toBe('connect postgres://u:***@h:5432/db failed');
    expect(redactUrl(`host=h password=${PASSWORD} dbname=x`)).not.toContain(PASSWORD);
    const s = SecretScrubber.forUrl(good);
    expect(s.scrub(`the password is ${PASSWORD} or ${ENCODED}`)).toBe('the password is *** or ***');
    const err = new Error(`outer ${PASSWORD}`, { cause: Object.assign(new Error(`inner ${ENCODED}`), { detail: `d ${PASSWORD}` }) });
    s.scrubError(err);
    assertClean(util.inspect(err, { depth: 10, showHidden: true }), 'scrubbed error');
  });
});
