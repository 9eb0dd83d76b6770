/**
 * `maxRejects`: how many rejected rows a load may quarantine before it stops. A file of bad rows
 * used to fill the quarantine without end (2 M rows, 787 MB); with a limit the load stops at the
 * first batch that would pass it — that batch is rolled back, so the quarantine never holds more
 * than the limit (per worker, one batch may be in flight past it) — and the load is left
 * 'failed' with its committed batches: a re-run resumes it, `replace` loads the source anew.
 */
import { ArgumentError, TickvaultError } from '../errors.js';
import type { LoadProgress } from './ledger.js';

/** A count of rows (`1000`, `'1000'`) or a percentage of the load's records (`'0.5%'`). */
export type MaxRejects = number | string;

export interface RejectLimit {
  /** As given, for messages ("1000", "0.5%"). */
  readonly text: string;
  /** Would `rejected` rejections among `records` records pass the limit? */
  exceeded(rejected: number, records: number): boolean;
}

/**
 * A percentage is of the load's records when their number is known up front (a DBN file), else of
 * the records seen so far — then only from the first full batch on, so one bad row in a small
 * first batch does not read as 100%.
 */
export function rejectLimit(value: MaxRejects | undefined, totalRecords: number | undefined, batchSize: number): RejectLimit | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p >= 0 && p <= 100)) throw new ArgumentError(`maxRejects: a percentage must be 0-100%, got "${text}"`);
    if (totalRecords !== undefined) {
      const n = Math.floor((p / 100) * totalRecords);
      return { text, exceeded: (rejected) => rejected > n };
    }
    return { text, exceeded: (rejected, records) => records >= batchSize && rejected > (p / 100) * records };
  }
  if (!/^\d+$/.test(text))
    throw new ArgumentError(`maxRejects must be a number of rows (e.g. 1000) or a percentage (e.g. 0.5%), got "${text}"`);
  const n = Number(text);
  return { text, exceeded: (rejected) => rejected > n };
}

/** A batch's rejections would pass the limit: thrown inside its transaction, so it rolls back. */
export class RejectLimitReached extends Error {
  constructor(readonly rejected: number) {
    super('reject limit reached');
  }
}

/** The load stopped at its maxRejects limit; what it committed is kept and it stays resumable. */
export class MaxRejectsError extends TickvaultError {
  constructor(
    readonly loadId: string,
    readonly table: string,
    readonly limit: string,
    readonly progress: LoadProgress,
    readonly wouldReject: number,
  ) {
    super(
      'MAX_REJECTS',
      `load ${loadId} into ${table} stopped: the next batch would bring the rejected rows to ${wouldReject}, past the limit (max rejects ${limit}). ` +
        `So far: ${progress.recordsInserted} rows stored and ${progress.recordsRejected} quarantined, in ${progress.batches} committed batch${progress.batches === 1 ? '' : 'es'}` +
        `${progress.lastBatch === null ? '' : ` (last committed batch ${progress.lastBatch}, ${progress.recordsIn} records read)`}. ` +
        'Re-run the same load to resume it (with a higher limit or none), or replace it to load the source anew',
    );
  }
}
