/**
 * Pool and TLS settings of the server engine, from four sources.
 *
 * Precedence (highest first):
 *   1. code     — `new ServerEngine({ pool: {...} })` / `openEngine({ pool })`
 *   2. env      — TICKVAULT_POOL_SIZE, TICKVAULT_MAX_OVERFLOW, TICKVAULT_POOL_TIMEOUT,
 *                 TICKVAULT_POOL_RECYCLE, TICKVAULT_POOL_PRE_PING, TICKVAULT_ECHO,
 *                 TICKVAULT_IDLE_TIMEOUT, TICKVAULT_RETRY_WINDOW, TICKVAULT_SSL_CA_FILE,
 *                 TICKVAULT_REPLICA_URLS (comma-separated), TICKVAULT_MAX_REPLICA_LAG,
 *                 TICKVAULT_READ_YOUR_WRITES
 *   3. file     — `tickvault.config.json` in the working directory, or the file named by
 *                 TICKVAULT_CONFIG (which must then exist):
 *                   { "pool": { "poolSize": 5, "maxOverflow": 10, "poolTimeout": 30,
 *                               "poolRecycle": 3600, "poolPrePing": true, "echo": false,
 *                               "idleTimeoutSeconds": 10, "retryWindow": 60 },
 *                     "ssl": { "caFile": "/etc/ssl/db-ca.pem" },
 *                     "policies": { "retention": { "trades_data": "none", "tbbo_data": "3 years" },
 *                                   "compressAfter": { "trades_data": "7 days" },
 *                                   "chunkInterval": { "trades_data": "30 minutes" } },
 *                     "replicas": { "urls": ["postgres://u@replica1:5432/db"], "maxLag": "5s",
 *                                   "readYourWrites": "off" } }
 *                 Other top-level sections are left to their owners; unknown keys inside
 *                 "pool", "ssl", "policies" and "replicas" are rejected. "policies" is read by `tickvault
 *                 init` only (readPolicyConfig): the database keeps the policies in force.
 *   4. defaults — DEFAULT_POOL in config/connection.ts.
 * Each key is resolved on its own (env can set poolSize while the file sets poolTimeout). Every
 * invalid value raises a ConfigError naming the key and where it came from.
 *
 * TLS: `sslmode` (disable | allow | prefer | require | verify-ca | verify-full | no-verify) and
 * `sslrootcert` in the URL, plus the CA file (URL sslrootcert > TICKVAULT_SSL_CA_FILE > file),
 * become pg's `ssl: { ca, rejectUnauthorized, checkServerIdentity }`; see resolveTls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULT_POOL, resolvePool, type PoolSettings } from './connection.js';
import { HYPERTABLE_NAMES, checkAge, checkInterval, type HypertableName, type PolicyOverrides } from './policies.js';
import {
  DEFAULT_REPLICAS,
  parseDurationSeconds,
  parseReadYourWrites,
  parseReplicaUrls,
  type ReadYourWrites,
  type ReplicaSettings,
} from './topology.js';

export const CONFIG_FILE_NAME = 'tickvault.config.json';

type PoolKey = keyof PoolSettings;
const POOL_KEYS: readonly PoolKey[] = [
  'poolSize',
  'maxOverflow',
  'poolTimeout',
  'poolRecycle',
  'poolPrePing',
  'echo',
  'idleTimeoutSeconds',
  'retryWindow',
];

export const POOL_ENV: Readonly<Record<PoolKey, string>> = {
  poolSize: 'TICKVAULT_POOL_SIZE',
  maxOverflow: 'TICKVAULT_MAX_OVERFLOW',
  poolTimeout: 'TICKVAULT_POOL_TIMEOUT',
  poolRecycle: 'TICKVAULT_POOL_RECYCLE',
  poolPrePing: 'TICKVAULT_POOL_PRE_PING',
  echo: 'TICKVAULT_ECHO',
  idleTimeoutSeconds: 'TICKVAULT_IDLE_TIMEOUT',
  retryWindow: 'TICKVAULT_RETRY_WINDOW',
};
const KIND: Readonly<Record<PoolKey, 'int' | 'seconds' | 'bool'>> = {
  poolSize: 'int',
  maxOverflow: 'int',
  idleTimeoutSeconds: 'int',
  poolTimeout: 'seconds',
  poolRecycle: 'seconds',
  retryWindow: 'seconds',
  poolPrePing: 'bool',
  echo: 'bool',
};
const MIN_INT: Partial<Record<PoolKey, number>> = { poolSize: 1 };

export interface SettingsSources {
  /** Settings given in code: the highest precedence. */
  readonly code?: Partial<PoolSettings>;
  /** Environment (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Directory searched for tickvault.config.json (default process.cwd()). */
  readonly cwd?: string;
  /** false: ignore the config file. */
  readonly useFile?: boolean;
  /** Replica settings given in code (or on the command line): the highest precedence. */
  readonly replicas?: ReplicaOptions;
}

