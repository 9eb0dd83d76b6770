/**
 * Every database test runs on both engines: the embedded PGlite (community TimescaleDB features)
 * and the throwaway server cluster (TimescaleDB Apache build). `describe.each(ENGINE_KINDS)` plus
 * `openTestEngine(kind)` gives each test file a fresh, empty database on the engine under test.
 */
import { inject } from 'vitest';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { ServerEngine } from '../../src/engine/server.js';
import type { Engine, EngineKind } from '../../src/engine/types.js';
import { migrate } from '../../src/schema/migrate.js';
import { createTestDatabase } from './server-cluster.js';

export const ENGINE_KINDS: readonly EngineKind[] = ['embedded', 'server'];

export interface TestEngine {
  readonly engine: Engine;
  /** URL of the server database, or 'memory://' embedded (for CLI subprocess tests on the server). */
  readonly url: string;
  dispose(): Promise<void>;
}

export async function openTestEngine(kind: EngineKind, opts: { migrate?: boolean; name?: string } = {}): Promise<TestEngine> {
  let t: TestEngine;
  if (kind === 'embedded') {
    const engine = await EmbeddedEngine.open({ dataDir: 'memory://' });
    t = { engine, url: 'memory://', dispose: () => engine.close() };
  } else {
    const db = await createTestDatabase(inject('serverUrl'), opts.name ?? 'test');
    const engine = new ServerEngine({ url: db.url, pool: { poolSize: 2, maxOverflow: 6 } });
    t = {
      engine,
      url: db.url,
      dispose: async () => {
        await engine.close();
        await db.drop();
      },
    };
  }
  if (opts.migrate ?? true) await migrate(t.engine);
  return t;
}
