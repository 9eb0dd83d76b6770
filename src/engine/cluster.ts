/**
 * An engine over several hosts: the primary takes every write (and everything else by default),
 * replicas serve reads that ask for them through `forReads()`.
 *
 * The primary is never configured, it is found: each host's write pool refuses a connection to a
 * host in recovery (ServerEngine `requirePrimary`), and the first host that accepts one is the
 * primary. After a transient failure on the primary (it died, was demoted, a failover is under
 * way) the choice is forgotten and the next call looks again, so a load's retry reaches a
 * promoted standby; until one exists, calls fail with NoPrimaryError (transient for the retry).
 *
 * Replica lag: a replica that has replayed the primary's current WAL position is 0 s behind —
 * an idle primary makes `pg_last_xact_replay_timestamp()` look old, so the timestamp is used only
 * when the replica is really behind, as the age of its newest replayed commit (clocks of the two
 * hosts assumed in sync). Without a reachable primary the lag is unknown and the replica is not
 * used: the bound could not be kept.
 */
import type { EngineSettings } from '../config/settings.js';
import { hostLabel } from '../config/topology.js';
import { NoPrimaryError, NotPrimaryError, errorMessage } from '../errors.js';
import { isTransientError } from './retry.js';
import { ServerEngine } from './server.js';
import type { Capabilities, Connection, Engine, HostState, PoolStatus, QueryResult, ReadOptions } from './types.js';

export interface ClusterEngineOptions {
  /** One single-host URL per host (config/topology.ts topologyHosts). */
  readonly urls: readonly string[];
  readonly settings: EngineSettings;
  readonly log?: (line: string) => void;
}

interface Member {
  readonly url: string;
  readonly host: string;
  writer?: ServerEngine;
  reader?: ServerEngine;
}

/** Where the last `forReads()` sent reads, and why replicas were passed over. */
export interface ReadRoute {
  readonly host: string;
  readonly role: 'primary' | 'replica';
  readonly skipped: readonly { readonly host: string; readonly reason: string }[];
}

const WAIT_POLL_MS = 25;

export class ClusterEngine implements Engine {
  readonly kind = 'server' as const;
  readonly location: string;
  readonly retryWindowMs: number;
  readonly #members: Member[];
  readonly #settings: EngineSettings;
  readonly #log: (line: string) => void;
  #primary: Member | undefined;
  #finding: Promise<Member> | undefined;
  #lastRoute: ReadRoute | undefined;

  constructor(options: ClusterEngineOptions) {
    this.#settings = options.settings;
    this.#log = options.log ?? (() => undefined);
    this.#members = options.urls.map((url) => ({ url, host: hostLabel(url) }));
    this.location = clusterLocation(options.urls[0]!, this.#members);
    this.retryWindowMs = Math.round(options.settings.pool.retryWindow * 1000);
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.#onPrimary((e) => e.query<R>(sql, params));
  }

  capabilities(options: { refresh?: boolean } = {}): Promise<Capabilities> {
    return this.#onPrimary((e) => e.capabilities(options));
  }

  withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    return this.#onPrimary((e) => e.withConnection(fn));
  }

  transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    return this.#onPrimary((e) => e.transaction(fn));
  }

  poolStatus(): PoolStatus {
    const writer = this.#primary?.writer;
    return writer ? writer.poolStatus() : { size: 0, inUse: 0, idle: 0, waiting: 0, overflow: 0, recycled: 0, max: 0 };
  }

  /** Resolved pool settings (shared by every host's pools). */
  poolSettings(): EngineSettings['pool'] {
    return this.#settings.pool;
  }

  /** host:port of the primary found last, if one was found. */
  primaryHost(): string | undefined {
    return this.#primary?.host;
  }

  /** Where the last forReads() sent reads (undefined before the first). */
  lastReadRoute(): ReadRoute | undefined {
    return this.#lastRoute;
  }

  async close(): Promise<void> {
    const engines = this.#members.flatMap((m) => [m.writer, m.reader]).filter((e): e is ServerEngine => e !== undefined);
    await Promise.all(engines.map((e) => e.close().catch(() => undefined)));
  }

  async hosts(): Promise<HostState[]> {
    const probes = await Promise.all(this.#members.map((m) => this.#probe(m)));
    const primary = probes.find((p) => p.up && p.recovery === false);
    const maxLag = this.#settings.replicas.maxReplicaLagSeconds;
    return probes.map((p): HostState => {
      if (!p.up) {
        return {
          host: p.host,
          role: 'unknown',
          up: false,
          state: 'down',
          lagSeconds: null,
          lagBytes: null,
          replayPaused: null,
          lsn: null,
          error: p.error,
        };
      }
      if (!p.recovery) {
        return { host: p.host, role: 'primary', up: true, state: 'ok', lagSeconds: null, lagBytes: null, replayPaused: null, lsn: p.lsn };
      }
      const { seconds, bytes } = replicaLag(p, primary);
      return {
        host: p.host,
        role: 'replica',
        up: true,
        state: seconds !== null && seconds <= maxLag ? 'ok' : 'lagging',
        lagSeconds: seconds,
        lagBytes: bytes,
        replayPaused: p.paused,
        lsn: p.lsn,
      };
    });
  }

  /**
   * The engine for a read: the first replica (in configuration order) whose lag is within the
   * bound — with readYourWrites 'wait', once it has replayed the primary's WAL position taken
   * now (so it holds every commit that finished before this call), waiting at most the lag
   * bound — else the primary (this engine). Every replica passed over is logged with the reason.
   * The returned engine belongs to this one: do not close it.
   */
  async forReads(options: ReadOptions = {}): Promise<Engine> {
    const mode = options.readYourWrites ?? this.#settings.replicas.readYourWrites;
    const maxLag = this.#settings.replicas.maxReplicaLagSeconds;
    if (mode === 'primary') return this.#routeToPrimary([], 'readYourWrites=primary');
    const states = await this.hosts();
    const primary = states.find((h) => h.role === 'primary');
    const skipped: { host: string; reason: string }[] = [];
    for (const h of states) {
      const member = this.#members.find((m) => m.host === h.host)!;
      if (h.role === 'primary') continue;
      if (!h.up) {
        skipped.push({ host: h.host, reason: `down (${h.error ?? 'unreachable'})` });
        continue;
      }
      // 'wait' re-checks by replay position, which is exact: a replica that looks behind (its
      // newest replayed commit is old) may catch up within the bound.
      if (h.state !== 'ok' && !(mode === 'wait' && primary?.lsn)) {
        skipped.push({
          host: h.host,
          reason:
            h.lagSeconds === null
              ? primary
                ? 'behind the primary by an unknown time (no commit replayed since it started)'
                : 'lag unknown (no primary reachable to compare with)'
              : `lag ${h.lagSeconds.toFixed(1)} s > max ${maxLag} s${h.replayPaused ? ' (replay paused)' : ''}`,
        });
        continue;
      }
      if (mode === 'wait' && primary?.lsn && !(await this.#waitForReplay(member, primary.lsn, maxLag * 1000))) {
        skipped.push({
          host: h.host,
          reason: `did not replay the primary's WAL position ${primary.lsn} within ${maxLag} s (readYourWrites=wait)`,
        });
        continue;
      }
      this.#lastRoute = { host: h.host, role: 'replica', skipped };
      for (const s of skipped) this.#log(`tickvault: replica ${s.host} skipped: ${s.reason}`);
      return this.#reader(member);
    }
    return this.#routeToPrimary(skipped, skipped.length > 0 ? 'no replica within the lag bound' : 'no replica is configured');
  }

  async #routeToPrimary(skipped: { host: string; reason: string }[], why: string): Promise<Engine> {
    const primary = await this.#primaryMember();
    this.#lastRoute = { host: primary.host, role: 'primary', skipped };
    for (const s of skipped) this.#log(`tickvault: replica ${s.host} skipped: ${s.reason}`);
    if (skipped.length > 0) this.#log(`tickvault: reads go to the primary ${primary.host} (${why})`);
    return this;
  }

  async #waitForReplay(member: Member, target: string, boundMs: number): Promise<boolean> {
    const want = lsnValue(target);
    const deadline = Date.now() + boundMs;
    for (;;) {
      try {
        const { rows } = await this.#reader(member).query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
        if (rows[0]?.lsn && lsnValue(rows[0].lsn) >= want) return true;
      } catch {
        return false;
      }
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
  }

  async #onPrimary<T>(fn: (engine: ServerEngine) => Promise<T>): Promise<T> {
    const member = await this.#primaryMember();
    try {
      return await fn(this.#writer(member));
    } catch (err) {
      // The primary died, restarted or was demoted: look for it again on the next call.
      if (isTransientError(err) && this.#primary === member) this.#primary = undefined;
      throw err;
    }
  }

  #primaryMember(): Promise<Member> {
    if (this.#primary) return Promise.resolve(this.#primary);
    this.#finding ??= this.#findPrimary().finally(() => {
      this.#finding = undefined;
    });
    return this.#finding;
  }

  async #findPrimary(): Promise<Member> {
    const results = await Promise.allSettled(this.#members.map((m) => this.#writer(m).query('SELECT 1')));
    const primaries = this.#members.filter((_, i) => results[i]!.status === 'fulfilled');
    if (primaries.length > 1) {
      this.#log(
        `tickvault: more than one host accepts writes (${primaries.map((m) => m.host).join(', ')}); using ${primaries[0]!.host}: an old primary must not come back as a primary after a failover`,
      );
    }
    if (primaries[0]) {
      this.#primary = primaries[0];
      return primaries[0];
    }
    const notes = this.#members.map((m, i) => {
      const r = results[i] as PromiseRejectedResult;
      return r.reason instanceof NotPrimaryError ? `${m.host} is in recovery` : `${m.host} is unreachable (${errorMessage(r.reason)})`;
    });
    throw new NoPrimaryError(
      `no primary found among the listed hosts: ${notes.join('; ')}. Writes (init, load, maintain, policies) go to the primary only: promote a standby (pg_ctl promote) or list the primary's host in --database-url / --replica-url`,
      { cause: (results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined)?.reason },
    );
  }

  #writer(m: Member): ServerEngine {
    m.writer ??= new ServerEngine({ url: m.url, settings: this.#settings, log: this.#log, requirePrimary: true });
    return m.writer;
  }

  #reader(m: Member): ServerEngine {
    m.reader ??= new ServerEngine({ url: m.url, settings: this.#settings, log: this.#log });
    return m.reader;
  }

  async #probe(m: Member): Promise<Probe> {
    try {
      const { rows } = await this.#reader(m).query<{
        recovery: boolean;
        lsn: string | null;
        paused: boolean | null;
        replay_age: number | null;
      }>(
        `SELECT pg_is_in_recovery() AS recovery,
                (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn,
                (CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END) AS paused,
                extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS replay_age`,
      );
      const r = rows[0]!;
      return { host: m.host, up: true, recovery: r.recovery, lsn: r.lsn, paused: r.paused, replayAge: r.replay_age };
    } catch (err) {
      return { host: m.host, up: false, recovery: null, lsn: null, paused: null, replayAge: null, error: errorMessage(err) };
    }
  }
}

