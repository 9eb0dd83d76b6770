/**
 * The shared loader: validated batches → binary COPY on dedicated connections, with quarantine,
 * the load ledger (exactly-once resume, no-op re-runs, replace mode), parallel workers and bulk
 * mode. The five table loaders (loaders.ts) differ only in their table description and defaults.
 */
import { requireSchema } from '../schema/schema-state.js';
import { CopyError } from '../copy/errors.js';
import { openEngine } from '../engine/open.js';
import type { Capabilities, Connection, Engine } from '../engine/types.js';
import type { ConnectionOptions } from '../config/connection.js';
import { ConnectionError, LoadError, TickvaultError, errorMessage } from '../errors.js';
import { loadedColumns, type Column, type TableSpec } from '../schema/tables.js';
import { ident } from '../sql/ident.js';
import { LOADS_TABLE, type LoadMode } from '../schema/bookkeeping.js';
import type { PreparedBatch, Rejection } from './write/batch.js';
import { dropSecondaryIndexes, ensureIndexes } from './indexes.js';
import * as ledger from './ledger.js';
import { claimLoad, type Claim } from './load-claim.js';
import { quarantine } from './quarantine.js';
import { analyzeLoaded } from './analyze.js';
import { RecordSource, isBatchSource, type BatchOrSkip, type BatchSource, type RecordInput } from './record-source.js';
import { RowsNeedIsolation, writeBatch, type WriteOutcome } from './write/write-batch.js';
import { encodeAhead } from './write/encoded-batch.js';
import { ProducerPacer } from './pacer.js';
import { CombinedBatch, GROUP_MAX_ROWS, GroupNeedsSplit } from './write/combined-batch.js';
import { loadBatchRetry, outlastedRetryWindow, withRetry } from '../engine/retry.js';
import { compressEligibleChunks } from '../timescale/chunks.js';
import { WriteSession, type WriteSummary } from './write/session.js';
import type { LoadStrategy } from '../timescale/plan.js';
import { checkRetention, retentionWindow, type RetentionOptions, type RetentionWindow } from './retention-guard.js';
import type { LoadObserver } from './observer.js';
import { MaxRejectsError, RejectLimitReached, rejectLimit, type MaxRejects, type RejectLimit } from './max-rejects.js';

export interface LoaderConfig extends ConnectionOptions, RetentionOptions {
  /** Use an already open engine (shared by several loaders); otherwise one is opened lazily. */
  readonly engine?: Engine;
  /** Input records per batch: the unit of validation, of the ledger and of resume (ready batches may share a COMMIT, see combined-batch.ts). */
  readonly batchSize?: number;
  /**
   * Rows one COMMIT may carry when batches are ready ahead (default 50,000; combined-batch.ts).
   * At most batchSize: every batch is committed on its own.
   */
  readonly maxRowsPerCommit?: number;
  /** COPY connections working at once (server engine; the embedded engine has one session). */
  readonly parallelWorkers?: number;
  /** false = multi-row INSERT instead of COPY (slower; for servers or proxies without COPY). */
  readonly useCopy?: boolean;
  /** After a bulk load, compress the chunks the compression policy would compress (community tier). */
  readonly enableCompression?: boolean;
  /** Make sure the contract's indexes exist before loading (repairs an interrupted bulk load). */
  readonly createIndexes?: boolean;
  /** ANALYZE the table after a bulk load so the planner sees the new rows. */
  readonly analyzeTables?: boolean;
}

export interface StoreBatchResult {
  readonly recordsInserted: number;
  readonly recordsRejected: number;
  readonly processingTimeMs: number;
}

