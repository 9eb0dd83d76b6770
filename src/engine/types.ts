import type { ReadYourWrites } from '../config/topology.js';

/**
 * The one interface everything above the database is written against. Two engines implement it
 * (server: node-postgres pool; embedded: PGlite). Code that needs to know what the database can
 * do reads `capabilities` flags; it never asks which engine it is talking to.
 */

export interface QueryResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A single database session (a pooled client on the server, the one PGlite session embedded). */
export interface Connection extends Queryable {
  /**
   * Runs `COPY table (columns) FROM STDIN (FORMAT binary)` fed by `chunks` (complete binary COPY
   * stream: header, rows, trailer). Returns the number of rows the server reports. On any error
   * — from the server or from the chunk source — the COPY is aborted (CopyFail) and the error
   * rethrown; the connection stays usable.
   */
  copyInBinary(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number>;
  /** Runs `COPY (query) TO STDOUT` with the given COPY options; yields raw chunks. */
  copyOut(sql: string): AsyncIterable<Uint8Array>;
}

export type Tier = 'timescaledb' | 'timescaledb-apache' | 'postgres';

export interface Capabilities {
  readonly postgresVersion: string;
  readonly postgresVersionNum: number;
  /** Installed TimescaleDB extension version, or null when absent. */
  readonly timescaledbVersion: string | null;
  /** 'timescale' (community) or 'apache', null without TimescaleDB. */
  readonly timescaledbLicense: 'timescale' | 'apache' | null;
  readonly tier: Tier;
  readonly hypertables: boolean;
  readonly compression: boolean;
  readonly continuousAggregates: boolean;
  /** add_retention_policy / add_compression_policy / add_continuous_aggregate_policy exist. */
  readonly policies: boolean;
  /** A background worker runs policy jobs by itself (false embedded: `maintain` runs them). */
  readonly jobScheduler: boolean;
  /** Several sessions can work at once (parallel COPY workers). */
  readonly multipleConnections: boolean;
  /** Advisory locks are meaningful (more than one client can reach the database). */
  readonly sharedAccess: boolean;
  /** COPY … TO STDOUT arrives in pieces as the server writes it (PGlite hands over the whole output at once). */
  readonly streamingCopyOut: boolean;
}

export type EngineKind = 'server' | 'embedded';

export interface PoolStatus {
  readonly size: number;
  readonly inUse: number;
  readonly idle: number;
  readonly waiting: number;
  readonly overflow: number;
  readonly recycled: number;
  /** The most connections this engine may open (poolSize + maxOverflow; 1 embedded). */
  readonly max: number;
}

export interface Engine extends Queryable {
  /** For display only (status output); never branch on it. */
  readonly kind: EngineKind;
  /** Where the data lives, credentials removed (URL or data directory). */
  readonly location: string;
  /** Detected once and cached; `refresh` re-reads them (e.g. after CREATE EXTENSION). */
  capabilities(options?: { refresh?: boolean }): Promise<Capabilities>;
  /** Hands out a dedicated connection for the duration of `fn`. */
  withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T>;
  /** BEGIN … COMMIT around `fn`; ROLLBACK when it throws (the error is rethrown). */
  transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T>;
  poolStatus(): PoolStatus;
  /** How long (ms) a load keeps retrying a lost server before it gives up (pool setting retryWindow). */
  readonly retryWindowMs: number;
  close(): Promise<void>;
  /**
   * Engines over several hosts (primary + replicas): the engine a read should use — a replica
   * under the lag bound, else the primary. Absent on single-host engines, which read where they write.
   */
  forReads?(options?: ReadOptions): Promise<Engine>;
  /** Engines over several hosts: role, lag and state of each host, probed now. */
  hosts?(): Promise<readonly HostState[]>;
}

export interface ReadOptions {
  /** Overrides the configured mode for this read (see config/topology.ts). */
  readonly readYourWrites?: ReadYourWrites;
}

export type HostRole = 'primary' | 'replica' | 'unknown';

export interface HostState {
  /** host:port, never credentials. */
  readonly host: string;
  readonly role: HostRole;
  readonly up: boolean;
  /** 'ok': usable in its role; 'lagging': a replica over the lag bound (or of unknown lag); 'down': unreachable. */
  readonly state: 'ok' | 'lagging' | 'down';
  /** Replicas: seconds behind the primary (0 when it replayed the primary's WAL position); null when unknown or not a replica. */
  readonly lagSeconds: number | null;
  /** Replicas: WAL bytes not yet replayed; null when unknown or not a replica. */
  readonly lagBytes: number | null;
  /** Replicas: replay paused (pg_wal_replay_pause()). */
  readonly replayPaused: boolean | null;
  /** The host's WAL position: current on the primary, replayed on a replica. */
  readonly lsn: string | null;
  readonly error?: string;
}
