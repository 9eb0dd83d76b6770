/**
 * One load's write session, driven by BaseLoader.bulkLoad: how its batches reach a hypertable
 * that may already hold rows and compressed chunks:
 *
 *  start    recompress what interrupted loads left decompressed (ledger), read the chunk catalog
 *           (which chunks are compressed now), adopt the chunks a resumed run of this load had
 *           decompressed;
 *  ticket   (synchronous, in input order) reserve the batch's place in its chunk slots, so batches
 *           that share a chunk are written in input order — "earlier in the same load" and "last
 *           write wins" mean input order even with parallel workers;
 *  prepare  wait for the earlier batches of the same slots, then take over the compressed chunks
 *           the batch touches: ledger first ('partialChunks' / 'decompressedChunks'), then — for
 *           'decompress-recompress' — decompress them ('write-recompress' writes into them as they are);
 *  write    inside the batch transaction: slot advisory locks (sorted; see slot-locks.ts), then the
 *           write mode (merge.ts);
 *  finish   recompress every compressed chunk this load wrote into (ledger cleared after), refresh the
 *           continuous aggregates / rollups over the load's time range;
 *  abort    after a failure: recompress (best effort) unless told to leave the chunks for the re-run.
 *
 * The strategy is chosen per chunk from the catalog and capability flags (timescale/plan.ts), never from
 * the engine kind.
 */
import type { Capabilities, Connection, Engine, Queryable } from '../../engine/types.js';
import { errorMessage } from '../../errors.js';
import { Mutex } from '../../engine/mutex.js';
import { LOAD_BATCHES_TABLE, LOADS_TABLE, type LoadMode } from '../../schema/bookkeeping.js';
import { loadedColumns, type Column, type TableSpec } from '../../schema/tables.js';
import type { PreparedBatch } from './batch.js';
import { GroupNeedsSplit } from './combined-batch.js';
import type { WriteOutcome } from './write-batch.js';
import { rollupsOf } from '../../schema/rollups.js';
import { refreshAfterLoad, type RefreshAction } from '../../timescale/rollup-refresh.js';
import { usExpr } from '../../sql/time.js';
import { ident } from '../../sql/ident.js';
import { isoToMicros, microsToIso } from '../../values/time.js';
import {
  chunkExists,
  chunkIntervalUs,
  compressChunk,
  decompressChunk,
  listChunks,
  recordChunkState,
  recoverDecompressedChunks,
  type ChunkInfo,
  type RecoveredLoad,
} from '../../timescale/chunks.js';
import { lockSlots, slotsFor } from './slot-locks.js';
import { writeMerged, type MergeOutcome, type WriteMode } from './merge.js';
import { chooseStrategy, dmlOnCompressedChunks, type LoadStrategy } from '../../timescale/plan.js';
import {
  compressCutoffUs,
  directCompressSupport,
  enableDirectCompress,
  rangeCompressed,
  type DirectCompressSupport,
} from '../../timescale/direct-compress.js';
import { encodedBatch } from './encoded-batch.js';
import { mayRepeatKey } from './encoded-batch.js';
import { writeBatch } from './write-batch.js';
import { segmentOrder, sortCopyRows, type SegmentOrder } from './segment-order.js';

