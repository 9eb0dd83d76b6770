/**
 * Server engine: PostgreSQL through a node-postgres pool, binary COPY through pg-copy-streams.
 *
 * Pool mapping of the familiar knobs: max = poolSize + maxOverflow; `min` = poolSize so the base
 * connections stay, while overflow connections close after idleTimeoutSeconds; poolTimeout →
 * connectionTimeoutMillis (waiting for a free slot; 0 = wait forever); poolRecycle →
 * maxLifetimeSeconds (0 = unlimited); poolPrePing → a `SELECT 1` before a connection is handed
 * out, dead ones are discarded and replaced; echo → every statement logged, never its parameters.
 * Settings arrive resolved (config/settings.ts: code > TICKVAULT_* environment >
 * tickvault.config.json > defaults, done by openEngine); the engine itself reads neither the
 * environment nor a file. Log lines (idle-connection errors, echo) go to the caller's sink only.
 * Error handlers are attached to the pool and every client: node-postgres emits 'error' on idle
 * clients the server drops, and an unhandled 'error' kills the process (node-postgres #2112).
 *
 * Credentials: the URL is split into connection fields and the password is handed to pg as a
 * function, so no enumerable object (pool options, clients) holds it; every error leaving the
 * engine and every log line goes through a SecretScrubber that masks the password.
 * TLS: sslmode/sslrootcert in the URL and TICKVAULT_SSL_CA_FILE become pg's `ssl` (resolveTls).
 */
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { ConnectionError, NotPrimaryError, errorMessage } from '../errors.js';
import type { PoolSettings } from '../config/connection.js';
import { resolveEngineSettings, resolveTls, type EngineSettings, type TlsOptions } from '../config/settings.js';
import { SecretScrubber } from './redact.js';
import { detectCapabilities } from './capabilities.js';
import { copyFromSql, writeCopyChunks } from './copy-in.js';
import type { Capabilities, Connection, Engine, PoolStatus, QueryResult } from './types.js';

// Keep int8 and numeric as strings (pg's default) so nothing is ever squeezed through a float.
const types = pg.types;

/** How often the server looks for a vanished client during a running statement (ms). */
export const CLIENT_CHECK_INTERVAL_MS = 2_000;

export interface ServerEngineOptions {
  readonly url: string;
  /** Resolved settings (resolveEngineSettings); default: `pool` over the defaults. */
  readonly settings?: EngineSettings;
  /** Pool settings given in code, used when `settings` is not. */
  readonly pool?: Partial<PoolSettings>;
  /** Where the engine's log lines go (already scrubbed of the password); default: nowhere. */
  readonly log?: (line: string) => void;
  /**
   * Refuse connections to a host in recovery (NotPrimaryError): every acquisition asks
   * `pg_is_in_recovery()` in place of the pre-ping, so a pooled connection made after a failover
   * or a restart cannot write to a standby.
   */
  readonly requirePrimary?: boolean;
}

export class ServerEngine implements Engine {
  readonly kind = 'server' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #scrubber: SecretScrubber;
  private readonly settings: PoolSettings;
  /** Resolved settings with the origin of each value (code/env/file/default). */
  readonly engineSettings: EngineSettings;
  private readonly log: (line: string) => void;
  private caps: Promise<Capabilities> | undefined;
  private recycled = 0;
  readonly retryWindowMs: number;
  private readonly requirePrimary: boolean;

