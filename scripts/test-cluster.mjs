#!/usr/bin/env node
// Throwaway PostgreSQL + TimescaleDB cluster for benchmarks and manual use, the same kind the test
// harness starts (test/support/server-cluster.ts).
//
//   node scripts/test-cluster.mjs start    start one (or reuse the running one); prints its URL
//   node scripts/test-cluster.mjs url      print the URL of the running one (exit 1 if none)
//   node scripts/test-cluster.mjs status   print its details as JSON (exit 1 if none)
//   node scripts/test-cluster.mjs stop     stop it and remove its temp directory
//
// Only the URL goes to stdout, so `export TICKVAULT_TEST_SERVER_URL=$(node scripts/test-cluster.mjs start)`
// works (vitest then uses that server instead of starting its own). Its state is kept in
// .tickvault/test-cluster.json (git-ignored). The cluster outlives this process: stop it when done.
//
// Node 20 cannot import .ts, so server-cluster.ts is transpiled with the project's TypeScript into
// node_modules/.cache/tickvault/ (inside the repo, so its `import pg from 'pg'` resolves).

import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'test', 'support', 'server-cluster.ts');
const stateFile = path.join(root, '.tickvault', 'test-cluster.json');

async function loadHarness() {
  const cacheDir = path.join(root, 'node_modules', '.cache', 'tickvault');
  const out = path.join(cacheDir, 'server-cluster.mjs');
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(source).mtimeMs) {
    const { default: ts } = await import('typescript');
    const js = ts.transpileModule(readFileSync(source, 'utf8'), {
      fileName: source,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, js);
    const { renameSync } = await import('node:fs');
    renameSync(tmp, out);
  }
  return import(pathToFileURL(out).href);
}

function readState() {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch {
    return undefined;
  }
}

async function running(h) {
  const info = readState();
  if (!info) return undefined;
  const cluster = h.reattachServerCluster(info);
  if (existsSync(info.dataDir) && cluster.isRunning()) return cluster;
  // Stale state (machine rebooted, directory cleaned): drop it.
  await cluster.stop().catch(() => undefined);
  rmSync(stateFile, { force: true });
  return undefined;
}

async function main() {
  const cmd = process.argv[2];
  const h = await loadHarness();
  switch (cmd) {
    case 'start': {
      let cluster = await running(h);
      if (cluster) {
        console.error(`tickvault test cluster already running (${cluster.dir})`);
      } else {
        cluster = await h.startServerCluster({ cleanupOnExit: false });
        mkdirSync(path.dirname(stateFile), { recursive: true });
        writeFileSync(stateFile, `${JSON.stringify(h.serverClusterInfo(cluster), null, 2)}\n`);
        console.error(
          `tickvault test cluster started in ${cluster.startupMs} ms (${cluster.dir}); stop it with: node scripts/test-cluster.mjs stop`,
        );
      }
      console.log(cluster.url);
      return 0;
    }
    case 'url':
    case 'status': {
      const cluster = await running(h);
      if (!cluster) {
        console.error('no tickvault test cluster is running');
        return 1;
      }
      console.log(cmd === 'url' ? cluster.url : JSON.stringify(h.serverClusterInfo(cluster), null, 2));
      return 0;
    }
    case 'stop': {
      const info = readState();
      if (!info) {
        console.error('no tickvault test cluster is running');
        return 0;
      }
      await h.reattachServerCluster(info).stop();
      rmSync(stateFile, { force: true });
      console.error(`tickvault test cluster stopped and ${info.dir} removed`);
      return 0;
    }
    default:
      console.error('usage: node scripts/test-cluster.mjs start|stop|url|status');
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
