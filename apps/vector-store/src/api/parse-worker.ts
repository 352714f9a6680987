// Worker thread that reads upsert bodies (upsert-body.ts: values scanned from the bytes into one Float32Array,
// the rest parsed and validated by the shared contracts parser) so that the event loop only applies them. The
// dense values of all records come back packed in one transferred Float32Array.
import { parentPort } from 'node:worker_threads';
import { isConiferError, type ParsedSparseValues, type RecordMetadata } from '@conifer/contracts';
import { readUpsertBody } from './upsert-body.js';

interface PackedRecord {
  id: string;
  valuesOffset: number;
  valuesLength: number;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
}

// `bytes`: the body's buffer, sent back (read, nothing here views it: ids and metadata are strings of their
// own, values are in `values`) so that the event loop copies the next body into its pages.
export type ParseReply =
  | { id: number; ok: true; namespace: string; records: PackedRecord[]; values: Float32Array; bytes: ArrayBuffer }
  | { id: number; ok: false; message: string; status: number; bytes: ArrayBuffer };

parentPort?.on('message', ({ id, bytes, length }: { id: number; bytes: ArrayBuffer; length: number }) => {
  let reply: ParseReply;
  const transfer: ArrayBuffer[] = [bytes];
  try {
    const { request, packed } = readUpsertBody(new Uint8Array(bytes, 0, length));
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
    reply = { id, ok: true, namespace: request.namespace, records, values, bytes };
  } catch (error) {
    const status = isConiferError(error) ? error.httpStatus : ((error as { status?: number }).status ?? 400);
    reply = { id, ok: false, message: (error as Error).message, status, bytes };
  }
  parentPort!.postMessage(reply, transfer);
});
