// The one exact scan: scores every live slot of a range (or of a filter's match set) with the namespace's
// exact scorer and keeps the best in a TopK. Large unfiltered dense scans take their candidates from
// usearch's SIMD brute force first (a margin for float32 ties and dead rows) and re-score them exactly.
import type { MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { simdCandidates } from '../simd-exact.js';
import type { TopK } from '../top-k.js';
import type { Metric } from '../types.js';

/** Unfiltered exact scans of namespaces at least this large use SIMD candidates. */
const SIMD_SCAN_MIN = 2000;

export interface ExactScan {
  ns: NamespaceStore;
  score: (slot: number) => number;
  into: TopK;
  /** Only slots in this set (a filter's matches). */
  matches?: MatchSet | undefined;
  /** Slot range (default: all). */
  from?: number;
  to?: number;
  /** A dense-only query for which SIMD candidates may replace the full scan. */
  simd?: { vector: Float32Array; metric: Metric } | undefined;
}

/** Whether an unfiltered dense scan of the whole namespace may use SIMD candidates. */
function simdWorthIt(ns: NamespaceStore, topK: number): boolean {
  const dead = ns.slotCount - ns.liveCount;
  return ns.dimension > 0 && ns.slotCount >= SIMD_SCAN_MIN && dead <= ns.slotCount / 4 && topK * 4 < ns.liveCount;
}

/** Scans; returns the number of records scored. */
export function exactScan(scan: ExactScan): number {
  const { ns, score, into, matches } = scan;
  const from = scan.from ?? 0;
  const to = scan.to ?? ns.slotCount;
  if (matches !== undefined) {
    let n = 0;
    if (matches.slots !== undefined) {
      for (const slot of matches.slots) {
        if (slot < from || slot >= to) continue;
        n++;
        into.push(score(slot), slot);
      }
      return n;
    }
    const { bits } = matches;
    for (let slot = from; slot < to; slot++) {
      if (bits[slot] !== 1) continue;
      n++;
      into.push(score(slot), slot);
    }
    return n;
  }
  if (scan.simd !== undefined && from === 0 && to === ns.slotCount && simdWorthIt(ns, into.k)) {
    // Candidates per values chunk (a margin for float32 ties and the chunk's dead rows), re-scored exactly.
    for (const block of ns.denseBlocks()) {
      let dead = 0;
      for (let slot = block.first; slot < block.first + block.rows; slot++) if (!ns.isLive(slot)) dead++;
      const k = Math.min(block.rows, into.k + dead + 16);
      for (const row of simdCandidates(block.values, block.rows, ns.dimension, scan.simd.vector, k, scan.simd.metric)) {
        const slot = block.first + row;
        if (ns.isLive(slot)) into.push(score(slot), slot);
      }
    }
    return ns.liveCount;
  }
  let n = 0;
  for (let slot = from; slot < to; slot++) {
    if (!ns.isLive(slot)) continue;
    n++;
    into.push(score(slot), slot);
  }
  return n;
}
