/**
 * tickvault's own version, read once from the package.json that ships beside dist/ (the same
 * file npm installs), so the CLI and `status` can never report a different one.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function tickvaultVersion(): string {
  if (cached === undefined) {
    // dist/src/config → the package root; from the TypeScript sources (tests) src/config → the root.
    for (const rel of ['../../../package.json', '../../package.json']) {
      try {
        const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'tickvault' && typeof pkg.version === 'string') {
          cached = pkg.version;
          break;
        }
      } catch {
        // not at this level: try the next
      }
    }
    cached ??= 'unknown';
  }
  return cached;
}
