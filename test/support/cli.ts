/**
 * Runs the built CLI (`node dist/src/cli/main.js`) as a user would, with none of the caller's
 * TICKVAULT_* / DATABASE_URL / PG* variables (so the machine's environment cannot change what a
 * test sees) and, unless told otherwise, in a working directory this test run created (the
 * embedded engine's default data directory is relative to it).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory; default: one private temp directory per test file. */
  readonly cwd?: string;
  /** Extra variables on top of the cleaned environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

let privateCwd: string | undefined;

/** A temp directory for this test file's CLI runs (created on first use, left for the OS tmp cleaner). */
export function cliCwd(): string {
  privateCwd ??= mkdtempSync(path.join(os.tmpdir(), 'tickvault-cli-cwd-'));
  return privateCwd;
}

/** The environment a CLI test runs with: the caller's minus anything that configures tickvault or libpq. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TICKVAULT_|DATABASE_URL$|PG)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? cliCwd(), env: cleanEnv(options.env), timeout: options.timeoutMs ?? 170_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

/** The same run, synchronously (for checks that need no event loop while the CLI runs). */
export function cliSync(args: readonly string[], options: CliOptions = {}): CliRun {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npm run build)`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? cliCwd(),
    env: cleanEnv(options.env),
    timeout: options.timeoutMs ?? 170_000,
    maxBuffer: 16 << 20,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
