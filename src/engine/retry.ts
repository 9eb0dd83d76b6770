/**
 * Retrying transient failures. A failure is transient when running the same work again, on a
 * fresh connection a moment later, can succeed: the connection was reset or terminated, the
 * server is shutting down or starting up (a restart, a failover), or the transaction lost a
 * serialization conflict or a deadlock. Everything else (bad SQL, constraint violations, wrong
 * password, unknown database, a pool that stayed full for poolTimeout) fails at once.
 *
 * Only wrap work that is safe to repeat: a single transaction (it either committed or it did not),
 * or work that checks whether an earlier attempt committed (the loader checks its ledger).
 */

/** SQLSTATEs and socket error codes after which a retry on a new connection can succeed. */
const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (the server is starting up / shutting down)
  '08000',
  '08001',
  '08003',
  '08006', // connection exceptions
  '53300', // too_many_connections
  // tickvault's own: during a failover no host is the primary yet, or the one found was demoted.
  'NO_PRIMARY',
  'NOT_PRIMARY',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const TRANSIENT_MESSAGES =
  /Connection terminated|connection ended|Client has encountered a connection error|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)|server closed the connection unexpectedly|Client was closed and is not queryable/i;

/** True when `err` (or an error in its cause chain) is a transient database failure. */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (typeof e !== 'object') return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') {
      // A full pool is a capacity problem, not a blip: retrying would only wait poolTimeout again.
      if (/no database connection became free|timeout exceeded when trying to connect/i.test(message)) return false;
      if (TRANSIENT_MESSAGES.test(message)) return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Errors withRetry gave up on because its window ran out (not because they were permanent). */
const outlasted = new WeakSet<object>();

/** True when withRetry retried `err` for its whole window: the failure is an outage, not a blip. */
export function outlastedRetryWindow(err: unknown): boolean {
  return typeof err === 'object' && err !== null && outlasted.has(err);
}

export interface RetryOptions {
  /** Total tries including the first (default 5). 1 = no retry. */
  readonly attempts?: number;
  /** First backoff in ms (default 100); doubles each retry up to maxMs. */
  readonly baseMs?: number;
  /** Cap of one backoff in ms (default 5000). */
  readonly maxMs?: number;
  /** Which errors to retry (default isTransientError). */
  readonly isTransient?: (err: unknown) => boolean;
  /**
   * Give up once the next wait would end more than this many ms after the first try started
   * (attempts then defaults to unlimited). 0 = no retry.
   */
  readonly windowMs?: number;
  /** Called before each wait (for logging/metrics). */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Random source in [0, 1) (tests make it deterministic). */
  readonly random?: () => number;
}

/**
 * The backoff before retry number `retry` (1-based): "equal jitter" — half the exponential step
 * fixed, half random — so concurrent workers that failed together do not retry in lockstep, yet
 * each still waits a minimum.
 */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Runs `fn(attempt)` (attempt 0 first) and retries it after a jittered exponential backoff while
 * it fails with a transient error, at most `attempts` times in all and within `windowMs`. The last
 * error is rethrown unchanged when the attempts or the window run out or the error is not transient.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const windowMs = options.windowMs;
  const attempts = options.attempts ?? (windowMs === undefined ? 5 : Number.MAX_SAFE_INTEGER);
  const started = Date.now();
  const baseMs = options.baseMs ?? 100;
  const maxMs = options.maxMs ?? 5000;
  const transient = options.isTransient ?? isTransientError;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`withRetry: attempts must be an integer >= 1 (got ${attempts})`);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= attempts || !transient(err)) throw err;
      const delay = backoffMs(attempt + 1, baseMs, maxMs, options.random);
      if (windowMs !== undefined && Date.now() - started + delay > windowMs) {
        if (typeof err === 'object' && err !== null) outlasted.add(err);
        throw err;
      }
      options.onRetry?.(err, attempt + 1, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * What the loader uses per batch: 200 ms doubling to 5 s, for as long as the engine's retry
 * window (pool setting retryWindow, default 60 s) — enough to ride out a server restart or a
 * failover, without hanging for minutes when the server is really gone.
 */
export function loadBatchRetry(windowMs: number): RetryOptions {
  return { baseMs: 200, maxMs: 5000, windowMs };
}
