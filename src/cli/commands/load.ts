import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { loadDbnFileRouted, planDbnFile, type FilePlan, type LoadFileResult } from '../../ingest/load-dbn.js';
import { prepareSchema } from '../../schema/schema-state.js';
import { isDynamicPattern, globSync } from 'tinyglobby';
import { ConfigError, TickvaultError, errorMessage } from '../../errors.js';
import { rejectLimit } from '../../load/max-rejects.js';
import { constraintMeaning, type TableName } from '../../schema/tables.js';
import type { LoadMode } from '../../schema/bookkeeping.js';
import { EXIT, isRefusal, printJson, withEngine } from '../run.js';
import { progressReporter } from '../progress.js';
import { formatPlan } from '../../timescale/plan.js';
import { checkDbnFileRouted, type CheckFileResult } from '../../ingest/check-dbn.js';
import {
  LOADABLE_FILES_GLOB,
  LOADABLE_FILES_TEXT,
  checkTabularFile,
  fileFormat,
  loadFile,
  planTabularFile,
} from '../../ingest/load-file.js';
import { mappingFromOptions } from '../../ingest/column-mapping.js';

interface LoadOpts {
  table?: TableName;
  workers?: string;
  bulk?: boolean;
  replace?: boolean;
  upsert?: boolean;
  plan?: boolean;
  dryRun?: boolean;
  json?: boolean;
  allowExpired?: boolean;
  maxRejects?: string;
  map?: string;
  mapFile?: string;
}

/**
 * Expands the file arguments without a shell (quoted globs, Windows-style callers): globs with
 * `**`, braces and character classes (tinyglobby/picomatch), a directory to the DBN, CSV and
 * Parquet files under it, a plain path as given (a missing file is that file's failure). A pattern or directory that
 * matches nothing is a usage error naming it.
 */
export function expandFiles(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const isDir = !isDynamicPattern(a) && fs.existsSync(a) && fs.statSync(a).isDirectory();
    if (!isDir && !isDynamicPattern(a)) {
      out.push(a);
      continue;
    }
    const matches = isDir
      ? globSync(LOADABLE_FILES_GLOB, { cwd: a, onlyFiles: true }).map((f) => path.join(a, f))
      : globSync(a, { onlyFiles: true, expandDirectories: false, absolute: path.isAbsolute(a) });
    if (matches.length === 0) throw new ConfigError(isDir ? `no ${LOADABLE_FILES_TEXT} in directory ${a}` : `no files matched ${a}`);
    out.push(...matches.sort());
  }
  return out;
}

