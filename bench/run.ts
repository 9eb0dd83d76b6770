/**
 * `npm run bench [-- names…] [-- --rows N …]`: runs the benchmarks one after another, each in its
 * own process (so each peak RSS is its own), and prints their tables. Default: the load benchmark
 * (issue 3 targets, DESIGN.md §6) and the DBN end-to-end benchmark. `all` runs every one.
 * Arguments after the names are passed to each benchmark.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES: Record<string, string> = {
  load: 'load-bench.js',
  e2e: 'dbn-e2e-bench.js',
  decode: 'decode-bench.js',
  encode: 'encode-bench.js',
  query: 'query-bench.js',
  backfill: 'backfill-bench.js',
  export: 'export-bench.js',
  'direct-compress': 'direct-compress-bench.js',
  growth: 'growth-bench.js',
  asofjoin: 'asof-join-bench.js',
};

const args = process.argv.slice(2);
const names = args.filter((a) => a === 'all' || a in BENCHES);
const passthrough = args.filter((a) => !names.includes(a));
const chosen = names.includes('all') ? Object.keys(BENCHES) : names.length ? names : ['load', 'e2e'];

let failed = 0;
for (const name of chosen) {
  process.stdout.write(`\n===== bench: ${name} =====\n`);
  const r = spawnSync(process.execPath, [path.join(here, BENCHES[name]!), ...passthrough], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench ${name} exited with ${r.status ?? r.signal}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
