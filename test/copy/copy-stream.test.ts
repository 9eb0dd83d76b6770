import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type BinaryCopyWriter, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, encodeRows } from '../../src/copy/index.js';
import {
  collectCopyBlob,
  collectCopyBuffer,
  encodeBatchChunks,
  encodeCopyChunks,
  encodeRowChunks,
  newCopyStats,
  writeCopyChunks,
  writeCopyFile,
} from '../../src/copy/copy-stream.js';
import { CopyEncodeError } from '../../src/copy/errors.js';
import { t, type CellValue } from '../../src/schema/types.js';
import { ALL_TYPES_COLUMNS, ALL_TYPES_ROWS } from '../support/copy-all-types.js';

const TRADES = [
  { type: t.timestamptz },
  { type: t.int4 },
  { type: t.varchar(50) },
  { type: t.numeric(20, 8) },
  { type: t.int8 },
  { type: t.char(1) },
  { type: t.varchar(100) },
];

function trade(i: number): CellValue[] {
  return [
    1710489600000000n + BigInt(i),
    1000 + (i % 7),
    'ESH4',
    512325000000n + BigInt(i),
    BigInt(1 + (i % 50)),
    i % 2 ? 'B' : 'S',
    `T${i}`,
  ];
}

function* trades(n: number): Generator<CellValue[]> {
  for (let i = 0; i < n; i++) yield trade(i);
}

