/**
 * A DBN file as a loader BatchSource: decoded in streaming batches, mapped record by record into
 * the target table's values (dbn-mapping.ts), validated by the table description, and grouped
 * into checkpoint batches of `batchSize` table records (other record types are skipped and
 * counted; checkpoint-batcher.ts). Symbols come from the file (metadata mappings, symbol-mapping
 * records); ids the file cannot name are asked once each of a SymbolHistory (dbn-symbols.ts);
 * rows still unresolved are quarantined with the reason, never given a made-up symbol.
 */
import path from 'node:path';
import { openDbn } from '../dbn/decoder.js';
import { DbnFormatError } from '../dbn/errors.js';
import type { DbnMetadata } from '../dbn/metadata.js';
import { SymbolMap, type SymbolIndexing } from '../dbn/symbology.js';
import { instrumentDefinitions, loadedColumns, type Column, type TableSpec } from '../schema/tables.js';
import type { CellValue } from '../schema/types.js';
import { columnMisfit } from '../schema/column-fit.js';
import { microsToIso } from '../values/time.js';
import { valuesToJson, type Rejection } from '../load/write/batch.js';
import { KNOWN_RTYPE } from '../dbn/constants.js';
import { DbnRowBatch, fastCodecFor, SymbolFields, type TupleSegment } from './dbn-batch.js';
import type { TupleBlock } from './fast-codecs.js';
import type { RecordBatch } from '../dbn/batch.js';
import type { DbnRecord } from '../dbn/records.js';
import { createTupleEncoder } from './tuple-encoder.js';
import { hashFile } from './file-hash.js';
import { firstFailedCheck } from '../load/normalize.js';
import type { SourceIdentity } from '../load/ledger.js';
import { RecordSource, type BatchOrSkip, type BatchSource } from '../load/record-source.js';
import { mapperFor, type DbnMapper } from './dbn-mapping.js';
import { BatchSymbolResolver, type SymbolHistory } from './dbn-symbols.js';
import { CheckpointBatcher } from './checkpoint-batcher.js';
import { definitionRecords } from './definitions-from-dbn.js';

export interface DbnSourceStats {
  /** Records of the table's record types seen. */
  tableRecords: number;
  /** Records of other known types, skipped, per rtype. */
  skipped: Record<number, number>;
  /** Records of no known rtype (constants.ts KNOWN_RTYPE): quarantined, never skipped. */
  unknownRecords: number;
  unresolvedIds: number[];
}

/** Decodes every record boundary of a DBN file (no mapping); throws DbnFormatError where it breaks. Returns the record count and the records per rtype. */
export async function validateDbnFile(file: string): Promise<{ records: number; rtypeCounts: Record<number, number> }> {
  const decoder = await openDbn(file);
  try {
    for await (const _batch of decoder.batches()) {
      /* the walk checks every length word and the tail */
    }
  } finally {
    await decoder.close();
  }
  return { records: decoder.recordCount, rtypeCounts: decoder.rtypeCounts() };
}

/**
 * The file's metadata: the first bytes of the stream, decompressed in-process from the first 64 KiB
 * read (~5 ms, where starting the zstd process and its reader thread for them cost ~40 ms). A zstd
 * stream the in-process decoder refuses is read again through the zstd binary, whose verdict counts.
 */
async function readMetadata(file: string): Promise<DbnMetadata> {
  let decoder: Awaited<ReturnType<typeof openDbn>>;
  try {
    decoder = await openDbn(file, { zstd: 'js', readChunkBytes: 64 << 10 });
  } catch (err) {
    if (!(err instanceof DbnFormatError && err.code === 'DBN_ZSTD')) throw err;
    decoder = await openDbn(file);
  }
  await decoder.close();
  return decoder.metadata;
}

export class DbnFileSource implements BatchSource {
  readonly stats: DbnSourceStats = { tableRecords: 0, skipped: {}, unknownRecords: 0, unresolvedIds: [] };

  /**
   * Whether records of no known rtype become rejections of this source's batches. A mixed file
   * loaded into several tables reads the file once per table: only one of them quarantines them.
   */
  quarantineUnknown = true;

  private constructor(
    readonly file: string,
    readonly identity: Promise<SourceIdentity> | undefined,
    readonly metadata: DbnMetadata,
    private readonly history?: SymbolHistory,
    private readonly fastPath = true,
    /** Records in the file (all types), known after the structure pre-pass: progress and ETA. */
    readonly totalRecords?: number,
    /** Encode fast-path tuples on a worker thread: undefined = for large files (tuple-encoder.ts). */
    private readonly tupleWorker?: boolean,
    /** Records per rtype, from the structure pre-pass (empty without it): what routing decides on. */
    readonly rtypeCounts: Record<number, number> = {},
  ) {}

