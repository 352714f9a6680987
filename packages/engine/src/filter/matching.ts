// The live slots of a namespace that satisfy a filter, narrowed by the posting lists when they help. An
// exact candidate set (metadata-index.ts) is the answer itself: no record's metadata is read.
import { compileFilter, type FilterNode, type MetadataPredicate } from '@conifer/contracts';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import type { SlotCandidates } from './candidates.js';

/**
 * Candidate sets larger than this share of the slots are not worth checking one by one (the predicate over
 * every slot in order costs less); an exact set is used whatever its size (no predicate at all).
 */
const POSTINGS_MAX_SHARE = 1 / 4;
/** Matches fewer than 1/this of the slots are put in order by sorting them, more by reading the bitmap. */
const SORT_MAX_SHARE_INVERSE = 50;

export interface CompiledFilter {
  node: FilterNode;
  predicate: MetadataPredicate;
}

export function compile(filter: FilterNode | undefined): CompiledFilter | undefined {
  return filter === undefined ? undefined : { node: filter, predicate: compileFilter(filter) };
}

function postingCandidates(ns: NamespaceStore, filter: CompiledFilter): SlotCandidates | undefined {
  const candidates = ns.filterCandidates(filter.node);
  return candidates !== undefined && (candidates.exact || candidates.size < ns.slotCount * POSTINGS_MAX_SHARE) ? candidates : undefined;
}

/** The candidates as an array of our own (a concatenation already is one). */
function slotArray(candidates: SlotCandidates): Int32Array {
  if (candidates.slots !== undefined) return candidates.slots;
  // A loop, not Int32Array.from: that took ~1 ms for a posting list of 10k slots (the iterator protocol).
  const out = new Int32Array(candidates.size);
  let i = 0;
  for (const slot of candidates) out[i++] = slot;
  return out;
}

/** Live slots whose metadata satisfies the filter, ascending. */
export function matchingSlots(ns: NamespaceStore, filter: CompiledFilter): number[] {
  const out: number[] = [];
  const { predicate } = filter;
  const candidates = postingCandidates(ns, filter);
  // Many candidates (a broad range from a sorted numeric index may be most of the namespace) are put in
  // order through a bitmap, for less than sorting them.
  if (candidates !== undefined && candidates.size * SORT_MAX_SHARE_INVERSE >= ns.slotCount) return Array.from(slotsOf(candidateMatchSet(ns, filter, candidates)));
  if (candidates !== undefined) {
    const sorted = slotArray(candidates).sort(); // typed-array sort: numeric, native
    const exact = candidates.exact;
    let previous = -1;
    for (const slot of sorted) {
      if (slot === previous) continue; // concatenated posting lists repeat slots
      previous = slot;
      if (ns.isLive(slot) && (exact || predicate(ns.metadataOf(slot)))) out.push(slot);
    }
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
  /** Built on first read when the set came as an exact slot list (a scan of the list never reads it). */
  readonly bits: Uint8Array;
  count: number;
  slots: Int32Array | undefined;
}

/**
 * The match set of an exact, strictly ascending slot list (one posting list, or one range of a sorted numeric
 * index read back in slot order): the list itself, its bitmap built only if asked (a graph search's
 * membership tests). A 10 % filter's sketch scan at 100k slots never reads it: the bitmap's allocation and
 * the per-slot liveness lookups were ~0.1–0.5 ms of its match set.
 */
export function listMatchSet(slotCount: number, slots: Int32Array): MatchSet {
  let bits: Uint8Array | undefined;
  return {
    count: slots.length,
    slots,
    get bits(): Uint8Array {
      if (bits === undefined) {
        bits = new Uint8Array(slotCount);
        for (let i = 0; i < slots.length; i++) bits[slots[i]!] = 1;
      }
      return bits;
    },
  };
}

/** Whether a slot list is strictly ascending (so also free of repeats). */
function strictlyAscending(list: Int32Array): boolean {
  for (let i = 1; i < list.length; i++) if (list[i]! <= list[i - 1]!) return false;
  return true;
}

export function matchSet(ns: NamespaceStore, filter: CompiledFilter): MatchSet {
  const candidates = postingCandidates(ns, filter);
  if (candidates !== undefined) return candidateMatchSet(ns, filter, candidates);
  const bits = new Uint8Array(ns.slotCount);
  const { predicate } = filter;
  let count = 0;
  for (let slot = 0; slot < ns.slotCount; slot++) {
    if (ns.isLive(slot) && predicate(ns.metadataOf(slot))) {
      bits[slot] = 1;
      count++;
    }
  }
  return { bits, count, slots: undefined };
}

/** The match set from the postings' candidates (checked by the predicate unless exact). */
function candidateMatchSet(ns: NamespaceStore, filter: CompiledFilter, candidates: SlotCandidates): MatchSet {
  const { predicate } = filter;
  // Posting lists keep their slots in the order they were added, which is mostly ascending: the
  // matches are put in order only when they are not (a concatenation, or metadata updated later).
  // A sorted numeric index's ranges come in value order: read back off the bitmap too.
  const list = slotArray(candidates);
  const exact = candidates.exact;
  // Exact candidates are live matches already (candidates.ts): in order, they are the answer as they are.
  if (exact && strictlyAscending(list)) return listMatchSet(ns.slotCount, list);
  const bits = new Uint8Array(ns.slotCount);
  const slots = new Int32Array(list.length);
  let n = 0;
  let previous = -1;
  let ascending = true;
  for (let i = 0; i < list.length; i++) {
    const slot = list[i]!;
    if (bits[slot] === 1) continue; // concatenated posting lists repeat slots
    // Exact candidates are live matches (candidates.ts): no liveness lookup, a random read per slot.
    if (exact || (ns.isLive(slot) && predicate(ns.metadataOf(slot)))) {
      bits[slot] = 1;
      slots[n++] = slot;
      if (slot < previous) ascending = false;
      previous = slot;
    }
  }
  if (!ascending) {
    // Few matches are sorted (1000 in ~40 µs); more are read back off the bitmap (0.1–0.4 ms for 100k slots,
    // where sorting 10k matches took 0.5–1 ms). A 1 % range over a sorted numeric index spent 0.16 ms here.
    if (n * SORT_MAX_SHARE_INVERSE < bits.length) slots.subarray(0, n).sort();
    else {
      n = 0;
      for (let slot = 0; slot < bits.length; slot++) if (bits[slot] === 1) slots[n++] = slot;
    }
  }
  return { bits, count: n, slots: slots.subarray(0, n) };
}

/** A match set's slots in ascending order: its own list, else its bitmap's ones. */
export function slotsOf(matches: MatchSet): Int32Array {
  if (matches.slots !== undefined) return matches.slots;
  const { bits } = matches;
  const out = new Int32Array(matches.count);
  let n = 0;
  for (let slot = 0; slot < bits.length; slot++) if (bits[slot] === 1) out[n++] = slot;
  return out.subarray(0, n);
}

/** Number of live records matching the filter (all live records without one). */
export function countMatching(ns: NamespaceStore, filter: CompiledFilter | undefined): number {
  return filter === undefined ? ns.liveCount : matchingSlots(ns, filter).length;
}
