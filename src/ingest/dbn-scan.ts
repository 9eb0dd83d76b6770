/**
 * Fast pre-scan of a DBN file for a load plan or chunk advice: decodes the record headers only
 * (rtype, instrument_id, ts_event — what every table's `timestamp` is mapped from) and counts the
 * records the target table takes: time range, records per UTC day, instruments. No mapping, no
 * validation, no symbol resolution, nothing written.
 */
import fs from 'node:fs';
import { openDbn } from '../dbn/decoder.js';
import { LoadError } from '../errors.js';
import { mapperFor, tableForSchema } from './dbn-mapping.js';
import type { TableName } from '../schema/tables.js';

export interface DbnScan {
  readonly file: string;
  readonly table: TableName;
  readonly fileBytes: number;
  /** Records the table takes (others skipped). */
  readonly records: number;
  /** ts_event range, µs (truncated as the loader truncates); null without records. */
  readonly minUs: bigint | null;
  readonly maxUs: bigint | null;
  /** Records per UTC day (YYYY-MM-DD). */
  readonly perDay: Readonly<Record<string, number>>;
  /** Records in the busiest clock hour: markets trade in sessions, not evenly over 24 hours. */
  readonly peakHourRecords: number;
  readonly instrumentIds: readonly number[];
  readonly ms: number;
}

const DAY_US = 86_400_000_000n;
const HOUR_US = 3_600_000_000n;

export async function scanDbnFile(file: string, table?: TableName): Promise<DbnScan> {
  const t0 = performance.now();
  const decoder = await openDbn(file);
  try {
    const target = table ?? tableForSchema(decoder.metadata.schema);
    if (!target) throw new LoadError(`${file}: schema ${decoder.metadata.schemaName ?? 'mixed'} has no default table; pass --table`);
    if (target === 'instrument_definitions') {
      // Definitions are not time-partitioned: count them only.
      let n = 0;
      for await (const b of decoder.batches()) n += b.count;
      return {
        file,
        table: target,
        fileBytes: fs.statSync(file).size,
        records: n,
        minUs: null,
        maxUs: null,
        perDay: {},
        peakHourRecords: 0,
        instrumentIds: [],
        ms: performance.now() - t0,
      };
    }
    const mapper = mapperFor(target);
    let records = 0;
    let min: bigint | null = null;
    let max: bigint | null = null;
    const days = new Map<bigint, number>();
    const hours = new Map<bigint, number>();
    const ids = new Set<number>();
    for await (const batch of decoder.batches()) {
      const { rtypes, offsets, view, count, schema } = batch;
      for (let i = 0; i < count; i++) {
        if (!mapper.accepts(rtypes[i]!, schema)) continue;
        const o = offsets[i]!;
        const us = view.getBigUint64(o + 8, true) / 1000n;
        records += 1;
        if (min === null || us < min) min = us;
        if (max === null || us > max) max = us;
        const d = us / DAY_US;
        days.set(d, (days.get(d) ?? 0) + 1);
        const h = us / HOUR_US;
        hours.set(h, (hours.get(h) ?? 0) + 1);
        ids.add(view.getUint32(o + 4, true));
      }
    }
    let peakHourRecords = 0;
    for (const n of hours.values()) if (n > peakHourRecords) peakHourRecords = n;
    const perDay: Record<string, number> = {};
    for (const [d, n] of [...days.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      perDay[new Date(Number(d * 86_400_000n)).toISOString().slice(0, 10)] = n;
    }
    return {
      file,
      table: target,
      fileBytes: fs.statSync(file).size,
      records,
      minUs: min,
      maxUs: max,
      perDay,
      peakHourRecords,
      instrumentIds: [...ids].sort((a, b) => a - b),
      ms: performance.now() - t0,
    };
  } finally {
    await decoder.close();
  }
}