  /** The same file (identity, metadata, pre-pass) for another table's load, with stats of its own. */
  again(history: SymbolHistory | undefined = this.history): DbnFileSource {
    return new DbnFileSource(
      this.file,
      this.identity,
      this.metadata,
      history,
      this.fastPath,
      this.totalRecords,
      this.tupleWorker,
      this.rtypeCounts,
    );
  }

  /** This source with symbols the file lacks answered by `history` (same settings, fresh stats). */
  withHistory(history: SymbolHistory): DbnFileSource {
    const next = this.again(history);
    next.quarantineUnknown = this.quarantineUnknown;
    return next;
  }

  /**
   * Reads the metadata and hashes the file (the ledger identity) before any row is loaded. With
   * `validate` (the default) the whole file is also decoded once, structure only, so a truncated or
   * corrupted file fails here with its DbnFormatError (byte offset) before a ledger row or a single
   * batch is written: the loader commits batch by batch, and a damaged tail discovered mid-load
   * would otherwise leave the batches before it in the table.
   */
  static async open(
    file: string,
    options: {
      /** Symbols for ids the file cannot name (e.g. load/symbol-history.ts); without it they stay unresolved. */ symbols?: SymbolHistory;
      validate?: boolean /** false: every record takes the generic path (tests compare both). */;
      fastPath?: boolean;
      /** true/false forces the tuple-encoding worker thread on/off; default: on for large files. */ tupleWorker?: boolean;
      /** false: no content hash (no ledger will see this source, e.g. a dry run). */ hash?: boolean;
    } = {},
  ): Promise<DbnFileSource> {
    const metadata = await readMetadata(file);
    // The hash runs on its own thread while this one validates (or starts decoding); the loader
    // awaits it before its first ledger statement.
    const identity =
      options.hash === false ? undefined : hashFile(file).then((contentHash) => ({ source: path.resolve(file), contentHash }));
    identity?.catch(() => {
      /* observed by whoever awaits the identity */
    });
    const checked = options.validate === false ? undefined : await validateDbnFile(file);
    return new DbnFileSource(
      file,
      identity,
      metadata,
      options.symbols,
      options.fastPath ?? true,
      checked?.records,
      options.tupleWorker,
      checked?.rtypeCounts,
    );
  }

  prepare(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace?: () => Promise<void>,
  ): AsyncIterable<BatchOrSkip> {
    return spec.name === instrumentDefinitions.name
      ? this.prepareDefinitions(spec, batchSize, isCommitted, pace)
      : this.prepareRows(spec, batchSize, isCommitted);
  }

  /**
   * Definitions are few: they take the decoder's object path into DefinitionsLoader records and
   * the loaders' generic batching (spec: load/definitions.ts definitionInputSpec).
   */
  private async *prepareDefinitions(
    spec: TableSpec,
    batchSize: number,
    isCommitted: (batchNo: number) => boolean,
    pace?: () => Promise<void>,
  ): AsyncIterable<BatchOrSkip> {
    const symbols = new SymbolMap();
    symbols.addMetadata(this.metadata);
    const decoder = await openDbn(this.file);
    try {
      yield* new RecordSource(definitionRecords(this.countOthers(decoder.records()), symbols)).prepare(spec, batchSize, isCommitted, pace);
    } finally {
      await decoder.close();
    }
  }

  /** Counts the records that are not definitions, as the row path does (skipped per rtype, or unknown). */
  private async *countOthers(records: AsyncIterable<DbnRecord>): AsyncIterable<DbnRecord> {
    for await (const r of records) {
      if (r.kind === 'definition') this.stats.tableRecords += 1;
      else if (KNOWN_RTYPE[r.rtype]) this.stats.skipped[r.rtype] = (this.stats.skipped[r.rtype] ?? 0) + 1;
      else this.stats.unknownRecords += 1;
      yield r;
    }
  }

