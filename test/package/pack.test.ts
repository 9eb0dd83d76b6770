/**
 * The npm package as a user gets it: `npm pack` ships the compiled library, the CLI and the
 * WebAssembly kernels — and nothing of the sources, tests or benchmarks — and builds on pack
 * (dist/ is not in git). The packed tarball is installed into a new project of this test's own,
 * where its bin answers `--version` and its library stores and reads a trade (embedded engine).
 * The build itself is `npm test`'s first step; packing here skips it (--ignore-scripts) so that
 * no test rewrites dist/ under the others.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../support/tmp.js';
import { cleanEnv } from '../support/cli.js';

const run = promisify(execFile);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
const tmp = tmpDir('tickvault-pack-');
afterAll(() => tmp.cleanup());

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

/** The README's fenced code blocks of `lang`. */
function readmeBlocks(lang: string): string[] {
  const text = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(new RegExp(`^\`\`\`${lang}\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);
}

/** The comment after each `console.log(...);` line: what that line prints. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/^\s*console\.log\(.*\);\s*\/\/\s*(.+)$/gm)].map((m) => m[1]!.trim());
}

describe('the npm package', () => {
  it('holds the compiled library, the bin, the kernels and the console bundle, nothing else; it builds on pack', () => {
    const [report] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as [{ files: { path: string }[] }];
    const files = report.files.map((f) => f.path);
    for (const f of [
      'package.json',
      'README.md',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/main.js',
      'dist/wasm/tuple-kernels.wasm',
      'dist/web/app.js',
      'dist/web/index.html',
      'dist/web/style.css',
    ]) {
      expect(files).toContain(f);
    }
    expect(
      files.filter(
        (f) =>
          !/^dist\/src\/.*\.(js|d\.ts)$/.test(f) &&
          !/^dist\/web\/(app\.js|index\.html|style\.css)$/.test(f) &&
          !['package.json', 'README.md', 'dist/wasm/tuple-kernels.wasm'].includes(f),
      ),
    ).toEqual([]);
    expect(PKG.scripts.prepack).toMatch(/\bnpm run build\b/);
  });

  it('installed into a new project: the bin prints the version, the library stores and reads a trade, the README examples run', async () => {
    const tgz = npm(['pack', '--ignore-scripts', '--pack-destination', tmp.dir], ROOT).trim().split('\n').at(-1)!;
    const project = path.join(tmp.dir, 'consumer');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }),
    );
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp.dir, tgz)], project);
    const bin = path.join(project, 'node_modules', '.bin', 'tickvault');
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(PKG.version);
    writeFileSync(
      path.join(project, 'smoke.mjs'),
      `
      import { openEngine, migrate, TradesLoader } from 'tickvault';
      const engine = await openEngine({ databaseUrl: 'memory://' });
      await migrate(engine);
      const r = await new TradesLoader({ engine }).storeBatch([
        { timestamp: 1709303400123456789n, instrument_id: 42, symbol: 'ESH4', price: '5100.25', size: 3, side: 'B', trade_id: 't-1' },
      ]);
      const { rows } = await engine.query('SELECT price::text AS price, size::text AS size FROM trades_data');
      console.log(JSON.stringify({ inserted: r.recordsInserted, rows }));
      await engine.close();
    `,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['smoke.mjs'], { cwd: project, encoding: 'utf8' })) as unknown;
    expect(out).toEqual({ inserted: 1, rows: [{ price: '5100.25000000', size: '3' }] });

    // The README's TypeScript examples, as written: type-checked against the installed package with
    // strict settings and no skipLibCheck (its .d.ts must not need @types the consumer lacks), run,
    // and what they print compared with their `console.log(…); // expected` comments.
    const blocks = readmeBlocks('ts');
    expect(blocks.length).toBeGreaterThan(0);
    const files = blocks.map((code, i) => {
      const name = `readme-${i + 1}.ts`;
      writeFileSync(path.join(project, name), code);
      return name;
    });
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          outDir: 'out',
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files,
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new Error(`the README examples do not type-check against the package:\n${(err as { stdout?: string }).stdout ?? String(err)}`);
    }
    for (const [i, code] of blocks.entries()) {
      // Asynchronously: a synchronous child would stall this worker's reports to vitest.
      const { stdout } = await run(process.execPath, [path.join('out', `readme-${i + 1}.js`)], { cwd: project, env: cleanEnv() });
      expect(stdout.trim().split('\n'), `README example ${i + 1}`).toEqual(expectedOutput(code));
    }
  }, 300_000);
});
