/**
 * Which tables a DBN file's records go to, decided before anything is recorded. A file of one
 * schema goes to that schema's table; a mixed file (a live capture) goes to every table whose
 * record types it holds, one ledger load per table, all in one `load`. A schema tickvault has no
 * table for is refused (SchemaNotStoredError), as is a `--table` its records cannot map to
 * (SchemaTableMismatchError): a load that could store nothing used to record a completed 0-row
 * load, after which the retry said "already loaded".
 */
import { CONTROL_RTYPE, OHLCV_GRANULARITY, RTYPE, RTYPE_NAMES, SCHEMA_NAMES } from '../dbn/constants.js';
import { TickvaultError } from '../errors.js';
import type { TableName } from '../schema/tables.js';
import { tableForSchema } from './dbn-mapping.js';

/** Schemas tickvault stores, by name, as messages list them. */
export const STORED_SCHEMAS: readonly string[] = SCHEMA_NAMES.filter((_, code) => tableForSchema(code) !== null);

/** The file's schema has no table. */
export class SchemaNotStoredError extends TickvaultError {
  constructor(readonly schema: string) {
    super('SCHEMA_NOT_STORED', `schema ${schema} is not stored by tickvault (stored: ${STORED_SCHEMAS.join(', ')}); nothing was loaded`);
  }
}

/** `--table` names a table the file's records cannot map to. */
export class SchemaTableMismatchError extends TickvaultError {
  constructor(
    readonly schema: string,
    readonly table: TableName,
    readonly tables: readonly TableName[],
  ) {
    super(
      'SCHEMA_TABLE_MISMATCH',
      `schema ${schema} cannot be loaded into ${table}${tables.length ? ` (its records go to ${tables.join(', ')})` : ''}; nothing was loaded`,
    );
  }
}

/** The table an rtype's records are stored in, null for types tickvault has no table for. */
export function tableForRtype(rtype: number): TableName | null {
  if (rtype === RTYPE.MBP_0) return 'trades_data';
  if (rtype === RTYPE.MBP_1) return 'tbbo_data'; // mbp-1 and tbbo share the rtype
  if (rtype === RTYPE.STATISTICS) return 'statistics_data';
  if (rtype === RTYPE.INSTRUMENT_DEF) return 'instrument_definitions';
  if (OHLCV_GRANULARITY[rtype] !== undefined) return 'ohlcv_data';
  return null;
}

/**
 * Definitions first (they name instruments), then the market tables: the order a mixed file's
 * tables are loaded in.
 */
const ORDER: readonly TableName[] = ['instrument_definitions', 'statistics_data', 'trades_data', 'tbbo_data', 'ohlcv_data'];

export interface Route {
  /** Tables to load, in order. */
  readonly tables: readonly TableName[];
  /** Market records of types no table of the route takes, by type name (control records excluded). */
  readonly notStored: Record<string, number>;
}

/**
 * The route of a file: `schema` is the metadata code (null = mixed), `rtypeCounts` the file's
 * records per rtype (its structure pre-pass), `table` the caller's choice, if any.
 */
export function routeFile(schema: number | null, schemaName: string | null, rtypeCounts: Record<number, number>, table?: TableName): Route {
  const name = schemaName ?? 'mixed';
  let tables: TableName[];
  if (schema !== null) {
    const own = tableForSchema(schema);
    if (!own) throw new SchemaNotStoredError(name);
    if (table && table !== own) throw new SchemaTableMismatchError(name, table, [own]);
    tables = [own];
  } else {
    const present = new Set<TableName>();
    for (const rt of Object.keys(rtypeCounts)) {
      const t = tableForRtype(Number(rt));
      if (t) present.add(t);
    }
    const all = ORDER.filter((t) => present.has(t));
    if (table && !present.has(table)) throw new SchemaTableMismatchError(name, table, all);
    tables = table ? [table] : all;
  }
  const notStored: Record<string, number> = {};
  for (const [rt, n] of Object.entries(rtypeCounts)) {
    const code = Number(rt);
    const t = tableForRtype(code);
    if (CONTROL_RTYPE[code] || (t !== null && tables.includes(t)) || RTYPE_NAMES[code] === undefined) continue;
    const label = RTYPE_NAMES[code]!;
    notStored[label] = (notStored[label] ?? 0) + n;
  }
  return { tables, notStored };
}
