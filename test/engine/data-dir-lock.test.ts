/**
 * The embedded data directory lock: one holder at a time across processes and within one
 * process, a dead holder's lock taken over, another host's lock never broken, and the holder
 * named in the error. Child processes run the built module (dist/), started at the same instant.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLock, DataDirLockedError, lockFileFor } from '../../src/engine/data-dir-lock.js';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { tmpDir } from '../support/tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILT = pathToFileURL(path.join(ROOT, 'dist', 'src', 'engine', 'data-dir-lock.js')).href;

beforeAll(() => {
  if (!existsSync(fileURLToPath(BUILT))) throw new Error(`${BUILT} is missing: build first (npm run build)`);
});

let tmp: ReturnType<typeof tmpDir>;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  tmp?.cleanup();
});

function dataDir(): string {
  tmp = tmpDir('tickvault-lock-');
  const dir = path.join(tmp.dir, 'data');
  mkdirSync(dir);
  return dir;
}

/** A child that takes the lock, prints "held", and keeps it until killed or for `holdMs`. */
function holder(dir: string, holdMs = 60_000): Promise<ChildProcess> {
  const code = `import { DataDirLock } from ${JSON.stringify(BUILT)};
    const lock = await DataDirLock.acquire(${JSON.stringify(dir)}, { command: 'test holder' });
    process.stdout.write('held\\n');
    setTimeout(() => { lock.release(); process.exit(0); }, ${holdMs});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) resolve(child);
    });
    child.once('exit', (c) => reject(new Error(`holder exited with ${c} before taking the lock`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (c) => r(c)));
}

describe('embedded data directory lock', () => {
  it('many processes started at once never hold it together', async () => {
    const dir = dataDir();
    const log = path.join(tmp.dir, 'log');
    writeFileSync(log, '');
    const rounds = 15;
    const code = `import { DataDirLock } from ${JSON.stringify(BUILT)};
      import fs from 'node:fs';
      for (let i = 0; i < ${rounds}; i++) {
        const lock = await DataDirLock.acquire(${JSON.stringify(dir)}, { waitMs: 60000 });
        fs.appendFileSync(${JSON.stringify(log)}, 'enter ' + process.pid + '\\n');
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        fs.appendFileSync(${JSON.stringify(log)}, 'exit ' + process.pid + '\\n');
        lock.release();
      }`;
    const procs = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] }),
    );
    children.push(...procs);
    expect(await Promise.all(procs.map(exited))).toEqual(procs.map(() => 0));
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(6 * rounds * 2);
    for (let i = 0; i < lines.length; i += 2) {
      const [a, b] = [lines[i]!.split(' '), lines[i + 1]!.split(' ')];
      expect([a[0], b[0], b[1]]).toEqual(['enter', 'exit', a[1]]);
    }
    expect(existsSync(lockFileFor(dir))).toBe(false);
  }, 120_000);

  it('a live holder is named in the error; a waiter gets the lock when it is released', async () => {
    const dir = dataDir();
    const child = await holder(dir, 1_500);
    const err = await DataDirLock.acquire(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).code).toBe('DATA_DIR_LOCKED');
    expect((err as DataDirLockedError).holder).toMatchObject({ pid: child.pid, host: os.hostname(), command: 'test holder' });
    expect((err as Error).message).toContain(`pid ${child.pid}`);
    let waitedFor: number | undefined;
    const lock = await DataDirLock.acquire(dir, {
      waitMs: 30_000,
      onWait: (h) => {
        waitedFor = h?.pid;
      },
    });
    expect(waitedFor).toBe(child.pid);
    expect(await exited(child)).toBe(0);
    expect(JSON.parse(readFileSync(lock.lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(lock.lockFile)).toBe(false);
  }, 60_000);

  it('a waiter that runs out of patience fails and leaves the holder alone', async () => {
    const dir = dataDir();
    const child = await holder(dir);
    const t0 = Date.now();
    await expect(DataDirLock.acquire(dir, { waitMs: 400 })).rejects.toThrow(/in use by pid \d+ .*waited/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(readFileSync(lockFileFor(dir), 'utf8'))).toMatchObject({ pid: child.pid });
  });

  it('the lock of a killed process is taken over at once', async () => {
    const dir = dataDir();
    const child = await holder(dir);
    child.kill('SIGKILL');
    await exited(child);
    expect(JSON.parse(readFileSync(lockFileFor(dir), 'utf8'))).toMatchObject({ pid: child.pid });
    const lock = await DataDirLock.acquire(dir);
    expect(JSON.parse(readFileSync(lock.lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it("another host's lock is never broken, even when its pid does not exist here", async () => {
    const dir = dataDir();
    writeFileSync(
      lockFileFor(dir),
      JSON.stringify({ pid: 2 ** 22 + 7, host: 'some-other-host', command: 'tickvault load x', since: '2026-01-01T00:00:00.000Z' }),
    );
    await expect(DataDirLock.acquire(dir)).rejects.toThrow(/some-other-host/);
  });

  it('two engines in one process: the second open fails until the first closes', async () => {
    const dir = dataDir();
    const first = await EmbeddedEngine.open({ dataDir: dir });
    try {
      await expect(EmbeddedEngine.open({ dataDir: dir })).rejects.toBeInstanceOf(DataDirLockedError);
    } finally {
      await first.close();
    }
    const second = await EmbeddedEngine.open({ dataDir: dir });
    await second.close();
    expect(existsSync(lockFileFor(dir))).toBe(false);
  }, 60_000);
});