  private async *prepareRows(spec: TableSpec, batchSize: number, isCommitted: (batchNo: number) => boolean): AsyncIterable<BatchOrSkip> {
    const mapper = mapperFor(spec.name);
    const columns = loadedColumns(spec);
    const timeIndex = columns.findIndex((c) => c.name === spec.hypertable?.timeColumn);
    const symbols = new BatchSymbolResolver(this.metadata, this.history);
    const decoder = await openDbn(this.file);
    // Ids of this table's records that stayed without a symbol after the file's mappings AND the
    // stored history.
    const unresolved = new Set<number>();

    const codec = this.fastPath ? fastCodecFor(spec.name) : undefined;
    const symbolFields = new SymbolFields();
    const encoder = codec ? createTupleEncoder(spec.name, symbolFields, this.file, this.tupleWorker) : undefined;
    // A mapper of its own for the batches' slow paths (rowValues), which run while classify's
    // mapper is positioned on a later decoder batch.
    const rowMapper = mapperFor(spec.name);
    const batcher = new CheckpointBatcher(
      batchSize,
      isCommitted,
      (batchNo) => new DbnRowBatch(batchNo, columns, rowMapper, timeIndex, symbolFields),
    );
    const classify = recordClassifier(spec, columns, mapper, symbolFields, batcher, this.stats, unresolved, this.quarantineUnknown);
    const noFast = new Int32Array(0);
    const resolvedBufs: (string | null)[][] = [[], []];
    let flip = 0;
    const indexing: SymbolIndexing | undefined = codec
      ? {
          rtypes: Uint8Array.from({ length: 256 }, (_, rt) => (mapper.accepts(rt, this.metadata.schema) ? 1 : 0)),
          indexOf: (symbol, instrumentId) => symbolFields.indexOf(symbol, instrumentId),
          out: noFast,
        }
      : undefined;

    // One decoder batch is encoded (possibly on the worker thread) while this thread resolves the
    // next one's symbols; it is classified and its checkpoint batches handed out after that.
    let pending: { batch: RecordBatch; resolved: (string | null)[]; syms: Int32Array; block: TupleBlock | Promise<TupleBlock> } | undefined;
    const settle = async (): Promise<void> => {
      if (!pending) return;
      const p = pending;
      pending = undefined;
      classify(p.batch, p.resolved, p.syms, p.block instanceof Promise ? await p.block : p.block);
    };
    try {
      try {
        for await (const batch of decoder.batches()) {
          // Two arrays in turn: the pending batch keeps its own until it is classified. (A fresh
          // array per batch lived just long enough to be promoted, and fed the old-space GC.)
          const resolved = resolvedBufs[(flip ^= 1)]!;
          const { count } = batch;
          // The fast path's symbol-field index of each record comes out of the symbol lookup itself
          // (once per cached interval, not per record); the batch keeps the array, so it is its own.
          if (indexing) indexing.out = new Int32Array(count);
          await symbols.resolve(batch, resolved, indexing);
          let syms: Int32Array = noFast;
          let block: TupleBlock | Promise<TupleBlock>;
          if (indexing) {
            syms = indexing.out;
            block = encoder!.encode(batch.bytes, batch.offsets, syms);
          } else {
            block = { bytes: new Uint8Array(0), ends: noFast, timeUs: new Float64Array(count).fill(-1), minUs: Infinity, maxUs: -Infinity };
          }
          await settle();
          pending = { batch, resolved, syms, block };
          yield* batcher.drain();
        }
      } catch (err) {
        // Batches that were whole before the damage still go out first, as they always have.
        await settle();
        yield* batcher.drain();
        throw err;
      }
      await settle();
      batcher.finish();
      yield* batcher.drain();
    } finally {
      this.stats.unresolvedIds = [...unresolved].sort((a, b) => a - b);
      await encoder?.close();
      await decoder.close();
    }
  }
}

/**
 * Turns one decoder batch into rows and rejections of the batcher's checkpoint batches, once its
 * fast-path tuples are encoded: block.timeUs[i] ≥ 0 marks the records the codec took; every other
 * record of the table goes through the generic mapping and validation, as always.
 */
