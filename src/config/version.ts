/**
 * tickvault's own package: its version, read once from the package.json that ships beside dist/
 * (the same file npm installs), so the CLI and `status` can never report a different one; and
 * where that package sits (the demo finds the sample files beside a checkout from there).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let found: { root: string; version: string } | null | undefined;

function findPackage(): { root: string; version: string } | null {
  if (found === undefined) {
    found = null;
    // dist/src/config → the package root; from the TypeScript sources (tests) src/config → the root.
    for (const rel of ['../../../package.json', '../../package.json']) {
      try {
        const url = new URL(rel, import.meta.url);
        const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'tickvault' && typeof pkg.version === 'string') {
          found = { root: path.dirname(fileURLToPath(url)), version: pkg.version };
          break;
        }
      } catch {
        // not at this level: try the next
      }
    }
  }
  return found;
}

export function tickvaultVersion(): string {
  return findPackage()?.version ?? 'unknown';
}

/** The directory of tickvault's package.json (a checkout's root), or undefined when it cannot be found. */
export function packageRoot(): string | undefined {
  return findPackage()?.root;
}
