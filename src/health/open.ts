/**
 * Opening an engine for health reporting. Unlike openEngine it does not probe the server first:
 * a health check must be able to start while the database is down and report exactly that.
 */
import { resolveTarget } from '../config/connection.js';
import { EmbeddedEngine } from '../engine/embedded.js';
import { createServerTarget, refuseReplicasEmbedded, type OpenOptions } from '../engine/open.js';
import type { Engine } from '../engine/types.js';

export async function openEngineForHealth(options: OpenOptions = {}): Promise<Engine> {
  const target = resolveTarget(options);
  if (target.kind === 'server') return createServerTarget(target.url, options);
  refuseReplicasEmbedded(options);
  return EmbeddedEngine.open({ dataDir: target.dataDir, lock: options.embeddedLock });
}
