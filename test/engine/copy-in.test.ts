/**
 * Both engines feed COPY through engine/copy-in.ts: rows land, a failing source or a failing
 * COPY leaves nothing behind and the same session goes on working.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRowChunks } from '../../src/copy/index.js';
import { writeCopyChunks } from '../../src/engine/copy-in.js';
import { t, type CellValue } from '../../src/schema/types.js';
import { ENGINE_KINDS, openTestEngine, type TestEngine } from '../support/engines.js';

const COLUMNS = [{ type: t.int4 }, { type: t.text }];
const rows = (n: number): CellValue[][] => Array.from({ length: n }, (_, i) => [i, `row ${i}`]);

describe('writeCopyChunks waits for the destination to answer an abort', () => {
  it('rejects only after the destination finished destroying (the server answered CopyFail)', async () => {
    let answered = false;
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        cb();
      },
      destroy(_err, cb) {
        setTimeout(() => {
          answered = true;
          cb(new Error('COPY from stdin failed'));
        }, 20);
      },
    });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(4);
      throw new Error('source failed');
    }
    await expect(writeCopyChunks(sink, failing())).rejects.toThrow('source failed');
    expect(answered).toBe(true);
  });

  it('does not wait on a destination that failed by itself and never finishes destroying', async () => {
    // pg-copy-streams when the COPY statement itself fails: 'error', then a destroy that never calls back
    const sink = new Writable({
      write(_chunk, _enc, cb) {
        setImmediate(() => this.emit('error', new Error('relation does not exist')));
        setTimeout(cb, 50);
      },
      destroy() {
        /* never calls back */
      },
    });
    async function* slow(): AsyncGenerator<Buffer> {
      for (;;) {
        yield Buffer.alloc(4);
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await expect(writeCopyChunks(sink, slow())).rejects.toThrow('relation does not exist');
  });
});

describe.each(ENGINE_KINDS)('copyInBinary (%s)', (kind) => {
  let db: TestEngine;
  beforeAll(async () => {
    db = await openTestEngine(kind, { migrate: false, name: 'copyin' });
    await db.engine.query('CREATE TABLE copy_in_t (id int4 PRIMARY KEY, note text)');
  });
  afterAll(async () => db?.dispose());

  it('loads every row and reports the count; a failure leaves nothing and the session stays usable', async () => {
    await db.engine.withConnection(async (conn) => {
      expect(await conn.copyInBinary('copy_in_t', ['id', 'note'], encodeRowChunks(COLUMNS, rows(5000), { chunkSize: 4096 }))).toBe(5000);

      async function* failing(): AsyncGenerator<Buffer> {
        yield* encodeRowChunks(
          COLUMNS,
          rows(10).map(([i, s]) => [(i as number) + 10_000, s ?? null]),
          { chunkSize: 64 },
        );
        throw new Error('decoder failed');
      }
      // a source that fails mid-stream: on the server the half-sent COPY is aborted
      await expect(conn.copyInBinary('copy_in_t', ['id', 'note'], failing())).rejects.toThrow('decoder failed');
      // a COPY the database rejects (duplicate keys)
      await expect(conn.copyInBinary('copy_in_t', ['id', 'note'], encodeRowChunks(COLUMNS, rows(3)))).rejects.toThrow(/duplicate key/);
      // a COPY into a table that does not exist
      await expect(conn.copyInBinary('copy_in_missing', ['id', 'note'], encodeRowChunks(COLUMNS, rows(3)))).rejects.toThrow(
        /does not exist/,
      );

      const {
        rows: [r],
      } = await conn.query<{ n: string }>('SELECT count(*)::text AS n FROM copy_in_t');
      expect(r!.n).toBe('5000');
    });
  });
});
