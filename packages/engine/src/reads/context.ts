// What every read needs of an index: its settings, search options and namespaces.
import type { NamespaceCatalog } from '../namespace/catalog.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import type { EngineRecord, IndexSettings, SearchOptions } from '../types.js';

export interface ReadContext {
  readonly settings: IndexSettings;
  readonly search: SearchOptions;
  readonly namespaces: NamespaceCatalog;
}

/** A copy of a stored record (the values are copied out of the store). */
export function recordOf(ns: NamespaceStore, slot: number, parts: { values: boolean; metadata: boolean } = { values: true, metadata: true }): EngineRecord {
  const record: EngineRecord = { id: ns.idOf(slot) };
  if (parts.values) {
    if (ns.dimension > 0) record.values = ns.valuesOf(slot).slice();
    const sv = ns.sparseOf(slot);
    if (sv !== undefined) record.sparseValues = sv;
  }
  if (parts.metadata) {
    const md = ns.metadataOf(slot);
    if (md !== undefined) record.metadata = md;
  }
  return record;
}
