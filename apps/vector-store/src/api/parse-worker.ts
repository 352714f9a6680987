// Worker thread that reads upsert bodies (upsert-body.ts: values scanned from the bytes into one Float32Array,
// the rest parsed and validated by the shared contracts parser) so that the event loop only applies them. The
// dense values of all records come back packed in one transferred Float32Array.
//
// Its buffer comes back too (ParsePool.recycle, once the write is logged and applied: the namespace and the log
// hold copies) and the next body's values are scanned into it. A fresh one per body was a new mapping of ~2 MB
// at 768-d (above the store's 32 KB mmap threshold) whose pages this thread faulted in and a collector thread
// unmapped: ~20 ms of the store's CPU per 1000 768-d vectors (bench/RESULTS.md, session 13 ingest). The list is
// short (the bodies in flight) and emptied, then collected, after a few seconds without upserts.
import { parentPort } from 'node:worker_threads';
import { isConiferError, type ParsedSparseValues, type RecordMetadata } from '@conifer/contracts';
import { collectGarbage } from '../storage/collect-garbage.js';
import { IdleFreeList } from '../storage/idle-free-list.js';
import { readUpsertBody, valuesRoom } from './upsert-body.js';

/** Values buffers are allocated in steps of this size, so that bodies of about the same size share them. */
const VALUES_STEP = 256 * 1024;
/** Bodies whose values room is under this take a fresh array as before (glibc's heap serves them). */
const VALUES_RECYCLE_MIN = 64 * 1024;

const free = new IdleFreeList<ArrayBuffer>(6, 3000, () => collectGarbage());

/** A buffer for the values of a body of `length` bytes: from the free list, else new; undefined for a small body. */
function valuesBuffer(length: number): { buffer: ArrayBuffer; reused: boolean } | undefined {
  const room = valuesRoom(length);
  if (room < VALUES_RECYCLE_MIN) return undefined;
  const reused = free.take((b) => b.byteLength >= room && b.byteLength < room + 4 * VALUES_STEP);
  if (reused !== undefined) return { buffer: reused, reused: true };
  return { buffer: new ArrayBuffer(Math.ceil(room / VALUES_STEP) * VALUES_STEP), reused: false };
}

interface PackedRecord {
  id: string;
  valuesOffset: number;
  valuesLength: number;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
}

// `bytes`: the body's buffer, sent back (read, nothing here views it: ids and metadata are strings of their
// own, values are in `values`) so that the event loop copies the next body into its pages.
// `valuesReused`: the values were scanned into a buffer that came back (counted by the pool, for specs).
export type ParseReply =
  | { id: number; ok: true; namespace: string; records: PackedRecord[]; values: Float32Array; bytes: ArrayBuffer; valuesReused: boolean }
  | { id: number; ok: false; message: string; status: number; bytes: ArrayBuffer };

/** A body to parse, or (`recycle`) a values buffer of an earlier answer that nothing reads any more. */
export type ParseMessage = { id: number; bytes: ArrayBuffer; length: number } | { recycle: ArrayBuffer };

parentPort?.on('message', (message: ParseMessage) => {
  if ('recycle' in message) {
    if (message.recycle.byteLength >= VALUES_RECYCLE_MIN) free.put(message.recycle);
    return;
  }
  const { id, bytes, length } = message;
  let reply: ParseReply;
  const transfer: ArrayBuffer[] = [bytes];
  const into = valuesBuffer(length);
  // The buffer goes back on the list unless the answer carries it (the reference path and errors leave it).
  let spare = into?.buffer;
  try {
    const { request, packed } = readUpsertBody(new Uint8Array(bytes, 0, length), into?.buffer);
    if (packed !== undefined && packed.buffer === spare) spare = undefined;
    let values = packed;
    if (values === undefined) {
      // The reference path (an unusual body that is still valid): pack its values here.
      let total = 0;
      for (const r of request.vectors) total += r.values?.length ?? 0;
      values = new Float32Array(total);
      let offset = 0;
      for (const r of request.vectors) {
        if (r.values === undefined) continue;
        values.set(r.values, offset);
        r.values = values.subarray(offset, offset + r.values.length);
        offset += r.values.length;
      }
    }
    const records = request.vectors.map((r) => {
      const packedRecord: PackedRecord = { id: r.id, valuesOffset: r.values === undefined ? 0 : r.values.byteOffset / 4, valuesLength: r.values?.length ?? -1 };
      if (r.sparseValues !== undefined) packedRecord.sparseValues = r.sparseValues;
      if (r.metadata !== undefined) packedRecord.metadata = r.metadata;
      return packedRecord;
    });
    transfer.push(values.buffer as ArrayBuffer);
    reply = { id, ok: true, namespace: request.namespace, records, values, bytes, valuesReused: into?.reused === true && packed?.buffer === into.buffer };
  } catch (error) {
    const status = isConiferError(error) ? error.httpStatus : ((error as { status?: number }).status ?? 400);
    reply = { id, ok: false, message: (error as Error).message, status, bytes };
  }
  // A grown scan detached it (its values are in the grown buffer, which the answer carries).
  if (spare !== undefined && spare.byteLength > 0) free.put(spare);
  parentPort!.postMessage(reply, transfer);
});
