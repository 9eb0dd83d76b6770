/**
 * `tickvault load --dry-run`: decode and validate a DBN file exactly as a load would (same
 * mapping, same table rules, same structure pre-pass, same routing, keys repeated inside the file)
 * and count what would land and what would be quarantined into an empty database, without one. Symbols come from the file only: ids it cannot name are
 * reported as unresolved (a real load would also look in stored definitions).
 */
import { LoadError } from '../errors.js';
import { definitionInputSpec } from '../load/definitions.js';
import { loadedColumns, tableSpec, type TableName } from '../schema/tables.js';
import { DbnFileSource } from './dbn-source.js';
import { routeFile } from './dbn-routing.js';
import { notStoredByName } from './load-dbn.js';

export interface CheckFileResult {
  readonly file: string;
  readonly table: TableName;
  readonly records: number;
  readonly valid: number;
  readonly rejected: number;
  /** Valid definitions that would change nothing: later versions of an instrument seen before in the file. */
  readonly unchanged: number;
  readonly topRejectReasons: readonly { reason: string; count: number }[];
  readonly unresolvedIds: readonly number[];
  /** As LoadFileResult.notStored / unknownRecords. */
  readonly notStored: Record<string, number>;
  readonly unknownRecords: number;
}

/** The dry run of every table the file's records go to (dbn-routing.ts), refused as a load would be. */
export async function checkDbnFileRouted(file: string, options: { table?: TableName } = {}): Promise<CheckFileResult[]> {
  // A dry run writes no ledger row: the file needs no hash.
  const first = await DbnFileSource.open(file, { hash: false });
  const route = routeFile(first.metadata.schema, first.metadata.schemaName, first.rtypeCounts, options.table);
  const out: CheckFileResult[] = [];
  let unknownTaken = false;
  for (const table of route.tables) {
    const source = out.length === 0 ? first : first.again();
    source.quarantineUnknown = !unknownTaken && table !== 'instrument_definitions';
    if (source.quarantineUnknown) unknownTaken = true;
    const r = await checkInto(file, source, table);
    out.push(route.tables.length === 1 ? r : { ...r, notStored: route.notStored });
  }
  return out;
}

export async function checkDbnFile(file: string, options: { table?: TableName } = {}): Promise<CheckFileResult> {
  const source = await DbnFileSource.open(file, { hash: false });
  const route = routeFile(source.metadata.schema, source.metadata.schemaName, source.rtypeCounts, options.table);
  if (route.tables.length !== 1)
    throw new LoadError(
      `schema mixed: the file holds records for ${route.tables.join(', ')}; check it with checkDbnFileRouted, or pass a table`,
    );
  return checkInto(file, source, route.tables[0]!);
}

async function checkInto(file: string, source: DbnFileSource, table: TableName): Promise<CheckFileResult> {
  // DefinitionsLoader validates its records against the definitions' input description (with ts_recv).
  const spec = table === 'instrument_definitions' ? definitionInputSpec : tableSpec(table);
  const batches = source.prepare(spec, 50_000, () => false);
  // Keys seen in the file, as the load sees them: a market row whose natural key came earlier in
  // the file is quarantined as a duplicate (append); a definition of an instrument already seen
  // is another version of one row (newest wins), neither a row nor a rejection of its own.
  const columns = loadedColumns(spec);
  const keyCols = (table === 'instrument_definitions' ? ['instrument_id'] : spec.naturalKey).map((k) =>
    columns.findIndex((c) => c.name === k),
  );
  const seen = new Set<string>();
  let records = 0;
  let valid = 0;
  let rejected = 0;
  let unchanged = 0;
  const reasons = new Map<string, number>();
  const count = (key: string) => reasons.set(key, (reasons.get(key) ?? 0) + 1);
  for await (const b of batches) {
    records += b.recordsIn;
    if ('skipped' in b) continue;
    for (let i = 0; i < b.rowCount; i++) {
      const values = b.rowValues(i);
      const key = keyCols.map((c) => String(values[c])).join('\u0001');
      if (!seen.has(key)) {
        seen.add(key);
        valid++;
      } else if (table === 'instrument_definitions') {
        unchanged++;
      } else {
        rejected++;
        count('natural_key');
      }
    }
    rejected += b.rejections.length;
    for (const r of b.rejections) count(r.constraint ?? r.reason);
  }
  return {
    file,
    table,
    records,
    valid,
    rejected,
    unchanged,
    topRejectReasons: [...reasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([reason, count]) => ({ reason, count })),
    unresolvedIds: source.stats.unresolvedIds,
    notStored: notStoredByName(source.stats.skipped),
    unknownRecords: source.stats.unknownRecords,
  };
}
