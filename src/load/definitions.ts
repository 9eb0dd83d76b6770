/**
 * DefinitionsLoader: instrument definitions, versioned by `ts_recv`, with the symbol history.
 *
 * Records are the instrument_definitions columns plus an optional `ts_recv` (when the definition
 * was published; default: the transaction's now()). They are validated by the shared machinery
 * against a TableSpec DERIVED from `instrumentDefinitions` (its columns + ts_recv), so every column,
 * length, NOT NULL and CHECK is still declared once, in schema/tables.ts; violations are
 * quarantined and the rest of the batch lands.
 *
 * A batch is COPYed into a temporary staging table (same columns, NOT NULLs and CHECKs, so the
 * base's bisect isolates anything the validator missed) and merged with set-based SQL in the
 * loader's transaction, under a transaction-level advisory lock (definition merges serialize):
 *
 * 1. Versions. Every definition seen is a version (instrument_id, ts_recv, claimed symbol) in
 *    `tickvault_definition_versions` (migration 4). Within a batch, two versions of one id with the
 *    same ts_recv: the later record wins. A version already stored (same id and ts_recv) is ignored,
 *    so re-running a batch changes nothing.
 * 2. Content. Per instrument_id the newest ts_recv wins, within the batch and versus what is
 *    stored: the row is UPSERTed (`ON CONFLICT (instrument_id) DO UPDATE`, updated_at bumped,
 *    created_at kept) only when the batch's newest version is newer than every stored version
 *    (or the row is missing and the version is not older), and only if something actually differs.
 *    An older definition never overwrites a newer one (it still adds its claim to the history).
 * 3. Symbol ownership (the contract's UNIQUE(symbol) stays). A version *claims* its symbol from its
 *    ts_recv. The newest claim owns a symbol: ordering is by (ts_recv, instrument_id), so on an
 *    exact ts_recv tie the larger instrument_id wins. An instrument whose latest claim has been
 *    overtaken by another instrument's newer claim on the same symbol keeps its row, RENAMED to
 *    `<symbol>#<instrument_id>` (the symbol part cut so the whole fits VARCHAR(50)) with
 *    is_active = false. Example: MSFT is 6819 on day 1 and 6830 on day 2 → 6830 is `MSFT`,
 *    6819 is `MSFT#6819`, inactive. The outcome does not depend on the order batches arrive in.
 * 4. History. `tickvault_symbol_history` rows with source = 'definitions' are derived from the
 *    versions: a claim (id, S, t) is valid from t until the id's next version or another id's next
 *    claim on S, whichever comes first ([valid_from, valid_to), NULL = open); consecutive intervals
 *    of the same (id, symbol) are merged. So old rows of 6819 resolve to MSFT at their time:
 *    `resolveSymbol(engine, 6819, day1)` = 'MSFT', `resolveInstrument(engine, 'MSFT', day1)` = 6819
 *    (query/symbols.ts).
 *    Only the affected instruments' rows are rewritten, and only where they differ.
 *
 * `recordsInserted` counts instrument_definitions rows inserted or changed by a batch; valid
 * records that change nothing (older or repeated versions) are neither inserted nor rejected.
 */
import type { Connection } from '../engine/types.js';
import { DEFINITION_VERSIONS_TABLE, SYMBOL_HISTORY_TABLE } from '../schema/bookkeeping.js';
import { instrumentDefinitions, loadedColumns, type Column, type TableSpec } from '../schema/tables.js';
import { sqlType, t } from '../schema/types.js';
import { ident, identList } from '../sql/ident.js';
import type { PreparedBatch } from './write/batch.js';
import { BaseLoader, type LoaderConfig } from './loader.js';
import type { PriceInput, TimestampInput } from './loaders.js';
import { writeBatch, type WriteOutcome } from './write/write-batch.js';