export interface WriteSessionOptions {
  readonly loadId: string;
  readonly mode: LoadMode;
  /** Force a strategy; default: chosen from the chunk catalog and the tier. */
  readonly strategy?: LoadStrategy;
  /** The interrupted run of this load being resumed (its decompressed chunks are taken over). */
  readonly resumed?: { readonly loadId: string; readonly details: Readonly<Record<string, unknown>> | null };
  /** Replace mode: every batch is written in one transaction. */
  readonly oneTransaction: boolean;
  /** Replace mode: the time range of the load being replaced (its rows are deleted, possibly from compressed chunks). */
  readonly previousRange?: { readonly minUs: bigint; readonly maxUs: bigint };
  readonly useCopy: boolean;
  /**
   * Refresh the rollups over the load's range afterwards. 'auto' (default): when they would not
   * show the new rows otherwise — continuous aggregates: rows written below the materialized
   * horizon (above it, real-time aggregation reads them live); materialized views (other tiers):
   * the load wrote into a range that already had rows (fresh appends are left to `maintain`, which
   * recomputes those views whole, as before). true: always; false: never.
   */
  readonly refreshAggregates?: boolean | 'auto';
  /** After a failure leave the decompressed chunks for the re-run (ledger keeps them); default false = recompress now. */
  readonly leaveDecompressedOnFailure?: boolean;
  /**
   * Order batches per chunk slot (in process) and take the slot advisory locks (default true).
   * Bulk mode turns it off: it asserts an empty range and wants parallel workers at full speed —
   * the duplicate check still runs per batch, but two concurrently written batches (of this or
   * another load) with a common key are not excluded. Measured on 2 cores: 2 workers gain ~20%
   * over 1 without ordering, nothing with it (time-ordered batches mostly share a chunk).
   */
  readonly serialize?: boolean;
  /** Append mode: never take the direct-COPY shortcut (measurements). */
  readonly alwaysStage?: boolean;
  /** Called after chunks were decompressed (before the batch that needed them is written). */
  readonly onDecompressed?: (chunks: readonly string[]) => void;
  /**
   * Write batches that fall into new chunks older than compress_after straight into the
   * columnstore (direct-compress COPY) where the server can (default true; see direct-compress.ts).
   */
  readonly directCompress?: boolean;
  /** The clock compress_after is measured from (tests); default the database's now(). */
  readonly now?: Date;
}

export interface WriteSummary {
  readonly mode: LoadMode;
  readonly strategy: LoadStrategy;
  readonly strategyReason: string;
  /** Chunks this load decompressed (or took over from its interrupted run), sorted ('decompress-recompress'). */
  readonly chunksDecompressed: readonly string[];
  /** Compressed chunks this load wrote into and compressed again (both strategies), sorted. */
  readonly chunksRecompressed: readonly string[];
  /** Chunks other interrupted loads had left decompressed, recompressed at start. */
  readonly recoveredFromInterruptedLoads: readonly RecoveredLoad[];
  readonly duplicates: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly superseded: number;
  readonly batchesStaged: number;
  readonly batchesCopied: number;
  readonly aggregatesRefreshed: readonly RefreshAction[];
  /** Direct-to-columnstore COPY: batches and rows written that way, or why it was not used. */
  readonly directCompress: { readonly batches: number; readonly rows: number; readonly reason: string };
  readonly notes: readonly string[];
}

/** Why the session may or may not write straight into the columnstore (decided once, at start). */
type DirectCompressPlan =
  | {
      readonly ok: true;
      readonly support: Extract<DirectCompressSupport, { ok: true }>;
      readonly cutoffUs: bigint;
      readonly after: string;
      readonly order: SegmentOrder;
    }
  | { readonly ok: false; readonly reason: string };

export interface Ticket {
  readonly batch: PreparedBatch;
  readonly wait: Promise<void>;
  release(): void;
}

export class WriteSession {
  /** Compressed chunks taken over (decompressed, or written into as partial chunks), to recompress at the end. */
  private readonly decompressed = new Set<string>();
  private readonly strategy: LoadStrategy;
  private readonly recompressed: string[] = [];
  private readonly notes: string[] = [];
  /** Decompression decisions are taken one at a time: two batches must not both take over a chunk. */
  private readonly mutex = new Mutex();
  /** Batches in flight (ticketed, not released), with their time ranges. */
  private readonly pending = new Set<{ lo: bigint; hi: bigint; done: Promise<void> }>();
  private tableLocked = new WeakSet<Connection>();
  private counts = { duplicates: 0, updated: 0, unchanged: 0, superseded: 0, staged: 0, copied: 0 };
  private refreshed: RefreshAction[] = [];
  /** Per chunk slot: the times its stored rows spanned when this load first met it (see SlotStored). */
  private readonly slotStored = new Map<number, Promise<SlotStored>>();
  /** Per chunk slot: the time ranges of this load's batches there. */
  private readonly slotRanges = new Map<number, { lo: bigint; hi: bigint; batchNo: number }[]>();
  /** Batches that may skip the stored-key probe (see merge.ts freshRange), pending the other-loads check. */
  private readonly freshCandidates = new WeakSet<PreparedBatch>();
  private readonly columns: readonly Column[];
  /** Direct-compress: the decision at start (may be withdrawn if the server falls back), counts, and chunk slots written that way. */
  private dc: DirectCompressPlan = { ok: false, reason: 'not a hypertable load' };
  private dcCounts = { batches: 0, rows: 0 };
  /** Why some batch of an eligible load took the row store (first reason seen). */
  private dcSkipped: string | undefined;
  private readonly dcSlots = new Set<bigint>();
  /** Slots written by direct compress and then by a row-store write: recompressed at the end. */
  private readonly dcDirty = new Set<bigint>();
  private chunksAtStart: readonly ChunkInfo[] = [];