export interface BulkLoadOptions extends RetentionOptions {
  onProgress?: (completed: number, total?: number) => void;
  /** Identity of the input: makes the load resumable and a re-run a no-op. */
  source?: ledger.SourceIdentity;
  /** Total records, if known, passed to onProgress. */
  total?: number;
  /**
   * 'append' (default): rows whose natural key is already stored (or earlier in this load) are
   * quarantined as duplicates, never stored twice. 'upsert': last write wins per natural key.
   * 'replace': atomically replace what the previous load of this source stored.
   */
  mode?: LoadMode;
  /** Force the compression strategy (default: chosen from the touched chunks and the tier; see timescale/plan.ts). */
  strategy?: LoadStrategy;
  /**
   * Write rows that fall into new chunks older than the table's compress_after straight into the
   * columnstore (strategy 'direct-compress', where the server can; default true). false: row store.
   */
  directCompress?: boolean;
  /** Refresh the rollups over the load's time range afterwards: 'auto' (default: when they would not show the rows otherwise, see write/session.ts), true, false. */
  refreshAggregates?: boolean | 'auto';
  /** After a failure, leave decompressed chunks for the re-run instead of recompressing them now (the ledger keeps the list). */
  leaveDecompressedOnFailure?: boolean;
  /** Called when the load decompressed chunks (strategy 'decompress-recompress'). */
  onDecompressed?: (chunks: readonly string[]) => void;
  /** Drop secondary indexes during the load and build them afterwards (for backfills into empty ranges). */
  bulk?: boolean;
  /**
   * Stop the load before it quarantines more than this: a number of rows, or a percentage of the
   * load's records ('0.5%'). The load fails with MaxRejectsError; its committed batches stay, a
   * re-run resumes it, 'replace' loads the source anew (max-rejects.ts).
   */
  maxRejects?: MaxRejects;
  /** Watches this load from the same process (batch write times, the outcome); see observer.ts. */
  observer?: LoadObserver;
}

export interface RejectReason {
  readonly reason: string;
  readonly count: number;
}

export interface BulkLoadResult {
  readonly loadId: string;
  /** 'completed': this call loaded the data; 'already-loaded': the ledger shows this input completed before. */
  readonly status: 'completed' | 'already-loaded';
  readonly totalRecords: number;
  readonly recordsInserted: number;
  readonly recordsRejected: number;
  readonly processingTimeSeconds: number;
  readonly recordsPerSecond: number;
  /** Batches skipped because an earlier, interrupted run of this load had committed them. */
  readonly batchesResumed: number;
  /**
   * What this call did, apart from earlier interrupted runs of the same load (totalRecords,
   * recordsInserted and recordsRejected are the load's totals). recordsPerSecond is this run's rate.
   */
  readonly thisRun?: { readonly records: number; readonly recordsInserted: number; readonly recordsRejected: number };
  readonly replacedLoadId: string | null;
  readonly topRejectReasons: readonly RejectReason[];
  /** Strategy used ('direct', 'direct-compress', 'write-recompress' or 'decompress-recompress'; backfill.directCompress says why direct-compress was or was not used); absent for 'already-loaded'. */
  readonly strategy?: LoadStrategy;
  /** Upsert: existing rows whose values this load changed. */
  readonly recordsUpdated?: number;
  /** Append/replace: rows quarantined as duplicates of stored rows (included in recordsRejected). */
  readonly duplicates?: number;
  /** Chunks decompressed/recompressed, merge paths taken, rollups refreshed. */
  readonly backfill?: WriteSummary;
  /**
   * 'already-loaded' only: rows of the completed load that are no longer stored (dropped by
   * retention since). A re-run does not bring them back; mode 'replace' loads the source again.
   */
  readonly rowsGone?: ledger.RowsGone;
}

const WINDOW_TTL_MS = 10_000;

export interface LoaderDefaults {
  readonly batchSize: number;
}

export class BaseLoader<R extends object = Record<string, unknown>> {
  readonly batchSize: number;
  readonly parallelWorkers: number;
  readonly useCopy: boolean;
  readonly enableCompression: boolean;
  readonly createIndexes: boolean;
  readonly analyzeTables: boolean;
  readonly maxRowsPerCommit: number;
  protected readonly columns: readonly Column[];
  private enginePromise: Promise<Engine> | undefined;
  private readonly ownsEngine: boolean;

