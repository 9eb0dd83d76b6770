import { resolveTarget, type ConnectionOptions } from '../config/connection.js';
import { resolveEngineSettings, resolveReplicaSettings, type SettingsSources } from '../config/settings.js';
import { topologyHosts } from '../config/topology.js';
import { ConfigError } from '../errors.js';
import { ClusterEngine } from './cluster.js';
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
 * The engine for a server target: one host and no replicas → a ServerEngine as ever; several
 * hosts (a multi-host URL, replica URLs) → a ClusterEngine that finds the primary among them.
 * Not yet connected.
 */
export function createServerTarget(url: string, options: ConnectionOptions = {}): Engine {
  const settings = resolveEngineSettings({ code: options.pool, replicas: replicaOptions(options) });
  const hosts = topologyHosts(url, settings.replicas.replicaUrls);
  if (hosts.length === 1) return new ServerEngine({ url: hosts[0]!, settings, log: options.log });
  return new ClusterEngine({ urls: hosts, settings, log: options.log });
}

/**
 * Opens the engine the configuration points at: a server URL → ServerEngine (ClusterEngine over
 * several hosts, connected to the primary), otherwise the embedded engine with its data directory.
 */
export async function openEngine(options: OpenOptions = {}): Promise<Engine> {
  const target = resolveTarget(options);
  if (target.kind === 'server') {
    const engine = createServerTarget(target.url, options);
    try {
      await engine.capabilities();
    } catch (err) {
      await engine.close().catch(() => undefined);
      throw err;
    }
    return engine;
  }
  refuseReplicasEmbedded(options);
  return EmbeddedEngine.open({ dataDir: target.dataDir, lock: options.embeddedLock });
}

/** Replicas stream WAL from a PostgreSQL server: an embedded database has none to offer. */
export function refuseReplicasEmbedded(options: ConnectionOptions): void {
  const { replicaUrls } = resolveReplicaSettings({ replicas: replicaOptions(options) });
  if (replicaUrls.length > 0) {
    throw new ConfigError(
      'replica URLs (--replica-url, TICKVAULT_REPLICA_URLS, "replicas.urls") need a PostgreSQL server as the primary (--database-url postgres://…); the embedded engine has no replicas',
    );
  }
}

function replicaOptions(options: ConnectionOptions): SettingsSources['replicas'] {
  return { replicaUrls: options.replicaUrls, maxReplicaLag: options.maxReplicaLag, readYourWrites: options.readYourWrites };
}
