/**
 * Which file column fills which table column, and how its cells are encoded. Two origins, one
 * form (a rule per table column):
 * - Databento's own CSV and Parquet encodings (`dbn --csv`, databento-python `to_csv` /
 *   `to_parquet`), recognised from the header: no options needed. Per value, prices are integers
 *   in 1e-9 units or decimals (pretty_px) and timestamps integer ns or ISO text (pretty_ts).
 * - Any other vendor's columns, by a small mapping: `price=px:1e-9,timestamp=ts_ns:ns` on the
 *   CLI, or the same as JSON. A table column the mapping does not name is taken from the file
 *   column of the same name, if there is one.
 * Rules given by the user override the detected ones, so a Databento file can be corrected too.
 */
import { MappingError } from '../errors.js';
import { loadedColumns, tableSpec, type Column, type TableName } from '../schema/tables.js';
import { OHLCV_GRANULARITY, RTYPE, STAT_TYPE_NAMES } from '../dbn/constants.js';
import {
  CellProblem,
  integerValue,
  priceValue,
  textValue,
  timestampNanos,
  UNDEF_PRICE,
  UNDEF_TIMESTAMP,
  type PriceEncoding,
  type TimeUnit,
} from './source-values.js';

/** What a reader knows of a column beyond its name (Parquet types); CSV columns are all 'text'. */
export type ColumnKind = 'text' | 'int' | 'double' | 'timestamp-ns' | 'decimal' | 'other';

/** One table column's source: a file column (with its encoding), or a constant. */
export type FieldRule = { readonly column: string; readonly unit?: TimeUnit; readonly price?: PriceEncoding } | { readonly const: string };

/** Table column → rule. */
export type ColumnMapping = Readonly<Record<string, FieldRule>>;

const UNITS = new Set<TimeUnit>(['ns', 'us', 'ms', 's', 'iso']);

/** One rule from its text form: `column`, `column:unit` (ns, us, ms, s, iso), `column:1e-9` (price scale), `column:decimal`, `const:VALUE`. */
export function parseRule(target: string, text: string): FieldRule {
  const t = text.trim();
  if (t.startsWith('const:')) return { const: t.slice('const:'.length) };
  const colon = t.lastIndexOf(':');
  if (colon < 0) {
    if (t === '') throw new MappingError(`mapping for ${target}: no column named`);
    return { column: t };
  }
  const column = t.slice(0, colon);
  const suffix = t.slice(colon + 1).trim();
  if (column === '') throw new MappingError(`mapping for ${target}: no column named in ${JSON.stringify(text)}`);
  if (UNITS.has(suffix as TimeUnit)) return { column, unit: suffix as TimeUnit };
  if (suffix === 'decimal') return { column, price: { kind: 'decimal' } };
  const scale = /^1e-(\d{1,2})$/i.exec(suffix);
  if (scale) return { column, price: { kind: 'fixed', scale: Number(scale[1]) } };
  throw new MappingError(
    `mapping for ${target}: unknown suffix ":${suffix}" (timestamps: ns, us, ms, s, iso; prices: a scale like 1e-9, or decimal)`,
  );
}

/** `--map price=px:1e-9,timestamp=ts_ns:ns,instrument_id=const:42` → a mapping. */
export function parseMapArg(text: string): ColumnMapping {
  const out: Record<string, FieldRule> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new MappingError(`--map: "${part}" is not table_column=file_column`);
    const target = part.slice(0, eq).trim();
    out[target] = parseRule(target, part.slice(eq + 1));
  }
  return out;
}

/**
 * A mapping file's JSON: `{ "price": "px:1e-9", "timestamp": "ts_ns:ns", "instrument_id": "const:42" }`,
 * optionally `{ "table": "trades_data", "columns": { ... } }`.
 */
export function parseMappingJson(json: unknown): { table?: TableName; mapping: ColumnMapping } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new MappingError('a mapping file holds a JSON object: { "table column": "file column[:unit]" }');
  const obj = json as Record<string, unknown>;
  const columns = 'columns' in obj ? obj.columns : obj;
  if (typeof columns !== 'object' || columns === null) throw new MappingError('mapping file: "columns" must be an object');
  const out: Record<string, FieldRule> = {};
  for (const [target, v] of Object.entries(columns as Record<string, unknown>)) {
    if (target === 'table' && !('columns' in obj)) continue;
    if (typeof v !== 'string') throw new MappingError(`mapping file: the rule for ${target} must be a string like "px:1e-9"`);
    out[target] = parseRule(target, v);
  }
  const table = typeof obj.table === 'string' ? (tableSpec(obj.table).name as TableName) : undefined;
  return { table, mapping: out };
}