export interface DefinitionRecord {
  instrument_id: number;
  symbol: string;
  raw_symbol: string;
  asset: string;
  exchange: string;
  currency: string;
  /** NULL when the venue publishes none (equities: DBN min_price_increment undefined). */
  tick_size: PriceInput | null;
  /** NULL when the venue publishes none (equities: DBN unit_of_measure_qty undefined). */
  multiplier: PriceInput | null;
  /** The venue that published the definition (DBN publisher_id); omitted = 0, "not given". */
  publisher_id?: number;
  /** Date or 'YYYY-MM-DD'. */
  expiration_date?: Date | string | null;
  /** Default true (as the DDL). Forced to false while the row is renamed (see the module doc). */
  is_active?: boolean | null;
  /** When this definition was published (orders versions); Date, ISO string or epoch ns. Default: now. */
  ts_recv?: TimestampInput | null;
}

/** `source` of the symbol-history rows this loader owns (it never touches other sources' rows). */
export const DEFINITIONS_HISTORY_SOURCE = 'definitions';

/** instrument_definitions' description plus the input-only `ts_recv` column. */
export const definitionInputSpec: TableSpec = {
  ...instrumentDefinitions,
  columns: [...instrumentDefinitions.columns, { name: 'ts_recv', type: t.timestamptz, nullable: true }],
};

/** Any fixed key: serializes definition merges across sessions (transaction-scoped). */
const MERGE_LOCK_KEY = 0x7476_6466; // 'tvdf'

const STAGE = 'tv_def_stage';
const WINNERS = 'tv_def_winners';
const AFFECTED = 'tv_def_affected';
const FINAL = 'tv_def_final';
const HISTORY = 'tv_def_history';

export class DefinitionsLoader extends BaseLoader<DefinitionRecord> {
  private readonly sql: MergeSql;

  constructor(config: LoaderConfig = {}) {
    super(definitionInputSpec, { batchSize: 100 }, config);
    this.sql = buildMergeSql(this.columns);
  }

  protected override readonly groupCommits = false;

  protected override async writePrepared(tx: Connection, batch: PreparedBatch): Promise<WriteOutcome> {
    const s = this.sql;
    for (const q of s.prepare) await tx.query(q);
    const staged = await writeBatch(tx, batch, { table: STAGE, columns: this.columns, useCopy: this.useCopy });
    if (staged.inserted === 0) return { inserted: 0, dbRejections: staged.dbRejections };
    await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MERGE_LOCK_KEY]);
    let inserted = 0;
    for (const q of s.merge) {
      const res = await tx.query(q);
      if (q === s.upsert) inserted = res.rowCount;
    }
    return { inserted, dbRejections: staged.dbRejections };
  }
}

interface MergeSql {
  /** Create (once per transaction) and empty the temporary tables. */
  readonly prepare: readonly string[];
  /** The set-based merge, in order. */
  readonly merge: readonly string[];
  /** The statement whose row count is the batch's recordsInserted. */
  readonly upsert: string;
}

