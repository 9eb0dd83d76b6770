/**
 * Chunk advice: a chunk_time_interval per hypertable from how much data a day brings and how much
 * memory the database has. Rule of thumb (TimescaleDB's, DESIGN.md §8): one chunk of recent data,
 * indexes included, should be about 25% of memory — bigger and inserts/queries of the recent chunk
 * spill out of cache; much smaller and the chunk count explodes (planning slows down with
 * thousands of chunks: timescaledb #1636, #2911, #2146).
 *
 * Inputs: from the database, rows per day of the most recent days of data and bytes per row
 * (pg_total_relation_size of the recent uncompressed chunks ÷ their rows; the pre-compression size
 * for compressed ones); or, for a DBN file about to be loaded, records per day from a header-only
 * decode pass (bytes per row then from the table if it has data, else an estimate). Memory:
 * `SHOW shared_buffers` on a server reached over the network (its RAM is not visible over SQL;
 * pass `memoryBytes` to use the machine's RAM instead), os.totalmem() for an in-process engine.
 */
import os from 'node:os';
import type { Engine, Queryable } from '../engine/types.js';
import { DEFAULT_POLICIES, type HypertableName } from '../config/policies.js';
import { SETTINGS_TABLE } from '../schema/bookkeeping.js';
import { MARKET_TABLES, tableSpec, type TableName } from '../schema/tables.js';
import { ident } from '../sql/ident.js';
import { chunkIntervalUs, listChunks } from '../timescale/chunks.js';
import { scanDbnFile, type DbnScan } from '../ingest/dbn-scan.js';

/** The most memory PGlite's WebAssembly instance can grow to (32768 pages of 64 KiB). */
export const EMBEDDED_MEMORY_LIMIT = 2 * 1024 ** 3;

/** Fraction of memory one chunk of recent data should take. */
export const CHUNK_MEMORY_FRACTION = 0.25;
/** Beyond this many chunks, planning gets slow. */
export const MAX_CHUNKS = 1000;
/** Recent chunks measured for bytes per row and size checks. */
const RECENT_CHUNKS = 8;

/**
 * Bytes per row (heap + the contract's indexes) used when a table has no data to measure yet.
 * Estimates from the row layouts (§2): ~100–130 B heap per row plus ~30–40 B per secondary index.
 */
const ESTIMATED_BYTES_PER_ROW: Record<HypertableName, number> = { trades_data: 230, tbbo_data: 210, ohlcv_data: 240, statistics_data: 220 };

/** Candidate intervals, smallest first (µs, and how `init --chunk-interval` spells them). */
const LADDER: readonly [bigint, string][] = [
  ['1 minute', 60n],
  ['5 minutes', 300n],
  ['15 minutes', 900n],
  ['30 minutes', 1800n],
  ['1 hour', 3600n],
  ['2 hours', 7200n],
  ['3 hours', 10800n],
  ['6 hours', 21600n],
  ['12 hours', 43200n],
  ['1 day', 86400n],
  ['2 days', 172800n],
  ['7 days', 604800n],
  ['14 days', 1209600n],
  ['30 days', 2592000n],
  ['90 days', 7776000n],
  ['365 days', 31536000n],
].map(([name, s]) => [(s as bigint) * 1_000_000n, name as string] as [bigint, string]);

export interface TableAdvice {
  readonly table: TableName;
  readonly basis: 'database' | 'file' | 'no data';
  readonly currentInterval: string | null;
  readonly chunks: number;
  readonly rowsPerDay: number;
  /** Rows in the busiest hour measured (chunks shorter than a day are sized at that pace). */
  readonly peakHourRows?: number;
  readonly bytesPerRow: number;
  readonly bytesPerRowMeasured: boolean;
  readonly bytesPerDay: number;
  /** Largest of the most recent chunks (uncompressed size), bytes. */
  readonly largestRecentChunkBytes: number | null;
  readonly recommendedInterval: string | null;
  /** Size of one chunk at the recommended interval. */
  readonly recommendedChunkBytes: number | null;
  /** Chunks the retention period would hold at the recommended interval. */
  readonly chunksOverRetention: number | null;
  readonly retention: string | null;
  readonly reason: string;
  readonly warnings: readonly string[];
}

