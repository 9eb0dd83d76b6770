/**
 * Turns a user record (the seed's field names) into the normalized values of schema/types.ts,
 * column by column, as described by the table spec. Two kinds of problems are told apart:
 * - the record's SHAPE is wrong (unknown field, required field missing): a caller bug, thrown as
 *   RecordShapeError naming the field;
 * - a VALUE is bad (unparseable price, too long a symbol, NULL in a NOT NULL column, a CHECK
 *   violated): a data problem, returned as a rejection that the loader quarantines.
 */
import { RecordShapeError } from '../errors.js';
import type { Column, Row, TableSpec } from '../schema/tables.js';
import { loadedColumns } from '../schema/tables.js';
import type { CellValue } from '../schema/types.js';
import { fromNumber, parseDecimal, rescaleFixed } from '../copy/numeric.js';
import { columnMisfit, intMisfit, textMisfit } from '../schema/column-fit.js';
import { toEpochDays, toMicros } from '../values/time.js';

/** A price given as an exact fixed-point integer: value × 10^-scale (DBN: scale 9). */
export interface FixedPoint {
  readonly value: bigint;
  readonly scale: number;
}

export type Normalized =
  | { readonly ok: true; readonly values: CellValue[] }
  | { readonly ok: false; readonly reason: string; readonly constraint: string | null };

class ValueProblem extends Error {}

type Converter = (raw: unknown) => CellValue;

function converterFor(col: Column): Converter {
  const type = col.type;
  switch (type.kind) {
    case 'timestamptz':
      return (raw) => {
        try {
          return toMicros(raw);
        } catch (e) {
          throw new ValueProblem((e as Error).message);
        }
      };
    case 'int2':
    case 'int4': {
      const kind = type.kind;
      return (raw) => {
        const n = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
        if (typeof n !== 'number' || !Number.isInteger(n)) throw new ValueProblem(`not an integer: ${show(raw)}`);
        const misfit = intMisfit(kind, n);
        if (misfit) throw new ValueProblem(misfit);
        return n;
      };
    }
    case 'int8':
      return (raw) => {
        let v: bigint;
        if (typeof raw === 'bigint') v = raw;
        else if (typeof raw === 'number' && Number.isSafeInteger(raw)) v = BigInt(raw);
        else if (typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)) v = BigInt(raw.trim());
        else throw new ValueProblem(`not an integer: ${show(raw)}`);
        const misfit = intMisfit('int8', v);
        if (misfit) throw new ValueProblem(misfit);
        return v;
      };
    case 'numeric':
      return (raw) => {
        let scaled: bigint;
        try {
          if (typeof raw === 'string') scaled = parseDecimal(raw, type.scale);
          else if (typeof raw === 'number') scaled = fromNumber(raw, type.scale);
          else if (typeof raw === 'bigint') scaled = raw * 10n ** BigInt(type.scale);
          else if (isFixedPoint(raw)) scaled = rescaleFixed(raw.value, raw.scale, type.scale);
          else throw new ValueProblem(`not a number: ${show(raw)}`);
          checkNoDigitsDropped(raw, type.scale);
        } catch (e) {
          if (e instanceof ValueProblem) throw e;
          throw new ValueProblem((e as Error).message);
        }
        const misfit = columnMisfit(col, scaled);
        if (misfit) throw new ValueProblem(`${show(raw)} ${misfit}`);
        return scaled;
      };
    case 'varchar':
    case 'char':
    case 'text':
      return (raw) => {
        if (typeof raw !== 'string') throw new ValueProblem(`not a string: ${show(raw)}`);
        if (raw.includes('\0')) throw new ValueProblem('text contains a NUL byte');
        const misfit = textMisfit(type, raw);
        if (misfit) throw new ValueProblem(misfit);
        return raw;
      };
    case 'bool':
      return (raw) => {
        if (typeof raw !== 'boolean') throw new ValueProblem(`not a boolean: ${show(raw)}`);
        return raw;
      };
    case 'date':
      return (raw) => {
        try {
          return toEpochDays(raw);
        } catch (e) {
          throw new ValueProblem((e as Error).message);
        }
      };
    case 'jsonb':
      return (raw) => JSON.stringify(raw);
  }
}

/** The scale of DBN prices (1e-9 fixed point), whose 9th decimal is rounded as documented. */
const DBN_PRICE_SCALE = 9;

/**
 * Prices are exact: a value with more decimals than the column keeps is refused, not rounded,
 * so that no digit disappears silently. The one exception is the DBN form ({ value, scale: 9 }),
 * whose 9th decimal is rounded half away from zero — the documented rule for DBN prices.
 */
function checkNoDigitsDropped(raw: unknown, scale: number): void {
  let places: number;
  if (typeof raw === 'string') places = decimalPlaces(raw);
  else if (typeof raw === 'number') places = decimalPlaces(String(raw));
  else if (isFixedPoint(raw)) {
    if (raw.scale <= scale || raw.scale === DBN_PRICE_SCALE) return;
    const drop = 10n ** BigInt(raw.scale - scale);
    places = raw.value % drop === 0n ? scale : raw.scale;
  } else return;
  if (places > scale) {
    throw new ValueProblem(
      `${show(raw)} has ${places} decimals; the column keeps ${scale}: round it before loading (tickvault never drops digits)`,
    );
  }
}

