// The filtered scan over int8 sketches: usearch's SIMD brute force ranks every match by the cosine of its
// int8 sketch (NamespaceStore keeps them for cosine namespaces), and the best `candidates` of them are
// re-scored with the namespace's exact scorer, so answers carry the same float32 scores as every other
// path. At 768-d this compares a match in ~0.1 µs instead of scoring it exactly in ~1 µs.
import type { MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { quantizeRow } from '../simd-exact.js';
import { TopK } from '../top-k.js';

/** Matching slots in ascending order: the match set's own list, else its bitmap's ones. */
function matchingSlots(matches: MatchSet): Int32Array {
  if (matches.slots !== undefined) return matches.slots;
  const { bits } = matches;
  const out = new Int32Array(matches.count);
  let n = 0;
  for (let slot = 0; slot < bits.length; slot++) if (bits[slot] === 1) out[n++] = slot;
  return out.subarray(0, n);
}

/**
 * Scores into `into` the `candidates` matches nearest `vector` by their sketches (ns.sketchReady must
 * hold), exactly. Returns the number of records scored exactly.
 */
export function sketchScan(ns: NamespaceStore, matches: MatchSet, vector: Float32Array, candidates: number, score: (slot: number) => number, into: TopK): number {
  const query = new Int8Array(ns.dimension);
  quantizeRow(vector, 0, ns.dimension, query, 0);
  const approx = new TopK(Math.max(candidates, into.k));
  ns.sketchCandidates(matchingSlots(matches), query, approx.k, approx);
  for (const { slot } of approx.sorted()) into.push(score(slot), slot);
  return approx.size;
}
