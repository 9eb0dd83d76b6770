/**
 * The worker-thread zstd reader (zstd-worker.ts: zstd → FIFO → blocking reads → chunks moved to
 * this thread, flow-controlled by a shared counter): exact bytes, a consumer slower than zstd,
 * corrupt input, a consumer that stops early (zstd ended, nothing left behind), no zstd at all,
 * and a reading process killed with SIGKILL or SIGTERM (zstd ends, no folder left). Reader folders
 * are counted in a temp directory of this test's own, never the machine's.
 */
import { execFileSync, execSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DbnFormatError } from '../../src/dbn/errors.js';
import { zstdCliFileChunks } from '../../src/dbn/zstd-worker.js';
import { tmpDir } from '../support/tmp.js';

const dir = tmpDir('tickvault-zstdw-');
afterAll(() => dir.cleanup());

/** 24 MiB: random blocks (so the file stays large compressed) and runs of one byte. */
function content(): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 24; i++) parts.push(i % 3 === 0 ? Buffer.alloc(1 << 20, i) : randomBytes(1 << 20));
  return Buffer.concat(parts);
}
const plain = content();
const file = path.join(dir.dir, 'data.zst');
writeFileSync(file, execFileSync('zstd', ['-q', '-1', '-c'], { input: plain, maxBuffer: 64 << 20 }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const readerTmp = path.join(dir.dir, 'readers');
mkdirSync(readerTmp);
const readerDirs = () => readdirSync(readerTmp).filter((d) => d.startsWith('tickvault-zstd-')).length;
const chunks = (f: string) => zstdCliFileChunks(f, { tmpDir: readerTmp });
const zstdRunningOn = (f: string) =>
  execSync('ps -eo args', { encoding: 'utf8' })
    .split('\n')
    .some((l) => l.startsWith('zstd ') && l.includes(f));

describe('zstd reader thread', () => {
  it('yields exactly the decompressed bytes, in 1 MiB chunks', async () => {
    const h = createHash('sha256');
    let n = 0;
    let count = 0;
    for await (const c of chunks(file)) {
      h.update(c);
      n += c.length;
      count++;
    }
    expect(n).toBe(plain.length);
    expect(h.digest('hex')).toBe(sha(plain));
    expect(count).toBe(24);
    expect(readerDirs()).toBe(0);
  });

  it('a consumer slower than zstd gets the same bytes (the reader waits at its limit)', async () => {
    const h = createHash('sha256');
    let k = 0;
    for await (const c of chunks(file)) {
      h.update(c);
      if (k++ < 3) await new Promise((r) => setTimeout(r, 150));
    }
    expect(h.digest('hex')).toBe(sha(plain));
  });

  it('corrupt input: DBN_ZSTD naming how far it got, after the intact chunks', async () => {
    const bad = path.join(dir.dir, 'bad.zst');
    const z = execFileSync('zstd', ['-q', '-1', '-c'], { input: plain, maxBuffer: 64 << 20 });
    for (let i = 0; i < 64; i++) z[Math.floor(z.length / 2) + i]! ^= 0x5a;
    writeFileSync(bad, z);
    let got = 0;
    const err = await (async () => {
      for await (const c of chunks(bad)) got += c.length;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbnFormatError);
    expect((err as DbnFormatError).code).toBe('DBN_ZSTD');
    expect((err as DbnFormatError).message).toContain(`after ${got} decompressed bytes`);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(plain.length);
  });

  it('a consumer that stops early ends zstd and leaves nothing behind', async () => {
    for await (const c of chunks(file)) {
      expect(c.length).toBeGreaterThan(0);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(zstdRunningOn(file)).toBe(false);
    expect(readerDirs()).toBe(0);
  });

  it('no zstd on PATH: a DbnFormatError, no hang', async () => {
    const saved = process.env.PATH;
    process.env.PATH = dir.dir; // holds no zstd and no mkfifo
    try {
      const err = await (async () => {
        for await (const _ of chunks(file)) {
          /* nothing */
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbnFormatError);
      expect((err as DbnFormatError).code).toBe('DBN_ZSTD');
    } finally {
      process.env.PATH = saved;
    }
  });
  const BUILT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'dbn', 'zstd-worker.js');
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const zstdChildOf = (ppid: number) =>
    execSync('ps -eo pid=,ppid=,args=', { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => Number(f[1]) === ppid && f[2] === 'zstd')
      .map((f) => Number(f[0]));

  it.each(['SIGKILL', 'SIGTERM'] as const)('a reading process killed with %s: zstd ends at once and no folder is left', async (signal) => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: build first (npm run build)`);
    const tmp = path.join(dir.dir, `killed-${signal}`);
    mkdirSync(tmp);
    // Reads one chunk, then stops consuming: the reader thread fills its window and zstd blocks on the full pipe.
    const code = `import { zstdCliFileChunks } from ${JSON.stringify(pathToFileURL(BUILT).href)};
      for await (const c of zstdCliFileChunks(${JSON.stringify(file)})) { process.stdout.write('reading\\n'); await new Promise(() => setInterval(() => {}, 1000)); }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TMPDIR: tmp },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('reading')) resolve();
        });
        child.once('exit', (c) => reject(new Error(`reader exited with ${c}`)));
      });
      const [zstd] = zstdChildOf(child.pid!);
      expect(zstd, "zstd runs as the reader's child").toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 200)); // zstd is now blocked on the full pipe
      expect(alive(zstd!)).toBe(true);
      child.kill(signal);
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      const t0 = Date.now();
      while (alive(zstd!) && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
      expect(alive(zstd!), `zstd ${zstd} still running after its reader got ${signal}`).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
