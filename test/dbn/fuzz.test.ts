import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DbnFormatError, type DbnOpenOptions, SymbolMap, openDbn, zstdCliAvailable } from '../../src/dbn/index.js';
import { fixture, fixtureFiles } from '../support/fixtures.js';

const inputs = fixtureFiles().map((f) => new Uint8Array(readFileSync(fixture(f))));
const PER_RUN_MS = 10_000;

/** Decodes everything (batches, slow path, symbology); returns the error thrown, if any. */
async function decodeAll(bytes: Uint8Array, opts: DbnOpenOptions): Promise<unknown> {
  try {
    const d = await openDbn(bytes, opts);
    const map = SymbolMap.fromMetadata(d.metadata);
    const out: (string | null)[] = [];
    for await (const b of d.batches()) map.resolveBatch(b, out);
    const again = await openDbn(bytes, opts);
    for await (const _ of again.records()) {
      /* slow path too */
    }
    return undefined;
  } catch (err) {
    return err;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms)))]).finally(
    () => clearTimeout(timer),
  );
}

const mutation = fc.record({
  file: fc.nat({ max: inputs.length - 1 }),
  // Positions as integers taken modulo the length: fast-check's doubles cluster near 0, which
  // would mostly hit the magic bytes and leave records and zstd blocks untested.
  flips: fc.array(fc.tuple(fc.nat({ max: 1 << 20 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  cut: fc.option(fc.nat({ max: 1 << 20 }), { nil: undefined }),
});

function apply(m: { file: number; flips: [number, number][]; cut?: number }): Uint8Array {
  const src = inputs[m.file]!;
  const b = src.slice(0, m.cut === undefined ? src.length : m.cut % (src.length + 1));
  for (const [at, v] of m.flips) if (b.length) b[at % b.length] = v;
  return b;
}

/** Tally of outcomes, to show the fuzzer reaches past the prelude. */
function tally(into: Record<string, number>, err: unknown): void {
  const k = err === undefined ? 'ok' : err instanceof DbnFormatError ? err.code : 'other';
  into[k] = (into[k] ?? 0) + 1;
}

describe('fuzz: mutated and truncated fixtures', () => {
  it('in-process (fzstd) decoding throws nothing but DbnFormatError and never hangs', async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const err = await withTimeout(decodeAll(apply(m), { zstd: 'js', batchBytes: 256 }), PER_RUN_MS);
        tally(seen, err);
        if (err !== undefined && !(err instanceof DbnFormatError)) throw err;
      }),
      { numRuns: 400, seed: 20240607 },
    );
    // The mutations must reach the zstd layer, the metadata and the records, not only the magic.
    expect(Object.keys(seen)).toEqual(expect.arrayContaining(['ok', 'DBN_ZSTD', 'DBN_TRUNCATED_RECORD', 'DBN_BAD_METADATA']));
  }, 120_000);

  it.runIf(zstdCliAvailable())(
    'zstd-binary decoding throws nothing but DbnFormatError and never hangs',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const err = await withTimeout(decodeAll(apply(m), { zstd: 'cli' }), PER_RUN_MS);
          if (err !== undefined && !(err instanceof DbnFormatError)) throw err;
        }),
        { numRuns: 80, seed: 7 },
      );
    },
    120_000,
  );

  it('errors name the byte offset', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const err = await decodeAll(apply(m), { zstd: 'js' });
        if (err instanceof DbnFormatError) {
          checked++;
          expect(err.message).toContain(`byte offset ${err.byteOffset}`);
          expect(Number.isInteger(err.byteOffset) && err.byteOffset >= 0).toBe(true);
        }
      }),
      { numRuns: 150, seed: 99 },
    );
    expect(checked).toBeGreaterThan(10);
  }, 120_000);
});
