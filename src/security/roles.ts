/**
 * Least-privilege roles for a tickvault database.
 *
 *   reader — USAGE on the schema, SELECT on the market tables, the hourly rollup and the
 *            bookkeeping tables; nothing else (INSERT/UPDATE/DELETE/TRUNCATE revoked).
 *   loader — SELECT, INSERT, UPDATE, DELETE on the market tables and the bookkeeping tables
 *            (ledger, batches, quarantine, symbol history, settings), SELECT on the schema-version
 *            table, USAGE + SELECT on the sequences of those tables. It owns nothing, so it cannot
 *            DROP, ALTER or TRUNCATE; bulk mode (drop/re-create indexes) and migrations stay with
 *            the owner. ANALYZE after a load is skipped by the server with a warning.
 *
 * Both roles are refused if they are superusers or members of the tables' owner (either would
 * make "least privilege" a lie). Role names are validated and always quoted; passwords are never
 * part of SQL text (they travel as a bound parameter into a transaction-local setting, which a
 * server-side DO block reads), so neither echo logs nor log_statement show them.
 */
import type { Connection, Engine } from '../engine/types.js';
import { ConfigError, QueryError } from '../errors.js';
import {
  LOAD_BATCHES_TABLE,
  LOADS_TABLE,
  QUARANTINE_TABLE,
  SETTINGS_TABLE,
  SYMBOL_HISTORY_TABLE,
  VERSION_TABLE,
} from '../schema/bookkeeping.js';
import { HOURLY_VIEW } from '../schema/rollups.js';
import { MARKET_TABLES } from '../schema/tables.js';
import { ident } from '../sql/ident.js';

export interface RoleOptions {
  /** Default 'tickvault_reader'. */
  readonly readerRole?: string;
  /** Default 'tickvault_loader'. */
  readonly loaderRole?: string;
  /** Create the roles with LOGIN (default true); false makes group roles to GRANT to users. */
  readonly login?: boolean;
  /** Set (or change) the role's password. Never logged. */
  readonly readerPassword?: string;
  readonly loaderPassword?: string;
}

export interface RoleResult {
  readonly readerRole: string;
  readonly loaderRole: string;
  /** Roles that did not exist before. */
  readonly created: readonly string[];
  /** Human-readable list of what was granted. */
  readonly grants: readonly string[];
  /** Things the caller should fix, e.g. a LOGIN role created without a password. */
  readonly warnings: readonly string[];
}

const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const RESERVED = /^(pg_|public$|current_user$|session_user$|current_role$|none$)/i;

/** Rejects anything but a plain identifier; PostgreSQL's own pg_* roles and keywords are refused. */
export function validateRoleName(name: string, what: string): string {
  if (!ROLE_NAME.test(name)) {
    throw new ConfigError(
      `${what} "${name.slice(0, 80)}" is not a valid role name: use letters, digits and _ (start with a letter or _), at most 63 characters`,
    );
  }
  if (RESERVED.test(name)) throw new ConfigError(`${what} "${name}" is reserved by PostgreSQL`);
  return name;
}