export function registerLoad(program: Command): void {
  program
    .command('load')
    .description(
      'load Databento DBN files (.dbn, .dbn.zst), CSV (.csv, .csv.gz, .csv.zst) and Parquet files into their tables; re-running a completed file is a no-op, an interrupted one resumes',
    )
    .argument('<files...>', 'files or globs')
    .option('--table <table>', 'target table (default: from the file schema)')
    .option('--workers <n>', 'parallel COPY workers', '1')
    .option('--bulk', 'drop secondary indexes during the load and rebuild them after (backfills into empty ranges)')
    .option('--replace', 'atomically replace what the previous load of the same file stored')
    .option(
      '--upsert',
      'last write wins per natural key: corrected rows replace stored ones (default: stored keys are quarantined as duplicates)',
    )
    .option(
      '--max-rejects <n|P%>',
      "stop the load (exit 1) before it quarantines more than n rows or P% of the file's records; what it committed stays, a re-run resumes, --replace starts over",
    )
    .option('--dry-run', 'decode and validate only: count what would land and what would be quarantined; no database needed')
    .option('--plan', 'print the load plan (chunks touched, compressed or not, rows already there, strategy and why) and write nothing')
    .option('--allow-expired', "load rows past the table's retention window anyway (the next retention run drops them)")
    .option(
      '--map <rules>',
      'CSV/Parquet columns: table_column=file_column[:unit], e.g. price=px:1e-9,timestamp=ts_ns:ns,symbol=ticker (units: ns, us, ms, s, iso; prices: 1e-N or decimal; const:VALUE)',
    )
    .option('--map-file <file>', 'the same mapping as JSON: {"table": "trades_data", "columns": {"price": "px:1e-9"}}')
    .option('--json', 'print results as JSON')
    .action(async (files: string[], opts: LoadOpts, cmd: Command) => {
      const paths = expandFiles(files);
      // CSV and Parquet files: Databento's encodings need nothing; other columns a mapping.
      const mapped = mappingFromOptions(opts.map, opts.mapFile, (f) => fs.readFileSync(f, 'utf8'));
      const tabular = { table: opts.table ?? mapped.table, mapping: mapped.mapping };
      if (opts.upsert && opts.replace) throw new Error('--upsert and --replace exclude each other');
      const mode: LoadMode = opts.upsert ? 'upsert' : opts.replace ? 'replace' : 'append';
      // A bad limit is a usage error before any file is opened, not a failure of each file.
      if (opts.maxRejects !== undefined) {
        try {
          rejectLimit(opts.maxRejects, undefined, 1);
        } catch (err) {
          throw new ConfigError(`--max-rejects: ${errorMessage(err)}`);
        }
      }
      if (opts.dryRun) {
        const checks: (CheckFileResult | { file: string; error: string; code?: string })[] = [];
        for (const file of paths) {
          try {
            for (const c of fileFormat(file) === 'dbn'
              ? await checkDbnFileRouted(file, { table: opts.table })
              : [await checkTabularFile(file, tabular)]) {
              checks.push(c);
              if (!opts.json) {
                const reasons = readableReasons(c.table, c.topRejectReasons);
                process.stdout.write(
                  `${file} → ${c.table} (dry run): ${c.records} records, ${c.valid} valid, ${c.rejected} would be quarantined${reasons ? ` (${reasons})` : ''}${c.unchanged ? `, ${c.unchanged} repeated versions (change nothing)` : ''}${leftOut(c, 'would not be stored')}${c.unresolvedIds.length ? `; ids without a symbol in the file: ${c.unresolvedIds.slice(0, 10).join(', ')}` : ''}\n`,
                );
              }
            }
          } catch (err) {
            checks.push({ file, error: errorMessage(err), ...(err instanceof TickvaultError ? { code: err.code } : {}) });
            process.stderr.write(`${file}: FAILED: ${errorMessage(err)}\n`);
          }
        }
        if (opts.json) printJson(checks);
        process.exitCode = checks.some((c) => 'error' in c && !isRefusal(c.code))
          ? EXIT.failure
          : checks.some((c) => 'error' in c)
            ? EXIT.usage
            : checks.some((c) => !('error' in c) && incomplete(c.rejected, c))
              ? EXIT.partial
              : EXIT.ok;
        return;
      }
      if (opts.plan) {
        const plans: FilePlan[] = [];
        await withEngine(cmd, async (engine) => {
          for (const file of paths) {
            plans.push(
              fileFormat(file) === 'dbn'
                ? await planDbnFile(engine, file, { table: opts.table, mode, allowExpired: opts.allowExpired })
                : await planTabularFile(engine, file, { ...tabular, mode, allowExpired: opts.allowExpired }),
            );
          }
        });
        if (opts.json) printJson(plans);
        else
          for (const p of plans)
            process.stdout.write(
              `${p.plan ? formatPlan(p.plan) : `${p.file}: ${p.scan.records} ${p.scan.table} records, no time range to plan`}\n`,
            );
        return;
      }
      const results: (LoadFileResult | { file: string; error: string; code?: string })[] = [];
      await withEngine(cmd, async (engine) => {
        await prepareSchema(engine);
        for (const file of paths) {
          // A missing or unreadable file is that file's failure: the other files still load.
          let progress: ReturnType<typeof progressReporter> | undefined;
          try {
            progress = progressReporter(path.basename(file), fs.statSync(file).size);
            const options = {
              table: opts.table,
              mode,
              workers: Number(opts.workers ?? 1),
              bulk: opts.bulk,
              allowExpired: opts.allowExpired,
              maxRejects: opts.maxRejects,
              onProgress: progress.update,
            };
            const routed =
              fileFormat(file) === 'dbn'
                ? await loadDbnFileRouted(engine, file, options)
                : { parts: [await loadFile(engine, file, { ...options, ...tabular })], notStored: {} };
            progress.done();
            results.push(...routed.parts);
            if (!opts.json) {
              for (const r of routed.parts) process.stdout.write(`${summary(r, routed.parts.length > 1)}\n`);
              // A file routed to several tables: what none of them stores, once for the file.
              if (routed.parts.length > 1 && Object.keys(routed.notStored).length > 0) {
                process.stdout.write(
                  `${file}: not stored (tickvault has no table for them): ${Object.entries(routed.notStored)
                    .map(([n, c]) => `${c} ${n}`)
                    .join(', ')}\n`,
                );
              }
            }
          } catch (err) {
            progress?.done();
            results.push({ file, error: errorMessage(err), ...(err instanceof TickvaultError ? { code: err.code } : {}) });
            process.stderr.write(`${file}: FAILED: ${errorMessage(err)}\n`);
          }
        }
      });
      if (opts.json) printJson(results);
      // A refusal (the same file loading in another live process, rows past retention, a schema
      // without a table) is not a failure of this run.
      const failed = results.some((r) => 'error' in r && !isRefusal(r.code));
      const refused = results.some((r) => 'error' in r && isRefusal(r.code));
      const partial = results.some((r) => !('error' in r) && incomplete(r.recordsRejected, r));
      process.exitCode = failed ? EXIT.failure : refused ? EXIT.usage : partial ? EXIT.partial : EXIT.ok;
    });
}