/** Is this header one of Databento's encodings (dbn CLI CSV, databento-python to_csv / to_parquet)? */
export function isDatabentoHeader(header: readonly string[]): boolean {
  const h = new Set(header);
  return h.has('ts_event') && h.has('instrument_id') && (h.has('rtype') || h.has('publisher_id'));
}

/** The table a file's columns (or a mapping's targets) describe; null when they name none. */
export function inferTable(header: readonly string[], mapping: ColumnMapping = {}): TableName | null {
  const h = new Set([...header, ...Object.keys(mapping)]);
  if (h.has('bid_px_00') || h.has('ask_px_00')) return 'tbbo_data';
  if ((h.has('open') && h.has('close')) || (h.has('open_price') && h.has('close_price'))) return 'ohlcv_data';
  if (h.has('stat_type')) return 'statistics_data';
  if (h.has('price') && h.has('size')) return 'trades_data';
  return null;
}

/** A compiled mapping: one file row (cells in header order) → a loader record, or why not. */
export interface RowMapper {
  readonly table: TableName;
  readonly databento: boolean;
  /** Whether the mapping gives the symbol (else it comes from the stored symbol history). */
  readonly hasSymbol: boolean;
  /** The mapping as applied, for messages and the plan: table column → "file column (encoding)". */
  readonly describe: Readonly<Record<string, string>>;
  map(row: readonly unknown[]): Record<string, unknown> | string;
}

type Extract = (row: readonly unknown[]) => unknown;

/**
 * Compiles the mapping for `table` over a file's header: Databento's rules when the header is
 * Databento's, then the user's rules over them, then same-name columns. A NOT NULL column
 * without a source, or a rule naming a column the file lacks, is a MappingError naming the header.
 */
export function compileMapping(
  table: TableName,
  header: readonly string[],
  kinds: readonly ColumnKind[],
  user: ColumnMapping = {},
): RowMapper {
  const spec = tableSpec(table);
  const columns = loadedColumns(spec).filter((c) => c.name !== 'created_at');
  const index = new Map(header.map((h, i) => [h, i]));
  const databento = isDatabentoHeader(header);
  const known = new Set(columns.map((c) => c.name));
  for (const target of Object.keys(user)) {
    if (!known.has(target)) throw new MappingError(`--map: ${target} is not a column of ${table} (its columns: ${[...known].join(', ')})`);
  }
  const col = (name: string, why: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new MappingError(`${why}: the file has no column "${name}" (its columns: ${header.join(', ')})`);
    return i;
  };
  const extract: Record<string, Extract> = {};
  const describe: Record<string, string> = {};
  const fromRule = (c: Column, rule: FieldRule): Extract => {
    if ('const' in rule) {
      describe[c.name] = `constant ${JSON.stringify(rule.const)}`;
      const v = rule.const;
      return () => v;
    }
    const i = col(rule.column, `mapping for ${c.name}`);
    const kind = kinds[i] ?? 'text';
    describe[c.name] =
      `${rule.column}${rule.unit ? ` (${rule.unit})` : ''}${rule.price ? ` (${rule.price.kind === 'fixed' ? `1e-${rule.price.scale}` : 'decimal'})` : ''}`;
    return cellExtractor(c, i, kind, rule);
  };
  const db = databento ? databentoRules(table, index) : {};
  for (const c of columns) {
    const rule = user[c.name];
    if (rule) extract[c.name] = fromRule(c, rule);
    else if (db[c.name]) {
      extract[c.name] = db[c.name]!.extract;
      describe[c.name] = db[c.name]!.describe;
    } else if (index.has(c.name)) extract[c.name] = fromRule(c, { column: c.name });
  }
  // The symbol may come from the stored history (tabular-source.ts), when an instrument_id does.
  const hasSymbol = extract.symbol !== undefined || !known.has('symbol');
  const missing = columns
    .filter((c) => !c.nullable && c.default === undefined && !extract[c.name] && !(c.name === 'symbol' && extract.instrument_id))
    .map((c) => c.name);
  if (missing.length > 0) {
    throw new MappingError(
      `the file's columns map nothing to ${missing.join(', ')} of ${table} (file columns: ${header.join(', ')}); ` +
        `name them with --map, e.g. --map ${missing.map((m) => `${m}=<file column>`).join(',')}`,
    );
  }
  const targets = Object.keys(extract);
  const extractors = targets.map((t) => extract[t]!);
  const filter = databento ? rtypeFilter(table, index) : undefined;
  return {
    table,
    databento,
    describe,
    hasSymbol,
    map(row) {
      try {
        const why = filter?.(row);
        if (why) return why;
        const rec: Record<string, unknown> = {};
        for (let k = 0; k < targets.length; k++) {
          const v = extractors[k]!(row);
          if (v !== undefined) rec[targets[k]!] = v;
        }
        return rec;
      } catch (e) {
        if (e instanceof CellProblem) return e.message;
        throw e;
      }
    },
  };
}