  private constructor(
    private readonly engine: Engine,
    private readonly caps: Capabilities,
    readonly spec: TableSpec,
    private readonly options: WriteSessionOptions,
    private readonly compressedAtStart: readonly ChunkInfo[],
    private readonly intervalUs: bigint | null,
    private readonly recovered: readonly RecoveredLoad[],
  ) {
    this.columns = loadedColumns(spec);
    // 'direct-compress' names what new chunks get; compressed chunks still need one of the others.
    const forced = options.strategy === 'direct-compress' ? undefined : options.strategy;
    this.strategy = !caps.compression ? 'direct' : (forced ?? (dmlOnCompressedChunks(caps) ? 'write-recompress' : 'decompress-recompress'));
  }

  /** The ledger key naming the chunks this load must recompress. */
  private get ledgerKey(): 'decompressedChunks' | 'partialChunks' {
    return this.strategy === 'decompress-recompress' ? 'decompressedChunks' : 'partialChunks';
  }

  static async start(engine: Engine, spec: TableSpec, options: WriteSessionOptions): Promise<WriteSession> {
    const caps = await engine.capabilities();
    const hyper = spec.hypertable !== undefined && caps.hypertables;
    let recovered: RecoveredLoad[] = [];
    let compressed: ChunkInfo[] = [];
    let interval: bigint | null = null;
    let chunks: ChunkInfo[] = [];
    if (hyper) {
      if (caps.compression)
        recovered = await recoverDecompressedChunks(engine, { table: spec.name, exceptLoadId: options.resumed?.loadId });
      chunks = await listChunks(engine, spec.name);
      compressed = chunks.filter((c) => c.compressed);
      interval = await chunkIntervalUs(engine, spec.name);
    }
    const session = new WriteSession(engine, caps, spec, options, compressed, interval, recovered);
    session.chunksAtStart = chunks;
    session.dc = await session.planDirectCompress();
    const details = options.resumed?.details ?? {};
    const stillCompressed = new Set(compressed.map((c) => c.chunk));
    for (const key of ['decompressedChunks', 'partialChunks']) {
      const adopted = details[key];
      // A chunk the interrupted run decompressed, or left partial: this run recompresses it at its end.
      if (Array.isArray(adopted))
        for (const c of adopted)
          if (typeof c === 'string' && (key === 'partialChunks' || !stillCompressed.has(c))) session.decompressed.add(c);
    }
    return session;
  }

  /** Whether this load may write straight into the columnstore at all, and if not, why. */
  private async planDirectCompress(): Promise<DirectCompressPlan> {
    const o = this.options;
    if (!this.merges) return { ok: false, reason: `${this.spec.name} is not a hypertable with a natural key` };
    if (o.directCompress === false) return { ok: false, reason: 'turned off by the caller' };
    if (o.mode !== 'append' || o.oneTransaction)
      return { ok: false, reason: `mode ${o.mode} merges with stored rows; direct-compress is for appends into new chunks` };
    if (!o.useCopy) return { ok: false, reason: 'the load uses INSERT, not COPY' };
    const support = await directCompressSupport(this.engine, this.caps, this.spec.name);
    if (!support.ok) return support;
    const order = this.spec.compression && segmentOrder(this.columns, this.spec.compression.segmentBy, this.spec.hypertable!.timeColumn);
    if (!order) return { ok: false, reason: `${this.spec.name} has no compression order tickvault can sort by` };
    const cutoff = await compressCutoffUs(this.engine, this.spec.name, o.now);
    if (!cutoff)
      return { ok: false, reason: `${this.spec.name} has no compression policy (compress_after): no chunk belongs in the columnstore yet` };
    return { ok: true, support, cutoffUs: cutoff.cutoffUs, after: cutoff.after, order };
  }

