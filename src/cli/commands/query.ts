/**
 * `tickvault query <bars|volume|spread|recent|asof|asof-join>`: the query API (src/query) on the command line.
 * Data goes to stdout in the chosen format, messages (row counts, which relation served the bars)
 * to stderr. Values are printed exactly: prices as stored decimals, times as ISO 8601 UTC with
 * microseconds. CSV and JSON stream row by row (bars come through a server-side cursor, constant
 * memory); the table format is for people and holds the rows to size its columns.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ConfigError, QueryError } from '../../errors.js';
import type { Engine } from '../../engine/types.js';
import {
  aggregatedVolume,
  asOf,
  asOfJoin,
  closestSymbols,
  symbolStored,
  planBars,
  recentOhlcv,
  spreadAnalysis,
  streamBars,
  type BarSource,
  type RollupChoice,
} from '../../query/index.js';
import { microsToIso } from '../../values/time.js';
import { withReadEngine } from '../run.js';
import { asofJoinColumns, FileRowWriter, QUERY_COLUMNS } from './query-file.js';
import { csvField, type ExportColumn } from '../../export/index.js';

export type Format = 'table' | 'csv' | 'json' | 'parquet' | 'arrow';
type TextFormat = 'table' | 'csv' | 'json';
type Cell = string | null;
type Row = Record<string, Cell>;

/** Writes rows in one of the formats; csv and json stream, table buffers. */
export class RowWriter {
  private readonly buffered: Row[] = [];
  private count = 0;
  constructor(
    private readonly format: TextFormat,
    private readonly columns: readonly string[],
    private readonly out: (s: string) => void = (s) => {
      process.stdout.write(s);
    },
  ) {}

  row(r: Row): void {
    if (this.format === 'table') {
      this.buffered.push(r);
      this.count += 1;
      return;
    }
    if (this.format === 'csv') {
      if (this.count === 0) this.out(`${this.columns.map(csvField).join(',')}\n`);
      this.out(`${this.columns.map((c) => csvCell(r[c] ?? null)).join(',')}\n`);
    } else {
      const obj: Row = {};
      for (const c of this.columns) obj[c] = r[c] ?? null;
      this.out(`${this.count === 0 ? '[\n' : ',\n'}  ${JSON.stringify(obj)}`);
    }
    this.count += 1;
  }

