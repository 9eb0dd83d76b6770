/**
 * Primary + replicas in the configuration. A server target may name several hosts — libpq's
 * multi-host syntax `postgres://u@h1:p1,h2:p2/db`, extra `replicaUrls`, or both. Which host is
 * the primary is not configured but found at run time (`pg_is_in_recovery()`), so the same list
 * keeps working after a standby is promoted.
 */
import { ConfigError } from '../errors.js';

/**
 * How a read that must see earlier writes is served: 'off' (any replica under the lag bound),
 * 'wait' (a replica once it replayed the primary's WAL position taken when the read starts, at
 * most maxReplicaLag seconds, else the primary), 'primary' (reads go to the primary).
 */
export type ReadYourWrites = 'off' | 'wait' | 'primary';
export const READ_YOUR_WRITES: readonly ReadYourWrites[] = ['off', 'wait', 'primary'];

export interface ReplicaSettings {
  /** Extra hosts (single- or multi-host URLs); their role is found at run time like any other host. */
  readonly replicaUrls: readonly string[];
  /** A replica further behind than this (seconds) is skipped for reads. */
  readonly maxReplicaLagSeconds: number;
  readonly readYourWrites: ReadYourWrites;
}

export const DEFAULT_REPLICAS: ReplicaSettings = { replicaUrls: [], maxReplicaLagSeconds: 5, readYourWrites: 'off' };

const URL_PARTS = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/i;

/**
 * One single-host URL per host of a (possibly multi-host) postgres:// URL, each keeping the
 * credentials, database and parameters. A URL that is not postgres:// is returned as is (its
 * validation belongs to the target resolution).
 */
export function splitHosts(url: string): string[] {
  const m = URL_PARTS.exec(url);
  if (!m) return [url];
  const [, scheme, userinfo = '', hostList = '', rest = ''] = m;
  if (!hostList.includes(',')) return [url];
  const hosts = hostList.split(',');
  if (hosts.some((h) => h.trim() === '')) throw new ConfigError('the database URL has an empty entry in its host list (h1:p1,h2:p2)');
  return hosts.map((h) => `${scheme}${userinfo}${h.trim()}${rest}`);
}

/** Every host of the topology once: the database URL's hosts, then the replica URLs' hosts. */
export function topologyHosts(databaseUrl: string, replicaUrls: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const url of [databaseUrl, ...replicaUrls].flatMap(splitHosts)) {
    const key = hostKey(url);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(url);
  }
  return out;
}

/** `host:port` of a single-host URL, for display and de-duplication (never the credentials). */
export function hostLabel(url: string): string {
  return hostKey(url);
}

function hostKey(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || u.searchParams.get('port') || '5432'}`;
  } catch {
    throw new ConfigError('a host in the database or replica URLs is not a valid URL; expected postgres://user@host:port/database');
  }
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$/i;

/** Seconds from `5`, `5s`, `500ms`, `2m`; `where` names the setting in the error. */
export function parseDurationSeconds(value: unknown, where: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const m = DURATION.exec(value.trim());
    if (m) {
      const n = Number(m[1]);
      const unit = (m[2] ?? 's').toLowerCase();
      return unit === 'ms' ? n / 1000 : unit === 's' ? n : n * 60;
    }
  }
  throw new ConfigError(`${where} must be a duration such as 5s, 500ms or 2m (or a number of seconds >= 0); got ${JSON.stringify(value)}`);
}

export function parseReadYourWrites(value: unknown, where: string): ReadYourWrites {
  if (typeof value === 'string' && (READ_YOUR_WRITES as readonly string[]).includes(value.trim().toLowerCase())) {
    return value.trim().toLowerCase() as ReadYourWrites;
  }
  throw new ConfigError(`${where} must be one of ${READ_YOUR_WRITES.join(', ')}; got ${JSON.stringify(value)}`);
}

/** Replica URLs from a list value (array of strings, or one comma-separated string as in the environment). */
export function parseReplicaUrls(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? splitUrlList(value) : value;
  if (!Array.isArray(list) || list.some((u) => typeof u !== 'string' || u.trim() === '')) {
    throw new ConfigError(`${where} must be a list of postgres:// URLs; got ${JSON.stringify(value)}`);
  }
  return list.map((u: string) => u.trim());
}

/**
 * A comma-separated list of URLs, where a URL may itself hold a comma-separated host list: a new
 * URL starts only at a `postgres://` / `postgresql://` scheme.
 */
function splitUrlList(text: string): string[] {
  return text
    .split(/,(?=\s*postgres(?:ql)?:\/\/)/i)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
