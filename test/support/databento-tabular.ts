/**
 * DBN files → the CSV and Parquet files Databento's own tools write, for the source tests:
 * - `dbn --csv [--pretty-px] [--pretty-ts] --map-symbols` (the Rust CLI): columns in the record's
 *   order, prices as i64 1e-9 integers or with 9 decimals, timestamps as u64 ns or ISO 8601 with
 *   9 fractional digits and 'Z', UNDEF values empty when pretty (raw sentinels when not);
 * - databento-python `to_csv` (pandas): the same columns, prices as Python floats (shortest
 *   repr), timestamps as pandas writes them ("2020-12-28 13:30:00.000000000+00:00");
 * - `to_parquet`: prices DOUBLE (pretty_px) or BIGINT, timestamps TIMESTAMP(NANOS) or BIGINT,
 *   written by DuckDB (an independent writer).
 */
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDbn, SymbolMap, type DbnRecord } from '../../src/dbn/index.js';

export type Style = 'raw' | 'pretty' | 'python';

const UNDEF_PRICE = 9223372036854775807n;
const UNDEF_TS = 18446744073709551615n;

interface Col {
  name: string;
  kind: 'ts' | 'px' | 'int' | 'char';
  // biome-ignore lint/suspicious/noExplicitAny: one getter per column over every record kind's fields
  get: (r: any) => unknown;
}

const HEAD: Col[] = [
  { name: 'ts_event', kind: 'ts', get: (r) => r.tsEvent },
  { name: 'rtype', kind: 'int', get: (r) => r.rtype },
  { name: 'publisher_id', kind: 'int', get: (r) => r.publisherId },
  { name: 'instrument_id', kind: 'int', get: (r) => r.instrumentId },
];
const TRADE: Col[] = [
  { name: 'action', kind: 'char', get: (r) => r.action },
  { name: 'side', kind: 'char', get: (r) => r.side },
  { name: 'depth', kind: 'int', get: (r) => r.depth },
  { name: 'price', kind: 'px', get: (r) => r.price },
  { name: 'size', kind: 'int', get: (r) => r.size },
  { name: 'flags', kind: 'int', get: (r) => r.flags },
  { name: 'ts_in_delta', kind: 'int', get: (r) => r.tsInDelta },
  { name: 'sequence', kind: 'int', get: (r) => r.sequence },
];
const RECV: Col = { name: 'ts_recv', kind: 'ts', get: (r) => r.tsRecv };

/** The columns of one record kind, in Databento's order (ts_recv first where the record has it). */
export function columnsOf(kind: DbnRecord['kind']): Col[] {
  switch (kind) {
    case 'trade':
      return [RECV, ...HEAD, ...TRADE];
    case 'mbp1':
      return [
        RECV,
        ...HEAD,
        ...TRADE,
        { name: 'bid_px_00', kind: 'px', get: (r) => r.bidPx },
        { name: 'ask_px_00', kind: 'px', get: (r) => r.askPx },
        { name: 'bid_sz_00', kind: 'int', get: (r) => r.bidSz },
        { name: 'ask_sz_00', kind: 'int', get: (r) => r.askSz },
        { name: 'bid_ct_00', kind: 'int', get: (r) => r.bidCt },
        { name: 'ask_ct_00', kind: 'int', get: (r) => r.askCt },
      ];
    case 'ohlcv':
      return [
        ...HEAD,
        // biome-ignore lint/suspicious/noExplicitAny: the four price fields by name
        ...['open', 'high', 'low', 'close'].map((n) => ({ name: n, kind: 'px' as const, get: (r: any) => r[n] })),
        { name: 'volume', kind: 'int', get: (r) => r.volume },
      ];
    case 'stat':
      return [
        RECV,
        ...HEAD,
        { name: 'ts_ref', kind: 'ts', get: (r) => r.tsRef },
        { name: 'price', kind: 'px', get: (r) => r.price },
        { name: 'quantity', kind: 'int', get: (r) => r.quantity },
        { name: 'sequence', kind: 'int', get: (r) => r.sequence },
        { name: 'ts_in_delta', kind: 'int', get: (r) => r.tsInDelta },
        { name: 'stat_type', kind: 'int', get: (r) => r.statType },
        { name: 'channel_id', kind: 'int', get: (r) => r.channelId },
        { name: 'update_action', kind: 'int', get: (r) => r.updateAction },
        { name: 'stat_flags', kind: 'int', get: (r) => r.statFlags },
      ];
    default:
      throw new Error(`no tabular form for ${kind} records in these tests`);
  }
}