/** One line per load; `routed`: one of several tables of the file (what no table stores is said once, after). */
function summary(r: LoadFileResult, routed = false): string {
  if (r.status === 'already-loaded' && r.rowsGone) return rowsGoneSummary(r);
  if (r.status === 'already-loaded')
    return `${r.file}${routed ? ` → ${r.table}` : ''}: already loaded (load ${r.loadId}, ${r.totalRecords} records); nothing to do`;
  const reasons = readableReasons(r.table, r.topRejectReasons);
  return (
    `${r.file} → ${r.table}: ${counts(r)}${reasons ? ` (${reasons})` : ''}` +
    `${r.batchesResumed ? `, resumed after ${r.batchesResumed} committed batches` : ''}` +
    `${r.recordsUpdated ? `, ${r.recordsUpdated} updated` : ''}${r.duplicates ? ` (${plural(r.duplicates, 'duplicate')} of stored rows)` : ''}` +
    `${r.strategy === 'direct-compress' ? `, ${r.backfill?.directCompress.rows ?? 0} rows written straight into the columnstore (direct-compress)` : ''}` +
    `${r.strategy === 'decompress-recompress' || r.strategy === 'write-recompress' ? `, ${r.backfill?.chunksRecompressed.length ?? 0} compressed chunks ${r.strategy === 'decompress-recompress' ? 'decompressed and ' : 'written into and '}recompressed` : ''}` +
    (routed ? leftOut({ ...r, notStored: {} }, 'not stored') : leftOut(r, 'not stored')) +
    // A rate over a few rows measures start-up, not throughput.
    `, ${r.processingTimeSeconds.toFixed(2)} s${(r.thisRun?.records ?? r.totalRecords) >= RATE_MIN_ROWS ? `, ${Math.round(r.recordsPerSecond)} rows/s` : ''} (load ${r.loadId})` +
    `${r.unresolvedIds.length ? `; unresolved instrument ids: ${r.unresolvedIds.slice(0, 10).join(', ')}` : ''}`
  );
}

/** A resumed load reports what this run did, then the load's totals (its rate is this run's). */
function counts(r: LoadFileResult): string {
  const run = r.thisRun;
  if (!r.batchesResumed || run === undefined) return `${r.recordsInserted} inserted, ${r.recordsRejected} rejected`;
  return `${run.recordsInserted} inserted, ${run.recordsRejected} rejected this run (load total: ${r.recordsInserted} inserted, ${r.recordsRejected} rejected)`;
}

function rowsGoneSummary(r: LoadFileResult): string {
  const g = r.rowsGone!;
  const drop = g.lastDrop
    ? ` (retention ${g.lastDrop.olderThan}: rows before ${g.lastDrop.before} dropped at ${g.lastDrop.at})`
    : ' (its chunks were dropped, e.g. by a retention policy)';
  return (
    `${r.file}: loaded before (load ${r.loadId}), but ${g.all ? `all ${g.inserted}` : `${g.rows} of its ${g.inserted}`} stored rows are gone${drop}; ` +
    `a re-run does not restore them: \`tickvault load --replace ${r.file}\` loads the file again (with --allow-expired if the rows are past the retention window)`
  );
}

/**
 * The one rule of exit code 3: the command finished but not every record of the file is in the
 * database — rows quarantined, records of a type the target table does not store, records of no
 * known type.
 */
function incomplete(rejected: number, r: { notStored: Record<string, number>; unknownRecords: number }): boolean {
  return rejected > 0 || r.unknownRecords > 0 || Object.keys(r.notStored).length > 0;
}

/** What of the file the table did not take: "; not stored: 9 statistics, 5 mbo; 1 record of unknown rtype". */
function leftOut(r: { table: string; notStored: Record<string, number>; unknownRecords: number }, verb: string): string {
  const types = Object.entries(r.notStored)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
  return (
    `${types ? `; ${verb} (${r.table} does not hold them): ${types}` : ''}` +
    `${r.unknownRecords ? `; ${r.unknownRecords} record${r.unknownRecords === 1 ? '' : 's'} of unknown rtype (quarantined)` : ''}`
  );
}

/** Below this many rows a load's rows/s is not printed. */
const RATE_MIN_ROWS = 10_000;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "trades_side_check ×4: side is not 'B', 'S' or 'N'": the constraint, its count and what it means. */
function readableReasons(table: string, reasons: readonly { reason: string; count: number }[]): string {
  return reasons
    .map((x) => {
      const meaning = constraintMeaning(table, x.reason);
      return `${x.reason} ×${x.count}${meaning ? `: ${meaning}` : ''}`;
    })
    .join(', ');
}
