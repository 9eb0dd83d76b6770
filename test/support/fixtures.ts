import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DbnOpenOptions, type DbnRecord, type DbnInput, openDbn } from '../../src/dbn/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.resolve(repoRoot, '../shared/fixtures/dbn');

/** Every fixture file (relative path), .dbn and .dbn.zst, including databento-python/. */
export function fixtureFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.dbn(\.zst)?$/.test(name)) out.push(path.relative(FIXTURES, p));
    }
  };
  walk(FIXTURES);
  return out;
}

export interface SourceRow {
  file: string;
  schema: string;
  version: number;
  compression: string;
  bytes: number;
  records: number;
  dataset: string;
  symbols: string[];
  instrumentIds: number[];
  notes: string;
}

/** The per-file table of SOURCE.md: the expected facts the decoder is checked against. */
export function sourceTable(): Map<string, SourceRow> {
  const md = readFileSync(path.join(FIXTURES, 'SOURCE.md'), 'utf8');
  const rows = new Map<string, SourceRow>();
  for (const line of md.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const c = line
      .split('|')
      .slice(1, -1)
      .map((x) => x.trim());
    const file = c[0]!.replace(/`/g, '');
    rows.set(file, {
      file,
      schema: c[1]!,
      version: Number(c[2]),
      compression: c[3]!,
      bytes: Number(c[4]),
      records: Number(c[5]),
      dataset: c[6]!,
      symbols: c[7] === '-' ? [] : [c[7]!],
      instrumentIds: c[8] === '-' ? [] : c[8]!.split(',').map(Number),
      notes: c[9] ?? '',
    });
  }
  return rows;
}

export async function readAll(
  input: DbnInput,
  opts?: DbnOpenOptions,
): Promise<{ records: DbnRecord[]; decoder: Awaited<ReturnType<typeof openDbn>> }> {
  const decoder = await openDbn(input, opts);
  const records: DbnRecord[] = [];
  for await (const r of decoder.records()) records.push(r);
  return { records, decoder };
}

export const fixture = (rel: string): string => path.join(FIXTURES, rel);

/** Chunks `bytes` into pieces of `size` as an async iterable (straddles every record boundary). */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let p = 0; p < bytes.length; p += size) yield bytes.slice(p, p + size);
}
