// Worker thread that parses upsert bodies (JSON.parse of large number arrays is what bounds ingest on
// the event loop) and validates them with the shared contracts parser. The dense values of all records
// come back packed in one transferred Float32Array.
import { parentPort } from 'node:worker_threads';
import { isConiferError, parseJsonBytes, parseUpsertRequest, type ParsedSparseValues, type RecordMetadata } from '@conifer/contracts';

interface PackedRecord {
  id: string;
  valuesOffset: number;
  valuesLength: number;
  sparseValues?: ParsedSparseValues;
  metadata?: RecordMetadata;
}

export type ParseReply =
  | { id: number; ok: true; namespace: string; records: PackedRecord[]; values: Float32Array }
  | { id: number; ok: false; message: string; status: number };

parentPort?.on('message', ({ id, bytes }: { id: number; bytes: ArrayBuffer }) => {
  let reply: ParseReply;
  const transfer: ArrayBuffer[] = [];
  try {
    const request = parseUpsertRequest(parseJsonBytes(new Uint8Array(bytes)));
    let total = 0;
    for (const r of request.vectors) total += r.values?.length ?? 0;
    const values = new Float32Array(total);
    let offset = 0;
    const records = request.vectors.map((r) => {
      const packed: PackedRecord = { id: r.id, valuesOffset: offset, valuesLength: r.values?.length ?? -1 };
      if (r.values !== undefined) {
        values.set(r.values, offset);
        offset += r.values.length;
      }
      if (r.sparseValues !== undefined) packed.sparseValues = r.sparseValues;
      if (r.metadata !== undefined) packed.metadata = r.metadata;
      return packed;
    });
    transfer.push(values.buffer as ArrayBuffer);
    reply = { id, ok: true, namespace: request.namespace, records, values };
  } catch (error) {
    const status = isConiferError(error) ? error.httpStatus : ((error as { status?: number }).status ?? 400);
    reply = { id, ok: false, message: (error as Error).message, status };
  }
  parentPort!.postMessage(reply, transfer);
});
