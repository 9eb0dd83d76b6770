/**
 * Headless Debian chromium through playwright-core for the console tests. A missing browser is a
 * failure that says how to install it, never a skipped test.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { tmpDir } from './tmp.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  /** A persistent context: playwright takes the private profile directory only this way. */
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`npm run setup:server\` (scripts/setup-console-tools.sh installs Debian's chromium)`);
  }
  const profile = tmpDir('tv-chromium-');
  const context = await chromium.launchPersistentContext(path.join(profile.dir, 'profile'), {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 800 },
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-quic',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      profile.cleanup();
    },
  };
}