  /** The chunk-slot indexes [first, last] a time range covers. */
  private slotRange(minUs: bigint, maxUs: bigint): [bigint, bigint] {
    return [floorDiv(minUs, this.intervalUs!), floorDiv(maxUs, this.intervalUs!)];
  }

  /** Why `batch` cannot go straight into the columnstore, or null when it can. */
  private directCompressBlocker(batch: PreparedBatch, fresh: boolean): string | null {
    if (!this.dc.ok) return this.dc.reason;
    const [first, last] = this.slotRange(batch.minTime!, batch.maxTime!);
    const iv = this.intervalUs!;
    if ((last + 1n) * iv > this.dc.cutoffUs)
      return `rows are newer than compress_after (${this.dc.after}): their chunks stay in the row store until the policy compresses them`;
    const existing = this.chunksAtStart.find((c) => c.startUs < (last + 1n) * iv && c.endUs > first * iv);
    if (existing)
      return `chunk ${existing.chunk} already existed (${existing.compressed ? 'compressed' : 'row store'}): rows go through the merge path`;
    if (!fresh) return 'the batch overlaps rows stored or written earlier by this load: the duplicate check needs the merge path';
    if (mayRepeatKey(batch, this.columns, this.spec.naturalKey))
      return 'the batch repeats a natural key: the duplicate check needs the merge path';
    if (
      !encodedBatch(
        batch,
        this.columns.map((c) => c.name),
      )
    )
      return 'the batch has no encoded COPY bytes to sort';
    return null;
  }

  /** Inside the batch transaction: sort the rows by segment and time, COPY with direct compress on (SET LOCAL). */
  private async writeDirectCompressed(tx: Connection, batch: PreparedBatch, optimistic: boolean): Promise<WriteOutcome> {
    const dc = this.dc as Extract<DirectCompressPlan, { ok: true }>;
    const names = this.columns.map((c) => c.name);
    const enc = encodedBatch(batch, names)!;
    // Same rows, other order: a partial re-write (savepoint bisection) encodes rows by index and
    // only needs the same set.
    batch.encoded = { ...enc, bytes: sortCopyRows(enc.bytes, batch.rowCount, dc.order) };
    await enableDirectCompress(tx, dc.support, batch.rowCount);
    const out = await writeBatch(tx, batch, { table: this.spec.name, columns: this.columns, useCopy: true, optimistic });
    if (!(await rangeCompressed(tx, this.spec.name, microsToIso(batch.minTime!), microsToIso(batch.maxTime!)))) {
      // TimescaleDB fell back to a row-store COPY (it only WARNs): the rows are stored all the same.
      this.dc = {
        ok: false,
        reason: `TimescaleDB ${dc.support.version} wrote the rows to the row store instead (its COPY fell back, see the server log)`,
      };
      return out;
    }
    const [first, last] = this.slotRange(batch.minTime!, batch.maxTime!);
    for (let s = first; s <= last; s++) this.dcSlots.add(s);
    this.dcCounts.batches += 1;
    this.dcCounts.rows += out.inserted;
    return out;
  }

  /**
   * Merge modes apply to hypertables with a natural key; other tables keep their loader's own
   * write (BaseLoader.writePrepared) and never call `write`.
   */
  get merges(): boolean {
    return this.spec.hypertable !== undefined && this.spec.naturalKey.length > 0 && this.intervalUs !== null;
  }

  private get writeMode(): WriteMode {
    return this.options.mode === 'upsert' ? 'upsert' : 'append';
  }

  /**
   * Reserve the batch's turn: it waits for the earlier (in input order) batches still in flight
   * whose time ranges overlap its own — the only ones that can share a key with it. Call
   * synchronously, in input order. Time-ordered input has disjoint batch ranges: no waiting.
   */
  ticket(batch: PreparedBatch): Ticket {
    let release!: () => void;
    const done = new Promise<void>((r) => {
      release = r;
    });
    if (!this.merges || this.options.serialize === false || batch.minTime === null || batch.maxTime === null)
      return { batch, wait: Promise.resolve(), release };
    const lo = batch.minTime;
    const hi = batch.maxTime;
    const wait = Promise.all([...this.pending].filter((p) => p.lo <= hi && lo <= p.hi).map((p) => p.done)).then(() => undefined);
    const me = { lo, hi, done };
    this.pending.add(me);
    return {
      batch,
      wait,
      release: () => {
        this.pending.delete(me);
        release();
      },
    };
  }