interface Probe {
  readonly host: string;
  readonly up: boolean;
  readonly recovery: boolean | null;
  readonly lsn: string | null;
  readonly paused: boolean | null;
  readonly replayAge: number | null;
  readonly error?: string;
}

function replicaLag(replica: Probe, primary: Probe | undefined): { seconds: number | null; bytes: number | null } {
  if (!primary?.lsn || !replica.lsn) return { seconds: null, bytes: null };
  const behind = lsnValue(primary.lsn) - lsnValue(replica.lsn);
  if (behind <= 0n) return { seconds: 0, bytes: 0 };
  return { seconds: replica.replayAge === null ? null : Math.max(0, replica.replayAge), bytes: Number(behind) };
}

/** A pg_lsn ('16/B374D848') as a number of bytes. */
export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** `postgres://user@h1:p1,h2:p2/db`: the hosts without credentials or parameters. */
function clusterLocation(first: string, members: readonly Member[]): string {
  const u = new URL(first);
  return `${u.protocol}//${u.username ? `${u.username}@` : ''}${members.map((m) => m.host).join(',')}${u.pathname}`;
}

/** The engine a read should use: `engine.forReads()` where the engine has replicas, else the engine itself. */
export function engineForReads(engine: Engine, options: ReadOptions = {}): Promise<Engine> {
  return engine.forReads ? engine.forReads(options) : Promise.resolve(engine);
}