/** 1e-9 integer → "3720.250000000" (dbn --pretty-px). */
export function px9(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / 1_000_000_000n}.${(a % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** ns → "2020-12-28T13:30:00.123456789Z" (dbn --pretty-ts) or pandas' "2020-12-28 13:30:00.123456789+00:00". */
export function isoNs(ns: bigint, python = false): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return python ? `${base.replace('T', ' ')}.${frac}+00:00` : `${base}.${frac}Z`;
}

/** Python's float repr: shortest round-trip, like JS, but "3708.0" for integral values. */
function pyFloat(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function cell(c: Col, v: unknown, style: Style): string {
  if (c.kind === 'px') {
    const p = v as bigint;
    if (style === 'raw') return p.toString();
    if (p === UNDEF_PRICE) return '';
    return style === 'pretty' ? px9(p) : pyFloat(Number(p) / 1e9);
  }
  if (c.kind === 'ts') {
    const t = v as bigint;
    if (style === 'raw') return t.toString();
    if (t === UNDEF_TS) return '';
    return isoNs(t, style === 'python');
  }
  return String(v);
}

/** The records of a DBN file with their symbols (as the DBN load resolves them: metadata and mapping records). */
export async function recordsWithSymbols(file: string): Promise<{ records: DbnRecord[]; symbols: (string | null)[] }> {
  const dec = await openDbn(file);
  const map = SymbolMap.fromMetadata(dec.metadata);
  const records: DbnRecord[] = [];
  const symbols: (string | null)[] = [];
  for await (const r of dec.records()) {
    if (r.kind === 'symbolMapping') {
      map.addSymbolMapping(r);
      continue;
    }
    records.push(r);
    symbols.push(map.resolve(r.instrumentId, Number(r.tsEvent / 1000n)));
  }
  await dec.close();
  return { records, symbols };
}

/** The CSV text Databento's tools write for these records (with a symbol column unless `symbols: false`). */
export function toCsv(
  records: readonly DbnRecord[],
  symbols: readonly (string | null)[],
  style: Style,
  options: { symbolColumn?: boolean } = {},
): string {
  const cols = columnsOf(records[0]!.kind);
  const withSymbol = options.symbolColumn ?? true;
  const lines = [[...cols.map((c) => c.name), ...(withSymbol ? ['symbol'] : [])].join(',')];
  records.forEach((r, i) => {
    lines.push([...cols.map((c) => cell(c, c.get(r), style)), ...(withSymbol ? [symbols[i] ?? ''] : [])].join(','));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The Parquet file databento-python's to_parquet writes for these records, written by DuckDB:
 * pretty → prices DOUBLE (price / 1e9) and timestamps TIMESTAMP(NANOS); raw → BIGINT both.
 */
export async function toParquet(
  records: readonly DbnRecord[],
  symbols: readonly (string | null)[],
  out: string,
  pretty: boolean,
  options: { rowGroupSize?: number } = {},
): Promise<void> {
  const csv = `${out}.src.csv`;
  writeFileSync(csv, toCsv(records, symbols, 'raw'));
  const cols = columnsOf(records[0]!.kind);
  const exprs = cols.map((c) => {
    const q = `"${c.name}"`;
    if (c.kind === 'px')
      return pretty ? `CASE WHEN ${q} = 9223372036854775807 THEN NULL ELSE ${q}::DOUBLE / 1e9 END AS ${q}` : `${q}::BIGINT AS ${q}`;
    if (c.kind === 'ts')
      return pretty
        ? `CASE WHEN ${q} = 18446744073709551615 THEN NULL ELSE make_timestamp_ns(${q}::HUGEINT::BIGINT) END AS ${q}`
        : `${q}::UBIGINT AS ${q}`;
    if (c.kind === 'char') return `${q}::VARCHAR AS ${q}`;
    return `${q}::BIGINT AS ${q}`;
  });
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  const types = `{${[...cols.map((c) => `'${c.name}': '${c.kind === 'char' ? 'VARCHAR' : c.kind === 'int' ? 'BIGINT' : 'HUGEINT'}'`), "'symbol': 'VARCHAR'"].join(', ')}}`;
  await con.run(
    `COPY (SELECT ${exprs.join(', ')}, symbol FROM read_csv('${csv}', header = true, columns = ${types})) TO '${out}' (FORMAT parquet${options.rowGroupSize ? `, ROW_GROUP_SIZE ${options.rowGroupSize}` : ''})`,
  );
  con.closeSync?.();
}