  constructor(
    readonly spec: TableSpec,
    defaults: LoaderDefaults,
    private readonly config: LoaderConfig = {},
  ) {
    this.batchSize = positiveInt('batchSize', config.batchSize ?? defaults.batchSize);
    this.parallelWorkers = positiveInt('parallelWorkers', config.parallelWorkers ?? 1);
    this.useCopy = config.useCopy ?? true;
    this.enableCompression = config.enableCompression ?? false;
    this.createIndexes = config.createIndexes ?? true;
    this.analyzeTables = config.analyzeTables ?? true;
    this.maxRowsPerCommit = positiveInt('maxRowsPerCommit', config.maxRowsPerCommit ?? GROUP_MAX_ROWS);
    this.columns = loadedColumns(spec);
    this.ownsEngine = config.engine === undefined;
    if (config.engine) this.enginePromise = Promise.resolve(config.engine);
  }

  engine(): Promise<Engine> {
    this.enginePromise ??= openEngine(this.config);
    return this.enginePromise;
  }

  /** Closes the engine if this loader opened it. */
  async close(): Promise<void> {
    if (this.ownsEngine && this.enginePromise) await (await this.enginePromise).close();
    this.enginePromise = undefined;
  }

  /** Validates and stores records in one transaction; invalid rows are quarantined. */
  async storeBatch(records: readonly R[]): Promise<StoreBatchResult> {
    const started = performance.now();
    const engine = await this.engine();
    await requireSchema(engine);
    let inserted = 0;
    let rejected = 0;
    const source = new RecordSource<R>([records]);
    const window = this.config.allowExpired ? null : await this.storeBatchWindow(engine);
    await engine.transaction(async (tx) => {
      for await (const item of source.prepare(this.spec, Math.max(1, records.length), () => false)) {
        if ('skipped' in item) continue;
        // Inside the transaction, before the write: a refused batch leaves nothing behind.
        checkRetention(window, item.minTime, `storeBatch into ${this.spec.name}`);
        const out = await this.writePrepared(tx, item);
        const rejections = [...item.rejections, ...out.dbRejections];
        await quarantine(tx, this.spec.name, null, 'storeBatch', rejections);
        inserted += out.inserted;
        rejected += rejections.length;
      }
    });
    return { recordsInserted: inserted, recordsRejected: rejected, processingTimeMs: performance.now() - started };
  }

  private cachedWindow: { at: number; window: RetentionWindow | null } | undefined;

  /**
   * storeBatch's retention window, read at most every WINDOW_TTL_MS: a feed calling storeBatch
   * per few records should not pay the policy lookup (4 round trips) each time, and a window of
   * days does not move measurably in seconds.
   */
  private async storeBatchWindow(engine: Engine): Promise<RetentionWindow | null> {
    if (this.config.now) return retentionWindow(engine, this.spec.name, this.config.now);
    const t = performance.now();
    if (!this.cachedWindow || t - this.cachedWindow.at > WINDOW_TTL_MS)
      this.cachedWindow = { at: t, window: await retentionWindow(engine, this.spec.name) };
    return this.cachedWindow.window;
  }