  /**
   * Outside any transaction: wait for the batch's turn, then decompress what it touches. A ticket
   * for batches committed together (`members`, see combined-batch.ts) takes over the chunks of
   * each member's own range, not of their union, and is fresh only if every member is.
   */
  async prepare(ticket: Ticket, members: readonly PreparedBatch[] = [ticket.batch]): Promise<void> {
    await ticket.wait;
    let fresh = true;
    for (const b of members) {
      if (b.minTime === null || b.maxTime === null) continue;
      await this.decompressFor(null, b.minTime, b.maxTime);
      if (!(await this.inFreshRange(b))) fresh = false;
    }
    const unit = ticket.batch;
    if (fresh && unit.minTime !== null && unit.maxTime !== null) this.freshCandidates.add(unit);
  }

  /**
   * Fresh appends skip the per-batch probes: a batch whose time range meets no row its chunk slots
   * held when this load first met them (for each of the batch's instruments, where the natural key
   * has one: another instrument's rows in the same hours cannot share a key), and overlaps no
   * earlier batch of this load, cannot repeat a stored key (the write re-checks, under the slot
   * locks, that no other load wrote since).
   */
  private async inFreshRange(b: PreparedBatch): Promise<boolean> {
    if (!this.merges || this.options.mode !== 'append' || this.options.oneTransaction) return false;
    const slots = slotsFor(b.minTime!, b.maxTime!, this.intervalUs!);
    if (slots === 'table') return false;
    let fresh = true;
    for (const s of slots) {
      let p = this.slotStored.get(s);
      if (!p) {
        p = this.storedIn(s);
        // A failed probe (lost connection) is not the answer: the retry asks again.
        p.catch(() => this.slotStored.delete(s));
        this.slotStored.set(s, p);
      }
      if (meetsStored(await p, b)) fresh = false;
      const ranges = this.slotRanges.get(s) ?? [];
      // A retried prepare meets its own range again: that is no overlap with another batch.
      const own = ranges.some((r) => r.batchNo === b.batchNo);
      if (ranges.some((r) => r.batchNo !== b.batchNo && meetsBatch(r, b))) fresh = false;
      if (!own) ranges.push({ lo: b.minTime!, hi: b.maxTime!, batchNo: b.batchNo });
      this.slotRanges.set(s, ranges);
    }
    return fresh;
  }

  /** The times stored in chunk slot `s` (one scan of the slot, once per load). */
  private async storedIn(s: number): Promise<SlotStored> {
    const from = BigInt(s) * this.intervalUs!;
    const time = ident(this.spec.hypertable!.timeColumn);
    const byInstrument = this.spec.naturalKey.includes('instrument_id');
    const { rows } = await this.engine.query<{ id: number | null; lo: string | null; hi: string | null }>(
      `SELECT ${byInstrument ? 'instrument_id' : 'NULL::int4'} AS id, ${usExpr(`min(${time})`)}::text AS lo, ${usExpr(`max(${time})`)}::text AS hi
         FROM ${ident(this.spec.name)} WHERE ${time} >= $1::timestamptz AND ${time} < $2::timestamptz${byInstrument ? ' GROUP BY instrument_id' : ''}`,
      [microsToIso(from), microsToIso(from + this.intervalUs!)],
    );
    const spans = rows.filter((r) => r.lo !== null && r.hi !== null).map((r) => ({ id: r.id, lo: BigInt(r.lo!), hi: BigInt(r.hi!) }));
    if (spans.length === 0) return null;
    const all = {
      lo: spans.reduce((m, r) => (r.lo < m ? r.lo : m), spans[0]!.lo),
      hi: spans.reduce((m, r) => (r.hi > m ? r.hi : m), spans[0]!.hi),
    };
    return byInstrument ? { all, byInstrument: new Map(spans.map((r) => [r.id!, r])) } : { all };
  }

