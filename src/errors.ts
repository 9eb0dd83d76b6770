/**
 * Typed errors. Each carries a stable `code` so callers (and the CLI's exit codes) can branch on
 * it, and a message that says what to do. Messages never contain credentials: anything that may
 * hold a URL goes through `redactUrl` first.
 */
export class TickvaultError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The configuration is invalid (bad URL, unknown key, value out of range). */
export class ConfigError extends TickvaultError {
  constructor(message: string) {
    super('CONFIG', message);
  }
}

/** The database cannot be reached or refused the connection. */
export class ConnectionError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONNECTION', message, options);
  }
}

/** The server lacks something tickvault needs (e.g. the TimescaleDB extension files). */
export class CapabilityError extends TickvaultError {
  constructor(message: string) {
    super('CAPABILITY', message);
  }
}

/** A migration failed; the database stays at the last version that committed. */
export class MigrationError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MIGRATION', message, options);
  }
}

/** Input records are malformed in a way that is a caller bug (unknown or missing field). */
export class RecordShapeError extends TickvaultError {
  constructor(message: string) {
    super('RECORD_SHAPE', message);
  }
}

/** A COPY or load failed as a whole. */
export class LoadError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LOAD', message, options);
  }
}

/** A library function outside the query API (a load plan, a rollup refresh) was given a bad argument. */
export class ArgumentError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARGUMENT', message, options);
  }
}

/** A query was given bad arguments. */
export class QueryError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('QUERY', message, options);
  }
}

/** An export could not be written (a value the format cannot hold, the output file). */
export class ExportError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXPORT', message, options);
  }
}

const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):[^@/\s]*@/gi;
const PASSWORD_PARAM = /((?:^|[\s?&])password=)[^\s&]*/gi;

/** Removes passwords from any text that may contain a connection URL or conninfo. */
export function redactUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:***@`).replace(PASSWORD_PARAM, '$1***');
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return redactUrl(err.message);
  return redactUrl(String(err));
}

/** A CSV or Parquet file cannot be read as a table (unreadable header, broken quoting, not Parquet). */
export class SourceFormatError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SOURCE_FORMAT', message, options);
  }
}

/** A column mapping (`--map`, a mapping file, or the detected Databento encoding) cannot map the file's columns to the table. */
export class MappingError extends TickvaultError {
  constructor(message: string) {
    super('MAPPING', message);
  }
}

/**
 * None of the listed hosts is a primary (each is in recovery or unreachable): writes, migrations,
 * policies, maintenance and loads have nowhere to go. Transient for a load's retry, which rides
 * out a failover until a standby is promoted.
 */
export class NoPrimaryError extends TickvaultError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NO_PRIMARY', message, options);
  }
}

/** A connection meant for writes reached a host in recovery (a standby, or a demoted old primary). */
export class NotPrimaryError extends TickvaultError {
  constructor(message: string) {
    super('NOT_PRIMARY', message);
  }
}
