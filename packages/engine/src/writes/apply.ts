// Applies a validated Mutation to the namespaces; never fails for valid input, so the same code replays
// the log on recovery. Returns the number of records touched.
import { compile, matchingSlots } from '../filter/matching.js';
import type { NamespaceCatalog } from '../namespace/catalog.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import type { Mutation } from '../types.js';

/**
 * `defer`: set, a namespace that needs compacting only begins a compaction, handed to `defer`, which
 * carries it out in slices (compactStep); unset, it is compacted at once.
 */
export function applyMutation(namespaces: NamespaceCatalog, m: Mutation, defer?: (ns: NamespaceStore) => void): number {
  const maybeCompact = (ns: NamespaceStore): void => {
    if (ns.compacting || !ns.needsCompaction()) return;
    if (defer === undefined) ns.compact();
    else {
      ns.beginCompaction();
      defer(ns);
    }
  };
  switch (m.type) {
    case 'upsert': {
      const ns = namespaces.obtain(m.namespace);
      for (const r of m.records) ns.put(r.id, r.values, r.sparseValues, r.metadata);
      maybeCompact(ns);
      return m.records.length;
    }
    case 'update': {
      const ns = namespaces.get(m.namespace);
      const slot = ns?.slotOf(m.id);
      if (ns === undefined || slot === undefined) return 0;
      const metadata = m.setMetadata === undefined ? ns.metadataOf(slot) : { ...ns.metadataOf(slot), ...m.setMetadata };
      const sparse = m.sparseValues ?? ns.sparseOf(slot);
      if (m.values !== undefined) {
        ns.put(m.id, m.values, sparse, metadata);
        maybeCompact(ns);
      } else {
        ns.setMetadata(slot, metadata);
        ns.setSparse(slot, sparse);
      }
      return 1;
    }
    case 'updateByFilter': {
      const ns = namespaces.get(m.namespace);
      if (ns === undefined) return 0;
      const slots = matchingSlots(ns, compile(m.filter)!);
      for (const slot of slots) ns.setMetadata(slot, { ...ns.metadataOf(slot), ...m.setMetadata });
      return slots.length;
    }
    case 'deleteIds': {
      const ns = namespaces.get(m.namespace);
      if (ns === undefined) return 0;
      let n = 0;
      for (const id of m.ids) {
        const slot = ns.slotOf(id);
        if (slot !== undefined) {
          ns.kill(slot);
          n++;
        }
      }
      maybeCompact(ns);
      return n;
    }
    case 'deleteByFilter': {
      const ns = namespaces.get(m.namespace);
      if (ns === undefined) return 0;
      const slots = matchingSlots(ns, compile(m.filter)!);
      for (const slot of slots) ns.kill(slot);
      maybeCompact(ns);
      return slots.length;
    }
    case 'deleteAll': {
      const ns = namespaces.get(m.namespace);
      if (ns === undefined) return 0;
      const n = ns.liveCount;
      ns.clear();
      return n;
    }
    case 'createNamespace':
      namespaces.obtain(m.namespace, m.schema);
      return 0;
    case 'deleteNamespace': {
      const n = namespaces.get(m.namespace)?.liveCount ?? 0;
      namespaces.delete(m.namespace);
      return n;
    }
  }
}