  /** Whether another load into the table is running, or changed anything since this load started. */
  private async otherLoads(tx: Queryable): Promise<boolean> {
    const { rows } = await tx.query<{ ok: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${LOADS_TABLE} o WHERE o.target_table = $1 AND o.load_id <> $2::bigint
          AND (o.status = 'running' OR o.updated_at >= (SELECT started_at FROM ${LOADS_TABLE} WHERE load_id = $2::bigint))) AS ok`,
      [this.spec.name, this.options.loadId],
    );
    return rows[0]!.ok;
  }

  private async decompressFor(tx: Queryable | null, minUs: bigint, maxUs: bigint): Promise<void> {
    if (this.strategy === 'direct') return;
    const touched = () => this.compressedAtStart.filter((c) => c.startUs <= maxUs && c.endUs > minUs && !this.decompressed.has(c.chunk));
    if (touched().length === 0) return;
    await this.mutex.run(async () => {
      const need = touched().map((c) => c.chunk);
      if (need.length === 0) return;
      for (const c of need) this.decompressed.add(c);
      const db = tx ?? this.engine;
      try {
        // The ledger names the chunks BEFORE they are decompressed or written into: a load killed from
        // here on leaves a record that the next load (or its own re-run) uses to recompress them.
        await recordChunkState(db, this.options.loadId, { [this.ledgerKey]: [...this.decompressed].sort() });
        if (this.strategy === 'decompress-recompress') {
          for (const c of need) await decompressChunk(db, c);
          this.options.onDecompressed?.(need);
        }
      } catch (err) {
        // Not taken over after all: a retry (the connection was lost) must record and decompress them
        // again (both are idempotent), not find them marked done.
        for (const c of need) this.decompressed.delete(c);
        throw err;
      }
    });
  }

  /**
   * Inside the batch transaction (only when `merges`): locks, decompression (one-transaction
   * mode), then the write mode. `members` > 1: the batch is that many batches committed together
   * (combined-batch.ts), which only the direct COPY path can write: any other path throws
   * GroupNeedsSplit before counting. `optimistic`: see WriteOptions.optimistic.
   */
  async write(tx: Connection, batch: PreparedBatch, members = 1, optimistic = false): Promise<WriteOutcome> {
    if (batch.minTime !== null && batch.maxTime !== null) {
      if (this.options.oneTransaction) {
        // Replace: all batches in one transaction, whose slots are not known in advance: one
        // exclusive table lock (taken once) instead of per-slot locks — no lock-order cycles.
        if (!this.tableLocked.has(tx)) {
          if (this.caps.sharedAccess) await lockSlots(tx, this.spec.name, 0n, BigInt(Number.MAX_SAFE_INTEGER) * 1000n, this.intervalUs!);
          this.tableLocked.add(tx);
          // The replaced rows were deleted at the start of this transaction, from compressed chunks
          // too: those chunks are recompressed at the end like the ones the new rows go into.
          const prev = this.options.previousRange;
          if (prev) await this.decompressFor(tx, prev.minUs, prev.maxUs);
        }
        await this.decompressFor(tx, batch.minTime, batch.maxTime);
      } else if (this.caps.sharedAccess && this.options.serialize !== false) {
        // Upserts lock their chunk slots exclusively. Appends share them with the other batches of
        // this load (which the tickets already order), and take them exclusively only when another
        // load is at work on the table — then both sides exclude each other.
        const exclusive = this.writeMode === 'upsert' || (await this.otherLoads(tx));
        await lockSlots(tx, this.spec.name, batch.minTime, batch.maxTime, this.intervalUs!, exclusive ? 'exclusive' : 'shared');
      }
    }
    // Re-checked under the locks: a load that registered meanwhile makes this batch probe.
    const freshRange = this.freshCandidates.has(batch) && !(await this.otherLoads(tx));
    if (batch.rowCount > 0 && batch.minTime !== null && batch.maxTime !== null) {
      const blocker = this.directCompressBlocker(batch, freshRange);
      if (blocker === null) {
        const out = await this.writeDirectCompressed(tx, batch, optimistic);
        this.counts.copied += members;
        return out;
      }
      if (this.dc.ok) this.dcSkipped ??= blocker;
      const [first, last] = this.slotRange(batch.minTime, batch.maxTime);
      for (let s = first; s <= last; s++) if (this.dcSlots.has(s)) this.dcDirty.add(s);
    }
    const out: MergeOutcome = await writeMerged(tx, batch, {
      spec: this.spec,
      columns: this.columns,
      useCopy: this.options.useCopy,
      mode: this.writeMode,
      alwaysStage: this.options.alwaysStage,
      freshRange,
      optimistic,
    });
    if (members > 1 && out.path !== 'copy') throw new GroupNeedsSplit(`the ${out.path} path`);
    this.counts.duplicates += out.duplicates;
    this.counts.updated += out.updated;
    this.counts.unchanged += out.unchanged;
    this.counts.superseded += out.superseded;
    if (out.path === 'staged') this.counts.staged += 1;
    else this.counts.copied += members;
    return out;
  }

  /** After the last batch committed: recompress, clear the ledger's chunk record, refresh the rollups. */
  async finish(): Promise<WriteSummary> {
    const prev = this.options.previousRange;
    if (prev && this.strategy !== 'direct') {
      // A replace that wrote no batch still deleted from these chunks (no-op when fully compressed).
      for (const c of this.compressedAtStart) if (c.startUs <= prev.maxUs && c.endUs > prev.minUs) this.decompressed.add(c.chunk);
    }
    await this.recompressAll();
    await this.recompressDirtyDirectSlots();
    if (this.merges && (this.options.refreshAggregates ?? true)) {
      const { rows } = await this.engine.query<{ lo: string | null; hi: string | null; n: string | null }>(
        `SELECT to_char(min(min_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS lo,
                to_char(max(max_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS hi, sum(records_inserted)::text AS n
           FROM ${LOAD_BATCHES_TABLE} WHERE load_id = $1::bigint`,
        [this.options.loadId],
      );
      const r = rows[0];
      const changed = Number(r?.n ?? 0) + this.counts.updated > 0 || this.options.mode === 'replace';
      if (r?.lo && r.hi && changed) {
        try {
          if (this.options.refreshAggregates === true || (await this.refreshNeeded(r.lo))) {
            this.refreshed = await refreshAfterLoad(this.engine, this.spec.name, r.lo, r.hi);
          } else if (rollupsOf(this.spec.name).length > 0) {
            this.notes.push(
              this.caps.continuousAggregates
                ? 'rollups not refreshed: every row is above their materialized horizon, real-time aggregation shows it'
                : 'rollups not refreshed: a fresh append (no stored rows in its range); `tickvault maintain` recomputes the views',
            );
          }
        } catch (err) {
          this.notes.push(`rollups over ${this.spec.name} not refreshed (${errorMessage(err)}): run \`tickvault maintain\``);
        }
      }
    }
    return this.summary();
  }