  /** Streams a source into the table in committed batches; see BulkLoadOptions. */
  async bulkLoad(source: RecordInput<R> | BatchSource, options: BulkLoadOptions = {}): Promise<BulkLoadResult> {
    const started = performance.now();
    const engine = await this.engine();
    await requireSchema(engine);
    const caps = await engine.capabilities();
    const batchSource: BatchSource = isBatchSource(source)
      ? source
      : new RecordSource<R>(source as RecordInput<R>, options.source, options.total);
    const identity = options.source ??
      (await batchSource.identity) ?? { source: 'records', contentHash: `unhashed:${crypto.randomUUID()}` };
    const total = options.total ?? batchSource.totalRecords;
    const mode = options.mode ?? 'append';
    const allowExpired = options.allowExpired ?? this.config.allowExpired ?? false;
    const window = allowExpired ? null : await retentionWindow(engine, this.spec.name, options.now ?? this.config.now);
    // Parsed before the claim: a bad limit is the caller's error, not a failed load.
    const limit = rejectLimit(options.maxRejects, total, this.batchSize);

    const claim = await claimLoad(engine, {
      identity,
      table: this.spec.name,
      mode,
      batchSize: this.batchSize,
      details: { bulk: options.bulk ?? false },
    });
    if (claim.kind === 'completed') {
      const existing = claim.existing;
      // "Already loaded" must not be said of rows retention has dropped since (issue 13).
      const gone = this.spec.hypertable && caps.hypertables ? await ledger.rowsGoneSinceLoad(engine, existing, this.spec.name) : null;
      return {
        ...(gone ? { rowsGone: gone } : {}),
        loadId: existing.loadId,
        status: 'already-loaded',
        totalRecords: existing.recordsIn,
        recordsInserted: 0,
        recordsRejected: 0,
        processingTimeSeconds: (performance.now() - started) / 1000,
        recordsPerSecond: 0,
        batchesResumed: 0,
        replacedLoadId: null,
        topRejectReasons: [],
      };
    }
    try {
      return await this.runClaimed(engine, caps, batchSource, identity, total, mode, options, claim, started, window, limit);
    } finally {
      await claim.release();
    }
  }