/** The extractor of one table column from file column i, by the table column's type. */
function cellExtractor(c: Column, i: number, kind: ColumnKind, rule: { unit?: TimeUnit; price?: PriceEncoding }): Extract {
  const named =
    (f: (cell: unknown) => unknown): Extract =>
    (row) => {
      try {
        return f(row[i]);
      } catch (e) {
        if (e instanceof CellProblem) throw new CellProblem(`${c.name}: ${e.message}`);
        throw e;
      }
    };
  switch (c.type.kind) {
    case 'timestamptz': {
      // A Parquet TIMESTAMP column arrives in ns whatever its unit (parquet-source.ts).
      const unit = kind === 'timestamp-ns' ? undefined : rule.unit;
      return named((cell) => {
        if (
          unit === undefined &&
          kind !== 'timestamp-ns' &&
          (typeof cell === 'bigint' || typeof cell === 'number' || (typeof cell === 'string' && /^\s*-?\d+\s*$/.test(cell)))
        ) {
          throw new CellProblem(`${JSON.stringify(cell)} is an integer: say its unit in the mapping (e.g. ${c.name}=<column>:ms)`);
        }
        return timestampNanos(cell, unit);
      });
    }
    case 'numeric': {
      const enc = rule.price ?? { kind: 'decimal' };
      return named((cell) => priceValue(cell, enc));
    }
    case 'int2':
    case 'int4':
    case 'int8':
      return named(integerValue);
    case 'char':
      if (c.name === 'side') return named((cell) => side(textValue(cell)));
      return named(textValue);
    default:
      return named(textValue);
  }
}

/** DBN sides: 'A' (ask: sell aggressor) → 'S'; 'B' and 'N' as they are; others kept so the CHECK names them. */
function side(s: string | null): string | null {
  return s === 'A' ? 'S' : s;
}

interface DetectedRule {
  readonly extract: Extract;
  readonly describe: string;
}

/**
 * Databento's columns → the table, as the DBN path maps records (ingest/dbn-mapping.ts):
 * timestamp = ts_event, trade_id = "<publisher_id>:<sequence>", 'A' side → 'S', UNDEF prices and
 * empty quote sides → NULL, the granularity from the rtype.
 */