async function* asyncTrades(n: number): AsyncGenerator<CellValue[]> {
  for (let i = 0; i < n; i++) {
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    yield trade(i);
  }
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'tickvault-copy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('encodeRowChunks', () => {
  it('chunks are bounded and their concatenation equals single-shot encoding (property)', async () => {
    const cell = fc.oneof(fc.constant(null), fc.string({ maxLength: 300 }));
    const rowArb = fc.tuple(fc.integer(), fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), cell);
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { maxLength: 300 }), fc.integer({ min: 1, max: 4096 }), async (rows, chunkSize) => {
        const cols = [{ type: t.int4 }, { type: t.numeric(20, 8) }, { type: t.text }];
        const clean = rows.map(([i, n, s]) => [i | 0, n, s === null ? null : s.replace(/\0/g, '').replace(/[\ud800-\udfff]/g, '')]);
        const single = encodeRows(cols, clean);
        const stats = newCopyStats();
        const chunks = await collect(encodeRowChunks(cols, clean, { chunkSize, stats }));
        expect(Buffer.concat(chunks).equals(single)).toBe(true);
        expect(chunks[0]!.subarray(0, 19).equals(COPY_BINARY_HEADER)).toBe(true);
        expect(chunks.at(-1)!.subarray(-2).equals(COPY_BINARY_TRAILER)).toBe(true);
        // every chunk but the last was released right after the row that reached the threshold
        const maxRow = Math.max(0, ...clean.map((r) => encodeRows(cols, [r]).length - 21));
        for (const c of chunks.slice(0, -1)) {
          expect(c.length).toBeGreaterThanOrEqual(chunkSize);
          expect(c.length).toBeLessThan(chunkSize + maxRow + 19);
        }
        expect(stats.rows).toBe(clean.length);
        expect(stats.chunks).toBe(chunks.length);
        expect(stats.bytes).toBe(single.length);
      }),
      { numRuns: 150 },
    );
  });

  it('an empty source yields exactly header + trailer', async () => {
    const chunks = await collect(encodeRowChunks(TRADES, []));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.equals(Buffer.concat([COPY_BINARY_HEADER, COPY_BINARY_TRAILER]))).toBe(true);
  });

  it('sync, async and batched sources give identical bytes; default chunks ≈ 256 KiB', async () => {
    const n = 20_000;
    const single = encodeRows(TRADES, trades(n));
    const fromSync = await collect(encodeRowChunks(TRADES, trades(n)));
    const fromAsync = await collect(encodeRowChunks(TRADES, asyncTrades(n)));
    async function* batches(): AsyncGenerator<CellValue[][]> {
      for (let i = 0; i < n; i += 777) yield Array.from({ length: Math.min(777, n - i) }, (_, k) => trade(i + k));
    }
    const fromBatches = await collect(encodeBatchChunks(TRADES, batches()));
    for (const chunks of [fromSync, fromAsync, fromBatches]) {
      expect(Buffer.concat(chunks).equals(single)).toBe(true);
    }
    expect(fromSync.length).toBeGreaterThan(2);
    for (const c of fromSync.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(256 * 1024);
      expect(c.length).toBeLessThan(256 * 1024 + 200);
    }
  });

  it('one huge batch still yields bounded chunks', async () => {
    const batch = Array.from(trades(10_000));
    const chunks = await collect(encodeBatchChunks(TRADES, [batch], { chunkSize: 8192 }));
    expect(chunks.length).toBeGreaterThan(50);
    for (const c of chunks) expect(c.length).toBeLessThan(8192 + 200);
    expect(Buffer.concat(chunks).equals(encodeRows(TRADES, batch))).toBe(true);
  });

  it('pulls rows lazily: memory stays bounded by one chunk', async () => {
    let pulled = 0;
    function* counting(): Generator<CellValue[]> {
      for (let i = 0; ; i++) {
        pulled++;
        yield trade(i);
      }
    }
    const it = encodeRowChunks(TRADES, counting(), { chunkSize: 4096 });
    const first = await it.next();
    expect(first.done).toBe(false);
    const rowBytes = encodeRows(TRADES, [trade(0)]).length - 21;
    expect(pulled).toBeLessThanOrEqual(Math.ceil(4096 / (rowBytes - 10)) + 1);
    const before = pulled;
    await it.next();
    expect(pulled - before).toBeLessThanOrEqual(Math.ceil(4096 / (rowBytes - 10)) + 1);
    await it.return(undefined as never); // closes the source generator too
  });

  it('typed item encoders write straight into the writer', async () => {
    const chunks = await collect(
      encodeCopyChunks([1, 2, 3], (w: BinaryCopyWriter, n: number) => {
        w.beginRow(2);
        w.int4(n);
        w.numeric(BigInt(n) * 150000000n, 8);
      }),
    );
    expect(
      Buffer.concat(chunks).equals(
        encodeRows(
          [{ type: t.int4 }, { type: t.numeric(20, 8) }],
          [
            [1, 150000000n],
            [2, 300000000n],
            [3, 450000000n],
          ],
        ),
      ),
    ).toBe(true);
  });

  it('without onRowError a bad row ends the stream with its row index', async () => {
    const rows = [trade(0), trade(1), [...trade(2).slice(0, 5), 'X', 'T2'], trade(3)];
    rows[2]![5] = 'XY'; // char(1) overflow
    const err = await collect(encodeRowChunks(TRADES, rows)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CopyEncodeError);
    expect((err as CopyEncodeError).row).toBe(2);
    expect((err as CopyEncodeError).column).toBe(5);
  });

  it('onRowError skips bad rows (rolled back) and reports them', async () => {
    const bad1 = trade(1);
    bad1[3] = 10n ** 20n; // DECIMAL(20,8) overflow
    const bad2 = trade(3);
    bad2[1] = 1n; // int4 given a bigint
    const rows = [trade(0), bad1, trade(2), bad2, trade(4)];
    const seen: [string, number, number | undefined][] = [];
    const stats = newCopyStats();
    const bytes = await collectCopyBuffer(
      encodeRowChunks(TRADES, rows, { stats, onRowError: (e, _row, index) => seen.push([e.code, index, e.column]) }),
    );
    expect(seen).toEqual([
      ['COPY_VALUE', 1, 3],
      ['COPY_TYPE', 3, 1],
    ]);
    expect(stats).toMatchObject({ rows: 3, skipped: 2 });
    expect(bytes.equals(encodeRows(TRADES, [trade(0), trade(2), trade(4)]))).toBe(true);

    const batchSeen: number[] = [];
    const batched = await collectCopyBuffer(
      encodeBatchChunks(
        TRADES,
        [
          [trade(0), bad1],
          [trade(2), bad2, trade(4)],
        ],
        { onRowError: (_e, _r, i) => batchSeen.push(i) },
      ),
    );
    expect(batchSeen).toEqual([1, 3]);
    expect(batched.equals(bytes)).toBe(true);
  });
});

/** A Writable that consumes slowly and records how much was ever buffered in it. */
function slowSink(opts: { highWaterMark: number; failAt?: number }) {
  const received: Buffer[] = [];
  let maxBuffered = 0;
  let writes = 0;
  const sink = new Writable({
    highWaterMark: opts.highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      writes++;
      if (opts.failAt !== undefined && writes >= opts.failAt) {
        cb(new Error('server went away'));
        return;
      }
      received.push(chunk);
      setTimeout(cb, 1);
    },
  });
  const origWrite = sink.write.bind(sink);
  sink.write = ((chunk: Buffer, ...rest: never[]) => {
    const ok = origWrite(chunk, ...rest);
    maxBuffered = Math.max(maxBuffered, sink.writableLength);
    return ok;
  }) as typeof sink.write;
  return { sink, received, maxBuffered: () => maxBuffered };
}

