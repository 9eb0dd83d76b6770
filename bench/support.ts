/** Helpers shared by the benchmarks. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import pg from 'pg';

/** Wall time of `zstd -dc FILE > /dev/null`, best of 3: the floor for any zstd input. */
export function zstdReference(file: string): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const devnull = openSync('/dev/null', 'w');
    const t0 = performance.now();
    const r = spawnSync('zstd', ['-dc', file], { stdio: ['ignore', devnull, 'inherit'] });
    best = Math.min(best, performance.now() - t0);
    closeSync(devnull);
    if (r.status !== 0) throw new Error('zstd -dc failed');
  }
  return best;
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Empties trades_data and the bookkeeping, and checkpoints so one variant's dirty pages do not bill the next. */
export async function resetTable(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('TRUNCATE trades_data');
    await c.query('TRUNCATE tickvault_quarantine, tickvault_load_batches, tickvault_loads CASCADE');
    await c.query('CHECKPOINT');
  });
}
