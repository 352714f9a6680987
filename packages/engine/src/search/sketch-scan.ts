// The filtered scan over int8 sketches: usearch's SIMD brute force ranks every match by the dot product of
// its int8 sketch with the query's (NamespaceStore keeps the sketches for cosine namespaces, all of one
// norm, so that product ranks as the cosine), and the best `candidates` of them are re-scored with the
// namespace's exact scorer, so answers carry the same float32 scores as every other path. At 768-d this
// compares a match in ~0.1 µs (its row gathered, then compared) instead of scoring it exactly in ~1 µs.
// A broad match set is first narrowed by the rows' sign codes (NamespaceStore.codeCandidates, an eighth of
// the sketch's bytes, read in place): only the best CODE_SHORTLIST_FRACTION of it has its sketch gathered.
import { slotsOf, type MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { quantizeRow } from '../simd-exact.js';
import { TopK } from '../top-k.js';

/** Matches from which the code pass pays: below, the sketches of the matches are few enough to gather whole. */
const CODE_PASS_MIN_MATCHES = 4096;
/**
 * The share of the matches the code pass keeps for the sketch (at least CODE_SHORTLIST_MIN). On the hard
 * 100k × 768 data at 10 % (bench/RESULTS.md), the true top 10 were all among the sketch's best 40 of the
 * codes' best 1600 in 20 queries out of 20 for three filters, 19 for the fourth; among the best 800 in 17–20:
 * the correlated filters, whose matches all lie near one another, need the broader share.
 */
const CODE_SHORTLIST_FRACTION = 1 / 6;
const CODE_SHORTLIST_MIN = 1024;

/**
 * Scores into `into` the `candidates` matches nearest `vector` by their sketches (ns.sketchReady must
 * hold), exactly. Returns the number of records scored exactly.
 */
export function sketchScan(ns: NamespaceStore, matches: MatchSet, vector: Float32Array, candidates: number, score: (slot: number) => number, into: TopK): number {
  const query = new Int8Array(ns.dimension);
  quantizeRow(vector, 0, ns.dimension, query, 0);
  const approx = new TopK(Math.max(candidates, into.k));
  let slots = slotsOf(matches);
  const shortlist = Math.max(CODE_SHORTLIST_MIN, approx.k, Math.ceil(slots.length * CODE_SHORTLIST_FRACTION));
  if (slots.length >= CODE_PASS_MIN_MATCHES && shortlist < slots.length && ns.codesReady) slots = ns.codeCandidates(slots, ns.codeTable(vector), shortlist);
  ns.sketchCandidates(slots, query, approx.k, approx);
  // Scored in slot order: after a restart the values are read from the segment file, and ascending
  // offsets read it front to back.
  const best = approx.slotArray().sort();
  for (const slot of best) into.push(score(slot), slot);
  return best.length;
}
