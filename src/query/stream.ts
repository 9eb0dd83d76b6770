/**
 * Streaming reads with constant memory: a server-side cursor (DECLARE … NO SCROLL CURSOR inside a
 * READ ONLY transaction, then FETCH FORWARD n until a short batch). Works the same on both engines:
 * only `engine.transaction` is used, so the cursor lives on one dedicated session.
 *
 * The transaction is callback-shaped while the caller pulls rows at its own pace, so the two are
 * joined by strict turn-taking: the cursor fetches the next batch only when the consumer asks for
 * it. At most one batch is held in memory. Stopping early (break / return / throw in a for-await)
 * closes the cursor and ends the transaction before the generator returns.
 *
 * Caveat (single-session engines, capability multipleConnections = false): the embedded engine has
 * one session, held by the stream until it ends; do not run other queries on the same engine from
 * inside the loop — they would wait for the stream, which waits for the loop.
 */
import type { Engine } from '../engine/types.js';
import { positiveInt } from './params.js';

export interface StreamOptions {
  /** Rows per FETCH (default 1000): the memory bound of the stream. */
  readonly batchSize?: number;
  /** Called after each FETCH with its row count (for progress and tests). */
  readonly onBatch?: (rows: number) => void;
}

export const DEFAULT_STREAM_BATCH = 1000;

interface Request<R> {
  readonly go: boolean;
  resolve(rows: R[] | null): void;
  reject(err: unknown): void;
}

/** Streams the rows of `sql` (bound `params`) through a cursor. */
export async function* streamQuery<R = Record<string, unknown>>(
  engine: Engine,
  sql: string,
  params: readonly unknown[] = [],
  options: StreamOptions = {},
): AsyncGenerator<R, void, undefined> {
  const batchSize = positiveInt('batchSize', options.batchSize ?? DEFAULT_STREAM_BATCH);
  let pending: Request<R> | null = null;
  let current: Request<R> | null = null;
  let wake: (() => void) | null = null;
  let failure: { err: unknown } | null = null;
  let producerDone = false;

  const nextRequest = async (): Promise<Request<R>> => {
    while (!pending)
      await new Promise<void>((r) => {
        wake = r;
      });
    const p: Request<R> = pending;
    pending = null;
    return p;
  };
  const request = (go: boolean): Promise<R[] | null> =>
    new Promise<R[] | null>((resolve, reject) => {
      if (failure) {
        reject(failure.err);
        return;
      }
      if (producerDone) {
        resolve(null);
        return;
      }
      pending = { go, resolve, reject };
      const w = wake;
      wake = null;
      w?.();
    });

  const producer = engine
    .transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ ONLY');
      await tx.query(`DECLARE tickvault_stream NO SCROLL CURSOR FOR ${sql}`, params);
      for (;;) {
        current = await nextRequest();
        if (!current.go) break;
        const { rows } = await tx.query<R>(`FETCH FORWARD ${batchSize} FROM tickvault_stream`);
        options.onBatch?.(rows.length);
        const c = current;
        current = null;
        c.resolve(rows);
        if (rows.length < batchSize) break;
      }
      await tx.query('CLOSE tickvault_stream');
    })
    .then(
      () => {
        producerDone = true;
        current?.resolve(null);
        pending?.resolve(null);
      },
      (err: unknown) => {
        producerDone = true;
        failure = { err };
        current?.reject(err);
        pending?.reject(err);
      },
    );

  let exhausted = false;
  try {
    for (;;) {
      const rows = await request(true);
      if (!rows) {
        exhausted = true;
        break;
      }
      for (const row of rows) yield row;
      if (rows.length < batchSize) {
        exhausted = true;
        break;
      }
    }
  } finally {
    if (!exhausted && !producerDone) void request(false).catch(() => undefined);
    await producer;
  }
  if (failure) throw (failure as { err: unknown }).err;
}
