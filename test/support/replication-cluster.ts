/**
 * A primary and streaming standbys on one machine, for the replica and failover tests: the
 * primary is a throwaway cluster from server-cluster.ts, each standby a `pg_basebackup -R` of it
 * (startServerCluster's `standbyOf`) on its own free 127.0.0.1 port and private temp directory.
 * stop() removes every cluster; server-cluster.ts's exit hooks and watchdogs cover a crash.
 */
import { withClient } from './pg-client.js';
import { startServerCluster, type ServerCluster } from './server-cluster.js';

export interface ReplicationSet {
  readonly primary: ServerCluster;
  readonly standbys: readonly ServerCluster[];
  /** Stops and removes every cluster of the set (idempotent). */
  stop(): Promise<void>;
}

export interface ReplicationSetOptions {
  readonly standbys?: number;
  readonly tmpPrefix?: string;
  /** Extra server settings for every cluster of the set. */
  readonly settings?: Record<string, string | number | boolean>;
}

/** Server settings the primary streams with (the standbys inherit them). */
const REPLICATION_SETTINGS = {
  wal_level: 'replica',
  max_wal_senders: 10,
  hot_standby: 'on',
  // No replication slots: keep enough WAL that a standby replaying a big load never falls off.
  wal_keep_size: '2GB',
  // COMMIT waits for the local WAL flush (the PostgreSQL default; the plain test cluster turns it
  // off), so the WAL position read after a commit covers it and a standby can be waited for.
  synchronous_commit: 'on',
  // Every statement in the log under its session's application_name: where reads landed.
  log_line_prefix: 'tvlog %a|',
  log_statement: 'all',
};

export async function startReplicationSet(options: ReplicationSetOptions = {}): Promise<ReplicationSet> {
  const prefix = options.tmpPrefix ?? 'tickvault-repl-';
  const primary = await startServerCluster({ tmpPrefix: prefix, settings: { ...REPLICATION_SETTINGS, ...options.settings } });
  const standbys: ServerCluster[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all([...standbys, primary].map((c) => c.stop().catch(() => undefined)));
  };
  try {
    for (let i = 0; i < (options.standbys ?? 1); i++) standbys.push(await startServerCluster({ tmpPrefix: prefix, standbyOf: primary }));
  } catch (err) {
    await stop();
    throw err;
  }
  return { primary, standbys, stop };
}

/** `postgres://postgres@127.0.0.1:p1,127.0.0.1:p2/<database>?<params>`: libpq's multi-host URL. */
export function hostListUrl(ports: readonly number[], database: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `postgres://postgres@${ports.map((p) => `127.0.0.1:${p}`).join(',')}/${database}${query ? `?${query}` : ''}`;
}

/** A single-host URL of `cluster` for `database`. */
export function clusterUrl(cluster: { port: number }, database: string, params: Record<string, string> = {}): string {
  return hostListUrl([cluster.port], database, params);
}

/** Waits until `standby` has replayed the primary's current WAL position (fails after timeoutMs). */
export async function waitForReplay(primaryUrl: string, standbyUrl: string, timeoutMs = 60_000): Promise<void> {
  const target = await withClient(
    primaryUrl,
    async (c) => (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn,
  );
  const deadline = Date.now() + timeoutMs;
  await withClient(standbyUrl, async (c) => {
    for (;;) {
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [target]);
      if (rows[0]!.ok) return;
      if (Date.now() > deadline) throw new Error(`standby ${standbyUrl} did not replay ${target} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
}

/**
 * Log entries of `cluster` written by sessions named `applicationName` (log_line_prefix
 * 'tvlog %a|'), each with the continuation lines of a multi-line statement.
 */
export function statementsOf(cluster: ServerCluster, applicationName: string): string[] {
  const entries: string[] = [];
  for (const line of cluster.logTail(1_000_000).split('\n')) {
    if (line.startsWith('tvlog ') || entries.length === 0) entries.push(line);
    else entries[entries.length - 1] += `\n${line}`;
  }
  return entries.filter((e) => e.startsWith(`tvlog ${applicationName}|`));
}
