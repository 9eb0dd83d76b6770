/**
 * Feeding a binary COPY FROM: the one implementation both engines use (and copy/ re-exports for
 * its own consumers, e.g. writing a COPY file). The server engine writes chunks into
 * pg-copy-streams' `from()` with writeCopyChunks; the embedded engine gathers them into the Blob
 * PGlite reads as `/dev/blob` with collectCopyBlob.
 *
 * It lives in engine/ because the engines sit below copy/ and must not import it.
 */

import type { Writable } from 'node:stream';
import { ident, identList } from '../sql/ident.js';

/** `COPY table (columns) FROM <source> (FORMAT binary)`; `source` is `STDIN` or a quoted path. */
export function copyFromSql(table: string, columns: readonly string[], source: string): string {
  return `COPY ${ident(table)} (${identList(columns)}) FROM ${source} (FORMAT binary)`;
}

export interface WriteChunksResult {
  bytes: number;
  chunks: number;
}

/**
 * Resolves when `dest` emits `event` ('drain' or 'finish'); rejects if it errors or closes first
 * (a close after 'finish' still counts as finished).
 */
function waitFor(dest: Writable, event: 'drain' | 'finish'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (event === 'finish' && dest.writableFinished) return resolve();
    const cleanup = (): void => {
      dest.off(event, onEvent);
      dest.off('error', onError);
      dest.off('close', onClose);
    };
    const onEvent = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      if (event === 'finish' && dest.writableFinished) resolve();
      else
        reject(
          dest.errored ??
            new Error(
              event === 'drain' ? 'destination closed before the COPY data was written' : 'destination closed before the COPY finished',
            ),
        );
    };
    dest.on(event, onEvent);
    dest.on('error', onError);
    dest.on('close', onClose);
  });
}

/** Resolves at the destination's first 'error' or 'close'. */
function answered(dest: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      dest.off('error', done);
      dest.off('close', done);
      resolve();
    };
    dest.on('error', done);
    dest.on('close', done);
  });
}

/**
 * Writes chunks into a Writable honouring backpressure: when write() returns false it waits
 * for 'drain' before pulling the next chunk, so at most one chunk beyond the destination's
 * highWaterMark is buffered. With `end` (default) it ends the stream and waits for 'finish'
 * — for pg-copy-streams' `from()` that is the server's CommandComplete; read `rowCount` there.
 *
 * If the source or the destination fails, the destination is destroyed with the error
 * (pg-copy-streams then sends CopyFail so the server rolls the COPY back) and the error is
 * rethrown; the source generator is closed by the for-await exit.
 */
export async function writeCopyChunks(
  dest: Writable,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: { end?: boolean } = {},
): Promise<WriteChunksResult> {
  const result: WriteChunksResult = { bytes: 0, chunks: 0 };
  // Keep an 'error' listener for the whole run: an error emitted between our waits must
  // not crash the process as an unhandled 'error' event; it is picked up below.
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  dest.on('error', onError);
  try {
    for await (const chunk of chunks) {
      if (failure) throw failure;
      if (dest.destroyed) throw dest.errored ?? new Error('destination closed before the COPY data was written');
      result.bytes += chunk.length;
      result.chunks++;
      if (!dest.write(chunk)) await waitFor(dest, 'drain');
    }
    if (failure) throw failure;
    if (options.end !== false) {
      const finished = waitFor(dest, 'finish');
      dest.end();
      await finished;
    }
    dest.off('error', onError);
    return result;
  } catch (err) {
    // onError stays attached: the destroyed stream still emits 'error' later (pg-copy-streams
    // reports the server's answer to CopyFail that way), which must not become an uncaught
    // exception. The caller gets the original error.
    if (!dest.destroyed) dest.destroy(err as Error);
    // Until the destination answers the abort (pg-copy-streams: the server's reply to CopyFail),
    // the session is still in COPY; the caller's next statement must find it idle. A destination
    // that already failed or closed has nothing more to say.
    if (failure === undefined && !dest.closed) await answered(dest);
    throw err;
  }
}

/**
 * Collects chunks into one Blob (for PGlite: `COPY t FROM '/dev/blob' (FORMAT binary)` with
 * `{ blob }`). The whole payload is held in memory — feed it bounded batches of rows.
 */
export async function collectCopyBlob(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Blob> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return new Blob(parts);
}
