// The live slots of a namespace that satisfy a filter, narrowed by the posting lists when they help.
import { compileFilter, type FilterNode, type MetadataPredicate } from '@conifer/contracts';
import type { NamespaceStore } from '../namespace/namespace-store.js';

/** Candidate sets larger than this share of the slots are not worth visiting one by one. */
const POSTINGS_MAX_SHARE = 1 / 4;

export interface CompiledFilter {
  node: FilterNode;
  predicate: MetadataPredicate;
}

export function compile(filter: FilterNode | undefined): CompiledFilter | undefined {
  return filter === undefined ? undefined : { node: filter, predicate: compileFilter(filter) };
}

function postingCandidates(ns: NamespaceStore, filter: CompiledFilter): Set<number> | undefined {
  const candidates = ns.filterCandidates(filter.node);
  return candidates !== undefined && candidates.size < ns.slotCount * POSTINGS_MAX_SHARE ? candidates : undefined;
}

/** Live slots whose metadata satisfies the filter, ascending. */
export function matchingSlots(ns: NamespaceStore, filter: CompiledFilter): number[] {
  const out: number[] = [];
  const { predicate } = filter;
  const candidates = postingCandidates(ns, filter);
  if (candidates !== undefined) {
    const sorted = Int32Array.from(candidates).sort(); // typed-array sort: numeric, native
    for (const slot of sorted) if (ns.isLive(slot) && predicate(ns.metadataOf(slot))) out.push(slot);
    return out;
  }
  for (let slot = 0; slot < ns.slotCount; slot++) {
    if (ns.isLive(slot) && predicate(ns.metadataOf(slot))) out.push(slot);
  }
  return out;
}

/**
 * Live slots matching the filter: a bitmap over slots (membership tests from the graph search), their
 * number, and, when the postings narrowed the filter, the matching slots themselves (ascending).
 */
export interface MatchSet {
  bits: Uint8Array;
  count: number;
  slots: Int32Array | undefined;
}

export function matchSet(ns: NamespaceStore, filter: CompiledFilter): MatchSet {
  const bits = new Uint8Array(ns.slotCount);
  const { predicate } = filter;
  const candidates = postingCandidates(ns, filter);
  if (candidates !== undefined) {
    const sorted = Int32Array.from(candidates).sort();
    let n = 0;
    for (const slot of sorted) {
      if (ns.isLive(slot) && predicate(ns.metadataOf(slot))) {
        bits[slot] = 1;
        sorted[n++] = slot;
      }
    }
    return { bits, count: n, slots: sorted.subarray(0, n) };
  }
  let count = 0;
  for (let slot = 0; slot < ns.slotCount; slot++) {
    if (ns.isLive(slot) && predicate(ns.metadataOf(slot))) {
      bits[slot] = 1;
      count++;
    }
  }
  return { bits, count, slots: undefined };
}

/** Number of live records matching the filter (all live records without one). */
export function countMatching(ns: NamespaceStore, filter: CompiledFilter | undefined): number {
  return filter === undefined ? ns.liveCount : matchingSlots(ns, filter).length;
}
