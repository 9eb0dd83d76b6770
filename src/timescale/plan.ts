/**
 * Load plans: before a load writes, which chunks of the target table its time range touches,
 * which of them are compressed, how many rows each already holds in that range, and the strategy
 * the load will use — with the reason. `tickvault load --plan` prints it and writes nothing.
 *
 * Strategies (chosen from capability flags and the chunk catalog, never from the engine kind):
 *  - 'direct': rows go straight into the chunks (COPY / staged merge). Used when no touched chunk
 *    is compressed, and on tiers without compression (their chunks cannot be compressed).
 *  - 'write-recompress': rows go into the compressed chunks through TimescaleDB's DML on
 *    compressed chunks (TimescaleDB ≥ 2.11: inserts land in the chunk's uncompressed part, the
 *    chunk becomes "partially compressed"; duplicate checks and updates read/decompress only the
 *    matching segments), and the touched chunks are compressed again at the end (recorded in the
 *    ledger first). The default on the community tier: it rewrites only the touched segments,
 *    while decompressing a chunk rewrites all of it — bench/backfill-bench.ts measures both.
 *  - 'decompress-recompress': the compressed chunks the load touches are decompressed (recorded
 *    in the ledger first), loaded into as plain heap tables, and compressed again at the end. For
 *    servers without DML on compressed chunks (older than 2.11), where writes into compressed
 *    chunks are slow or refused (timescaledb #8400, #5801), or when forced.
 * Either way every touched chunk ends in its previous state (compressed, not partial).
 *  - 'direct-compress': every row falls into chunks that do not exist yet and that the compression
 *    policy would already have compressed (older than compress_after): the COPY writes them
 *    straight into the columnstore (direct-compress.ts), batches sorted by segment and time. Where
 *    the server or the table cannot, `directCompress` says why and one of the above is used.
 */
import { requireSchema } from '../schema/schema-state.js';
import type { Capabilities, Engine } from '../engine/types.js';
import { tableSpec } from '../schema/tables.js';
import { microsToIso } from '../values/time.js';
import { timeRangeArgMicros, type TimeInput } from '../sql/time.js';
import { chunkIntervalUs, listChunks, rowsInRange } from './chunks.js';
import { compressCutoffUs, directCompressSupport } from './direct-compress.js';

export type LoadStrategy = 'direct' | 'direct-compress' | 'write-recompress' | 'decompress-recompress';

export interface PlannedChunk {
  readonly chunk: string;
  /** ISO, µs. */
  readonly rangeStart: string;
  readonly rangeEnd: string;
  readonly compressed: boolean;
  /** Rows already in the chunk within the load's time range. */
  readonly existingRows: number;
}

export interface LoadPlan {
  readonly table: string;
  readonly minTime: string;
  readonly maxTime: string;
  readonly tier: Capabilities['tier'];
  /** Existing chunks the range touches, ordered by time. */
  readonly chunks: readonly PlannedChunk[];
  /** Chunk-interval slots in the range with no chunk yet (the load creates them, uncompressed). */
  readonly newChunks: number;
  readonly compressedChunks: number;
  readonly existingRows: number;
  readonly strategy: LoadStrategy;
  readonly reason: string;
  /** Direct-to-columnstore COPY: whether the load takes it, and why (or why not). */
  readonly directCompress: { readonly used: boolean; readonly reason: string };
  /** Extra facts the printout shows (records counted by a pre-scan, write mode, …). */
  readonly notes: readonly string[];
}

export interface PlanOptions {
  /** Skip counting existing rows (a count reads the chunks; fast, but not free on huge ranges). */
  readonly countRows?: boolean;
  /** Force a strategy (tests, benchmarks); the plan still says what it would have chosen. */
  readonly strategy?: LoadStrategy;
  /** false: the load will not write straight into the columnstore (BulkLoadOptions.directCompress). */
  readonly directCompress?: boolean;
  /** Write mode of the load: only appends can go straight into the columnstore. */
  readonly mode?: 'append' | 'upsert' | 'replace';
  /** The clock compress_after is measured from; default the database's now(). */
  readonly now?: Date;
}