function databentoRules(table: TableName, index: ReadonlyMap<string, number>): Record<string, DetectedRule> {
  const at = (name: string) => index.get(name);
  const rules: Record<string, DetectedRule> = {};
  const ts = (target: string, name: string, zeroIsNull = false) => {
    const i = at(name);
    if (i === undefined) return;
    rules[target] = {
      describe: `${name} (ns or ISO)`,
      extract: (row) => {
        const v = timestampNanosNamed(target, row[i]);
        return v === UNDEF_TIMESTAMP || (zeroIsNull && v === 0n) ? null : v;
      },
    };
  };
  const px = (target: string, name: string) => {
    const i = at(name);
    if (i === undefined) return;
    rules[target] = {
      describe: `${name} (1e-9 or decimal)`,
      extract: (row) => named(target, () => priceValue(row[i], { kind: 'databento' })),
    };
  };
  const int = (target: string, name: string, nullWhen?: bigint) => {
    const i = at(name);
    if (i === undefined) return;
    rules[target] = {
      describe: name,
      extract: (row) =>
        named(target, () => {
          const v = integerValue(row[i]);
          return nullWhen !== undefined && v !== null && BigInt(v) === nullWhen ? null : v;
        }),
    };
  };
  ts('timestamp', 'ts_event');
  int('instrument_id', 'instrument_id');
  int('publisher_id', 'publisher_id');
  const sym = at('symbol');
  if (sym !== undefined) rules.symbol = { describe: 'symbol', extract: (row) => textValue(row[sym]) };
  const pub = at('publisher_id');
  const seq = at('sequence');
  const rt = at('rtype');
  switch (table) {
    case 'trades_data': {
      px('price', 'price');
      int('size', 'size');
      const s = at('side');
      if (s !== undefined) rules.side = { describe: 'side (A → S)', extract: (row) => side(textValue(row[s])) };
      if (pub !== undefined && seq !== undefined) {
        rules.trade_id = { describe: 'publisher_id:sequence', extract: (row) => `${integerValue(row[pub])}:${integerValue(row[seq])}` };
      }
      break;
    }
    case 'tbbo_data':
      px('bid_px_00', 'bid_px_00');
      px('ask_px_00', 'ask_px_00');
      // An empty book side is UNDEF price with size 0: both NULL, as from DBN.
      int('bid_sz_00', 'bid_sz_00', 0n);
      int('ask_sz_00', 'ask_sz_00', 0n);
      int('sequence', 'sequence');
      break;
    case 'ohlcv_data':
      px('open_price', 'open');
      px('high_price', 'high');
      px('low_price', 'low');
      px('close_price', 'close');
      int('volume', 'volume');
      if (rt !== undefined) {
        rules.granularity = {
          describe: 'from rtype',
          extract: (row) => {
            const g = OHLCV_GRANULARITY[Number(integerValue(row[rt]))];
            if (g === undefined) throw new CellProblem(`rtype ${String(row[rt])} is not an OHLCV record type`);
            return g;
          },
        };
      }
      break;
    case 'statistics_data': {
      ts('ts_recv', 'ts_recv');
      ts('ts_ref', 'ts_ref', true);
      px('price', 'price');
      int('quantity', 'quantity', UNDEF_PRICE);
      int('sequence', 'sequence');
      int('ts_in_delta', 'ts_in_delta');
      int('channel_id', 'channel_id', 0xffffn);
      int('update_action', 'update_action');
      int('stat_flags', 'stat_flags');
      const st = at('stat_type');
      if (st !== undefined) {
        rules.stat_type = { describe: 'stat_type', extract: (row) => integerValue(row[st]) };
        rules.stat_type_name = {
          describe: 'from stat_type',
          extract: (row) => {
            const n = Number(integerValue(row[st]));
            return STAT_TYPE_NAMES[n] ?? `stat_type_${n}`;
          },
        };
      }
      break;
    }
    default:
      break;
  }
  return rules;
}

function named<T>(target: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CellProblem) throw new CellProblem(`${target}: ${e.message}`);
    throw e;
  }
}

function timestampNanosNamed(target: string, cell: unknown): bigint | null {
  return named(target, () => timestampNanos(cell, undefined));
}

const TABLE_RTYPES: Partial<Record<TableName, (rt: number) => boolean>> = {
  trades_data: (rt) => rt === RTYPE.MBP_0,
  tbbo_data: (rt) => rt === RTYPE.MBP_1,
  ohlcv_data: (rt) => OHLCV_GRANULARITY[rt] !== undefined,
  statistics_data: (rt) => rt === RTYPE.STATISTICS,
};

/** A Databento row of another record type than the table's is refused with its rtype (never loaded as the wrong thing). */
function rtypeFilter(table: TableName, index: ReadonlyMap<string, number>): ((row: readonly unknown[]) => string | undefined) | undefined {
  const i = index.get('rtype');
  const ok = TABLE_RTYPES[table];
  if (i === undefined || !ok) return undefined;
  return (row) => {
    const rt = Number(integerValue(row[i]));
    return ok(rt) ? undefined : `rtype ${String(row[i])} is not a record type of ${table}`;
  };
}

/** The CLI's mapping: `--map-file` (JSON, may name the table) then `--map` over it. */
export function mappingFromOptions(
  map: string | undefined,
  mapFile: string | undefined,
  readFile: (f: string) => string,
): { table?: TableName; mapping?: ColumnMapping } {
  if (map === undefined && mapFile === undefined) return {};
  let table: TableName | undefined;
  let mapping: Record<string, FieldRule> = {};
  if (mapFile !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFile(mapFile));
    } catch (e) {
      throw new MappingError(`--map-file ${mapFile}: ${(e as Error).message}`);
    }
    const parsed = parseMappingJson(json);
    table = parsed.table;
    mapping = { ...parsed.mapping };
  }
  if (map !== undefined) mapping = { ...mapping, ...parseMapArg(map) };
  return { table, mapping };
}