export interface Advice {
  readonly memoryBytes: number;
  readonly memorySource: string;
  readonly targetChunkBytes: number;
  readonly file?: { readonly path: string; readonly records: number; readonly days: number; readonly table: TableName };
  readonly tables: readonly TableAdvice[];
  /** `tickvault init --chunk-interval …` for the tables whose recommendation differs from the current interval. */
  readonly initCommand: string | null;
  /** The same for a database that already has the tables (applies to chunks created from now on). */
  readonly applySql: readonly string[];
}

export interface AdviseOptions {
  /** Advise for a DBN file about to be loaded (its table only). */
  readonly file?: string;
  readonly table?: TableName;
  /** Memory to size chunks against, instead of shared_buffers / os.totalmem(). */
  readonly memoryBytes?: number;
}

export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?\s*$/.exec(text);
  if (!m) throw new Error(`cannot read a size from "${text}" (e.g. 16GB, 512MB, 8kB)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

function intervalName(us: bigint): string {
  const hit = LADDER.find(([u]) => u === us);
  if (hit) return hit[1];
  const s = Number(us / 1_000_000n);
  return s % 86400 === 0 ? `${s / 86400} days` : s % 3600 === 0 ? `${s / 3600} hours` : `${s} seconds`;
}

/** Years/months/days/hours interval text → µs (approximate months/years: 30/365 days). */
function intervalUs(text: string): bigint | null {
  const m = /^\s*(\d+)\s*(minute|hour|day|week|month|year)s?\s*$/i.exec(text);
  if (!m) return null;
  const s = { minute: 60, hour: 3600, day: 86400, week: 604800, month: 2592000, year: 31536000 }[m[2]!.toLowerCase() as 'day']!;
  return BigInt(Number(m[1]) * s) * 1_000_000n;
}

async function memory(engine: Engine, override?: number): Promise<{ bytes: number; source: string }> {
  if (override) return { bytes: override, source: 'given' };
  const caps = await engine.capabilities();
  if (!caps.sharedAccess) {
    // The embedded engine's PostgreSQL lives in 32-bit WebAssembly memory (at most 2 GiB), whatever the host has.
    const host = os.totalmem();
    return host > EMBEDDED_MEMORY_LIMIT
      ? { bytes: EMBEDDED_MEMORY_LIMIT, source: `the embedded engine's WebAssembly memory limit (host RAM ${formatBytes(host)})` }
      : { bytes: host, source: 'os.totalmem() (in-process engine)' };
  }
  const { rows } = await engine.query<{ b: string }>(`SELECT pg_size_bytes(current_setting('shared_buffers'))::text AS b`);
  return { bytes: Number(rows[0]!.b), source: `shared_buffers ${formatBytes(Number(rows[0]!.b))}` };
}

async function retentionOf(db: Queryable, table: HypertableName): Promise<string | null> {
  const { rows } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [SETTINGS_TABLE]);
  if (rows[0]!.present) {
    const r = await db.query<{ v: string | null }>(
      `SELECT value->'retainFor'->>$1 AS v FROM ${ident(SETTINGS_TABLE)} WHERE key = 'policies'`,
      [table],
    );
    if (r.rows[0]?.v) return r.rows[0].v;
  }
  return DEFAULT_POLICIES.retainFor[table] ?? null;
}

interface Measured {
  rowsPerDay: number;
  peakHourRows: number;
  bytesPerRow: number | null;
  chunks: number;
  currentUs: bigint | null;
  largestRecent: number | null;
  exists: boolean;
}

