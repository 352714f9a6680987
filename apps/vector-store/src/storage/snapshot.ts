// A snapshot is a compacted log: framed records like the WAL's, for each namespace a createNamespace and
// then its live records in slot order *with their slot numbers* (placedRecords, at most 1000 per record),
// then one graph record per namespace whose HNSW graph was saved with the snapshot, and a final
// snapshotEnd carrying the record count. Keeping slot numbers is what lets the graph file, keyed by slot,
// be opened as is after a restart. It is written to a temporary file, fsynced and renamed, so a snapshot
// file is whole or absent; its graph files are fsynced before that rename.
import type { NamespaceStore, PlacedRecord, UsearchAnn, VectorIndex } from '@conifer/engine';
import { encodeMutation, encodePlacedRecords, encodeSnapshotEnd, frame } from './wal-codec.js';

const RECORDS_PER_CHUNK = 1000;

/** A graph to save with the snapshot: the namespace's published graph file and the slots it covers. */
export interface CapturedGraph {
  namespace: string;
  ann: UsearchAnn;
  upTo: number;
}

export interface CapturedSnapshot {
  /** Framed records, without the graph records and the end record (added once the graphs are saved). */
  chunks: Buffer[];
  records: number;
  graphs: CapturedGraph[];
}

/** Serialises the index state into framed records (synchronously: the state must not change meanwhile). */
export function captureSnapshot(index: VectorIndex): CapturedSnapshot {
  const chunks: Buffer[] = [];
  const graphs: CapturedGraph[] = [];
  let records = 0;
  for (const [namespace, ns] of index.namespaces.entries()) {
    chunks.push(frame(encodeMutation({ type: 'createNamespace', namespace })));
    records++;
    let batch: PlacedRecord[] = [];
    for (let slot = 0; slot < ns.slotCount; slot++) {
      if (!ns.isLive(slot)) continue;
      batch.push(recordAt(ns, slot));
      if (batch.length === RECORDS_PER_CHUNK) {
        chunks.push(frame(encodePlacedRecords(namespace, batch)));
        records++;
        batch = [];
      }
    }
    if (batch.length > 0) {
      chunks.push(frame(encodePlacedRecords(namespace, batch)));
      records++;
    }
    // Only graphs published to a file (memory-mapped) can be saved; one built in memory is rebuilt.
    if (ns.ann?.file !== undefined && ns.annUpTo > 0) graphs.push({ namespace, ann: ns.ann, upTo: ns.annUpTo });
  }
  return { chunks, records, graphs };
}

export function snapshotEnd(recordCount: number): Buffer {
  return frame(encodeSnapshotEnd(recordCount));
}

function recordAt(ns: NamespaceStore, slot: number): PlacedRecord {
  const record: PlacedRecord = { slot, id: ns.idOf(slot) };
  if (ns.dimension > 0) record.values = ns.valuesOf(slot);
  const sparse = ns.sparseOf(slot);
  if (sparse !== undefined) record.sparseValues = sparse;
  const metadata = ns.metadataOf(slot);
  if (metadata !== undefined) record.metadata = metadata;
  return record;
}
