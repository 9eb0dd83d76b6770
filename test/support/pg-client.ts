import pg from 'pg';

/**
 * Runs `fn` on a fresh pg client of `url` (not tickvault's engine: the tests check what it did) and
 * closes it. A server that never answers fails the connect after 10 s instead of the test's timeout.
 */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
