/**
 * Backfills and corrections on live, compressed hypertables: load plans, compression-aware
 * strategies, write modes (append with duplicate quarantine, upsert), chunk advice.
 */
export { planLoad, formatPlan, chooseStrategy, dmlOnCompressedChunks, type LoadPlan, type PlannedChunk, type LoadStrategy, type PlanOptions } from './plan.js';
export { listChunks, chunkIntervalUs, recoverDecompressedChunks, type ChunkInfo, type RecoveredLoad, type RecoverOptions } from './chunks.js';
export { writeMerged, duplicateReason, type WriteMode, type MergeOutcome, type MergeOptions } from './merge.js';
export { BackfillSession, type BackfillOptions, type BackfillSummary, type LoadMode } from './session.js';
export { lockSlots, slotsFor, tableLockKey, MAX_SLOT_LOCKS } from './locks.js';
export { scanDbnFile, type DbnScan } from './scan.js';
export { planDbnFile, upsertDbnFile, type FilePlan } from './load-file.js';
export { adviseChunkIntervals, formatAdvice, parseBytes, formatBytes, CHUNK_MEMORY_FRACTION, MAX_CHUNKS, type Advice, type TableAdvice, type AdviseOptions } from './advise.js';
