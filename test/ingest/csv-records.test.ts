/**
 * The CSV record splitter (ingest/csv-records.ts): RFC 4180 quoting, CRLF, BOM, empty lines and
 * line numbers, whatever the pieces the input arrives in; broken quoting reported per record, a
 * quote never closed an error. The property test writes random tables the RFC way and reads them
 * back cut at random places.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordSplitter, CsvSyntaxError, cellsOf, type CsvRecord } from '../../src/ingest/csv-records.js';

function readAll(text: string, cuts: readonly number[] = []): CsvRecord[] {
  const s = new CsvRecordSplitter();
  const out: CsvRecord[] = [];
  let from = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    s.push(text.slice(from, c), out);
    from = c;
  }
  s.push(text.slice(from), out);
  return s.end(out);
}

const rows = (text: string, cuts?: number[]) => readAll(text, cuts).map(cellsOf);

describe('CsvRecordSplitter', () => {
  it('splits plain lines, LF or CRLF, with or without a final line break', () => {
    expect(rows('a,b\n1,2\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(rows('a,b\r\n1,2\r\n3,')).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', null],
    ]);
    expect(rows('a,b\r\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('reads quoted fields with commas, line breaks and doubled quotes', () => {
    const text = 'id,note\n1,"a, b"\n2,"line 1\nline 2"\n3,"say ""hi"""\n4,""\n';
    expect(rows(text)).toEqual([
      ['id', 'note'],
      ['1', 'a, b'],
      ['2', 'line 1\nline 2'],
      ['3', 'say "hi"'],
      ['4', ''],
    ]);
  });

  it("an empty unquoted field is NULL, a quoted one the empty string (PostgreSQL's CSV rule), in plain and quoted records", () => {
    expect(rows('a,b,c\n,x,\n"",,""\n"q",,\n,"",y\n')).toEqual([
      ['a', 'b', 'c'],
      [null, 'x', null],
      ['', null, ''],
      ['q', null, null],
      [null, '', 'y'],
    ]);
  });

  it('numbers records by the line they start on, skipping empty lines', () => {
    const recs = readAll('h\n\n1\n"two\nlines"\n\r\n5\n');
    expect(recs.map((r) => [cellsOf(r)[0], r.line])).toEqual([
      ['h', 1],
      ['1', 3],
      ['two\nlines', 4],
      ['5', 7],
    ]);
  });

  it('drops a leading byte order mark only', () => {
    expect(rows('\uFEFFa,b\n\uFEFF1,2\n')).toEqual([
      ['a', 'b'],
      ['\uFEFF1', '2'],
    ]);
  });

  it('keeps a quote inside an unquoted field as it is', () => {
    expect(rows('a,b\n5"1,x\n')).toEqual([
      ['a', 'b'],
      ['5"1', 'x'],
    ]);
  });

  it('reports text after a closing quote as the record problem, and goes on', () => {
    const recs = readAll('a,b\n"x"y,2\n3,4\n');
    expect(recs[1]).toMatchObject({ cells: ['xy', '2'], line: 2, problem: expect.stringMatching(/after the closing quote of field 1/) });
    expect(recs[2]).toEqual({ text: '3,4', line: 3 });
  });

  it('refuses a quoted field that is never closed', () => {
    expect(() => readAll('a,b\n1,2\n3,"open\n4,5\n')).toThrow(CsvSyntaxError);
    expect(() => readAll('a,b\n1,2\n3,"open\n4,5\n')).toThrow(/opened on line 3/);
  });

  it('reads the same records however the input is cut', () => {
    const cell = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', '1', ',', '"', '\n', '\r', ' ', 'é'), maxLength: 6 }),
      fc.stringMatching(/^[0-9.]{0,8}$/),
    );
    const table = fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(table, fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (t, crlf, cutSeeds) => {
        // A one-cell empty row would be an empty line, which readers skip by design.
        const table = t.map((r) => (r.every((c) => c === '') ? [...r.slice(0, -1), 'x'] : r));
        const eol = crlf ? '\r\n' : '\n';
        const quote = (c: string) => (/[",\r\n]/.test(c) || c === '' ? `"${c.replaceAll('"', '""')}"` : c);
        const text = table.map((r) => r.map(quote).join(',')).join(eol) + eol;
        const cuts = cutSeeds.map((k) => k % (text.length + 1));
        const got = readAll(text, cuts);
        expect(got.map(cellsOf)).toEqual(table);
        expect(got.every((r) => r.problem === undefined)).toBe(true);
        let line = 1;
        got.forEach((r, i) => {
          expect(r.line).toBe(line);
          line += 1 + table[i]!.join('').split('\n').length - 1;
        });
      }),
      { numRuns: 500 },
    );
  });
});