  private async runClaimed(
    engine: Engine,
    caps: Capabilities,
    batchSource: BatchSource,
    identity: ledger.SourceIdentity,
    total: number | undefined,
    mode: LoadMode,
    options: BulkLoadOptions,
    claim: Extract<Claim, { kind: 'claimed' }>,
    started: number,
    window: RetentionWindow | null,
    limit: RejectLimit | undefined,
  ): Promise<BulkLoadResult> {
    if (this.createIndexes) await ensureIndexes(engine, this.spec);
    const previous = mode === 'replace' ? await ledger.findReplaceableLoadBySource(engine, this.spec.name, identity.source) : undefined;
    const resumable = claim.resumed;
    const batchSize = resumable?.batchSize ?? this.batchSize;
    const loadId = claim.loadId;
    const committed = resumable ? await ledger.committedBatches(engine, loadId) : new Set<number>();
    // The committed batches of earlier runs: this run's counts are the totals minus these, and the
    // reject limit counts the load's whole (a resumed load's earlier runs count).
    const before = resumable ? await ledger.loadProgress(engine, loadId) : undefined;
    let rejectedSoFar = before?.recordsRejected ?? 0;
    let recordsSoFar = before?.recordsIn ?? 0;
    // Another process (the console, status) computes a running load's % and ETA from this and its committed batches.
    if (total !== undefined) await ledger.mergeDetails(engine, loadId, { totalRecords: total });

    const reasons = new Map<string, number>();
    let completed = 0;
    const progress = (n: number) => {
      completed += n;
      options.onProgress?.(completed, total);
    };
    let session: WriteSession | undefined;
    /** Writes `unit` (one batch, or `members` combined) with its quarantine rows and ledger rows. */
    const handle = async (tx: Connection, unit: PreparedBatch, members: readonly PreparedBatch[], optimistic = false) => {
      const grouped = members.length > 1;
      const writeStarted = performance.now();
      const out = session!.merges
        ? await session!.write(tx, unit, members.length, optimistic)
        : await this.writePrepared(tx, unit, optimistic);
      options.observer?.batchWritten?.({ table: this.spec.name, rows: out.inserted, seconds: (performance.now() - writeStarted) / 1000 });
      if (grouped && (out.inserted !== unit.rowCount || out.dbRejections.length > 0))
        throw new GroupNeedsSplit('not every row was written');
      const rejections = [...unit.rejections, ...out.dbRejections];
      if (limit?.exceeded(rejectedSoFar + rejections.length, recordsSoFar + unit.recordsIn)) {
        // Batches committed together: the ones before the one that passes the limit still land.
        if (grouped) throw new GroupNeedsSplit('the reject limit falls inside the group');
        throw new RejectLimitReached(rejectedSoFar + rejections.length);
      }
      await quarantine(tx, this.spec.name, loadId, identity.source, rejections);
      if (grouped)
        await ledger.recordBatches(
          tx,
          loadId,
          members.map((m) => ({ batch: m, inserted: m.rowCount, rejected: m.rejections.length })),
        );
      else await ledger.recordBatch(tx, loadId, unit, out.inserted, rejections.length);
      countReasons(reasons, rejections);
      return { rejected: rejections.length, records: unit.recordsIn };
    };
    /** Counted once the transaction that wrote them has committed. */
    const counted = (c: { rejected: number; records: number }) => {
      rejectedSoFar += c.rejected;
      recordsSoFar += c.records;
    };

    const bulk = (options.bulk ?? false) && this.spec.hypertable !== undefined;
    try {
      session = await WriteSession.start(engine, this.spec, {
        loadId,
        mode,
        strategy: options.strategy,
        resumed: resumable,
        oneTransaction: previous !== undefined,
        useCopy: this.useCopy,
        previousRange:
          previous?.minTime && previous.maxTime
            ? { minUs: BigInt(previous.minTime.getTime()) * 1000n, maxUs: BigInt(previous.maxTime.getTime()) * 1000n + 999n }
            : undefined,
        refreshAggregates: options.refreshAggregates,
        leaveDecompressedOnFailure: options.leaveDecompressedOnFailure,
        onDecompressed: options.onDecompressed,
        serialize: !bulk,
        directCompress: options.directCompress,
        now: options.now ?? this.config.now,
      });
      if (bulk) {
        await ledger.mergeDetails(engine, loadId, { indexesDropped: true });
        await dropSecondaryIndexes(engine, this.spec);
      }
      const pacer = new ProducerPacer();
      const pace = () => pacer.pace();
      const encodeFor = this.useCopy ? this.columns : [];
      const prepared = batchSource.prepare(this.spec, batchSize, (n) => committed.has(n), pace);
      const batches = encodeEach(
        window ? guardRetention(prepared, window, `load ${loadId} into ${this.spec.name}`) : prepared,
        encodeFor,
        this.spec.naturalKey,
        pace,
      );
      if (previous) {
        // One transaction: a batch counts as it is written (a stop rolls all of it back).
        await this.replaceInOneTransaction(engine, previous, batches, async (tx, b) => counted(await handle(tx, b, [b])), progress);
      } else {
        const workers = caps.multipleConnections ? this.parallelWorkers : 1;
        const time = this.spec.hypertable?.timeColumn;
        const keyHasTime = time !== undefined && this.spec.naturalKey.includes(time);
        // Enough batches ahead for every worker's next group (combined-batch.ts), and no more.
        // Only appends are grouped: upserts always take the staged merge path, one batch at a time.
        const groupRows = this.groupCommits && mode === 'append' ? Math.max(this.maxRowsPerCommit, batchSize) : 1;
        const depth = workers + Math.ceil(groupRows / batchSize);
        const groups = prefetchGroups(batches, depth, (b) => ('skipped' in b ? 0 : b.rowCount), groupRows);
        await runWorkers(pacer.feed(groups), workers, async (group) => {
          for (const b of group) if ('skipped' in b) progress(b.recordsIn);
          const members = group.filter((b): b is PreparedBatch => !('skipped' in b));
          if (members.length === 0) return;
          const combine = (ms: readonly PreparedBatch[]): PreparedBatch => {
            if (ms.length === 1) return ms[0]!;
            const c = new CombinedBatch(ms);
            c.joinEncodings(
              encodeFor.map((col) => col.name),
              keyHasTime,
            );
            return c;
          };
          const unit = combine(members);
          const ticket = session!.ticket(unit); // synchronously, in input order (see write/session.ts)
          try {
            await pacer.roundTrips(async () => {
              // Decompression and the fresh-slot probes query the database too: a failover here is
              // ridden out like one during the write.
              await withRetry(() => session!.prepare(ticket, members), loadBatchRetry(engine.retryWindowMs));
              // Transient failure (reset, restart, 57P01, 40001, 40P01): retry; if the COMMIT's outcome
              // was lost with the connection, the ledger says which batches landed.
              await withRetry(async (attempt) => {
                let pending = members;
                if (attempt > 0) {
                  const done = await ledger.committedBatches(engine, loadId);
                  pending = members.filter((m) => !done.has(m.batchNo));
                  if (pending.length === 0) return;
                }
                const target = pending === members ? unit : combine(pending);
                try {
                  counted(await engine.transaction((tx) => handle(pacer.pacedConnection(tx), target, pending, true)));
                } catch (err) {
                  // A row the validator let through, or a group the fast path cannot take: write the
                  // batches one by one, isolating the rows the database rejects.
                  if (!(err instanceof RowsNeedIsolation || err instanceof GroupNeedsSplit)) throw err;
                  for (const m of pending) counted(await engine.transaction((tx) => handle(pacer.pacedConnection(tx), m, [m])));
                }
              }, loadBatchRetry(engine.retryWindowMs));
            });
          } finally {
            ticket.release();
          }
          for (const m of members) progress(m.recordsIn);
        });
      }
      if (bulk) {
        await ensureIndexes(engine, this.spec);
        await ledger.mergeDetails(engine, loadId, { indexesDropped: false });
      }
      const backfill = await session.finish();
      // Single idempotent statements: a connection lost here must not fail a load whose rows all landed.
      const retried = <T>(fn: () => Promise<T>) => withRetry(fn, loadBatchRetry(engine.retryWindowMs));
      await retried(() =>
        ledger.mergeDetails(engine, loadId, {
          strategy: backfill.strategy,
          updated: backfill.updated,
          duplicates: backfill.duplicates,
          unchanged: backfill.unchanged,
          superseded: backfill.superseded,
        }),
      );
      if (this.enableCompression && caps.compression) await compressEligibleChunks(engine, this.spec.name);
      if (this.analyzeTables) await analyzeLoaded(engine, this.spec, loadId);
      const done = await retried(() => ledger.completeLoad(engine, loadId, performance.now() - started));
      const seconds = (performance.now() - started) / 1000;
      options.observer?.loadFinished?.({
        table: this.spec.name,
        status: 'completed',
        seconds,
      });
      const thisRun = {
        records: done.recordsIn - (before?.recordsIn ?? 0),
        recordsInserted: done.recordsInserted - (before?.recordsInserted ?? 0),
        recordsRejected: done.recordsRejected - (before?.recordsRejected ?? 0),
      };
      return {
        loadId,
        status: 'completed',
        totalRecords: done.recordsIn,
        recordsInserted: done.recordsInserted,
        recordsRejected: done.recordsRejected,
        processingTimeSeconds: seconds,
        recordsPerSecond: seconds > 0 ? thisRun.records / seconds : 0,
        batchesResumed: committed.size,
        thisRun,
        replacedLoadId: previous?.loadId ?? null,
        topRejectReasons: [...reasons.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([reason, count]) => ({ reason, count })),
        strategy: backfill.strategy,
        recordsUpdated: backfill.updated,
        duplicates: backfill.duplicates,
        backfill,
      };
    } catch (caught) {
      let err = caught;
      if (err instanceof RejectLimitReached) {
        // The batch that would pass the limit rolled back; the message says how far the load got.
        const reached = await ledger.loadProgress(engine, loadId).catch(() => undefined);
        if (reached) err = new MaxRejectsError(loadId, this.spec.name, limit!.text, reached, err.rejected);
      }
      // The failure may be the server itself: the ledger gets the same window to learn the outcome.
      // If it stays unreachable the row stays 'running' and its heartbeat stops: status shows it
      // stale, and the next run takes it over (load-claim.ts).
      const recorded = await withRetry(() => ledger.failLoad(engine, loadId, errorMessage(err)), loadBatchRetry(engine.retryWindowMs)).then(
        () => true,
        () => false,
      );
      await session?.abort();
      options.observer?.loadFinished?.({
        table: this.spec.name,
        status: 'failed',
        seconds: (performance.now() - started) / 1000,
      });
      // A failed bulk load must not leave the table without the contract's indexes (best effort:
      // if the database is unreachable, the next load's ensureIndexes repairs it).
      if (bulk) {
        await ensureIndexes(engine, this.spec)
          .then(() => ledger.mergeDetails(engine, loadId, { indexesDropped: false }))
          .catch(() => undefined);
      }
      // Our own errors say what to do; an encoder's (CopyError) or a lost server's (ConnectionError)
      // gets the load's context and the way out.
      if (err instanceof TickvaultError && !(err instanceof CopyError) && !(err instanceof ConnectionError)) throw err;
      // Only a failure retried for the whole window blames the window.
      const outage = outlastedRetryWindow(err)
        ? ` (the database stayed unreachable through the ${Math.round(engine.retryWindowMs / 1000)} s retry window: pool setting retryWindow, TICKVAULT_RETRY_WINDOW)`
        : '';
      const ledgerNote = recorded
        ? ''
        : `; the ledger could not be updated, so load ${loadId} shows as running until a re-run takes it over`;
      throw new LoadError(
        `load ${loadId} into ${this.spec.name} failed: ${errorMessage(err)}${outage}. Committed batches are kept; re-run the same load to resume${ledgerNote}.`,
        { cause: err },
      );
    }
  }