/** Decimals of a valid decimal text, trailing zeros not counted ('1.2500' → 2, '125e-4' → 4). */
function decimalPlaces(text: string): number {
  return plainDecimalPlaces(text) ?? decimalPlacesOfAnyForm(text);
}

/**
 * The form nearly every price has (digits, one optional point, an optional leading minus; no
 * exponent, no space) counted by character codes; undefined for any other text.
 */
function plainDecimalPlaces(t: string): number | undefined {
  const len = t.length;
  let point = -1;
  let lastNonZero = -1;
  for (let i = t.charCodeAt(0) === 45 ? 1 : 0; i < len; i++) {
    const c = t.charCodeAt(i);
    if (c === 46) {
      if (point >= 0) return undefined;
      point = i;
    } else if (c >= 49 && c <= 57) lastNonZero = i;
    else if (c !== 48) return undefined;
  }
  return point < 0 || lastNonZero < point ? 0 : lastNonZero - point;
}

function decimalPlacesOfAnyForm(text: string): number {
  const t = text.trim();
  const e = t.search(/[eE]/);
  const mantissa = (e < 0 ? t : t.slice(0, e)).replace(/^[+-]/, '');
  const exponent = e < 0 ? 0 : Number(t.slice(e + 1));
  const point = mantissa.indexOf('.');
  const fracLen = point < 0 ? 0 : mantissa.length - point - 1;
  const digits = mantissa.replace('.', '');
  const significant = digits.replace(/0+$/, '');
  if (!/[1-9]/.test(significant)) return 0;
  return fracLen - exponent - (digits.length - significant.length);
}

function isFixedPoint(v: unknown): v is FixedPoint {
  return typeof v === 'object' && v !== null && typeof (v as FixedPoint).value === 'bigint' && typeof (v as FixedPoint).scale === 'number';
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return v.toISOString();
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Default values for optional columns the record may omit (mirrors the DDL's DEFAULT). */
function jsDefault(col: Column): CellValue {
  if (col.default === 'TRUE') return true;
  if (col.default === 'FALSE') return false;
  // Integer constants (publisher_id DEFAULT 0: "no publisher given").
  if (col.default !== undefined && /^-?\d+$/.test(col.default)) {
    return col.type.kind === 'int8' ? BigInt(col.default) : Number(col.default);
  }
  return null;
}

export class RecordNormalizer {
  readonly columns: readonly Column[];
  private readonly converters: Converter[];
  private readonly known: Set<string>;
  private readonly ignored: Set<string>;
  /** Names of the fields a record must carry (NOT NULL without a default). */
  private readonly required: readonly string[];
  /** Scratch row handed to the CHECK predicates (which never keep it): one object, not one per record. */
  private readonly row: Record<string, CellValue> = {};

  constructor(readonly spec: TableSpec) {
    this.columns = loadedColumns(spec);
    this.converters = this.columns.map(converterFor);
    this.known = new Set(this.columns.map((c) => c.name));
    // Generated and server-filled columns may appear in records read back from the database;
    // they are accepted and ignored, never sent.
    this.ignored = new Set(spec.columns.filter((c) => c.generated || c.serverFilled).map((c) => c.name));
    this.required = this.columns.filter((c) => !c.nullable && !c.default).map((c) => c.name);
    for (const c of this.columns) this.row[c.name] = null; // fixed property order: one hidden class
  }

  /** Throws RecordShapeError for unknown or missing fields. */
  checkShape(record: Record<string, unknown>, index: number): void {
    // for-in instead of Object.keys: no array per record (hot path). Inherited enumerable keys,
    // which Object.keys would not list, are skipped by the hasOwn test.
    for (const key in record) {
      if (!this.known.has(key) && !this.ignored.has(key) && Object.hasOwn(record, key)) {
        throw new RecordShapeError(
          `record ${index}: unknown field "${key}" for table ${this.spec.name}; expected fields: ${[...this.known].join(', ')}`,
        );
      }
    }
    for (const name of this.required) {
      if (!(name in record)) {
        throw new RecordShapeError(`record ${index}: required field "${name}" is missing for table ${this.spec.name}`);
      }
    }
  }

  normalize(record: Record<string, unknown>): Normalized {
    const values: CellValue[] = new Array(this.columns.length);
    const row = this.row;
    for (let i = 0; i < this.columns.length; i++) {
      const col = this.columns[i]!;
      const raw = record[col.name];
      let v: CellValue;
      if (raw === undefined) v = jsDefault(col);
      else if (raw === null) v = null;
      else {
        try {
          v = this.converters[i]!(raw);
        } catch (e) {
          if (e instanceof ValueProblem) return { ok: false, reason: `${col.name}: ${e.message}`, constraint: null };
          throw e;
        }
      }
      if (v === null && !col.nullable)
        return { ok: false, reason: `${col.name} is NULL but the column is NOT NULL`, constraint: `${col.name}_not_null` };
      values[i] = v;
      row[col.name] = v;
    }
    const failed = firstFailedCheck(this.spec, row);
    if (failed) return { ok: false, reason: failed.reason, constraint: failed.name };
    return { ok: true, values };
  }
}

export function firstFailedCheck(spec: TableSpec, row: Row): { name: string; reason: string } | undefined {
  for (const check of spec.checks) if (!check.holds(row)) return check;
  return undefined;
}

/** JSON-safe copy of an original record for the quarantine table (bigint → string). */
export function recordToJson(record: unknown): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null';
}