export async function createRoles(engine: Engine, options: RoleOptions = {}): Promise<RoleResult> {
  const reader = validateRoleName(options.readerRole ?? 'tickvault_reader', 'reader role');
  const loader = validateRoleName(options.loaderRole ?? 'tickvault_loader', 'loader role');
  if (reader === loader) throw new ConfigError('the reader and loader roles must be different roles');
  const login = options.login ?? true;

  return engine.transaction(async (tx) => {
    const { rows: schemaRows } = await tx.query<{ schema: string }>('SELECT current_schema() AS schema');
    const schema = schemaRows[0]!.schema;
    const market = MARKET_TABLES.map((s) => s.name);
    const bookkeeping = [LOADS_TABLE, LOAD_BATCHES_TABLE, QUARANTINE_TABLE, SYMBOL_HISTORY_TABLE, SETTINGS_TABLE];
    const existing = await existingRelations(tx, [...market, ...bookkeeping, VERSION_TABLE, HOURLY_VIEW]);
    const missing = market.filter((t) => !existing.has(t));
    if (missing.length > 0)
      throw new QueryError(`the schema is not initialised (missing ${missing.join(', ')}): run \`tickvault init\` first`);

    const created: string[] = [];
    for (const role of [reader, loader]) {
      const { rows } = await tx.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [role]);
      if (rows.length === 0) {
        await tx.query(`CREATE ROLE ${ident(role)} ${login ? 'LOGIN' : 'NOLOGIN'} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`);
        created.push(role);
      } else if (rows[0]!.rolsuper) {
        throw new QueryError(`role "${role}" is a superuser; a least-privilege role must not be (choose another name)`);
      }
      const { rows: owners } = await tx.query<{ owner: string }>(
        `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
          WHERE c.relnamespace = $1::regnamespace AND c.relname = ANY($2::text[]) AND pg_has_role($3, c.relowner, 'MEMBER')`,
        [schema, market, role],
      );
      if (owners.length > 0) {
        throw new QueryError(
          `role "${role}" owns the tables or is a member of their owner (${owners.map((o) => o.owner).join(', ')}); it could drop them — choose a role that is not`,
        );
      }
    }
    const password = async (role: string, pw: string | undefined) => {
      if (pw === undefined) return;
      if (pw.length === 0) throw new ConfigError(`the password for role "${role}" is empty`);
      await tx.query(`SELECT set_config('tickvault.role_name', $1, true), set_config('tickvault.role_password', $2, true)`, [role, pw]);
      await tx.query(
        `DO $$ BEGIN EXECUTE format('ALTER ROLE %I PASSWORD %L', current_setting('tickvault.role_name'), current_setting('tickvault.role_password')); END $$`,
      );
      await tx.query(`SELECT set_config('tickvault.role_password', '', true)`);
    };
    await password(reader, options.readerPassword);
    await password(loader, options.loaderPassword);
    const warnings: string[] = [];
    for (const [role, pw, env] of [
      [reader, options.readerPassword, 'READER'],
      [loader, options.loaderPassword, 'LOADER'],
    ] as const) {
      if (login && created.includes(role) && pw === undefined) {
        warnings.push(
          `role ${role} was created with LOGIN but without a password: it cannot log in where the server asks for one ` +
            `(set TICKVAULT_${env}_PASSWORD and run \`tickvault roles\` again, or use --no-login and GRANT it to your users)`,
        );
      }
    }

    const list = (names: readonly string[]) =>
      names
        .filter((n) => existing.has(n))
        .map(ident)
        .join(', ');
    const r = ident(reader);
    const l = ident(loader);
    const readable = [...market, HOURLY_VIEW, ...bookkeeping, VERSION_TABLE];
    const writable = [...market, ...bookkeeping];
    const grants: string[] = [];
    const run = async (sql: string, what: string) => {
      await tx.query(sql);
      grants.push(what);
    };

    await run(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${r}, ${l}`, `USAGE on schema ${schema} to ${reader}, ${loader}`);
    // Start from nothing on our relations so a re-run also removes what an older grant gave.
    await tx.query(`REVOKE ALL ON ${list(readable)} FROM ${r}, ${l}`);
    await run(
      `GRANT SELECT ON ${list(readable)} TO ${r}`,
      `SELECT on ${readable.filter((n) => existing.has(n)).length} tables/views to ${reader}`,
    );
    await run(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${list(writable)} TO ${l}`,
      `SELECT, INSERT, UPDATE, DELETE on ${writable.filter((n) => existing.has(n)).length} tables to ${loader}`,
    );
    await run(`GRANT SELECT ON ${list([VERSION_TABLE, HOURLY_VIEW])} TO ${l}`, `SELECT on ${VERSION_TABLE}, ${HOURLY_VIEW} to ${loader}`);
    const { rows: seqs } = await tx.query<{ seq: string }>(
      `SELECT DISTINCT s.relname AS seq FROM pg_class s
         JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         JOIN pg_class t ON t.oid = d.refobjid
        WHERE s.relkind = 'S' AND t.relnamespace = $1::regnamespace AND t.relname = ANY($2::text[])`,
      [schema, writable],
    );
    if (seqs.length > 0) {
      const seqList = seqs.map((s) => ident(s.seq)).join(', ');
      await tx.query(`REVOKE ALL ON SEQUENCE ${seqList} FROM ${r}, ${l}`);
      await run(
        `GRANT USAGE, SELECT ON SEQUENCE ${seqList} TO ${l}`,
        `USAGE, SELECT on sequences ${seqs.map((s) => s.seq).join(', ')} to ${loader}`,
      );
    }
    return { readerRole: reader, loaderRole: loader, created, grants, warnings };
  });
}

async function existingRelations(tx: Connection, names: readonly string[]): Promise<Set<string>> {
  const { rows } = await tx.query<{ relname: string }>(
    'SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relname = ANY($1::text[])',
    [names],
  );
  return new Set(rows.map((r) => r.relname));
}
