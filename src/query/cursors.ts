/**
 * Several server-side cursors read side by side, in ONE read-only transaction. A merge of ordered
 * streams (the as-of join: trades, quotes, a quote stream per markout) needs them all open at
 * once, and the embedded engine has one session: two `streamQuery` calls there would wait for
 * each other. Here every statement — DECLARE, FETCH, and point lookups between them — runs on
 * the one session the transaction holds, so it works the same on both engines.
 *
 * As in stream.ts, the transaction is callback-shaped while the caller pulls at its own pace:
 * the caller posts one statement at a time and the transaction runs it (strict turn-taking).
 * Memory: one batch per cursor. Stopping early (break / return / throw in the consumer's
 * for-await) ends the transaction, which closes every cursor, before the generator returns.
 *
 * The same caveat as stream.ts: on the embedded engine, do not run other queries on the engine
 * from inside the consumer's loop — they would wait for this transaction.
 */
import type { Connection, Engine } from '../engine/types.js';
import { positiveInt } from './params.js';

export interface CursorSession {
  /** A cursor over `sql`; it is declared at its first fill. */
  open<R>(sql: string, params: readonly unknown[]): RowCursor<R>;
  /** A plain statement in the same transaction (e.g. a point lookup between fetches). */
  query<R>(sql: string, params: readonly unknown[]): Promise<R[]>;
}

type Job = { run(tx: Connection): Promise<unknown>; resolve(v: unknown): void; reject(err: unknown): void };

/**
 * Rows of one cursor, one batch at a time. Readers use `rows[i]` directly while `i < rows.length`
 * and call `fill()` when the batch is used up — a synchronous hot loop with one await per batch.
 */
export class RowCursor<R> {
  rows: R[] = [];
  i = 0;
  private declared = false;
  private done = false;

  constructor(
    private readonly post: <T>(run: (tx: Connection) => Promise<T>) => Promise<T>,
    private readonly name: string,
    private readonly sql: string,
    private readonly params: readonly unknown[],
    private readonly batchSize: number,
  ) {}

  /** The current row, or undefined when the batch is used up (then `fill`). */
  head(): R | undefined {
    return this.i < this.rows.length ? this.rows[this.i] : undefined;
  }

  /** Fetches the next batch; false when the cursor has no more rows. */
  async fill(): Promise<boolean> {
    if (this.i < this.rows.length) return true;
    if (this.done) return false;
    const rows = await this.post(async (tx) => {
      if (!this.declared) {
        await tx.query(`DECLARE ${this.name} NO SCROLL CURSOR FOR ${this.sql}`, this.params);
        this.declared = true;
      }
      return (await tx.query<R>(`FETCH FORWARD ${this.batchSize} FROM ${this.name}`)).rows;
    });
    if (rows.length < this.batchSize) this.done = true;
    this.rows = rows;
    this.i = 0;
    return rows.length > 0;
  }
}

/**
 * Runs `body` with a cursor session inside one read-only transaction and yields what it yields.
 * `batchSize` rows per FETCH (the memory bound of each cursor).
 */
export async function* withCursors<T>(
  engine: Engine,
  batchSize: number,
  body: (s: CursorSession) => AsyncGenerator<T, void, undefined>,
): AsyncGenerator<T, void, undefined> {
  const size = positiveInt('batchSize', batchSize);
  const queue: (Job | null)[] = [];
  let wake: (() => void) | null = null;
  let failure: { err: unknown } | null = null;
  let finished = false;

  const nextJob = async (): Promise<Job | null> => {
    while (queue.length === 0)
      await new Promise<void>((r) => {
        wake = r;
      });
    return queue.shift()!;
  };
  const push = (job: Job | null) => {
    queue.push(job);
    const w = wake;
    wake = null;
    w?.();
  };
  const post = <V>(run: (tx: Connection) => Promise<V>): Promise<V> =>
    new Promise<V>((resolve, reject) => {
      if (failure) {
        reject(failure.err);
        return;
      }
      if (finished) {
        reject(new Error('cursor session already ended'));
        return;
      }
      push({ run, resolve: resolve as (v: unknown) => void, reject });
    });

  const producer = engine
    .transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      for (;;) {
        const job = await nextJob();
        if (job === null) break;
        try {
          job.resolve(await job.run(tx));
        } catch (err) {
          job.reject(err);
          throw err; // the transaction is aborted: roll it back
        }
      }
    })
    .then(
      () => {
        finished = true;
      },
      (err: unknown) => {
        finished = true;
        failure = { err };
        for (const j of queue.splice(0)) j?.reject(err);
      },
    );

  let n = 0;
  const session: CursorSession = {
    open: <R>(sql: string, params: readonly unknown[]) => new RowCursor<R>(post, `tickvault_c${n++}`, sql, params, size),
    query: <R>(sql: string, params: readonly unknown[]) => post(async (tx) => (await tx.query<R>(sql, params)).rows),
  };
  try {
    yield* body(session);
  } finally {
    if (!finished) push(null);
    await producer;
  }
  if (failure) throw (failure as { err: unknown }).err;
}