  constructor(options: ServerEngineOptions) {
    this.requirePrimary = options.requirePrimary === true;
    this.#scrubber = SecretScrubber.forUrl(options.url);
    this.location = this.#scrubber.scrub(options.url);
    this.engineSettings = options.settings ?? resolveEngineSettings({ code: options.pool, env: {}, useFile: false });
    this.settings = this.engineSettings.pool;
    this.retryWindowMs = Math.round(this.settings.retryWindow * 1000);
    const sink = options.log;
    this.log = sink ? (line) => sink(this.#scrubber.scrub(line)) : () => undefined;
    this.#pool = new pg.Pool({
      ...clientConfigFromUrl(options.url, this.engineSettings.sslCaFile),
      max: this.settings.poolSize + this.settings.maxOverflow,
      min: this.settings.poolSize,
      idleTimeoutMillis: this.settings.idleTimeoutSeconds * 1000,
      connectionTimeoutMillis: Math.round(this.settings.poolTimeout * 1000),
      maxLifetimeSeconds: this.settings.poolRecycle,
      types,
    });
    this.#pool.on('error', (err) => {
      // An idle client lost its server; the pool already discarded it. Nothing to do but note it.
      this.log(`tickvault: idle connection closed by the server: ${errorMessage(err)}`);
    });
    this.#pool.on('connect', (client) => {
      client.on('error', () => {
        /* surfaced through the pending query or the pool 'error' */
      });
      // A client killed mid-statement (kill -9 of a load) must not leave its backend running the
      // statement and holding the load's locks for minutes: PostgreSQL ≥ 14 checks the socket
      // while a query runs. Queued before the caller's first query; older servers lack the setting.
      client.query(`SET client_connection_check_interval = ${CLIENT_CHECK_INTERVAL_MS}`).catch(() => undefined);
    });
    this.#pool.on('remove', () => {
      this.recycled += 1;
    });
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.withConnection((c) => c.query<R>(sql, params));
  }

  /** Resolved pool settings (after code/env/file/defaults). */
  poolSettings(): PoolSettings {
    return this.settings;
  }

  capabilities(options: { refresh?: boolean } = {}): Promise<Capabilities> {
    if (options.refresh) this.caps = undefined;
    this.caps ??= detectCapabilities(this, {
      multipleConnections: true,
      sharedAccess: true,
      backgroundWorkers: true,
      streamingCopyOut: true,
    }).catch((err: unknown) => {
      this.caps = undefined;
      throw err;
    });
    return this.caps;
  }

  async withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    let broken: Error | undefined;
    try {
      return await fn(new ServerConnection(client, this.settings.echo ? this.log : undefined));
    } catch (err) {
      if (isConnectionLevelError(err)) broken = err as Error;
      throw this.#scrubber.scrubError(err);
    } finally {
      client.release(broken);
    }
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    return this.withConnection(async (conn) => {
      await conn.query('BEGIN');
      try {
        const result = await fn(conn);
        await conn.query('COMMIT');
        return result;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  poolStatus(): PoolStatus {
    const total = this.#pool.totalCount;
    const idle = this.#pool.idleCount;
    return {
      size: total,
      inUse: total - idle,
      idle,
      waiting: this.#pool.waitingCount,
      overflow: Math.max(0, total - this.settings.poolSize),
      max: this.settings.poolSize + this.settings.maxOverflow,
      recycled: this.recycled,
    };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  private async acquire(): Promise<pg.PoolClient> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        throw this.#scrubber.scrubError(connectionError(err, this.location, this.settings, Date.now() - started));
      }
      if (this.requirePrimary) {
        let inRecovery: boolean;
        try {
          inRecovery = (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r;
        } catch (err) {
          client.release(err as Error);
          if (attempt >= this.settings.poolSize + this.settings.maxOverflow) {
            throw this.#scrubber.scrubError(connectionError(err, this.location, this.settings, Date.now() - started));
          }
          continue;
        }
        if (!inRecovery) return client;
        client.release(true);
        throw new NotPrimaryError(`${this.location} is in recovery (a standby): tickvault writes only to the primary`);
      }
      if (!this.settings.poolPrePing) return client;
      try {
        await client.query('SELECT 1');
        return client;
      } catch (err) {
        client.release(err as Error);
        // A dead connection (server restarted): drop it and try a fresh one, a bounded number of times.
        if (attempt >= this.settings.poolSize + this.settings.maxOverflow) {
          throw this.#scrubber.scrubError(connectionError(err, this.location, this.settings, Date.now() - started));
        }
      }
    }
  }
}

class ServerConnection implements Connection {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly echo?: (line: string) => void,
  ) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    this.echo?.(`tickvault SQL: ${sql.replace(/\s+/g, ' ').trim()}`);
    const res = await this.client.query(sql, params as unknown[]);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async copyInBinary(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    const sql = copyFromSql(table, columns, 'STDIN');
    this.echo?.(`tickvault SQL: ${sql}`);
    const stream = this.client.query(copyFrom(sql));
    await writeCopyChunks(stream, chunks);
    return stream.rowCount;
  }

  async *copyOut(sql: string): AsyncIterable<Uint8Array> {
    this.echo?.(`tickvault SQL: ${sql}`);
    const stream = this.client.query(copyTo(sql));
    for await (const chunk of stream) yield chunk as Uint8Array;
  }
}

