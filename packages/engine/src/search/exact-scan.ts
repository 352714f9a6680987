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
    // tail of 25k 768-d rows scanned in JS blocked the event loop for 50–100 ms per query.
    let n = 0;
    for (const block of ns.denseBlocks(from)) {
      const end = block.first + block.rows;
      if (block.first >= to) break;
      if (block.first < from || end > to) {
        // A block the range covers in part: its rows in the range, scored one by one.
        for (let slot = Math.max(from, block.first); slot < Math.min(to, end); slot++) {
          if (!ns.isLive(slot)) continue;
          n++;
          into.push(score(slot), slot);
        }
        continue;
      }
      let dead = 0;
      for (let slot = block.first; slot < end; slot++) if (!ns.isLive(slot)) dead++;
      n += block.rows - dead;
      const k = Math.min(block.rows, into.k + dead + 16);
      for (const row of simdCandidates(block.values, block.rows, ns.dimension, scan.simd.vector, k, scan.simd.metric)) {
        const slot = block.first + row;
        if (ns.isLive(slot)) into.push(score(slot), slot);
      }
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