/** Replica settings as given in code; maxReplicaLag in seconds or as a duration ('5s', '500ms'). */
export interface ReplicaOptions {
  readonly replicaUrls?: readonly string[];
  readonly maxReplicaLag?: number | string;
  readonly readYourWrites?: ReadYourWrites;
}

export const REPLICA_ENV = {
  replicaUrls: 'TICKVAULT_REPLICA_URLS',
  maxReplicaLag: 'TICKVAULT_MAX_REPLICA_LAG',
  readYourWrites: 'TICKVAULT_READ_YOUR_WRITES',
} as const;

export interface EngineSettings {
  readonly pool: PoolSettings;
  /** CA file path, if one was configured outside the URL. */
  readonly sslCaFile?: string;
  /** The config file that was read, if any. */
  readonly configFile?: string;
  /** Where each pool value came from ('code', 'env', 'file', 'default'), for diagnostics. */
  readonly origin: Readonly<Record<PoolKey, 'code' | 'env' | 'file' | 'default'>>;
  /** Replica URLs, lag bound and read-your-writes mode (same precedence as the pool keys). */
  readonly replicas: ReplicaSettings;
}

interface ConfigFile {
  readonly path: string;
  readonly pool: Record<string, unknown>;
  readonly ssl: Record<string, unknown>;
  readonly policies: Record<string, unknown>;
  readonly replicas: Record<string, unknown>;
}

/** Resolves pool + TLS settings from code, environment, config file and defaults (see header). */
export function resolveEngineSettings(sources: SettingsSources = {}): EngineSettings {
  const env = sources.env ?? process.env;
  const file = sources.useFile === false ? undefined : readConfigFile(env, sources.cwd ?? process.cwd());
  const merged: Partial<Record<PoolKey, unknown>> = {};
  const origin = {} as Record<PoolKey, 'code' | 'env' | 'file' | 'default'>;
  for (const key of POOL_KEYS) {
    const fromCode = sources.code?.[key];
    const fromEnv = env[POOL_ENV[key]];
    const fromFile = file?.pool[key];
    if (fromCode !== undefined) {
      merged[key] = checkValue(key, fromCode, `"${key}" (set in code)`);
      origin[key] = 'code';
    } else if (fromEnv !== undefined && fromEnv.trim() !== '') {
      merged[key] = parseEnv(key, fromEnv.trim());
      origin[key] = 'env';
    } else if (fromFile !== undefined) {
      merged[key] = checkValue(key, fromFile, `"pool.${key}" in ${file!.path}`);
      origin[key] = 'file';
    } else {
      merged[key] = DEFAULT_POOL[key];
      origin[key] = 'default';
    }
  }
  const pool = resolvePool(merged as Partial<PoolSettings>);
  const envCa = env.TICKVAULT_SSL_CA_FILE?.trim();
  const fileCa = file?.ssl.caFile;
  if (fileCa !== undefined && typeof fileCa !== 'string') throw new ConfigError(`"ssl.caFile" in ${file!.path} must be a file path string`);
  const sslCaFile = envCa ? envCa : fileCa ? path.resolve(path.dirname(file!.path), fileCa) : undefined;
  const replicas = replicaSettingsFrom(sources.replicas, env, file);
  return { pool, sslCaFile, origin, replicas, ...(file ? { configFile: file.path } : {}) };
}

