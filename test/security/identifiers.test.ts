// Identifiers that can come from input are quoted or rejected, never spliced into SQL as written.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ServerEngine } from '../../src/engine/server.js';
import { QueryError } from '../../src/errors.js';
import { ident, literal } from '../../src/sql/ident.js';
import { createTestDatabase, type TestDatabase } from '../support/server-cluster.js';

describe('identifier quoting against a real server', () => {
  let db: TestDatabase;
  let engine: ServerEngine;

  beforeAll(async () => {
    db = await createTestDatabase(inject('serverUrl'), 'identifiers');
    engine = new ServerEngine({ url: db.url, pool: { poolSize: 1, maxOverflow: 0 }, log: () => undefined });
    await engine.query('CREATE TABLE victim (a int)');
  });
  afterAll(async () => {
    await engine?.close();
    await db?.drop();
  });

  it('hostile names become harmless, exact identifiers', async () => {
    const hostile = ['x"; DROP TABLE victim; --', "o'brien", 'Mixed Case', 'semi;colon', 'ünï', 'a"b"c'];
    for (const name of hostile) {
      await engine.query(`CREATE TABLE ${ident(name)} (v text)`);
      await engine.query(`INSERT INTO ${ident(name)} (v) VALUES (${literal(name)})`);
      const { rows } = await engine.query<{ v: string }>(`SELECT v FROM ${ident(name)}`);
      expect(rows[0]!.v).toBe(name);
    }
    const { rows } = await engine.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'victim'`);
    expect(rows[0]!.n).toBe(1);
  });

  it('names PostgreSQL cannot hold are rejected before any SQL', () => {
    expect(() => ident('')).toThrow(QueryError);
    expect(() => ident('a\0b')).toThrow(QueryError);
    expect(() => ident('x'.repeat(64))).toThrow(/longer than 63 bytes/);
    expect(() => literal('a\0b')).toThrow(QueryError);
  });
});
