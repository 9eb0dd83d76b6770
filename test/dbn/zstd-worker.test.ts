/**
 * The worker-thread zstd reader (zstd-worker.ts: zstd → FIFO → blocking reads → chunks moved to
 * this thread, flow-controlled by a shared counter): exact bytes, a consumer slower than zstd,
 * corrupt input, a consumer that stops early (zstd ended, nothing left behind), no zstd at all.
 */
import { execFileSync, execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DbnFormatError } from '../../src/dbn/errors.js';
import { zstdCliFileChunks } from '../../src/dbn/zstd-worker.js';
import { tmpDir } from '../ingest/helpers.js';

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
const readerDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('tickvault-zstd-')).length;
const zstdRunningOn = (f: string) => execSync('ps -eo args', { encoding: 'utf8' }).split('\n').some((l) => l.startsWith('zstd ') && l.includes(f));

describe('zstd reader thread', () => {
  it('yields exactly the decompressed bytes, in 1 MiB chunks', async () => {
    const before = readerDirs();
    const h = createHash('sha256');
    let n = 0;
    let chunks = 0;
    for await (const c of zstdCliFileChunks(file)) { h.update(c); n += c.length; chunks++; }
    expect(n).toBe(plain.length);
    expect(h.digest('hex')).toBe(sha(plain));
    expect(chunks).toBe(24);
    expect(readerDirs()).toBe(before);
  });

  it('a consumer slower than zstd gets the same bytes (the reader waits at its limit)', async () => {
    const h = createHash('sha256');
    let k = 0;
    for await (const c of zstdCliFileChunks(file)) {
      h.update(c);
      if (k++ < 3) await new Promise((r) => setTimeout(r, 150));
    }
    expect(h.digest('hex')).toBe(sha(plain));
  });

  it('corrupt input: DBN_ZSTD naming how far it got, after the intact chunks', async () => {
    const bad = path.join(dir.dir, 'bad.zst');
    const z = execFileSync('zstd', ['-q', '-1', '-c'], { input: plain, maxBuffer: 64 << 20 });
    for (let i = 0; i < 64; i++) z[Math.floor(z.length / 2) + i] ^= 0x5a;
    writeFileSync(bad, z);
    let got = 0;
    const err = await (async () => { for await (const c of zstdCliFileChunks(bad)) got += c.length; })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbnFormatError);
    expect((err as DbnFormatError).code).toBe('DBN_ZSTD');
    expect((err as DbnFormatError).message).toContain(`after ${got} decompressed bytes`);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(plain.length);
  });

  it('a consumer that stops early ends zstd and leaves nothing behind', async () => {
    const before = readerDirs();
    for await (const c of zstdCliFileChunks(file)) { expect(c.length).toBeGreaterThan(0); break; }
    await new Promise((r) => setTimeout(r, 100));
    expect(zstdRunningOn(file)).toBe(false);
    expect(readerDirs()).toBe(before);
  });

  it('no zstd on PATH: a DbnFormatError, no hang', async () => {
    const saved = process.env.PATH;
    process.env.PATH = dir.dir; // holds no zstd and no mkfifo
    try {
      const err = await (async () => { for await (const _ of zstdCliFileChunks(file)) { /* nothing */ } })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbnFormatError);
      expect((err as DbnFormatError).code).toBe('DBN_ZSTD');
    } finally {
      process.env.PATH = saved;
    }
  });
});