describe('writeCopyChunks', () => {
  it('honours backpressure: waits for drain, never buffers more than one chunk past the mark', async () => {
    const chunkSize = 2048;
    const { sink, received, maxBuffered } = slowSink({ highWaterMark: 4096 });
    let produced = 0;
    const source = encodeRowChunks(TRADES, trades(5000), { chunkSize });
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const c of source) {
        produced++;
        // the producer may run at most a couple of chunks ahead of the consumer
        expect(produced - received.length).toBeLessThanOrEqual(Math.ceil(4096 / chunkSize) + 2);
        yield c;
      }
    }
    const result = await writeCopyChunks(sink, counted());
    expect(sink.writableFinished).toBe(true);
    expect(maxBuffered()).toBeLessThan(4096 + chunkSize + 200);
    expect(Buffer.concat(received).equals(encodeRows(TRADES, trades(5000)))).toBe(true);
    expect(result.chunks).toBe(received.length);
  });

  it('destroys the destination (CopyFail) and rethrows when the source fails', async () => {
    const { sink } = slowSink({ highWaterMark: 1024 });
    let sourceClosed = false;
    async function* failing(): AsyncGenerator<Buffer> {
      try {
        yield Buffer.from('PGCOPY');
        throw new Error('decoder failed');
      } finally {
        sourceClosed = true;
      }
    }
    await expect(writeCopyChunks(sink, failing())).rejects.toThrow('decoder failed');
    expect(sink.destroyed).toBe(true);
    expect((sink.errored as Error | null)?.message).toBe('decoder failed');
    expect(sourceClosed).toBe(true);
  });

  it('survives a destination that reports its own error after destroy (like pg-copy-streams after CopyFail)', async () => {
    let destroyedWith: Error | null = null;
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        setImmediate(cb);
      },
      destroy(err, cb) {
        destroyedWith = err;
        // the server answers CopyFail with an ErrorResponse, surfaced as the stream's error
        setTimeout(() => cb(new Error('COPY from stdin failed: source failed')), 5);
      },
    });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(10);
      throw new Error('source failed');
    }
    await expect(writeCopyChunks(sink, failing())).rejects.toThrow('source failed');
    expect(destroyedWith).toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 20)); // the late 'error' must not be an uncaught exception
    expect(sink.destroyed).toBe(true);
  });

  it('rejects and closes the source when the destination fails', async () => {
    const { sink } = slowSink({ highWaterMark: 1024, failAt: 3 });
    let sourceClosed = false;
    async function* endless(): AsyncGenerator<Buffer> {
      try {
        for (;;) yield Buffer.alloc(2048);
      } finally {
        sourceClosed = true;
      }
    }
    await expect(writeCopyChunks(sink, endless())).rejects.toThrow('server went away');
    expect(sourceClosed).toBe(true);
    expect(sink.destroyed).toBe(true);
  });

  it('with end: false leaves the destination open', async () => {
    const { sink, received } = slowSink({ highWaterMark: 1024 });
    await writeCopyChunks(sink, [Buffer.from('a'), Buffer.from('b')], { end: false });
    expect(sink.writableEnded).toBe(false);
    sink.end();
    await new Promise((r) => sink.on('finish', r));
    expect(Buffer.concat(received).toString()).toBe('ab');
  });
});

describe('collectors and files', () => {
  it('collectCopyBlob holds the exact COPY bytes (PGlite /dev/blob)', async () => {
    const blob = await collectCopyBlob(encodeRowChunks(ALL_TYPES_COLUMNS, ALL_TYPES_ROWS, { chunkSize: 100 }));
    const golden = readFileSync(new URL('./fixtures/all-types.pgcopy', import.meta.url));
    expect(Buffer.from(await blob.arrayBuffer()).equals(golden)).toBe(true);
  });

  it('writeCopyFile writes the golden bytes without a database', async () => {
    const path = join(tmp, 'all-types.pgcopy');
    const stats = await writeCopyFile(path, ALL_TYPES_COLUMNS, ALL_TYPES_ROWS, { chunkSize: 64 });
    const golden = readFileSync(new URL('./fixtures/all-types.pgcopy', import.meta.url));
    expect(readFileSync(path).equals(golden)).toBe(true);
    expect(stats).toMatchObject({ rows: ALL_TYPES_ROWS.length, bytes: golden.length, skipped: 0 });
    expect(stats.chunks).toBeGreaterThan(1);
  });

  it('writeCopyFile removes the file when encoding fails', async () => {
    const path = join(tmp, 'broken.pgcopy');
    const rows = [trade(0), [...trade(1).slice(0, 6), 7]];
    await expect(writeCopyFile(path, TRADES, rows, { chunkSize: 16 })).rejects.toBeInstanceOf(CopyEncodeError);
    expect(existsSync(path)).toBe(false);
  });
});