  /** 'auto' refresh rule (see WriteSessionOptions.refreshAggregates). */
  private async refreshNeeded(loIso: string): Promise<boolean> {
    if (!this.caps.continuousAggregates) {
      return (
        this.counts.staged > 0 ||
        this.counts.updated > 0 ||
        this.options.mode === 'replace' ||
        this.decompressed.size + this.recompressed.length > 0
      );
    }
    const loUs = isoToMicros(loIso);
    for (const r of rollupsOf(this.spec.name)) {
      const { rows } = await this.engine.query<{ schema: string; name: string }>(
        `SELECT materialization_hypertable_schema AS schema, materialization_hypertable_name AS name
           FROM timescaledb_information.continuous_aggregates WHERE view_name = $1`,
        [r.name],
      );
      const mat = rows[0];
      if (!mat) continue;
      const res = await this.engine.query<{ us: string | null }>(
        `SELECT ${usExpr('max(bucket)')}::text AS us FROM ${ident(mat.schema)}.${ident(mat.name)}`,
      );
      const v = res.rows[0]!.us;
      if (v !== null && loUs < BigInt(v) + r.widthUs) return true;
    }
    return false;
  }

  /** After a failure: recompress now (default) or leave it to the re-run (the ledger says which). */
  async abort(): Promise<void> {
    if (this.options.leaveDecompressedOnFailure) return;
    await this.recompressAll().catch((err: unknown) => {
      this.notes.push(`recompression after the failure failed (${errorMessage(err)}); the next load recompresses from the ledger`);
    });
  }

