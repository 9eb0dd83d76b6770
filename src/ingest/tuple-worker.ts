/**
 * Worker-thread body of WorkerTupleEncoder (tuple-encoder.ts): encodes tuple blocks for the main
 * thread, which meanwhile decodes and classifies the next records. Jobs arrive and are answered
 * in order; the block's buffers are transferred back, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FieldWords, fieldWords } from '../copy/tuple-fields.js';
import type { TableName } from '../schema/tables.js';
import { type TupleJob, type TupleReply, tupleBlockEncoder } from './tuple-encoder.js';

const port = parentPort!;
const encodeBlock = tupleBlockEncoder((workerData as { table: TableName }).table);
const fields: FieldWords[] = [];

port.on('message', (job: TupleJob) => {
  try {
    for (const f of job.newFields) fields.push(fieldWords(f));
    const block = encodeBlock(job.records, job.offsets, job.syms, fields);
    const reply: TupleReply = { id: job.id, block, records: job.records };
    port.postMessage(reply, [
      block.bytes.buffer as ArrayBuffer,
      block.ends.buffer as ArrayBuffer,
      block.timeUs.buffer as ArrayBuffer,
      job.records.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    const reply: TupleReply = { id: job.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    port.postMessage(reply);
  }
});
