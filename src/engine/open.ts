import { resolveTarget, type ConnectionOptions } from '../config/connection.js';
import { resolveEngineSettings } from '../config/settings.js';
import type { AcquireOptions } from './data-dir-lock.js';
import { EmbeddedEngine } from './embedded.js';
import { ServerEngine } from './server.js';
import type { Engine } from './types.js';

export interface OpenOptions extends ConnectionOptions {
  /** Embedded engine: how to meet another process holding the data directory (default: fail at once). */
  readonly embeddedLock?: AcquireOptions;
}

/**
 * A server engine for `url`, its settings resolved here (code > TICKVAULT_* environment >
 * tickvault.config.json > defaults) so the engine reads no global state. Not yet connected.
 */
export function createServerEngine(url: string, options: ConnectionOptions = {}): ServerEngine {
  return new ServerEngine({ url, settings: resolveEngineSettings({ code: options.pool }), log: options.log });
}

/**
 * Opens the engine the configuration points at: a server URL → ServerEngine, otherwise the
 * embedded engine with its data directory.
 */
export async function openEngine(options: OpenOptions = {}): Promise<Engine> {
  const target = resolveTarget(options);
  if (target.kind === 'server') {
    const engine = createServerEngine(target.url, options);
    try {
      await engine.capabilities();
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw err;
    }
    return engine;
  }
  return EmbeddedEngine.open({ dataDir: target.dataDir, lock: options.embeddedLock });
}
