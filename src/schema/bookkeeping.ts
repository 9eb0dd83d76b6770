/**
 * tickvault's own tables: the migration version table, the load ledger (one row per load, plus
 * one row per committed batch so an interrupted load resumes exactly where it stopped), the
 * quarantine (every rejected row, its reason and origin) and the instrument ↔ symbol history.
 */
export const VERSION_TABLE = 'tickvault_schema_version';
export const LOADS_TABLE = 'tickvault_loads';
export const LOAD_BATCHES_TABLE = 'tickvault_load_batches';
export const QUARANTINE_TABLE = 'tickvault_quarantine';
export const SYMBOL_HISTORY_TABLE = 'tickvault_symbol_history';
export const SETTINGS_TABLE = 'tickvault_settings';
/** Created by migration 4: one row per instrument definition version seen (DefinitionsLoader). */
export const DEFINITION_VERSIONS_TABLE = 'tickvault_definition_versions';

/**
 * How a load treats keys already stored: 'append' quarantines them as duplicates, 'upsert' lets the
 * last write win, 'replace' swaps what the previous load of the same source stored. Kept in the
 * ledger's `mode` column.
 */
export type LoadMode = 'append' | 'upsert' | 'replace';

export const VERSION_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
)`;

export const BOOKKEEPING_SQL: readonly string[] = [
  `CREATE TABLE ${LOADS_TABLE} (
    load_id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    target_table TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'append' CHECK (mode IN ('append', 'replace', 'upsert')),
    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'superseded')),
    batch_size INTEGER NOT NULL,
    records_in BIGINT NOT NULL DEFAULT 0,
    records_inserted BIGINT NOT NULL DEFAULT 0,
    records_rejected BIGINT NOT NULL DEFAULT 0,
    min_time TIMESTAMPTZ,
    max_time TIMESTAMPTZ,
    instrument_ids INTEGER[],
    started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    finished_at TIMESTAMPTZ,
    duration_ms BIGINT,
    error TEXT,
    details JSONB
  )`,
  `CREATE INDEX tickvault_loads_source_idx ON ${LOADS_TABLE} (target_table, content_hash, status)`,
  `CREATE TABLE ${LOAD_BATCHES_TABLE} (
    load_id BIGINT NOT NULL REFERENCES ${LOADS_TABLE} (load_id) ON DELETE CASCADE,
    batch_no INTEGER NOT NULL,
    records_in INTEGER NOT NULL,
    records_inserted INTEGER NOT NULL,
    records_rejected INTEGER NOT NULL,
    min_time TIMESTAMPTZ,
    max_time TIMESTAMPTZ,
    instrument_ids INTEGER[],
    committed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (load_id, batch_no)
  )`,
  `CREATE TABLE ${QUARANTINE_TABLE} (
    id BIGSERIAL PRIMARY KEY,
    load_id BIGINT REFERENCES ${LOADS_TABLE} (load_id) ON DELETE SET NULL,
    target_table TEXT NOT NULL,
    reason TEXT NOT NULL,
    constraint_name TEXT,
    source TEXT,
    record_index BIGINT,
    record JSONB NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
  )`,
  `CREATE INDEX tickvault_quarantine_load_idx ON ${QUARANTINE_TABLE} (load_id)`,
  `CREATE TABLE ${SYMBOL_HISTORY_TABLE} (
    instrument_id INTEGER NOT NULL,
    symbol VARCHAR(50) NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL,
    valid_to TIMESTAMPTZ,
    source TEXT,
    PRIMARY KEY (instrument_id, symbol, valid_from)
  )`,
  `CREATE INDEX tickvault_symbol_history_symbol_idx ON ${SYMBOL_HISTORY_TABLE} (symbol, valid_from DESC)`,
  `CREATE TABLE ${SETTINGS_TABLE} (
    key TEXT PRIMARY KEY,
    value JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
  )`,
];