  /** Chunks this load created compressed and then wrote row-store rows into (partial): compress them again. */
  private async recompressDirtyDirectSlots(): Promise<void> {
    if (this.dcDirty.size === 0) return;
    const iv = this.intervalUs!;
    const chunks = await listChunks(this.engine, this.spec.name);
    for (const c of chunks) {
      if ([...this.dcDirty].some((s) => c.startUs < (s + 1n) * iv && c.endUs > s * iv)) {
        await compressChunk(this.engine, c.chunk);
        this.recompressed.push(c.chunk);
      }
    }
    this.dcDirty.clear();
  }

  private async recompressAll(): Promise<void> {
    if (this.decompressed.size === 0) return;
    for (const c of [...this.decompressed].sort()) {
      if (await chunkExists(this.engine, c)) await compressChunk(this.engine, c);
      this.recompressed.push(c);
    }
    await recordChunkState(this.engine, this.options.loadId, {
      decompressedChunks: [],
      partialChunks: [],
      recompressedChunks: this.recompressed,
    });
  }

  summary(): WriteSummary {
    const touched = [...new Set([...this.decompressed, ...this.recompressed])].sort();
    const direct = this.dcCounts.batches > 0;
    const strategy: LoadStrategy = direct ? 'direct-compress' : touched.length > 0 ? this.strategy : 'direct';
    const dcReason = direct
      ? `${this.dcCounts.rows} rows in ${this.dcCounts.batches} batches written straight into the columnstore of new chunks older than compress_after` +
        ` (${(this.dc as { after?: string }).after ?? 'policy'}), each batch sorted by (${this.spec.compression?.segmentBy.join(', ')}, ${this.spec.hypertable?.timeColumn} DESC)` +
        `${this.dcSkipped ? `; other batches took the row store: ${this.dcSkipped}` : ''}${touched.length > 0 ? `; ${touched.length} compressed chunks written into and recompressed` : ''}`
      : `not used: ${this.dc.ok ? (this.dcSkipped ?? 'no batch was written') : this.dc.reason}`;
    const reason = direct
      ? dcReason
      : !this.caps.compression
        ? chooseStrategy(this.caps, 0, 0).reason
        : this.strategy === 'direct'
          ? 'forced: rows written straight into the chunks, compressed ones left partially compressed (TimescaleDB DML)'
          : touched.length === 0
            ? 'no compressed chunk was touched'
            : this.options.strategy
              ? `forced: ${this.strategy} for ${touched.length} compressed chunks`
              : chooseStrategy(this.caps, touched.length, touched.length).reason;
    return {
      mode: this.options.mode,
      strategy,
      strategyReason: reason,
      chunksDecompressed: this.strategy === 'decompress-recompress' ? touched : [],
      chunksRecompressed: [...this.recompressed].sort(),
      recoveredFromInterruptedLoads: this.recovered,
      duplicates: this.counts.duplicates,
      updated: this.counts.updated,
      unchanged: this.counts.unchanged,
      superseded: this.counts.superseded,
      batchesStaged: this.counts.staged,
      batchesCopied: this.counts.copied,
      aggregatesRefreshed: this.refreshed,
      directCompress: { ...this.dcCounts, reason: dcReason },
      notes: this.notes,
    };
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * What a chunk slot held when a load first met it: null for nothing, else the span of its stored
 * times, and per instrument when the table's natural key has one.
 */
type SlotStored = null | {
  readonly all: { readonly lo: bigint; readonly hi: bigint };
  readonly byInstrument?: ReadonlyMap<number, { readonly lo: bigint; readonly hi: bigint }>;
};

/** Whether batch `b`'s time range meets a stored row's time (of one of its instruments, where known). */
function meetsStored(stored: SlotStored, b: PreparedBatch): boolean {
  if (stored === null) return false;
  if (!stored.byInstrument || b.instrumentIds.size === 0) return meetsBatch(stored.all, b);
  for (const id of b.instrumentIds) {
    const r = stored.byInstrument.get(id);
    if (r && meetsBatch(r, b)) return true;
  }
  return false;
}

/** Whether the time span [lo, hi] meets batch `b`'s time range. */
function meetsBatch(r: { readonly lo: bigint; readonly hi: bigint }, b: PreparedBatch): boolean {
  return r.lo <= b.maxTime! && b.minTime! <= r.hi;
}