function recordClassifier(
  spec: TableSpec,
  columns: readonly Column[],
  mapper: DbnMapper,
  symbolFields: SymbolFields,
  batcher: CheckpointBatcher<DbnRowBatch>,
  stats: DbnSourceStats,
  unresolved: Set<number>,
  quarantineUnknown: boolean,
): (batch: RecordBatch, resolvedSymbols: (string | null)[], syms: Int32Array, block: TupleBlock) => void {
  const batchSize = batcher.batchSize;
  const timeIndex = columns.findIndex((c) => c.name === spec.hypertable?.timeColumn);
  const idIndex = columns.findIndex((c) => c.name === 'instrument_id');
  const symbolIndex = columns.findIndex((c) => c.name === 'symbol');
  const scratch: Record<string, CellValue> = {};
  return (batch, resolvedSymbols, syms, block) => {
    const seg: TupleSegment = { batch, block, syms };
    mapper.reset(batch);
    const { rtypes, count, schema, view, offsets } = batch;
    const timeUs = block.timeUs;
    // The usual case: every record of the batch became a tuple, so runs need no scanning.
    const allFast = block.ends.length === count;
    let ord = 0;
    let i = 0;
    while (i < count) {
      const current = batcher.current;
      if (current && timeUs[i]! >= 0) {
        // A run of fast records, cut at the checkpoint boundary.
        const room = batchSize - current.recordsIn;
        const end = Math.min(count, i + room);
        let j = allFast ? end : i + 1;
        while (j < end && timeUs[j]! >= 0) j++;
        current.addFastRun(seg, i, j, ord);
        current.recordsIn += j - i;
        stats.tableRecords += j - i;
        ord += j - i;
        i = j;
        batcher.cutIfFull();
        continue;
      }
      const rt = rtypes[i]!;
      if (!mapper.accepts(rt, schema)) {
        if (KNOWN_RTYPE[rt]) {
          stats.skipped[rt] = (stats.skipped[rt] ?? 0) + 1;
        } else if (quarantineUnknown) {
          // No known record type has this rtype (a damaged byte, a DBN newer than the decoder):
          // skipping it would lose a record without a word, so it is a rejection of the current
          // checkpoint batch, in input order like any other.
          stats.unknownRecords += 1;
          if (current) {
            current.recordsIn += 1;
            current.rejections.push(unknownRtypeRejection(batch, i));
            batcher.cutIfFull();
          } else {
            batcher.skipOne();
          }
        }
        i++;
        continue;
      }
      stats.tableRecords += 1;
      // A record with a symbol entry has its symbol there, not in resolvedSymbols (resolveBatch).
      const symbol = i < syms.length && syms[i]! >= 0 ? symbolFields.name(syms[i]!) : (resolvedSymbols[i] ?? null);
      if (symbol === null) unresolved.add(view.getUint32(offsets[i]! + 4, true));
      if (timeUs[i]! >= 0) ord++; // a fast record of a checkpoint batch being skipped
      if (!current) {
        batcher.skipOne();
        i++;
        continue;
      }
      const recordIndex = batch.firstRecordIndex + i;
      current.recordsIn += 1;
      const mapped = mapper.map(i, symbol);
      if (typeof mapped === 'string') {
        current.rejections.push({
          recordIndex,
          reason: mapped,
          constraint: null,
          record: valuesToJson(columns, null, { dbn_record_index: recordIndex }),
        });
      } else {
        const problem = validate(spec, columns, mapped, scratch, symbol, symbolIndex, idIndex, timeIndex);
        if (problem) {
          current.rejections.push({
            recordIndex,
            reason: problem.reason,
            constraint: problem.constraint,
            record: valuesToJson(columns, mapped, { dbn_record_index: recordIndex }),
          });
        } else {
          current.addValues(seg, i, mapped, mapped[idIndex] as number);
        }
      }
      batcher.cutIfFull();
      i++;
    }
  };
}

/** The quarantine row of a record whose rtype no DBN record type has: its place in the file and its bytes. */
export function unknownRtypeRejection(batch: RecordBatch, i: number): Rejection {
  const at = batch.offsets[i]!;
  const length = batch.bytes[at]! << 2;
  const offset = batch.streamOffset + at;
  const recordIndex = batch.firstRecordIndex + i;
  const rtype = `0x${batch.rtypes[i]!.toString(16).padStart(2, '0')}`;
  return {
    recordIndex,
    reason: `unknown rtype ${rtype} (${length}-byte record) at byte offset ${offset} of the decompressed stream: not a DBN record type`,
    constraint: 'unknown_rtype',
    record: JSON.stringify({
      dbn_record_index: recordIndex,
      byte_offset: offset,
      rtype,
      length,
      bytes: Buffer.from(batch.bytes.subarray(at, at + Math.min(length, 512))).toString('hex'),
    }),
  };
}

function validate(
  spec: TableSpec,
  columns: readonly Column[],
  values: CellValue[],
  scratch: Record<string, CellValue>,
  symbol: string | null,
  symbolIndex: number,
  idIndex: number,
  timeIndex: number,
): { reason: string; constraint: string | null } | null {
  for (let c = 0; c < columns.length; c++) {
    const v = values[c]!;
    const col = columns[c]!;
    if (v === null && !col.nullable) {
      if (c === symbolIndex && symbol === null) {
        return {
          reason: `symbol unresolved for instrument_id ${String(values[idIndex])} at ${values[timeIndex] == null ? '?' : microsToIso(values[timeIndex] as bigint)}: not in the file's mappings nor in stored definitions (load the definitions first)`,
          constraint: 'symbol_not_null',
        };
      }
      return { reason: `${col.name} is undefined in the DBN record (NULL) but the column is NOT NULL`, constraint: `${col.name}_not_null` };
    }
    if (v !== null) {
      // A value the column cannot hold (a u16 channel_id above SMALLINT, a 51-70 character
      // symbol) is this row's problem: quarantined here, never left to fail the COPY encoder,
      // which would abort the whole load, and every re-run of it, on one odd record.
      const misfit = columnMisfit(col, v);
      if (misfit) return { reason: `${col.name}: ${misfit}`, constraint: null };
    }
    scratch[col.name] = v;
  }
  const failed = firstFailedCheck(spec, scratch);
  return failed ? { reason: failed.reason, constraint: failed.name } : null;
}
