/**
 * Is this database's tickvault schema the one this code expects? Operations ask before they
 * touch a table, so a missing or outdated schema is one line with the fix, not a driver error
 * ("relation trades_data does not exist") halfway through a load. Reading the version needs only
 * SELECT on the version table, so least-privilege roles can ask; only `migrate` needs CREATE.
 */
import type { Engine, Queryable } from '../engine/types.js';
import { TickvaultError } from '../errors.js';
import { LATEST_VERSION, migrate, schemaVersion } from './migrate.js';

export type SchemaErrorCode = 'SCHEMA_MISSING' | 'SCHEMA_OUTDATED' | 'SCHEMA_NEWER';

/** The database's schema is missing, behind or ahead of this tickvault; the message names the fix. */
export class SchemaError extends TickvaultError {
  constructor(
    code: SchemaErrorCode,
    message: string,
    readonly version: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Databases (engines or connections) already found current: one version query per engine. */
const current = new WeakSet<object>();

/** Throws SchemaError unless the schema is at LATEST_VERSION. */
export async function requireSchema(db: Queryable): Promise<void> {
  if (current.has(db)) return;
  const version = await schemaVersion(db);
  if (version === LATEST_VERSION) {
    current.add(db);
    return;
  }
  throw schemaError(version);
}

/**
 * For commands that write (the CLI's `load`): an up-to-date schema is used as it is — no DDL, so
 * a loader role without CREATE can load; a missing or outdated one is migrated, and a role that
 * may not migrate is told to run `tickvault init` as the owner.
 */
export async function prepareSchema(engine: Engine): Promise<void> {
  const version = await schemaVersion(engine);
  if (version === LATEST_VERSION) {
    current.add(engine);
    return;
  }
  if (version > LATEST_VERSION) throw schemaError(version);
  try {
    await migrate(engine);
  } catch (err) {
    if (isPermissionDenied(err)) throw schemaError(version, err);
    throw err;
  }
}

function schemaError(version: number, cause?: unknown): SchemaError {
  const options = cause === undefined ? undefined : { cause };
  const denied = cause === undefined ? '' : ' (this role may not create tables)';
  if (version === 0) {
    return new SchemaError(
      'SCHEMA_MISSING',
      `this database has no tickvault schema${denied}: run \`tickvault init\` (library: migrate(engine)) as the database owner`,
      version,
      options,
    );
  }
  if (version < LATEST_VERSION) {
    return new SchemaError(
      'SCHEMA_OUTDATED',
      `this database's tickvault schema is at version ${version}, this tickvault needs version ${LATEST_VERSION}${denied}: ` +
        'run `tickvault init` (library: migrate(engine)) as the database owner to apply the pending migrations',
      version,
      options,
    );
  }
  return new SchemaError(
    'SCHEMA_NEWER',
    `this database's tickvault schema is at version ${version}, newer than this tickvault (version ${LATEST_VERSION}): upgrade tickvault`,
    version,
    options,
  );
}

function isPermissionDenied(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === '42501') return true;
  }
  return false;
}
