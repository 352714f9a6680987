// The filtered scan over int8 sketches: usearch's SIMD brute force ranks every match by the dot product of
// its int8 sketch with the query's (NamespaceStore keeps the sketches for cosine namespaces, all of one
// norm, so that product ranks as the cosine), and the best `candidates` of them are re-scored with the
// namespace's exact scorer, so answers carry the same float32 scores as every other path. At 768-d this
// compares a match in ~0.1 µs (its row gathered, then compared) instead of scoring it exactly in ~1 µs.
import { slotsOf, type MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { quantizeRow } from '../simd-exact.js';
import { TopK } from '../top-k.js';

/**
 * Scores into `into` the `candidates` matches nearest `vector` by their sketches (ns.sketchReady must
 * hold), exactly. Returns the number of records scored exactly.
 */
export function sketchScan(ns: NamespaceStore, matches: MatchSet, vector: Float32Array, candidates: number, score: (slot: number) => number, into: TopK): number {
  const query = new Int8Array(ns.dimension);
  quantizeRow(vector, 0, ns.dimension, query, 0);
  const approx = new TopK(Math.max(candidates, into.k));
  ns.sketchCandidates(slotsOf(matches), query, approx.k, approx);
  // Scored in slot order: after a restart the values are read from the segment file, and ascending
  // offsets read it front to back.
  const shortlist = approx.slotArray().sort();
  for (const slot of shortlist) into.push(score(slot), slot);
  return shortlist.length;
}