/** TimescaleDB ≥ 2.11: INSERT/UPDATE/DELETE work on compressed chunks (segment-wise). */
export function dmlOnCompressedChunks(caps: Capabilities): boolean {
  const m = /^(\d+)\.(\d+)/.exec(caps.timescaledbVersion ?? '');
  return m !== null && (Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 11));
}

/** Chooses the strategy for a set of touched chunks on a tier. */
export function chooseStrategy(
  caps: Capabilities,
  compressedTouched: number,
  totalTouched: number,
): { strategy: LoadStrategy; reason: string } {
  if (!caps.compression) {
    return { strategy: 'direct', reason: `tier ${caps.tier} has no compression: every chunk is a plain table, rows go straight in` };
  }
  if (compressedTouched === 0) {
    return {
      strategy: 'direct',
      reason:
        totalTouched === 0
          ? 'the range has no chunks yet: new, uncompressed chunks are created'
          : `none of the ${totalTouched} touched chunks is compressed`,
    };
  }
  if (dmlOnCompressedChunks(caps)) {
    return {
      strategy: 'write-recompress',
      reason:
        `${compressedTouched} of ${totalTouched} touched chunks are compressed: write into them through TimescaleDB ${caps.timescaledbVersion} DML on compressed chunks ` +
        '(only matching segments are read or rewritten), then compress them again (recorded in the ledger first) — cheaper than decompressing whole chunks',
    };
  }
  return {
    strategy: 'decompress-recompress',
    reason:
      `${compressedTouched} of ${totalTouched} touched chunks are compressed and TimescaleDB ${caps.timescaledbVersion} has no fast DML on compressed chunks: ` +
      'decompress them (recorded in the ledger first), load, compress them again',
  };
}

export async function planLoad(
  engine: Engine,
  table: string,
  minTime: TimeInput,
  maxTime: TimeInput,
  options: PlanOptions = {},
): Promise<LoadPlan> {
  const spec = tableSpec(table);
  await requireSchema(engine);
  const { minUs, maxUs } = timeRangeArgMicros(minTime, maxTime);
  const caps = await engine.capabilities();
  const base = { table, minTime: microsToIso(minUs), maxTime: microsToIso(maxUs), tier: caps.tier };
  const { rows } = await engine.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  if (!rows[0]!.ok) {
    return {
      ...base,
      chunks: [],
      newChunks: 0,
      compressedChunks: 0,
      existingRows: 0,
      strategy: 'direct',
      reason: `table ${table} does not exist yet (run \`tickvault init\`)`,
      directCompress: { used: false, reason: 'no table' },
      notes: [],
    };
  }
  const time = spec.hypertable?.timeColumn;
  if (!time || !caps.hypertables) {
    return {
      ...base,
      chunks: [],
      newChunks: 0,
      compressedChunks: 0,
      existingRows: 0,
      strategy: 'direct',
      reason: `${table} is not a hypertable: no chunks`,
      directCompress: { used: false, reason: 'not a hypertable' },
      notes: [],
    };
  }
  const chunks = await listChunks(engine, table, { minUs, maxUs });
  const planned: PlannedChunk[] = [];
  for (const c of chunks) {
    const lo = c.startUs > minUs ? c.startUs : minUs;
    const hi = c.endUs - 1n < maxUs ? c.endUs - 1n : maxUs;
    planned.push({
      chunk: c.chunk,
      rangeStart: microsToIso(c.startUs),
      rangeEnd: microsToIso(c.endUs),
      compressed: c.compressed,
      existingRows: options.countRows === false ? 0 : await rowsInRange(engine, c.chunk, time, lo, hi),
    });
  }
  const interval = await chunkIntervalUs(engine, table);
  let newChunks = 0;
  if (interval) {
    // Slots aligned like TimescaleDB's (epoch-aligned for fixed intervals); count uncovered ones.
    const first = floorDiv(minUs, interval);
    const last = floorDiv(maxUs, interval);
    for (let s = first; s <= last && s - first < 100_000n; s++) {
      const start = s * interval;
      if (!chunks.some((c) => c.startUs < start + interval && c.endUs > start)) newChunks += 1;
    }
  }
  const compressedChunks = planned.filter((c) => c.compressed).length;
  const dc = await planDirectCompress(engine, caps, table, planned, interval, maxUs, options);
  const chosen = dc.used
    ? { strategy: 'direct-compress' as const, reason: dc.reason }
    : chooseStrategy(caps, compressedChunks, planned.length);
  const forced =
    options.strategy && options.strategy !== chosen.strategy
      ? { strategy: options.strategy, reason: `forced by the caller (would choose ${chosen.strategy}: ${chosen.reason})` }
      : chosen;
  return {
    ...base,
    chunks: planned,
    newChunks,
    compressedChunks,
    existingRows: planned.reduce((a, c) => a + c.existingRows, 0),
    ...forced,
    directCompress: dc,
    notes: [],
  };
}

