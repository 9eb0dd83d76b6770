import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BinaryCopyWriter,
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  DEFAULT_CHUNK_SIZE,
  createRowEncoder,
  encodeRows,
} from '../../src/copy/index.js';
import { CopyEncodeError } from '../../src/copy/errors.js';
import { t } from '../../src/schema/types.js';
import { ALL_TYPES_COLUMNS, ALL_TYPES_ROWS } from '../support/copy-all-types.js';
import { catchError, HEADER_HEX, TRAILER_HEX } from '../support/copy-bytes.js';
import { decodeCopy } from '../support/pgcopy-decode.js';

describe('stream framing', () => {
  it('header and trailer', () => {
    expect(COPY_BINARY_HEADER.toString('hex')).toBe(HEADER_HEX);
    expect(COPY_BINARY_TRAILER.toString('hex')).toBe(TRAILER_HEX);
    expect(new BinaryCopyWriter().finish().toString('hex')).toBe(HEADER_HEX + TRAILER_HEX);
    expect(encodeRows([{ type: t.int4 }], []).toString('hex')).toBe(HEADER_HEX + TRAILER_HEX);
  });

  it('row field counts', () => {
    expect(encodeRows([{ type: t.int4 }, { type: t.bool }], [[7, true]]).toString('hex')).toBe(
      `${HEADER_HEX}000200000004000000070000000101${TRAILER_HEX}`,
    );
  });

  it('DEFAULT_CHUNK_SIZE is 256 KiB', () => {
    expect(DEFAULT_CHUNK_SIZE).toBe(262144);
  });
});

describe('all-types golden file (verified against PostgreSQL 15)', () => {
  const golden = readFileSync(new URL('./fixtures/all-types.pgcopy', import.meta.url));

  it('encodeRows produces the exact bytes', () => {
    const bytes = encodeRows(ALL_TYPES_COLUMNS, ALL_TYPES_ROWS);
    expect(bytes.length).toBe(golden.length);
    expect(bytes.equals(golden)).toBe(true);
  });

  it('the independent decoder reads the golden file back into the same values', () => {
    const kinds = ALL_TYPES_COLUMNS.map((c) => c.type.kind);
    expect(decodeCopy(kinds, golden)).toEqual(ALL_TYPES_ROWS);
  });
});

describe('row encoder', () => {
  const cols = [{ type: t.int4 }, { type: t.numeric(20, 8) }, { type: t.varchar(4) }];

  it('rejects rows of the wrong width', () => {
    const err = catchError(() =>
      encodeRows(cols, [
        [1, 1n, 'a'],
        [1, 1n],
      ]),
    );
    expect(err.code).toBe('COPY_ROW_SHAPE');
    expect(err.row).toBe(1);
  });

  it('reports the column and row of a bad cell', () => {
    const err = catchError(() =>
      encodeRows(cols, [
        [1, 1n, 'a'],
        [2, 2n, 'b'],
        [3, 3n, 'toolong'],
      ]),
    );
    expect(err.column).toBe(2);
    expect(err.row).toBe(2);
    expect(err.message).toMatch(/varchar\(4\)/);
  });

  it('rolls a failed row back so the stream stays valid', () => {
    const w = new BinaryCopyWriter();
    const encode = createRowEncoder(cols);
    encode(w, [1, 100000000n, 'ok']);
    expect(() => encode(w, [2, 200000000n, 'too long'])).toThrow(CopyEncodeError);
    expect(() => encode(w, [2, 'x' as unknown as bigint, 'ok'])).toThrow(CopyEncodeError);
    encode(w, [3, 300000000n, 'ok']);
    expect(w.rowCount).toBe(2);
    expect(
      w.finish().equals(
        encodeRows(cols, [
          [1, 100000000n, 'ok'],
          [3, 300000000n, 'ok'],
        ]),
      ),
    ).toBe(true);
  });

  it('abortRow is refused once a chunk was taken after beginRow', () => {
    const w = new BinaryCopyWriter({ chunkSize: 1 });
    w.beginRow(1);
    w.int4(1);
    expect(w.takeChunk()).not.toBeNull();
    expect(() => w.abortRow()).toThrow();
  });
});

describe('buffer management', () => {
  it('grows for large fields and keeps earlier bytes', () => {
    const big = 'é'.repeat(700_000); // 1.4 MB of UTF-8, far beyond the initial capacity
    const w = new BinaryCopyWriter();
    const start = w.capacity;
    w.beginRow(2);
    w.int4(42);
    w.text(big);
    const bytes = w.finish();
    expect(w.capacity).toBeGreaterThan(start);
    expect(decodeCopy(['int4', 'text'], bytes)).toEqual([[42, big]]);
  });

  it('reuses the buffer across chunks and streams (reset)', () => {
    const w = new BinaryCopyWriter({ chunkSize: 1024 });
    const cap = w.capacity;
    const encode = createRowEncoder(ALL_TYPES_COLUMNS);
    const first: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      encode(w, ALL_TYPES_ROWS[i % ALL_TYPES_ROWS.length]!);
      const c = w.takeChunk();
      if (c) first.push(c);
    }
    first.push(w.finish());
    expect(w.capacity).toBe(cap);
    w.reset();
    const second: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      encode(w, ALL_TYPES_ROWS[i % ALL_TYPES_ROWS.length]!);
      const c = w.takeChunk();
      if (c) second.push(c);
    }
    second.push(w.finish());
    expect(Buffer.concat(second).equals(Buffer.concat(first))).toBe(true);
    // chunks are copies: later writes never alter a chunk already handed out
    expect(
      Buffer.concat(first).equals(
        encodeRows(
          ALL_TYPES_COLUMNS,
          Array.from({ length: 200 }, (_, i) => ALL_TYPES_ROWS[i % ALL_TYPES_ROWS.length]!),
        ),
      ),
    ).toBe(true);
  });

  it('finish twice and rows after finish are errors', () => {
    const w = new BinaryCopyWriter();
    w.finish();
    expect(() => w.finish()).toThrow();
    expect(() => w.beginRow(1)).toThrow();
  });

  it('counts bytes handed out', () => {
    const w = new BinaryCopyWriter({ chunkSize: 10 });
    w.beginRow(1);
    w.int8(1n);
    const c = w.takeChunk()!;
    const last = w.finish();
    expect(w.bytesOut).toBe(c.length + last.length);
  });
});
