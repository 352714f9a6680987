// A snapshot is a compacted log: framed records like the WAL's, for each namespace a createNamespace, the
// values records naming the namespace's values files (dense values by slot, in parts, see values-file.ts), then its
// live records in slot order *with their slot numbers* (placedRecords, at most 256 per record; ids,
// metadata, sparse values and the dense norm, not the dense values),
// then one graph record per namespace whose HNSW graph was saved with the snapshot, and a final
// snapshotEnd carrying the record count. Keeping slot numbers is what lets the graph file, keyed by slot,
// be opened as is after a restart. It is written to a temporary file, fsynced and renamed, so a snapshot
// file is whole or absent; its graph files are fsynced before that rename.
//
// Capture is cheap and synchronous (frozen views of the namespaces: pointer copies, see
// NamespaceStore.freeze); encoding and writing run afterwards a chunk at a time, so the event loop keeps
// serving requests while a snapshot is written.
import type { FileHandle } from 'node:fs/promises';
import type { BreadthCalibration, FrozenNamespace, NamespaceStore, PlacedRecord, UsearchAnn, VectorIndex } from '@conifer/engine';
import { encodeMutation, encodePlacedRecords, encodeSnapshotEnd, encodeValues, frame, type ValuesRecord } from './wal-codec.js';

/** Records per encoded chunk: each chunk is one synchronous slice of work (~1 MB at 768-d). */
const RECORDS_PER_CHUNK = 256;

/** A graph to save with the snapshot: the namespace's published graph file and the slots it covers. */
export interface CapturedGraph {
  namespace: string;
  ann: UsearchAnn;
  upTo: number;
  /** The graph's search-breadth calibration at capture (saved with it). */
  calibration: BreadthCalibration | undefined;
}

export interface CapturedSnapshot {
  namespaces: [string, FrozenNamespace][];
  /** The live namespace objects and their generations at capture (a values file applies to them only if unchanged). */
  stores: { ns: NamespaceStore; generation: number }[];
  graphs: CapturedGraph[];
}

/** Saves a namespace's values files (the k-th namespace of the snapshot); returns their records, in slot order. */
export type SaveValues = (namespace: string, k: number, ns: FrozenNamespace) => Promise<ValuesRecord[]>;

/** The index state at this instant (synchronous and O(slots) pointer copies; the state may change afterwards). */
export function captureSnapshot(index: VectorIndex): CapturedSnapshot {
  const namespaces: [string, FrozenNamespace][] = [];
  const stores: { ns: NamespaceStore; generation: number }[] = [];
  const graphs: CapturedGraph[] = [];
  for (const [namespace, ns] of index.namespaces.entries()) {
    namespaces.push([namespace, ns.freeze()]);
    stores.push({ ns, generation: ns.generation });
    // Only graphs published to a file (memory-mapped) can be saved; one built in memory is rebuilt.
    if (ns.ann?.file !== undefined && ns.annUpTo > 0) graphs.push({ namespace, ann: ns.ann, upTo: ns.annUpTo, calibration: ns.annCalibration });
  }
  return { namespaces, stores, graphs };
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let written = 0;
  while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
}

/**
 * Encodes and writes the captured records a chunk at a time, each dense namespace's values into files of its own
 * (`saveValues`, before the records that refer to them); returns the number of records written and the values
 * files, in the order of `captured.namespaces` (undefined for a namespace without dense values).
 */
export async function writeSnapshotRecords(
  handle: FileHandle,
  captured: CapturedSnapshot,
  saveValues: SaveValues,
): Promise<{ records: number; values: (ValuesRecord[] | undefined)[] }> {
  let records = 0;
  const values: (ValuesRecord[] | undefined)[] = [];
  for (const [k, [namespace, ns]] of captured.namespaces.entries()) {
    const schema = ns.schema;
    await writeAll(handle, frame(encodeMutation(schema === undefined ? { type: 'createNamespace', namespace } : { type: 'createNamespace', namespace, schema })));
    records++;
    const files = ns.dimension > 0 && ns.slotCount > 0 ? await saveValues(namespace, k, ns) : undefined;
    values.push(files);
    for (const file of files ?? []) {
      await writeAll(handle, frame(encodeValues(file)));
      records++;
    }
    let batch: PlacedRecord[] = [];
    for (let slot = 0; slot < ns.slotCount; slot++) {
      if (!ns.isLive(slot)) continue;
      batch.push(recordAt(ns, slot, files !== undefined));
      if (batch.length === RECORDS_PER_CHUNK) {
        await writeAll(handle, frame(encodePlacedRecords(namespace, batch)));
        records++;
        batch = [];
      }
    }
    if (batch.length > 0) {
      await writeAll(handle, frame(encodePlacedRecords(namespace, batch)));
      records++;
    }
  }
  return { records, values };
}

export async function writeFramed(handle: FileHandle, payload: Buffer): Promise<void> {
  await writeAll(handle, frame(payload));
}

export function snapshotEndPayload(recordCount: number): Buffer {
  return encodeSnapshotEnd(recordCount);
}

function recordAt(ns: FrozenNamespace, slot: number, valuesInFile: boolean): PlacedRecord {
  const record: PlacedRecord = { slot, id: ns.idOf(slot) };
  if (ns.dimension > 0) {
    if (valuesInFile) record.norm = ns.normOf(slot);
    else record.values = ns.valuesOf(slot);
  }
  const sparse = ns.sparseOf(slot);
  if (sparse !== undefined) record.sparseValues = sparse;
  const metadata = ns.metadataOf(slot);
  if (metadata !== undefined) record.metadata = metadata;
  return record;
}