/** Whether the whole range goes straight into the columnstore (the session decides per batch; the plan for the range). */
async function planDirectCompress(
  engine: Engine,
  caps: Capabilities,
  table: string,
  planned: readonly PlannedChunk[],
  interval: bigint | null,
  maxUs: bigint,
  options: PlanOptions,
): Promise<{ used: boolean; reason: string }> {
  if (options.directCompress === false) return { used: false, reason: 'turned off by the caller' };
  if (options.mode && options.mode !== 'append')
    return { used: false, reason: `mode ${options.mode} merges with stored rows; direct-compress is for appends into new chunks` };
  const support = await directCompressSupport(engine, caps, table);
  if (!support.ok) return { used: false, reason: support.reason };
  const cutoff = await compressCutoffUs(engine, table, options.now);
  if (!cutoff) return { used: false, reason: `${table} has no compression policy (compress_after)` };
  if (planned.length > 0) {
    const c = planned[0]!;
    return {
      used: false,
      reason: `${planned.length} chunks in the range already exist (${c.chunk}, ${c.compressed ? 'compressed' : 'row store'}): rows go through the merge path`,
    };
  }
  if (interval && (floorDiv(maxUs, interval) + 1n) * interval > cutoff.cutoffUs) {
    return {
      used: false,
      reason: `rows reach past compress_after (${cutoff.after}, ${microsToIso(cutoff.cutoffUs)}): those chunks stay in the row store until the policy compresses them`,
    };
  }
  return {
    used: true,
    reason: `every row falls into new chunks older than compress_after (${cutoff.after}): COPY writes them straight into the columnstore (TimescaleDB ${support.version}), batches sorted by segment and time`,
  };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** The human-readable plan `tickvault load --plan` prints. */
export function formatPlan(plan: LoadPlan): string {
  const lines = [
    `plan for ${plan.table}: ${plan.minTime} … ${plan.maxTime} (tier ${plan.tier})`,
    ...plan.notes.map((n) => `  ${n}`),
    `  chunks touched: ${plan.chunks.length} existing (${plan.compressedChunks} compressed), ${plan.newChunks} new; rows already in range: ${plan.existingRows}`,
  ];
  if (plan.chunks.length > 0) {
    const w = Math.max(...plan.chunks.map((c) => c.chunk.length));
    lines.push(`  ${'chunk'.padEnd(w)}  ${'range start'.padEnd(27)}  ${'range end'.padEnd(27)}  compressed  existing rows`);
    for (const c of plan.chunks) {
      lines.push(
        `  ${c.chunk.padEnd(w)}  ${c.rangeStart.padEnd(27)}  ${c.rangeEnd.padEnd(27)}  ${(c.compressed ? 'yes' : 'no').padEnd(10)}  ${c.existingRows}`,
      );
    }
  }
  lines.push(`  strategy: ${plan.strategy} — ${plan.reason}`);
  if (!plan.directCompress.used) lines.push(`  direct-compress: not used — ${plan.directCompress.reason}`);
  return lines.join('\n');
}
