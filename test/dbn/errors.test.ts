import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DbnFormatError, type DbnInput, type DbnOpenOptions, openDbn, zstdCliAvailable } from '../../src/dbn/index.js';
import { fixture, readAll } from '../support/fixtures.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'tickvault-dbn-err-'));
const trades = new Uint8Array(readFileSync(fixture('test_data.trades.dbn'))); // v2, 353-byte header + 2 x 48
const HEADER = 353;

async function failure(input: DbnInput, opts?: DbnOpenOptions): Promise<DbnFormatError> {
  try {
    const d = await openDbn(input, opts);
    for await (const _ of d.batches()) {
      /* drain */
    }
  } catch (err) {
    expect(err).toBeInstanceOf(DbnFormatError);
    return err as DbnFormatError;
  }
  throw new Error('expected a DbnFormatError');
}

function zstd(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync('zstd', ['-q', '-c'], { input: bytes }));
}

function mutate(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const b = bytes.slice();
  b[at] = value;
  return b;
}

describe('malformed input fails with a typed error naming the byte offset', () => {
  it('empty file, empty buffer, empty stream, empty zstd content', async () => {
    const empty = path.join(tmp, 'empty.dbn');
    writeFileSync(empty, '');
    for (const input of [empty, new Uint8Array(0), (async function* () {})()]) {
      const e = await failure(input);
      expect(e.code).toBe('DBN_EMPTY');
      expect(e.byteOffset).toBe(0);
      expect(e.message).toMatch(/byte offset 0/);
    }
    if (zstdCliAvailable()) {
      for (const engine of ['cli', 'js'] as const)
        expect((await failure(zstd(new Uint8Array(0)), { zstd: engine })).code).toBe('DBN_EMPTY');
    }
  });

  it('wrong magic', async () => {
    const e = await failure(new TextEncoder().encode('date,price\n2024-01-01,1\n'));
    expect(e).toMatchObject({ code: 'DBN_BAD_MAGIC', byteOffset: 0 });
    expect((await failure(mutate(trades, 2, 0x58))).byteOffset).toBe(2);
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
    expect((await failure(gz)).code).toBe('DBN_BAD_MAGIC');
  });

  it('unsupported version (0 = legacy DBZ, 4 = future)', async () => {
    const e0 = await failure(mutate(trades, 3, 0));
    expect(e0).toMatchObject({ code: 'DBN_UNSUPPORTED_VERSION', byteOffset: 3 });
    expect(e0.message).toMatch(/DBZ/);
    expect((await failure(mutate(trades, 3, 4))).code).toBe('DBN_UNSUPPORTED_VERSION');
  });

  it('truncated prelude and metadata', async () => {
    expect(await failure(trades.subarray(0, 5))).toMatchObject({ code: 'DBN_TRUNCATED_METADATA', byteOffset: 5 });
    const e = await failure(trades.subarray(0, 100));
    expect(e).toMatchObject({ code: 'DBN_TRUNCATED_METADATA', byteOffset: 100 });
    expect(e.message).toBe(`truncated metadata at byte offset 100: needs ${HEADER} bytes, 100 available`);
  });

  it('impossible metadata length and counts', async () => {
    const big = trades.slice();
    new DataView(big.buffer).setUint32(4, 0xfffffff0, true);
    expect(await failure(big)).toMatchObject({ code: 'DBN_BAD_METADATA', byteOffset: 4 });
    const small = trades.slice();
    new DataView(small.buffer).setUint32(4, 20, true);
    expect((await failure(small)).code).toBe('DBN_BAD_METADATA');
    const count = trades.slice();
    new DataView(count.buffer).setUint32(8 + 104, 1_000_000, true); // symbols count
    expect(await failure(count)).toMatchObject({ code: 'DBN_BAD_METADATA', byteOffset: 116 });
  });

  it('truncated record tail: whole records first, then the error', async () => {
    const cut = trades.subarray(0, trades.length - 10);
    const d = await openDbn(cut);
    let seen = 0;
    const err = await (async () => {
      try {
        for await (const b of d.batches()) seen += b.count;
      } catch (e) {
        return e as DbnFormatError;
      }
    })();
    expect(seen).toBe(1);
    expect(err).toBeInstanceOf(DbnFormatError);
    expect(err).toMatchObject({ code: 'DBN_TRUNCATED_RECORD', byteOffset: HEADER + 48 });
    expect(err!.message).toBe(`truncated record at byte offset ${HEADER + 48}: needs 48 bytes, 38 available`);
    // Same through zstd and a file path, both engines.
    const p = path.join(tmp, 'cut.dbn.zst');
    if (zstdCliAvailable()) {
      writeFileSync(p, zstd(cut));
      for (const engine of ['cli', 'js'] as const)
        expect(await failure(p, { zstd: engine })).toMatchObject({ code: 'DBN_TRUNCATED_RECORD', byteOffset: HEADER + 48 });
    }
  });

  it('corrupted length words', async () => {
    const zero = await failure(mutate(trades, HEADER + 48, 0));
    expect(zero).toMatchObject({ code: 'DBN_BAD_LENGTH', byteOffset: HEADER + 48 });
    expect(zero.message).toMatch(/corrupted record length 0/);
    expect((await failure(mutate(trades, HEADER, 3))).byteOffset).toBe(HEADER);
    // 44 bytes cannot hold a 48-byte trade: accessors would read past it.
    const short = await failure(mutate(trades, HEADER, 11));
    expect(short).toMatchObject({ code: 'DBN_BAD_LENGTH', byteOffset: HEADER });
    expect(short.message).toMatch(/rtype 0x00/);
    // A length running past the end is a truncation.
    expect((await failure(mutate(trades, HEADER + 48, 255))).code).toBe('DBN_TRUNCATED_RECORD');
  });

  it.runIf(zstdCliAvailable())('corrupt and truncated zstd, both engines', async () => {
    const z = new Uint8Array(readFileSync(fixture('test_data.definition.v3.dbn.zst')));
    const half = z.subarray(0, z.length >> 1);
    const p = path.join(tmp, 'half.dbn.zst');
    writeFileSync(p, half);
    for (const engine of ['cli', 'js'] as const) {
      expect((await failure(half, { zstd: engine })).code).toMatch(/DBN_ZSTD|DBN_TRUNCATED/);
      expect((await failure(p, { zstd: engine })).code).toMatch(/DBN_ZSTD|DBN_TRUNCATED/);
      const garbage = z.slice();
      for (let i = 20; i < garbage.length; i += 3) garbage[i]! ^= 0x5a;
      expect(await failure(garbage, { zstd: engine })).toBeInstanceOf(DbnFormatError);
    }
  });

  it('a healthy file still decodes after all that', async () => {
    expect((await readAll(trades)).records.length).toBe(2);
  });
});
