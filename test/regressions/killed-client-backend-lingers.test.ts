/**
 * Regression (issue 14.3): after kill -9 of a client mid-statement, its server backend kept
 * running the statement (and holding the load's advisory locks) for minutes, blocking a resume.
 * Every pooled connection now sets client_connection_check_interval: the backend ends within a
 * few seconds of its client's death.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_CHECK_INTERVAL_MS } from '../../src/engine/server.js';
import { openTestEngine, type TestEngine } from '../support/engines.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OPEN = pathToFileURL(path.join(ROOT, 'dist', 'src', 'engine', 'open.js')).href;

describe('a killed client on the server engine', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine('server', { name: 'killed_client' });
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('leaves no backend running its statement', async () => {
    const code = `import { openEngine } from ${JSON.stringify(OPEN)};
      const engine = await openEngine({ databaseUrl: ${JSON.stringify(t.url)} });
      await engine.withConnection(async (c) => {
        const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
        process.stdout.write('backend ' + rows[0].pid + '\\n');
        await c.query('SELECT pg_sleep(120)');
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const backend = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        const m = /backend (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (c) => reject(new Error(`client exited with ${c}`)));
    });
    const running = async () =>
      (
        await t.engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [
          backend,
        ])
      ).rows[0]!.n === '1';
    await new Promise((r) => setTimeout(r, 300));
    expect(await running()).toBe(true);
    child.kill('SIGKILL');
    const t0 = Date.now();
    while ((await running()) && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 200));
    const ms = Date.now() - t0;
    expect(await running(), `backend ${backend} still running ${ms} ms after its client was killed`).toBe(false);
    expect(ms).toBeLessThan(CLIENT_CHECK_INTERVAL_MS * 3 + 1_000);
  }, 60_000);
});
