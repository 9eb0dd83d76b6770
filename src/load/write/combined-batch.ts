/**
 * Several consecutive batches written as one: one COPY, one ledger statement, one COMMIT.
 *
 * A batch is the unit of validation, of the ledger and of resume; the COMMIT need not be. Every
 * transaction costs the server a handful of round trips during which it waits for the client
 * (BEGIN, locks, ledger row, COMMIT) — cheap on an idle machine, several milliseconds each when the
 * client has to wait for a core. When the producer is ahead, a worker takes every batch already
 * prepared (up to GROUP_MAX_ROWS rows) and commits them together; each keeps its own ledger row, so
 * a killed load still resumes batch by batch and never stores a row twice.
 */
import { COPY_BINARY_HEADER, type BinaryCopyWriter } from '../../copy/index.js';
import type { CellValue } from '../../schema/types.js';
import type { EncodedBatch, PreparedBatch, Rejection } from './batch.js';
import { encodedBatch } from './encoded-batch.js';

const TRAILER = Buffer.from([0xff, 0xff]);

/** The database or the merge path needs the group's batches written one by one (the group's transaction was rolled back). */
export class GroupNeedsSplit extends Error {
  constructor(why: string) {
    super(`batches written together need to be written one by one: ${why}`);
    this.name = 'GroupNeedsSplit';
  }
}

/** Rows committed together at most (five batches of the trades default, ~3.5 MB of COPY bytes). */
export const GROUP_MAX_ROWS = 50_000;

export class CombinedBatch implements PreparedBatch {
  readonly batchNo: number;
  readonly recordsIn: number;
  readonly rowCount: number;
  /** Validation rejections of the members, quarantined with the group. */
  readonly rejections: Rejection[];
  readonly minTime: bigint | null;
  readonly maxTime: bigint | null;
  readonly instrumentIds: ReadonlySet<number>;
  encoded?: EncodedBatch;
  /** Row offset of each member within the combined rows. */
  private readonly starts: number[] = [];

  constructor(readonly members: readonly PreparedBatch[]) {
    this.batchNo = members[0]!.batchNo;
    let rows = 0;
    let records = 0;
    let lo: bigint | null = null;
    let hi: bigint | null = null;
    const ids = new Set<number>();
    for (const m of members) {
      this.starts.push(rows);
      rows += m.rowCount;
      records += m.recordsIn;
      if (m.minTime !== null && (lo === null || m.minTime < lo)) lo = m.minTime;
      if (m.maxTime !== null && (hi === null || m.maxTime > hi)) hi = m.maxTime;
      for (const id of m.instrumentIds) ids.add(id);
    }
    this.rowCount = rows;
    this.recordsIn = records;
    this.minTime = lo;
    this.maxTime = hi;
    this.instrumentIds = ids;
    this.rejections = members.flatMap((m) => m.rejections);
  }

  /**
   * Joins the members' COPY bytes into one stream, if every member was encoded for `columns`.
   * `keyHasTime`: the natural key includes the time column, so members whose time ranges do not
   * overlap cannot share a key, and the group may repeat a key only if a member does — known from
   * the members' own checks, without hashing the whole group on the critical path.
   */
  joinEncodings(columns: readonly string[], keyHasTime: boolean): void {
    const encoded = this.members.map((m) => encodedBatch(m, columns));
    if (encoded.some((e) => e === undefined)) return;
    const parts = encoded.map((e) => e!.bytes);
    // Each member's stream is header + rows + 2-byte trailer: keep the first header and the last trailer.
    const body = parts.map((p) => p.subarray(COPY_BINARY_HEADER.length, p.length - 2));
    const bytes = Buffer.concat([COPY_BINARY_HEADER, ...body, TRAILER]);
    const flags = encoded.map((e) => e!.mayRepeatKey);
    const repeats = flags.some((f) => f === true)
      ? true
      : keyHasTime && flags.every((f) => f === false) && !this.rangesOverlap()
        ? false
        : undefined;
    this.encoded = { columns, bytes, mayRepeatKey: repeats };
  }

  private rangesOverlap(): boolean {
    const m = this.members;
    for (let i = 0; i < m.length; i++) {
      for (let j = i + 1; j < m.length; j++) {
        const a = m[i]!;
        const b = m[j]!;
        if (a.minTime === null || b.minTime === null || (a.minTime <= b.maxTime! && b.minTime <= a.maxTime!)) return true;
      }
    }
    return false;
  }

  private locate(i: number): [PreparedBatch, number] {
    let k = this.starts.length - 1;
    while (k > 0 && this.starts[k]! > i) k--;
    return [this.members[k]!, i - this.starts[k]!];
  }

  encodeRow(w: BinaryCopyWriter, i: number): void {
    const [m, r] = this.locate(i);
    m.encodeRow(w, r);
  }

  rowValues(i: number): readonly CellValue[] {
    const [m, r] = this.locate(i);
    return m.rowValues(r);
  }

  rowOrigin(i: number): { recordIndex: number; record: string } {
    const [m, r] = this.locate(i);
    return m.rowOrigin(r);
  }
}