/**
 * Only the replica settings (code > env > "replicas" in the config file > defaults): what the
 * embedded engine checks, since replicas are a configuration error there.
 */
export function resolveReplicaSettings(sources: SettingsSources = {}): ReplicaSettings {
  const env = sources.env ?? process.env;
  const file = sources.useFile === false ? undefined : readConfigFile(env, sources.cwd ?? process.cwd());
  return replicaSettingsFrom(sources.replicas, env, file);
}

function replicaSettingsFrom(code: ReplicaOptions | undefined, env: NodeJS.ProcessEnv, file: ConfigFile | undefined): ReplicaSettings {
  const pick = <T>(
    key: keyof typeof REPLICA_ENV,
    fileKey: string,
    parse: (v: unknown, where: string) => T,
    fallback: T,
    codeValue: unknown,
  ): T => {
    if (codeValue !== undefined) return parse(codeValue, `"${key}" (set in code or on the command line)`);
    const fromEnv = env[REPLICA_ENV[key]];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return parse(fromEnv.trim(), REPLICA_ENV[key]);
    const fromFile = file?.replicas[fileKey];
    if (fromFile !== undefined) return parse(fromFile, `"replicas.${fileKey}" in ${file!.path}`);
    return fallback;
  };
  const codeUrls = code?.replicaUrls !== undefined && code.replicaUrls.length > 0 ? code.replicaUrls : undefined;
  return {
    replicaUrls: pick('replicaUrls', 'urls', parseReplicaUrls, DEFAULT_REPLICAS.replicaUrls, codeUrls),
    maxReplicaLagSeconds: pick('maxReplicaLag', 'maxLag', parseDurationSeconds, DEFAULT_REPLICAS.maxReplicaLagSeconds, code?.maxReplicaLag),
    readYourWrites: pick('readYourWrites', 'readYourWrites', parseReadYourWrites, DEFAULT_REPLICAS.readYourWrites, code?.readYourWrites),
  };
}

function parseEnv(key: PoolKey, raw: string): number | boolean {
  const name = POOL_ENV[key];
  if (KIND[key] === 'bool') {
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new ConfigError(`${name} must be true or false (1/0, yes/no, on/off); got "${raw}"`);
  }
  if (!/^[+]?\d+(\.\d+)?$/.test(raw)) {
    throw new ConfigError(`${name} must be ${KIND[key] === 'int' ? 'a whole number' : 'a number of seconds'}; got "${raw}"`);
  }
  return checkValue(key, Number(raw), name) as number;
}

function checkValue(key: PoolKey, v: unknown, where: string): number | boolean {
  switch (KIND[key]) {
    case 'bool':
      if (typeof v !== 'boolean') throw new ConfigError(`${where} must be true or false; got ${JSON.stringify(v)}`);
      return v;
    case 'int': {
      const min = MIN_INT[key] ?? 0;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
        throw new ConfigError(`${where} must be an integer >= ${min}; got ${JSON.stringify(v)}`);
      return v;
    }
    case 'seconds':
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        throw new ConfigError(`${where} must be a number of seconds >= 0; got ${JSON.stringify(v)}`);
      return v;
  }
}