  /** Finishes the output; returns the number of rows written. */
  end(): number {
    if (this.format === 'csv' && this.count === 0) this.out(`${this.columns.map(csvField).join(',')}\n`);
    if (this.format === 'json') this.out(this.count === 0 ? '[]\n' : '\n]\n');
    if (this.format === 'table') {
      const widths = this.columns.map((c) => Math.max(c.length, ...this.buffered.map((r) => (r[c] ?? '').length)));
      const line = (cells: readonly string[]) =>
        cells
          .map((v, i) => v.padEnd(widths[i]!))
          .join('  ')
          .trimEnd();
      this.out(`${line(this.columns)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
      for (const r of this.buffered) this.out(`${line(this.columns.map((c) => r[c] ?? ''))}\n`);
    }
    return this.count;
  }
}

/** NULL is an empty field; text goes through the export's rule (an empty string is `""`). */
function csvCell(v: Cell): string {
  return v === null ? '' : csvField(v);
}

const t = (us: bigint) => microsToIso(us);
const s = (v: bigint | string | null) => (v === null ? null : String(v));

/**
 * An empty answer for a symbol no row carries is a mistake to point out (exit 2), not an empty
 * table: the user probably mistyped it, so the closest stored names are offered.
 */
async function requireKnownSymbol(engine: Engine, table: string, symbol: string): Promise<void> {
  if (await symbolStored(engine, table, symbol)) return;
  const close = await closestSymbols(engine, table, symbol);
  throw new QueryError(
    `no symbol ${JSON.stringify(symbol)} is stored in ${table}${close.length ? ` (closest: ${close.join(', ')})` : ' (it is empty)'}`,
  );
}

function note(message: string): void {
  process.stderr.write(`tickvault: ${message}\n`);
}

interface Common {
  symbol: string;
  format: Format;
  out?: string;
}

/** Rows out: text formats on stdout (RowWriter), parquet and arrow into --out FILE (FileRowWriter). */
interface Out {
  row(r: Row): void | Promise<void>;
  end(): number | Promise<number>;
}

function output(o: Pick<Common, 'format' | 'out'>, columns: readonly ExportColumn[]): Out {
  if (o.format === 'parquet' || o.format === 'arrow') return new FileRowWriter(o.format, columns, o.out);
  if (o.out !== undefined) throw new ConfigError('--out is for --format parquet or arrow (text formats go to stdout)');
  return new RowWriter(
    o.format,
    columns.map((c) => c.name),
  );
}

function formatOption(): Option {
  return new Option('--format <format>', 'output format (parquet and arrow write --out FILE)')
    .choices(['table', 'csv', 'json', 'parquet', 'arrow'])
    .default('table');
}

function outOption(): Option {
  return new Option('--out <file>', 'the file --format parquet|arrow writes');
}

/** --publisher: one venue (DBN publisher_id; 0 = rows stored without one). */
function publisherOption(): Option {
  return new Option('--publisher <id>', 'only this venue (DBN publisher_id; default: every venue)').argParser(parsePublisher);
}

function parsePublisher(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n > 65535)
    throw new ConfigError(`--publisher must be a DBN publisher id, 0..65535 (got ${JSON.stringify(v)})`);
  return n;
}

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`--limit must be a positive integer (got ${JSON.stringify(v)})`);
  return n;
}

/** A comma-separated list (--symbols, --markouts): trimmed, no empty items. */
function parseList(name: string): (v: string) => string[] {
  return (v: string) => {
    const items = v.split(',').map((x) => x.trim());
    if (items.length === 0 || items.some((x) => x.length === 0))
      throw new ConfigError(`${name} must be a comma-separated list without empty items (got ${JSON.stringify(v)})`);
    return items;
  };
}

function venue(o: { publisher?: number }): { publisherId?: number } {
  return o.publisher === undefined ? {} : { publisherId: o.publisher };
}

export function registerQuery(program: Command): void {
  const query = program.command('query').description('read market data back: bars, volume, spread, recent bars, as-of, as-of join');

  query
    .command('bars')
    .description('OHLCV bars at any interval, from stored 1m bars or built from trades')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--start <time>', 'start (inclusive), ISO 8601; no zone = UTC')
    .requiredOption('--end <time>', 'end (exclusive), ISO 8601')
    .requiredOption('--interval <interval>', "bar interval, e.g. '1 minute', '15 minutes', '1 hour', '1 day'")
    .addOption(
      new Option('--source <source>', 'build bars from trades or from stored OHLCV bars').choices(['trades', 'ohlcv']).default('trades'),
    )
    .option('--granularity <g>', 'stored bar granularity read by --source ohlcv', '1m')
    .addOption(
      new Option('--rollup <choice>', 'read from rollups when they answer exactly').choices(['auto', 'raw', 'rollup']).default('auto'),
    )
    .option('--batch-size <n>', 'rows per cursor FETCH', '1000')
    .addOption(publisherOption())
    .addOption(formatOption())
    .addOption(outOption())
    .action(
      async (
        o: Common & {
          start: string;
          end: string;
          interval: string;
          source: BarSource;
          granularity: string;
          rollup: RollupChoice;
          batchSize: string;
          publisher?: number;
        },
        cmd: Command,
      ) => {
        await withReadEngine(cmd, async (engine) => {
          // One bar per venue and bucket: a bar's open and close never come from two venues.
          const options = {
            source: o.source,
            granularity: o.granularity,
            rollup: o.rollup,
            ...(o.publisher === undefined ? {} : { publisherId: o.publisher }),
          };
          const plan = await planBars(engine, o.symbol, o.start, o.end, o.interval, options);
          const w = output(o, QUERY_COLUMNS.bars);
          for await (const b of streamBars(engine, o.symbol, o.start, o.end, o.interval, options, { batchSize: parseLimit(o.batchSize) })) {
            await w.row({
              time: t(b.timeUs),
              publisher: String(b.publisherId),
              open: b.open,
              high: b.high,
              low: b.low,
              close: b.close,
              volume: s(b.volume),
              trades: s(b.tradeCount),
            });
          }
          const n = await w.end();
          if (n === 0) await requireKnownSymbol(engine, o.source === 'trades' ? 'trades_data' : 'ohlcv_data', o.symbol);
          note(`${n} bars from ${plan.relation} (${plan.reason})`);
        });
      },
    );

  query
    .command('volume')
    .description('traded volume and trade counts per time bucket (trades_data)')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--start <time>', 'start (inclusive), ISO 8601')
    .requiredOption('--end <time>', 'end (exclusive), ISO 8601')
    .requiredOption('--interval <interval>', "bucket width, e.g. '1 hour'")
    .addOption(publisherOption())
    .addOption(formatOption())
    .addOption(outOption())
    .action(async (o: Common & { start: string; end: string; interval: string; publisher?: number }, cmd: Command) => {
      const rows = await withReadEngine(cmd, async (engine) => {
        const found = await aggregatedVolume(engine, o.symbol, o.start, o.end, o.interval, venue(o));
        if (found.length === 0) await requireKnownSymbol(engine, 'trades_data', o.symbol);
        return found;
      });
      const w = output(o, QUERY_COLUMNS.volume);
      for (const r of rows)
        await w.row({
          time: t(r.timeUs),
          volume: s(r.volume),
          buy_volume: s(r.buyVolume),
          sell_volume: s(r.sellVolume),
          trades: s(r.tradeCount),
        });
      note(`${await w.end()} buckets`);
    });

  query
    .command('spread')
    .description('average, median, min and max bid-ask spread (tbbo_data); quotes missing a side are ignored')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--start <time>', 'start (inclusive), ISO 8601')
    .requiredOption('--end <time>', 'end (exclusive), ISO 8601')
    .addOption(publisherOption())
    .addOption(formatOption())
    .addOption(outOption())
    .action(async (o: Common & { start: string; end: string; publisher?: number }, cmd: Command) => {
      const r = await withReadEngine(cmd, async (engine) => {
        const found = await spreadAnalysis(engine, o.symbol, o.start, o.end, venue(o));
        if (found.quotes === 0n) await requireKnownSymbol(engine, 'tbbo_data', o.symbol);
        return found;
      });
      const w = output(o, QUERY_COLUMNS.spread);
      await w.row({ symbol: o.symbol, quotes: s(r.quotes), spreads: s(r.count), avg: r.avg, median: r.median, min: r.min, max: r.max });
      await w.end();
      if (r.count === 0n) note('no spreads in the range');
    });

  query
    .command('recent')
    .description('stored OHLCV bars at or after --since, newest first')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--since <time>', 'earliest bar time, ISO 8601')
    .option('--limit <n>', 'at most this many bars', '20')
    .option('--granularity <g>', 'stored bar granularity', '1m')
    .addOption(publisherOption())
    .addOption(formatOption())
    .addOption(outOption())
    .action(async (o: Common & { since: string; limit: string; granularity: string; publisher?: number }, cmd: Command) => {
      const limit = parseLimit(o.limit);
      const rows = await withReadEngine(cmd, async (engine) => {
        const found = await recentOhlcv(engine, o.symbol, o.since, limit, o.granularity, venue(o));
        if (found.length === 0) await requireKnownSymbol(engine, 'ohlcv_data', o.symbol);
        return found;
      });
      const w = output(o, QUERY_COLUMNS.recent);
      for (const r of rows) {
        await w.row({
          time: t(r.timeUs),
          instrument_id: String(r.instrumentId),
          publisher: String(r.publisherId),
          open: r.open,
          high: r.high,
          low: r.low,
          close: r.close,
          volume: s(r.volume),
          granularity: r.granularity,
        });
      }
      note(`${await w.end()} bars`);
    });

  query
    .command('asof')
    .description('the last trade and the last quote at or before a time')
    .requiredOption('--symbol <symbol>', 'symbol')
    .requiredOption('--at <time>', 'time, ISO 8601 (microseconds kept)')
    .addOption(publisherOption())
    .addOption(formatOption())
    .addOption(outOption())
    .action(async (o: Common & { at: string; publisher?: number }, cmd: Command) => {
      const r = await withReadEngine(cmd, (engine) => asOf(engine, o.symbol, o.at, venue(o)));
      const w = output(o, QUERY_COLUMNS.asof);
      if (r.trade) {
        const x = r.trade;
        await w.row({
          kind: 'trade',
          time: t(x.timeUs),
          instrument_id: String(x.instrumentId),
          publisher: String(x.publisherId),
          price: x.price,
          size: s(x.size),
          side: x.side,
          trade_id: x.tradeId,
        });
      }
      if (r.quote) {
        const q = r.quote;
        await w.row({
          kind: 'quote',
          time: t(q.timeUs),
          instrument_id: String(q.instrumentId),
          publisher: String(q.publisherId),
          bid: q.bid,
          ask: q.ask,
          bid_size: s(q.bidSize),
          ask_size: s(q.askSize),
          spread: q.spread,
        });
      }
      await w.end();
      if (!r.trade && !r.quote) note(`no trade or quote of ${o.symbol} at or before ${t(r.at.timeUs)}`);
    });

  query
    .command('asof-join')
    .description(
      "each trade with the quote (tbbo_data) of its instrument and venue in force at the trade's time; ties at one microsecond: the highest quote sequence",
    )
    .requiredOption('--symbols <list>', 'comma-separated symbols, e.g. ES.FUT,NQ.FUT', parseList('--symbols'))
    .requiredOption('--start <time>', 'start (inclusive), ISO 8601; no zone = UTC')
    .requiredOption('--end <time>', 'end (exclusive), ISO 8601')
    .option('--tolerance <interval>', "no quote further than this from the trade (e.g. '1s', '500 ms'): empty quote columns")
    .option('--forward', 'the first quote at or after each trade instead of the last at or before it')
    .option(
      '--markouts <list>',
      'comma-separated intervals: the mid price this long after each trade, e.g. 1s,5s,1m',
      parseList('--markouts'),
    )
    .option('--limit <n>', 'at most this many rows')
    .option('--batch-size <n>', 'rows per cursor FETCH of each stream', '5000')
    .addOption(publisherOption())
    .addOption(formatOption())
    .addOption(outOption())
    .action(
      async (
        o: {
          symbols: string[];
          start: string;
          end: string;
          tolerance?: string;
          forward?: boolean;
          markouts?: string[];
          limit?: string;
          batchSize: string;
          publisher?: number;
          format: Format;
          out?: string;
        },
        cmd: Command,
      ) => {
        const limit = o.limit === undefined ? undefined : parseLimit(o.limit);
        const batchSize = parseLimit(o.batchSize);
        const markouts = o.markouts ?? [];
        await withReadEngine(cmd, async (engine) => {
          // A mistyped name in the list is pointed out before any row, not left as a silent gap.
          for (const sym of o.symbols) await requireKnownSymbol(engine, 'trades_data', sym);
          const w = output(o, asofJoinColumns(markouts));
          const options = {
            ...venue(o),
            direction: o.forward ? ('forward' as const) : ('backward' as const),
            markouts,
            batchSize,
            ...(o.tolerance === undefined ? {} : { tolerance: o.tolerance }),
            ...(limit === undefined ? {} : { limit }),
          };
          for await (const r of asOfJoin(engine, o.symbols, o.start, o.end, options)) {
            const q = r.quote;
            const row: Record<string, string | null> = {
              time: t(r.timeUs),
              symbol: r.symbol,
              instrument_id: String(r.instrumentId),
              publisher: String(r.publisherId),
              price: r.price,
              size: s(r.size),
              side: r.side,
              trade_id: r.tradeId,
              quote_time: q ? t(q.timeUs) : null,
              bid: q?.bid ?? null,
              ask: q?.ask ?? null,
              bid_size: q ? s(q.bidSize) : null,
              ask_size: q ? s(q.askSize) : null,
              sequence: q ? s(q.sequence) : null,
              age_us: q ? s(q.ageUs) : null,
              mid: q?.mid ?? null,
            };
            markouts.forEach((m, i) => {
              row[`mid_${m}`] = r.markouts[i] ?? null;
            });
            await w.row(row);
          }
          const n = await w.end();
          note(
            `${n} trades joined with ${o.forward ? 'the next' : 'the last'} quote${o.tolerance === undefined ? '' : ` within ${o.tolerance}`}`,
          );
        });
      },
    );
}