  /**
   * Whether consecutive prepared batches may be committed together (combined-batch.ts). Only for
   * writes whose every row lands as given: DefinitionsLoader's upsert turns it off.
   */
  protected readonly groupCommits: boolean = true;

  /**
   * How a prepared batch reaches the table; DefinitionsLoader overrides it with an upsert.
   * `optimistic`: see WriteOptions.optimistic (a rejected row throws RowsNeedIsolation).
   */
  protected writePrepared(tx: Connection, batch: PreparedBatch, optimistic = false): Promise<WriteOutcome> {
    return writeBatch(tx, batch, { table: this.spec.name, columns: this.columns, useCopy: this.useCopy, optimistic });
  }

  /**
   * Replace mode: delete what the previous load of this source stored (its instruments over its
   * time range), load the new contents and retire the old ledger entry — one transaction, so
   * readers see either the old data or the new, never a mix or a gap.
   */
  private async replaceInOneTransaction(
    engine: Engine,
    previous: ledger.LoadRecord,
    batches: AsyncIterable<BatchOrSkip>,
    handle: (tx: Connection, b: PreparedBatch) => Promise<void>,
    progress: (n: number) => void,
  ): Promise<void> {
    const time = this.spec.hypertable?.timeColumn;
    await engine.transaction(async (tx) => {
      if (time && previous.minTime && previous.maxTime && previous.instrumentIds?.length) {
        // The bounds come from the ledger row itself: previous.minTime/maxTime are JS Dates
        // (milliseconds) and would miss rows in the last millisecond of the range.
        await tx.query(
          `DELETE FROM ${ident(this.spec.name)} WHERE instrument_id = ANY($1::int[]) AND ${ident(time)} BETWEEN
            (SELECT min_time FROM ${LOADS_TABLE} WHERE load_id = $2::bigint) AND (SELECT max_time FROM ${LOADS_TABLE} WHERE load_id = $2::bigint)`,
          [previous.instrumentIds, previous.loadId],
        );
      } else if (!time && previous.instrumentIds?.length) {
        await tx.query(`DELETE FROM ${ident(this.spec.name)} WHERE instrument_id = ANY($1::int[])`, [previous.instrumentIds]);
      }
      for await (const item of batches) {
        if (!('skipped' in item)) await handle(tx, item);
        progress(item.recordsIn);
      }
      await ledger.supersede(tx, previous.loadId);
    });
  }
}