function readConfigFile(env: NodeJS.ProcessEnv, cwd: string): ConfigFile | undefined {
  const explicit = env.TICKVAULT_CONFIG?.trim();
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read the config file ${file}${explicit ? ' (TICKVAULT_CONFIG)' : ''}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`the config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(`the config file ${file} must hold a JSON object`);
  const section = (name: string, allowed: readonly string[]): Record<string, unknown> => {
    const s = (parsed as Record<string, unknown>)[name];
    if (s === undefined) return {};
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new ConfigError(`"${name}" in ${file} must be an object`);
    for (const k of Object.keys(s)) {
      if (!allowed.includes(k)) throw new ConfigError(`unknown key "${name}.${k}" in ${file}; expected one of ${allowed.join(', ')}`);
    }
    return s as Record<string, unknown>;
  };
  return {
    path: file,
    pool: section('pool', POOL_KEYS),
    ssl: section('ssl', ['caFile']),
    policies: section('policies', ['retention', 'compressAfter', 'chunkInterval']),
    replicas: section('replicas', ['urls', 'maxLag', 'readYourWrites']),
  };
}

/**
 * The "policies" section of the config file as policy overrides ({} without a file or section).
 * Every value is checked here, so a bad one is a ConfigError naming the key and the file.
 */
export function readPolicyConfig(sources: Pick<SettingsSources, 'env' | 'cwd'> = {}): PolicyOverrides {
  const file = readConfigFile(sources.env ?? process.env, sources.cwd ?? process.cwd());
  if (!file) return {};
  const part = (key: string, age: boolean): Record<string, string | null> | undefined => {
    const v = file.policies[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ConfigError(`"policies.${key}" in ${file.path} must be an object of table: ${age ? 'interval or "none"' : 'interval'}`);
    const out: Record<string, string | null> = {};
    for (const [table, value] of Object.entries(v)) {
      if (!HYPERTABLE_NAMES.includes(table as HypertableName))
        throw new ConfigError(`unknown table "policies.${key}.${table}" in ${file.path}; expected one of ${HYPERTABLE_NAMES.join(', ')}`);
      const where = `"policies.${key}.${table}" in ${file.path}`;
      out[table] = age ? checkAge(where, value) : checkInterval(where, value);
    }
    return out;
  };
  const retainFor = part('retention', true);
  const compressAfter = part('compressAfter', true);
  const chunkInterval = part('chunkInterval', false) as Record<string, string> | undefined;
  return { ...(retainFor ? { retainFor } : {}), ...(compressAfter ? { compressAfter } : {}), ...(chunkInterval ? { chunkInterval } : {}) };
}

// ---------------------------------------------------------------------------------------------
// TLS

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full' | 'no-verify';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

export interface TlsOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
  /** verify-ca: the chain is checked, the host name is not. */
  readonly checkServerIdentity?: () => undefined;
}

/**
 * pg's `ssl` option from the URL's sslmode/sslrootcert/sslcert/sslkey and a CA file:
 *   disable → false; allow/prefer → TLS without verification (pg cannot fall back to plain text,
 *   so these mean "encrypted, unverified"); no-verify → same; require → unverified unless a CA is
 *   given, then as verify-ca (libpq's rule); verify-ca → chain checked against the CA, host name
 *   not; verify-full → chain and host name checked.
 *   No sslmode but a CA file → verify-full. Neither → no TLS (false).
 * A CA file that cannot be read is a ConfigError naming where it was configured.
 */
export function resolveTls(params: URLSearchParams, caFile: string | undefined): false | TlsOptions {
  const rawMode = params.get('sslmode');
  if (rawMode !== null && !SSL_MODES.includes(rawMode as SslMode)) {
    throw new ConfigError(`sslmode "${rawMode}" in the database URL is not one of ${SSL_MODES.join(', ')}`);
  }
  const rootCert = params.get('sslrootcert') ?? undefined;
  const caPath = rootCert ?? caFile;
  const mode: SslMode | undefined =
    (rawMode as SslMode | null) ??
    (caPath ? 'verify-full' : params.get('ssl') === 'true' || params.get('ssl') === '1' ? 'require' : undefined);
  if (mode === undefined || mode === 'disable') return false;
  const read = (file: string | undefined, what: string): string | undefined => {
    if (!file) return undefined;
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const ca = read(caPath, rootCert ? 'sslrootcert (database URL)' : 'the TLS CA file (TICKVAULT_SSL_CA_FILE / ssl.caFile)');
  const cert = read(params.get('sslcert') ?? undefined, 'sslcert (database URL)');
  const key = read(params.get('sslkey') ?? undefined, 'sslkey (database URL)');
  const base = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  switch (mode) {
    case 'allow':
    case 'prefer':
    case 'no-verify':
      return { ...base, rejectUnauthorized: false };
    case 'require':
      return ca ? { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { ...base, rejectUnauthorized: false };
    case 'verify-ca':
      if (!ca) throw new ConfigError('sslmode=verify-ca needs a CA: set sslrootcert in the URL or TICKVAULT_SSL_CA_FILE');
      return { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...base, rejectUnauthorized: true };
  }
}
