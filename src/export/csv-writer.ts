/**
 * CSV: a header of the table's column names, then one line per row. Decimals are the database's
 * exact text, timestamps ISO 8601 UTC with six fraction digits, dates YYYY-MM-DD, booleans
 * true/false, NULL an empty field; a text field is quoted only when it holds a comma, quote or
 * line break (RFC 4180), or is empty (so it differs from NULL) — byte for byte what the server's
 * `COPY … (FORMAT csv)` of csvSelectOf (columns.ts) writes, the path exports take where the engine
 * streams COPY output. Lines are gathered into ~1 MiB writes.
 */
import { epochDaysToIso, microsToIso } from '../values/time.js';
import type { ExportColumn, RawCell, RawRow } from './columns.js';
import type { FormatWriter } from './format.js';
import type { ByteSink } from './sink.js';

const FLUSH_CHARS = 1 << 20;

export function csvField(v: string): string {
  return v === '' || /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function formatter(col: ExportColumn): (v: RawCell) => string {
  switch (col.kind) {
    case 'timestamp':
      return (v) => microsToIso(BigInt(v as string));
    case 'date':
      return (v) => epochDaysToIso(Number(v));
    case 'bool':
      return (v) => (v ? 'true' : 'false');
    case 'string':
      return (v) => csvField(String(v));
    default:
      return (v) => String(v);
  }
}

export class CsvWriter implements FormatWriter {
  private readonly names: readonly string[];
  private readonly formats: readonly ((v: RawCell) => string)[];
  private text: string;

  constructor(
    columns: readonly ExportColumn[],
    private readonly sink: ByteSink,
  ) {
    this.names = columns.map((c) => c.name);
    this.formats = columns.map(formatter);
    this.text = `${this.names.map(csvField).join(',')}\n`;
  }

  async write(rows: readonly RawRow[]): Promise<void> {
    const n = this.names.length;
    for (const row of rows) {
      let line = '';
      for (let i = 0; i < n; i++) {
        const v = row[this.names[i]!];
        if (i > 0) line += ',';
        if (v !== null && v !== undefined) line += this.formats[i]!(v);
      }
      this.text += `${line}\n`;
      if (this.text.length >= FLUSH_CHARS) await this.flush();
    }
  }

  async finish(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    const chunk = Buffer.from(this.text, 'utf8');
    this.text = '';
    await this.sink.write(chunk);
  }
}
