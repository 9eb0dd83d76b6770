/**
 * The row order of direct-compress COPY batches (src/load/write/segment-order.ts): segments
 * bytewise ascending with NULL first, time descending within a segment, input order among equal
 * times; the rows themselves unchanged. Checked against a plain decode-and-sort of random batches
 * (several segment columns, NULL and non-text segment values, repeated times, negative times).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COPY_BINARY_HEADER } from '../../src/copy/index.js';
import { sortCopyRows } from '../../src/load/write/segment-order.js';

interface Row {
  readonly fields: (Buffer | null)[];
}

const TRAILER = Buffer.from([0xff, 0xff]);

function encode(rows: readonly Row[]): Buffer {
  const parts: Buffer[] = [COPY_BINARY_HEADER];
  for (const r of rows) {
    const n = Buffer.alloc(2);
    n.writeInt16BE(r.fields.length);
    parts.push(n);
    for (const f of r.fields) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(f === null ? -1 : f.length);
      parts.push(len);
      if (f) parts.push(f);
    }
  }
  parts.push(TRAILER);
  return Buffer.concat(parts);
}

function int8(us: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(us);
  return b;
}

/** The order spelled out: compare the segment fields' bytes (NULL first), then time descending, then input position. */
function reference(rows: readonly Row[], segment: readonly number[], time: number): Row[] {
  const cmpBytes = (a: Buffer | null, b: Buffer | null) => (a === null ? (b === null ? 0 : -1) : b === null ? 1 : Buffer.compare(a, b));
  return rows
    .map((r, i) => ({ r, i }))
    .sort((x, y) => {
      for (const f of segment) {
        const c = cmpBytes(x.r.fields[f]!, y.r.fields[f]!);
        if (c !== 0) return c;
      }
      const tx = x.r.fields[time]!.readBigInt64BE();
      const ty = y.r.fields[time]!.readBigInt64BE();
      return tx > ty ? -1 : tx < ty ? 1 : x.i - y.i;
    })
    .map((x) => x.r);
}

describe('sortCopyRows', () => {
  it('orders rows by segment, then time descending, then input order, and keeps every row byte for byte', () => {
    const symbol = fc.oneof(fc.constant(null), fc.constantFrom('ESH4', 'ESM4', 'E', '', 'ESH4 ', 'é'));
    const statType = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 ** 16 - 1 }));
    const row = fc.record({
      symbol,
      statType,
      us: fc.oneof(fc.bigInt({ min: -(2n ** 52n), max: 2n ** 52n }), fc.constantFrom(0n, 1704153600000000n, -1n)),
      payload: fc.uint8Array({ maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), fc.boolean(), (spec, twoColumns) => {
        // Fields: payload, symbol, time, stat_type (a binary int2, which may hold 0x00 bytes).
        const rows: Row[] = spec.map((s) => {
          const st = s.statType === null ? null : Buffer.from([s.statType >> 8, s.statType & 0xff]);
          return { fields: [Buffer.from(s.payload), s.symbol === null ? null : Buffer.from(s.symbol, 'utf8'), int8(s.us), st] };
        });
        const segment = twoColumns ? [1, 3] : [1];
        const sorted = sortCopyRows(encode(rows), rows.length, { segment, time: 2 });
        expect(sorted.equals(encode(reference(rows, segment, 2)))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('sorts a batch of interleaved symbols into whole segments, newest first', () => {
    const rows: Row[] = Array.from({ length: 6 }, (_, i) => ({
      fields: [Buffer.from(['B', 'A'][i % 2]!), int8(BigInt(i))],
    }));
    const out = sortCopyRows(encode(rows), rows.length, { segment: [0], time: 1 });
    const expected = [5, 3, 1, 4, 2, 0].map((i) => rows[i]!);
    expect(out.equals(encode(expected))).toBe(true);
  });
});