async function measure(engine: Engine, table: TableName): Promise<Measured> {
  const spec = tableSpec(table);
  const time = ident(spec.hypertable!.timeColumn);
  const { rows: ex } = await engine.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  if (!ex[0]!.ok)
    return { rowsPerDay: 0, peakHourRows: 0, bytesPerRow: null, chunks: 0, currentUs: null, largestRecent: null, exists: false };
  const chunks = await listChunks(engine, table);
  const currentUs = await chunkIntervalUs(engine, table);
  if (chunks.length === 0)
    return { rowsPerDay: 0, peakHourRows: 0, bytesPerRow: null, chunks: 0, currentUs, largestRecent: null, exists: true };
  // Rows per day: the last 7 days that have data, before the newest row.
  const perDay = await engine.query<{ n: string; days: string }>(
    `SELECT count(*)::text AS n, count(DISTINCT date_trunc('day', ${time}))::text AS days FROM ${ident(table)}
      WHERE ${time} > (SELECT max(${time}) FROM ${ident(table)}) - interval '7 days'`,
  );
  const days = Number(perDay.rows[0]!.days);
  const rowsPerDay = days > 0 ? Number(perDay.rows[0]!.n) / days : 0;
  const peak = await engine.query<{ n: string | null }>(
    `SELECT max(n)::text AS n FROM (SELECT count(*) AS n FROM ${ident(table)}
      WHERE ${time} > (SELECT max(${time}) FROM ${ident(table)}) - interval '7 days' GROUP BY date_trunc('hour', ${time})) h`,
  );
  const peakHourRows = Number(peak.rows[0]?.n ?? 0);
  // Bytes per row and sizes from the most recent chunks (uncompressed size).
  const caps = await engine.capabilities();
  let bytes = 0;
  let rowsSeen = 0;
  let largest = 0;
  for (const c of chunks.slice(-RECENT_CHUNKS)) {
    let size: number;
    if (c.compressed && caps.compression) {
      const s = await engine.query<{ b: string | null }>(
        `SELECT before_compression_total_bytes::text AS b FROM chunk_compression_stats($1::regclass) WHERE format('%I.%I', chunk_schema, chunk_name) = $2`,
        [table, c.chunk],
      );
      size = Number(s.rows[0]?.b ?? 0);
    } else {
      const s = await engine.query<{ b: string }>('SELECT pg_total_relation_size($1::regclass)::text AS b', [c.chunk]);
      size = Number(s.rows[0]!.b);
    }
    const n = await engine.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${c.chunk}`);
    largest = Math.max(largest, size);
    bytes += size;
    rowsSeen += Number(n.rows[0]!.n);
  }
  // Tiny tables are dominated by fixed per-chunk/page overhead: not a per-row measurement.
  const bytesPerRow = rowsSeen >= 1000 ? bytes / rowsSeen : null;
  return { rowsPerDay, peakHourRows, bytesPerRow, chunks: chunks.length, currentUs, largestRecent: largest || null, exists: true };
}

/** Upper bound whatever the memory: retention and compression work in whole chunks. */
const MAX_INTERVAL_US = 30n * 86_400_000_000n;

/**
 * Bytes one chunk of `us` holds at the measured rates. Markets trade in sessions: a chunk shorter
 * than a day fills at the busiest hour's pace (not 1/24 of the day's rows per hour), and holds at
 * most a day's rows; a longer one holds whole days.
 */
function chunkBytesAt(us: bigint, rowsPerDay: number, peakHourRows: number, bytesPerRow: number): number {
  const hours = Number(us) / 3_600e6;
  const rows = hours >= 24 ? rowsPerDay * (hours / 24) : Math.min(rowsPerDay, Math.max(peakHourRows, rowsPerDay / 24) * hours);
  return rows * bytesPerRow;
}

function recommend(bytesAt: (us: bigint) => number, targetBytes: number, retentionUs: bigint | null): { us: bigint; capped: boolean } {
  // Retention drops whole chunks: keep at least ~10 chunks in the retention period.
  const cap = retentionUs !== null && retentionUs / 10n < MAX_INTERVAL_US ? retentionUs / 10n : MAX_INTERVAL_US;
  let pick = LADDER[0]![0];
  let capped = false;
  for (const [us] of LADDER) {
    if (bytesAt(us) > targetBytes) break;
    if (us > cap) {
      capped = true;
      break;
    }
    pick = us;
  }
  return { us: pick, capped };
}

export async function adviseChunkIntervals(engine: Engine, options: AdviseOptions = {}): Promise<Advice> {
  const mem = await memory(engine, options.memoryBytes);
  const target = mem.bytes * CHUNK_MEMORY_FRACTION;
  let scan: DbnScan | undefined;
  if (options.file) scan = await scanDbnFile(options.file, options.table);
  const tables = scan ? [scan.table] : options.table ? [options.table] : MARKET_TABLES.filter((s) => s.hypertable).map((s) => s.name);
  const out: TableAdvice[] = [];
  for (const table of tables) {
    if (!tableSpec(table).hypertable) continue;
    const m = await measure(engine, table);
    const ht = table as HypertableName;
    const fileDays = scan ? Object.keys(scan.perDay).length : 0;
    const rowsPerDay = scan ? (fileDays > 0 ? Math.max(...Object.values(scan.perDay)) : 0) : m.rowsPerDay;
    const peakHourRows = scan ? scan.peakHourRecords : m.peakHourRows;
    const bytesPerRow = m.bytesPerRow ?? ESTIMATED_BYTES_PER_ROW[ht];
    const bytesAt = (us: bigint) => chunkBytesAt(us, rowsPerDay, peakHourRows, bytesPerRow);
    const bytesPerDay = rowsPerDay * bytesPerRow;
    const retention = await retentionOf(engine, ht);
    const warnings: string[] = [];
    const current = m.currentUs === null ? null : intervalName(m.currentUs);
    if (m.chunks > MAX_CHUNKS)
      warnings.push(`${table} has ${m.chunks} chunks (> ${MAX_CHUNKS}): query planning slows down; use a longer interval for new data`);
    if (m.largestRecent !== null && m.largestRecent > target) {
      warnings.push(
        `a recent chunk of ${table} is ${formatBytes(m.largestRecent)}, more than 25% of memory (${formatBytes(target)}): use a shorter interval`,
      );
    }
    if (rowsPerDay === 0) {
      out.push({
        table,
        basis: 'no data',
        currentInterval: current,
        chunks: m.chunks,
        rowsPerDay: 0,
        bytesPerRow,
        bytesPerRowMeasured: m.bytesPerRow !== null,
        bytesPerDay: 0,
        largestRecentChunkBytes: m.largestRecent,
        recommendedInterval: null,
        recommendedChunkBytes: null,
        chunksOverRetention: null,
        retention,
        reason: m.exists
          ? 'no data yet: keep the default until there is some (or advise on a file with --file)'
          : 'table not created yet (run `tickvault init`)',
        warnings,
      });
      continue;
    }
    const retUs = retention ? intervalUs(retention) : null;
    const { us: recUs, capped } = recommend(bytesAt, target, retUs);
    const chunkBytes = bytesAt(recUs);
    const overRetention = retUs ? Math.ceil(Number(retUs) / Number(recUs)) : null;
    if (overRetention !== null && overRetention > MAX_CHUNKS) {
      warnings.push(
        `at ${intervalName(recUs)}, ${retention} of retention is ${overRetention} chunks (> ${MAX_CHUNKS}): planning over the whole history slows down; ` +
          'shorten retention, or accept it (queries that name a time range only plan the chunks they touch)',
      );
    }
    if (scan && m.currentUs !== null) {
      const span = Number(scan.maxUs! - scan.minUs!) + 1;
      const would = m.chunks + Math.ceil(span / Number(m.currentUs));
      if (would > MAX_CHUNKS)
        warnings.push(
          `loading ${options.file} at the current interval (${current}) would bring ${table} to about ${would} chunks (> ${MAX_CHUNKS})`,
        );
    }
    if (m.currentUs !== null && !scan) {
      const currentChunk = bytesAt(m.currentUs);
      if (currentChunk > target)
        warnings.push(`at the current interval (${current}) a chunk holds about ${formatBytes(currentChunk)}, more than 25% of memory`);
    }
    out.push({
      table,
      basis: scan ? 'file' : 'database',
      currentInterval: current,
      chunks: m.chunks,
      rowsPerDay: Math.round(rowsPerDay),
      bytesPerRow: Math.round(bytesPerRow),
      bytesPerRowMeasured: m.bytesPerRow !== null,
      bytesPerDay: Math.round(bytesPerDay),
      largestRecentChunkBytes: m.largestRecent,
      recommendedInterval: intervalName(recUs),
      recommendedChunkBytes: Math.round(chunkBytes),
      chunksOverRetention: overRetention,
      retention,
      peakHourRows,
      reason:
        `${Math.round(rowsPerDay).toLocaleString('en-US')} rows/day × ${Math.round(bytesPerRow)} B/row${m.bytesPerRow === null ? ' (estimated)' : ''} = ${formatBytes(bytesPerDay)}/day, ` +
        `busiest hour ${peakHourRows.toLocaleString('en-US')} rows (${rowsPerDay > 0 ? Math.round((100 * peakHourRows) / rowsPerDay) : 0}% of a day); ` +
        (capped
          ? `memory would allow longer chunks, but retention and compression work in whole chunks: capped at ${intervalName(recUs)} (${formatBytes(chunkBytes)} per chunk)`
          : `the longest interval whose chunk stays ≤ 25% of memory (${formatBytes(target)}) is ${intervalName(recUs)} (${formatBytes(chunkBytes)} per chunk)`),
      warnings,
    });
  }
  const changes = out.filter((t) => t.recommendedInterval && t.recommendedInterval !== t.currentInterval);
  return {
    memoryBytes: mem.bytes,
    memorySource: mem.source,
    targetChunkBytes: target,
    ...(scan ? { file: { path: scan.file, records: scan.records, days: Object.keys(scan.perDay).length, table: scan.table } } : {}),
    tables: out,
    initCommand: changes.length
      ? `tickvault init ${changes.map((t) => `--chunk-interval ${t.table}='${t.recommendedInterval}'`).join(' ')}`
      : null,
    applySql: changes
      .filter((t) => t.currentInterval !== null)
      .map((t) => `SELECT set_chunk_time_interval('${t.table}', INTERVAL '${t.recommendedInterval}');`),
  };
}

export function formatAdvice(a: Advice): string {
  const lines = [
    `memory: ${formatBytes(a.memoryBytes)} (${a.memorySource}) → one chunk of recent data should stay ≤ ${formatBytes(a.targetChunkBytes)} (25%)`,
  ];
  if (a.file) lines.push(`file: ${a.file.path}: ${a.file.records} ${a.file.table} records over ${a.file.days} day(s) (busiest day used)`);
  for (const t of a.tables) {
    lines.push(`${t.table}: ${t.chunks} chunks, current interval ${t.currentInterval ?? '-'}`);
    lines.push(`  ${t.recommendedInterval ? `recommended: ${t.recommendedInterval} — ${t.reason}` : t.reason}`);
    if (t.chunksOverRetention !== null && t.recommendedInterval)
      lines.push(`  retention ${t.retention}: ${t.chunksOverRetention} chunks at that interval`);
    for (const w of t.warnings) lines.push(`  WARNING: ${w}`);
  }
  if (!a.initCommand) lines.push('the current intervals fit; nothing to change');
  else {
    lines.push(`new database: ${a.initCommand}`);
    if (a.applySql.length)
      lines.push(`existing tables (chunks created from now on; existing chunks keep their size): ${a.applySql.join(' ')}`);
  }
  return lines.join('\n');
}
