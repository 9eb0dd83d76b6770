/**
 * CSV text → records (RFC 4180: fields split on commas, a field in double quotes may hold commas,
 * line breaks and doubled quotes), fed in pieces of any size. Hand-written because the
 * benchmark (bench/source-bench.ts) measured csv-parse at a fifth of this speed on market-data
 * files, where almost no line holds a quote: such a line is one `split`, and only a line with a
 * quote goes through the character-by-character path.
 *
 * Each record carries the number of the line it starts on (1 = the first line). Empty lines are
 * skipped. A record whose quoting is broken (text after a closing quote) is handed over with the
 * reason, for the caller to quarantine; a quoted field still open at the end of the input is an
 * error, since where the record ends cannot be known.
 */

/**
 * A record holding no quote keeps only its text (split when its turn comes: cells made for a whole
 * piece of input at once lived long enough to be promoted to V8's old space, a load's main source
 * of garbage there); a quoted one has its cells.
 */
export type CsvRecord = PlainRecord | QuotedRecord;

interface PlainRecord {
  readonly text: string;
  readonly cells?: undefined;
  readonly line: number;
  readonly problem?: undefined;
}

interface QuotedRecord {
  readonly text?: undefined;
  readonly cells: (string | null)[];
  readonly line: number;
  /** Why the record's quoting is not CSV; its cells are then the best reading of the bytes. */
  readonly problem?: string;
}

/** Input that cannot be cut into records: a quote never closed, or a record longer than any real one. */
/**
 * The cells of a record, PostgreSQL's CSV rule for NULL (and what tickvault's CSV export writes):
 * an empty unquoted field is NULL, a quoted one (`""`) the empty string.
 */
export function cellsOf(r: CsvRecord): (string | null)[] {
  if (r.cells) return r.cells;
  const cells: (string | null)[] = r.text.split(',');
  for (let i = 0; i < cells.length; i++) if (cells[i] === '') cells[i] = null;
  return cells;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** A longer record means a quote opened by mistake; waiting on would hold the whole file in memory. */
const MAX_RECORD_CHARS = 16 << 20;

export class CsvRecordSplitter {
  private rest = '';
  /** Line number of the first line in `rest`. */
  private line = 1;
  private first = true;

  /** Appends text and returns the records it completes (a record ends at a line break outside quotes). */
  push(text: string, out: CsvRecord[] = []): CsvRecord[] {
    let s = this.rest === '' ? text : this.rest + text;
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    this.rest = this.split(s, false, out);
    if (this.rest.length > MAX_RECORD_CHARS) {
      throw new CsvSyntaxError(
        `the record starting on line ${this.line} is longer than ${MAX_RECORD_CHARS} characters (a quote never closed?)`,
        this.line,
      );
    }
    return out;
  }

  /** The last record, when the input does not end with a line break. */
  end(out: CsvRecord[] = []): CsvRecord[] {
    const s = this.rest;
    this.rest = '';
    if (s !== '') this.split(s, true, out);
    return out;
  }

  /** Splits whole records off `s`; returns the unfinished tail. */
  private split(s: string, atEnd: boolean, out: CsvRecord[]): string {
    let pos = 0;
    const n = s.length;
    // The next quote at or after pos (n when none): searched again only once pos passes it, so
    // a piece without quotes is scanned for them once, not once per line.
    let quote = -1;
    while (pos < n) {
      let nl = s.indexOf('\n', pos);
      if (nl < 0) {
        if (!atEnd) return s.slice(pos);
        nl = n;
      }
      if (quote < pos) {
        quote = s.indexOf('"', pos);
        if (quote < 0) quote = n;
      }
      if (quote >= nl) {
        let end = nl;
        if (end > pos && s.charCodeAt(end - 1) === 13) end -= 1;
        if (end > pos) out.push({ text: s.slice(pos, end), line: this.line });
        this.line += 1;
        pos = nl + 1;
        continue;
      }
      const next = this.quoted(s, pos, atEnd, out);
      if (next < 0) return s.slice(pos);
      pos = next;
    }
    return '';
  }

  /**
   * One record holding a quote, from `start`; returns where the next record starts, or -1 when
   * the record is not complete in `s` (more input is needed).
   */
  private quoted(s: string, start: number, atEnd: boolean, out: CsvRecord[]): number {
    const n = s.length;
    const cells: (string | null)[] = [];
    let problem: string | undefined;
    let lines = 0;
    let i = start;
    let field = '';
    for (;;) {
      // At the start of a field.
      const quoted = i < n && s.charCodeAt(i) === 34;
      if (quoted) {
        i += 1;
        let from = i;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0) {
            if (!atEnd) return -1;
            throw new CsvSyntaxError(`a quoted field opened on line ${this.line} is never closed`, this.line);
          }
          if (q + 1 >= n && !atEnd) return -1;
          if (s.charCodeAt(q + 1) === 34) {
            field += s.slice(from, q + 1);
            i = q + 2;
            from = i;
            continue;
          }
          field += s.slice(from, q);
          i = q + 1;
          break;
        }
        for (let k = field.indexOf('\n'); k >= 0; k = field.indexOf('\n', k + 1)) lines += 1;
        // After the closing quote: a comma, the line end, or text that breaks the quoting.
        let j = i;
        while (j < n && s.charCodeAt(j) !== 44 && s.charCodeAt(j) !== 10) j++;
        if (j >= n && !atEnd) return -1;
        let tail = s.slice(i, j);
        if (tail.endsWith('\r')) tail = tail.slice(0, -1);
        if (tail !== '') {
          problem ??= `text after the closing quote of field ${cells.length + 1}: ${JSON.stringify(tail.slice(0, 40))}`;
          field += tail;
        }
        i = j;
      } else {
        let j = i;
        while (j < n && s.charCodeAt(j) !== 44 && s.charCodeAt(j) !== 10) j++;
        if (j >= n && !atEnd) return -1;
        field = s.slice(i, j);
        if (j < n && s.charCodeAt(j) === 10 && field.endsWith('\r')) field = field.slice(0, -1);
        else if (j >= n && field.endsWith('\r')) field = field.slice(0, -1);
        i = j;
      }
      cells.push(quoted || field !== '' ? field : null);
      field = '';
      if (i < n && s.charCodeAt(i) === 44) {
        i += 1;
        continue;
      }
      // The line end (or the end of the input).
      out.push(problem === undefined ? { cells, line: this.line } : { cells, line: this.line, problem });
      this.line += lines + 1;
      return i + 1;
    }
  }
}