/** URL query parameters that configure TLS; they become pg's `ssl` option instead. */
const TLS_PARAMS = new Set(['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat', 'sslnegotiation']);

/**
 * pg client fields from a postgres:// URL (the same fields pg's own parser reads), with the
 * password as a function so it is never an enumerable property anywhere, and `ssl` from the URL's
 * TLS parameters and the configured CA file. Other query parameters (application_name, options,
 * host= for a Unix socket, …) pass through as pg reads them.
 */
/** The connection fields of a URL, as pg reads them (declared here so the published types need no @types/pg). */
export interface ClientFields {
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly database?: string;
  /** A function, so the password is never an enumerable value. */
  readonly password?: () => string;
  readonly ssl: false | TlsOptions;
  readonly [param: string]: unknown;
}

export function clientConfigFromUrl(url: string, caFile?: string): ClientFields {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConnectionError('the database URL is not a valid URL; expected postgres://user@host:port/database');
  }
  const config: Record<string, unknown> = {};
  for (const [k, v] of u.searchParams) if (!TLS_PARAMS.has(k) && k !== 'password') config[k] = v;
  const user = safeDecode(u.username);
  if (user) config.user = user;
  const password = u.searchParams.get('password') ?? (u.password ? safeDecode(u.password) : undefined);
  if (password !== undefined) config.password = () => password;
  if (!config.host) config.host = safeDecode(u.hostname.replace(/^\[(.+)\]$/, '$1'));
  if (u.port && !config.port) config.port = Number(u.port);
  else if (typeof config.port === 'string') config.port = Number(config.port);
  const db = u.pathname.slice(1);
  if (db) config.database = safeDecode(db);
  config.ssl = resolveTls(u.searchParams, caFile);
  return config as ClientFields;
}

/** Percent-decoding that keeps text with a stray '%' as written instead of throwing. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08003',
  '08001',
]);

export function isConnectionLevelError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code;
  if (code && CONNECTION_ERROR_CODES.has(code)) return true;
  return /Connection terminated|connection ended|Client has encountered a connection error/i.test(err.message);
}

function connectionError(err: unknown, location: string, settings: PoolSettings, waitedMs: number): ConnectionError {
  const msg = errorMessage(err);
  if (/timeout exceeded when trying to connect/i.test(msg)) {
    return new ConnectionError(
      `no database connection became free within poolTimeout=${settings.poolTimeout}s (waited ${waitedMs} ms; pool max ${settings.poolSize + settings.maxOverflow}) at ${location}: raise poolSize/maxOverflow or poolTimeout, or release connections sooner`,
      { cause: err },
    );
  }
  const code = (err as { code?: string }).code;
  const hint =
    code === 'ECONNREFUSED'
      ? ' (is the server running and listening on that host/port?)'
      : code === 'ENOTFOUND'
        ? ' (unknown host name)'
        : code === '3D000'
          ? ' (the database does not exist: create it first)'
          : code === '28P01' || code === '28000'
            ? ' (authentication failed: check user and password)'
            : '';
  return new ConnectionError(`cannot connect to ${location}: ${msg}${hint}`, { cause: err });
}
