// A snapshot is a compacted log: the same framed records as the WAL (createNamespace, then upserts of at
// most 1000 live records per namespace), ending with a snapshotEnd record carrying the record count.
// It is written to a temporary file, fsynced and renamed, so a snapshot file is whole or absent.
import type { NamespaceData } from '../engine/namespace.js';
import type { Mutation, StoredRecordInput } from '../engine/types.js';
import type { VectorIndex } from '../engine/vector-index.js';
import { encodeMutation, encodeSnapshotEnd, frame } from './wal-codec.js';

const RECORDS_PER_CHUNK = 1000;

/** Serialises the index state into framed records (synchronously: the state must not change meanwhile). */
export function captureSnapshot(index: VectorIndex): Buffer[] {
  const chunks: Buffer[] = [];
  let records = 0;
  const push = (m: Mutation): void => {
    chunks.push(frame(encodeMutation(m)));
    records++;
  };
  for (const [namespace, ns] of index.namespaces) {
    push(ns.schema === undefined ? { type: 'createNamespace', namespace } : { type: 'createNamespace', namespace, schema: ns.schema });
    let batch: StoredRecordInput[] = [];
    for (let slot = 0; slot < ns.count; slot++) {
      if (ns.live[slot] !== 1) continue;
      batch.push(recordAt(ns, slot));
      if (batch.length === RECORDS_PER_CHUNK) {
        push({ type: 'upsert', namespace, records: batch });
        batch = [];
      }
    }
    if (batch.length > 0) push({ type: 'upsert', namespace, records: batch });
  }
  chunks.push(frame(encodeSnapshotEnd(records)));
  return chunks;
}

function recordAt(ns: NamespaceData, slot: number): StoredRecordInput {
  const record: StoredRecordInput = { id: ns.ids[slot]! };
  if (ns.dimension > 0) record.values = ns.valuesOf(slot);
  const sparse = ns.sparse[slot];
  if (sparse !== undefined) record.sparseValues = sparse;
  const metadata = ns.metadata[slot];
  if (metadata !== undefined) record.metadata = metadata;
  return record;
}