/**
 * Each batch checked against the retention window before it reaches a writer. Records from an
 * iterable have no time range before they are read, so this is the loaders' guard: a source whose
 * first batch is expired writes nothing; one that turns expired later stops there (its committed
 * batches stay, resumable). DBN files are checked as a whole before the load (ingest/load-dbn.ts).
 */
async function* guardRetention(source: AsyncIterable<BatchOrSkip>, window: RetentionWindow, what: string): AsyncIterable<BatchOrSkip> {
  for await (const item of source) {
    if (!('skipped' in item)) checkRetention(window, item.minTime, what);
    yield item;
  }
}

/**
 * Prepares up to `depth` items ahead of the workers: while a worker awaits the server (COPY,
 * COMMIT), the producer decodes and validates the next batches, so client and server work overlap
 * instead of alternating; memory stays bounded by `depth` items. Hands out groups: the next item
 * plus the items after it already prepared, up to `maxWeight` in all — a worker takes what is
 * ready, never waits to fill a group. An error or the end of the source ends a group; it surfaces
 * with the next call, in order.
 */
export async function* prefetchGroups<T>(
  source: AsyncIterable<T>,
  depth: number,
  weight: (item: T) => number,
  maxWeight: number,
): AsyncIterable<T[]> {
  const it = source[Symbol.asyncIterator]();
  interface Entry {
    readonly p: Promise<IteratorResult<T>>;
    result?: IteratorResult<T>;
    failed: boolean;
  }
  const queue: Entry[] = [];
  const request = () => {
    const p = it.next();
    const e: Entry = { p, failed: false };
    p.then(
      (r) => {
        e.result = r;
      },
      () => {
        e.failed = true;
      },
    ); // also observes the rejection until dequeued
    queue.push(e);
  };
  let closed = false;
  // Asking the source for more runs the producer up to its next pause, synchronously: done from
  // the next turn of the event loop, so the worker that takes a group goes on to its statements first.
  const refill = () => {
    if (!closed) while (queue.length < depth) request();
  };
  try {
    for (;;) {
      if (queue.length === 0) refill();
      const first = await queue.shift()!.p;
      if (first.done) return;
      const group = [first.value];
      let total = weight(first.value);
      for (;;) {
        const e = queue[0];
        if (!e || e.failed || !e.result || e.result.done) break;
        const w = weight(e.result.value);
        if (total + w > maxWeight) break;
        queue.shift();
        group.push(e.result.value);
        total += w;
      }
      setImmediate(refill);
      yield group;
    }
  } finally {
    closed = true;
    await it.return?.();
  }
}

/**
 * Encodes each batch's COPY bytes as it is produced (encoded-batch.ts), so the encoding runs while
 * the previous batch streams. Skipped when `columns` is empty (INSERT path).
 */
async function* encodeEach(
  batches: AsyncIterable<BatchOrSkip>,
  columns: readonly Column[],
  naturalKey: readonly string[],
  pace: () => Promise<void>,
): AsyncIterable<BatchOrSkip> {
  for await (const b of batches) {
    if (columns.length > 0 && !('skipped' in b)) await encodeAhead(b, columns, naturalKey, pace);
    yield b;
  }
}

/** N workers pulling from one async iterator; the first failure stops the others after their batch. */
export async function runWorkers<T>(items: AsyncIterable<T>, workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.asyncIterator]();
  let failed = false;
  const worker = async () => {
    while (!failed) {
      const next = await it.next();
      if (next.done) return;
      try {
        await fn(next.value);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: workers }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) {
    await it.return?.();
    throw rejected.reason;
  }
}

function countReasons(map: Map<string, number>, rejections: readonly Rejection[]): void {
  for (const r of rejections) {
    const key = r.constraint ?? r.reason.replace(/: .*$/, '');
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new LoadError(`${name} must be a positive integer (got ${v})`);
  return v;
}
