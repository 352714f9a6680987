// The one exact scan: scores every live slot of a range (or of a filter's match set) with the namespace's
// exact scorer and keeps the best in a TopK. Large unfiltered dense scans take their candidates from
// usearch's SIMD brute force first (a margin for float32 ties and dead rows) and re-score them exactly; a
// long range of a cosine namespace takes them from its int8 sketches (tail-prescan.ts, RangeScan).
import type { MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import type { TopK } from '../top-k.js';
import type { Metric } from '../types.js';
import { rangeCandidates, rangeScan, rangeUnitEnd } from './tail-prescan.js';

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

/** Whether an unfiltered dense scan of slots [from, to) may use SIMD candidates. */
function simdWorthIt(ns: NamespaceStore, from: number, to: number, topK: number): boolean {
  const rows = to - from;
  const dead = from === 0 && to === ns.slotCount ? ns.slotCount - ns.liveCount : 0;
  return ns.dimension > 0 && rows >= SIMD_SCAN_MIN && dead <= rows / 4 && topK * 4 < rows;
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
  if (scan.simd !== undefined && simdWorthIt(ns, from, to, into.k)) {
    // Candidates per values chunk (a margin for float32 ties and the chunk's dead rows), re-scored exactly.
    // A range (the tail a graph does not cover yet) too: the JS scorer costs ~4× the SIMD scan, and a
    // tail of 25k 768-d rows scanned in JS blocked the event loop for 50–100 ms per query. A chunk the range
    // covers in part goes through the SIMD scan of the whole chunk when the range holds a quarter of it or
    // more (the graph's edge falls anywhere in a chunk), else its rows are scored one by one.
    // A long range of a cosine namespace is ranked over the int8 sketches instead (tail-prescan.ts, RangeScan).
    const range = rangeScan(ns, scan.simd.vector, scan.simd.metric, into.k, from, to);
    const chunkRows = ns.chunkRows;
    const candidates: number[] = [];
    let n = 0;
    for (let lo = from; lo < to; ) {
      const hi = Math.min(to, rangeUnitEnd(ns, range, lo));
      if (range.sketch === undefined && (hi - lo) * 4 < Math.min(chunkRows, ns.slotCount - (lo - (lo & (chunkRows - 1))))) {
        for (let slot = lo; slot < hi; slot++) {
          if (!ns.isLive(slot)) continue;
          n++;
          into.push(score(slot), slot);
        }
      } else {
        candidates.length = 0;
        n += rangeCandidates(ns, lo, hi, range, candidates);
        for (const slot of candidates) if (ns.isLive(slot)) into.push(score(slot), slot);
      }
      lo = hi;
    }
    return n;
  }
  let n = 0;
  for (let slot = from; slot < to; slot++) {
    if (!ns.isLive(slot)) continue;
    n++;
    into.push(score(slot), slot);
  }
  return n;
}