function buildMergeSql(inputColumns: readonly Column[]): MergeSql {
  const T = ident(instrumentDefinitions.name);
  const V = ident(DEFINITION_VERSIONS_TABLE);
  const H = ident(SYMBOL_HISTORY_TABLE);
  const src = `'${DEFINITIONS_HISTORY_SOURCE}'`;
  const defCols = loadedColumns(instrumentDefinitions).map((c) => c.name);
  const symbolCol = instrumentDefinitions.columns.find((c) => c.name === 'symbol')!;
  const symbolLen = symbolCol.type.kind === 'varchar' ? symbolCol.type.length : 50;
  const symbolType = sqlType(symbolCol.type);

  const stageCols = inputColumns.map((c) => `${ident(c.name)} ${sqlType(c.type)}${c.nullable ? '' : ' NOT NULL'}`);
  const stageChecks = instrumentDefinitions.checks.map((ch) => `CONSTRAINT ${ident(ch.name)} CHECK (${ch.sql})`);
  const tmp = (name: string, body: string) => [`CREATE TEMP TABLE IF NOT EXISTS ${name} ${body}`, `TRUNCATE ${name}`];

  const prepare = [
    ...tmp(STAGE, `(ord BIGINT GENERATED ALWAYS AS IDENTITY, ${[...stageCols, ...stageChecks].join(', ')}) ON COMMIT DROP`),
    ...tmp(WINNERS, `ON COMMIT DROP AS SELECT * FROM ${STAGE} WITH NO DATA`),
    ...tmp(AFFECTED, '(instrument_id INTEGER PRIMARY KEY) ON COMMIT DROP'),
    ...tmp(FINAL, `(instrument_id INTEGER PRIMARY KEY, symbol ${symbolType} NOT NULL, owns BOOLEAN NOT NULL) ON COMMIT DROP`),
    ...tmp(
      HISTORY,
      `(instrument_id INTEGER NOT NULL, symbol ${symbolType} NOT NULL, valid_from TIMESTAMPTZ NOT NULL, valid_to TIMESTAMPTZ) ON COMMIT DROP`,
    ),
  ];

  // A claim (x) overtakes claim (v) on the same symbol when it is later in (ts_recv, instrument_id) order.
  const overtakes = (x: string, v: string) =>
    `${x}.symbol = ${v}.symbol AND ${x}.instrument_id <> ${v}.instrument_id AND (${x}.ts_recv > ${v}.ts_recv OR (${x}.ts_recv = ${v}.ts_recv AND ${x}.instrument_id > ${v}.instrument_id))`;

  const content = defCols.filter((c) => c !== 'instrument_id');
  const selectWinner = defCols.map((c) => {
    if (c === 'symbol') return 'f.symbol';
    if (c === 'is_active') return 'CASE WHEN f.owns THEN w.is_active ELSE false END';
    return `w.${ident(c)}`;
  });
  const upsert = `INSERT INTO ${T} AS d (${identList(defCols)})
    SELECT ${selectWinner.join(', ')} FROM ${WINNERS} w JOIN ${FINAL} f USING (instrument_id)
    ON CONFLICT (instrument_id) DO UPDATE SET ${content.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}, updated_at = NOW()
    WHERE (${content.map((c) => `d.${ident(c)}`).join(', ')}) IS DISTINCT FROM (${content.map((c) => `EXCLUDED.${ident(c)}`).join(', ')})`;

  const merge = [
    `UPDATE ${STAGE} SET ts_recv = NOW() WHERE ts_recv IS NULL`,
    // Per id, the batch's newest version (later record on a tie), if newer than everything stored.
    `INSERT INTO ${WINNERS}
      SELECT n.* FROM (SELECT DISTINCT ON (instrument_id) * FROM ${STAGE} ORDER BY instrument_id, ts_recv DESC, ord DESC) n
      CROSS JOIN LATERAL (SELECT max(v.ts_recv) AS stored FROM ${V} v WHERE v.instrument_id = n.instrument_id) s
      WHERE s.stored IS NULL OR n.ts_recv > s.stored
         OR (n.ts_recv >= s.stored AND NOT EXISTS (SELECT 1 FROM ${T} d WHERE d.instrument_id = n.instrument_id))`,
    // Every version of the batch joins the version log (an exact repeat is a no-op).
    `INSERT INTO ${V} AS v (instrument_id, ts_recv, symbol)
      SELECT DISTINCT ON (instrument_id, ts_recv) instrument_id, ts_recv, symbol FROM ${STAGE} ORDER BY instrument_id, ts_recv, ord DESC
      ON CONFLICT (instrument_id, ts_recv) DO UPDATE SET symbol = EXCLUDED.symbol, recorded_at = NOW()
      WHERE v.symbol <> EXCLUDED.symbol
        AND EXISTS (SELECT 1 FROM ${WINNERS} w WHERE w.instrument_id = EXCLUDED.instrument_id AND w.ts_recv = EXCLUDED.ts_recv)`,
    // Instruments whose row or history this batch can change.
    `INSERT INTO ${AFFECTED}
      SELECT instrument_id FROM ${STAGE}
      UNION SELECT v.instrument_id FROM ${V} v WHERE v.symbol IN (SELECT symbol FROM ${STAGE})
      UNION SELECT d.instrument_id FROM ${T} d WHERE d.symbol IN (SELECT symbol FROM ${STAGE})`,
    // Rows written before tickvault versioned them claim their current symbol since -infinity.
    `INSERT INTO ${V} (instrument_id, ts_recv, symbol)
      SELECT d.instrument_id, '-infinity', d.symbol FROM ${T} d JOIN ${AFFECTED} a USING (instrument_id)
      WHERE NOT EXISTS (SELECT 1 FROM ${V} v WHERE v.instrument_id = d.instrument_id)`,
    // Final symbol per affected id: its latest claim if not overtaken, else the renamed form.
    `INSERT INTO ${FINAL}
      SELECT a.instrument_id,
        CASE WHEN o.owns THEN lv.symbol ELSE left(lv.symbol, ${symbolLen} - length('#' || a.instrument_id)) || '#' || a.instrument_id END,
        o.owns
      FROM ${AFFECTED} a
      CROSS JOIN LATERAL (SELECT v.instrument_id, v.symbol, v.ts_recv FROM ${V} v WHERE v.instrument_id = a.instrument_id ORDER BY v.ts_recv DESC LIMIT 1) lv
      CROSS JOIN LATERAL (SELECT NOT EXISTS (SELECT 1 FROM ${V} x WHERE ${overtakes('x', 'lv')}) AS owns) o`,
    // Free every symbol that moves (UNIQUE(symbol) is checked per statement), then write.
    `UPDATE ${T} d SET symbol = '#tv#' || d.instrument_id FROM ${FINAL} f WHERE f.instrument_id = d.instrument_id AND d.symbol <> f.symbol`,
    upsert,
    `UPDATE ${T} d SET symbol = f.symbol, is_active = CASE WHEN f.owns THEN d.is_active ELSE false END, updated_at = NOW()
      FROM ${FINAL} f
      WHERE f.instrument_id = d.instrument_id
        AND NOT EXISTS (SELECT 1 FROM ${WINNERS} w WHERE w.instrument_id = d.instrument_id)
        AND (d.symbol <> f.symbol OR (NOT f.owns AND d.is_active IS DISTINCT FROM false))`,
    // The affected instruments' history, derived from their versions.
    `INSERT INTO ${HISTORY}
      WITH claims AS (
        SELECT v.instrument_id, v.symbol, v.ts_recv AS valid_from, LEAST(
          (SELECT min(o.ts_recv) FROM ${V} o WHERE o.instrument_id = v.instrument_id AND o.ts_recv > v.ts_recv),
          (SELECT min(x.ts_recv) FROM ${V} x WHERE ${overtakes('x', 'v')})) AS valid_to
        FROM ${V} v JOIN ${AFFECTED} a USING (instrument_id)
      ), marked AS (
        SELECT *, CASE WHEN lag(symbol) OVER w = symbol AND lag(valid_to) OVER w = valid_from THEN 0 ELSE 1 END AS starts
        FROM claims WHERE valid_to IS NULL OR valid_to > valid_from
        WINDOW w AS (PARTITION BY instrument_id ORDER BY valid_from)
      ), grouped AS (
        SELECT *, sum(starts) OVER (PARTITION BY instrument_id ORDER BY valid_from ROWS UNBOUNDED PRECEDING) AS grp FROM marked
      )
      SELECT instrument_id, symbol, min(valid_from), CASE WHEN bool_or(valid_to IS NULL) THEN NULL ELSE max(valid_to) END
      FROM grouped GROUP BY instrument_id, grp, symbol`,
    `DELETE FROM ${H} h USING ${AFFECTED} a
      WHERE h.instrument_id = a.instrument_id AND h.source = ${src}
        AND NOT EXISTS (SELECT 1 FROM ${HISTORY} n WHERE n.instrument_id = h.instrument_id AND n.symbol = h.symbol
          AND n.valid_from = h.valid_from AND n.valid_to IS NOT DISTINCT FROM h.valid_to)`,
    `INSERT INTO ${H} (instrument_id, symbol, valid_from, valid_to, source)
      SELECT n.instrument_id, n.symbol, n.valid_from, n.valid_to, ${src} FROM ${HISTORY} n
      WHERE NOT EXISTS (SELECT 1 FROM ${H} h WHERE h.instrument_id = n.instrument_id AND h.symbol = n.symbol AND h.valid_from = n.valid_from)
      ON CONFLICT DO NOTHING`,
  ];
  return { prepare, merge, upsert };
}
