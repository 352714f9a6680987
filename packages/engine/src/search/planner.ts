// The query planner: decides, for one query on one namespace, between an exact scan and the HNSW graph
// (with how many candidates), and returns that decision as a plan. It computes the filter's match set
// because its size is the planner's main input; the executor reuses it.
import { listMatchSet, matchSet, type CompiledFilter, type MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { lowerBound } from '../sorted-bounds.js';
import type { SearchOptions } from '../types.js';

/** A scan of a filter's whole match set. */
export type MatchScanPlan =
  /** Score every record of the filter's match set. */
  | { kind: 'exact-filtered'; matches: MatchSet }
  /**
   * Rank every match by its int8 sketch (SIMD), score the best `candidates` exactly (cosine namespaces
   * whose sketches are built; search/sketch-scan.ts).
   */
  | { kind: 'sketch-filtered'; matches: MatchSet; candidates: number };

export type QueryPlan =
  | { kind: 'empty' }
  /** Score every live record (SIMD candidates when `simd`). */
  | { kind: 'exact'; simd: boolean }
  | MatchScanPlan
  /**
   * Ask the graph for `candidates` neighbours (re-ranked exactly), plus an exact scan of the slots not yet
   * in the graph. With `matches`, only matching candidates count and about `wanted` of them are expected;
   * far fewer means the matches lie away from the query (a filter correlated with the vectors): the
   * executor widens the search up to `widest` candidates (beyond, scanning the match set costs less),
   * then scans the match set (`scan`; an exact scan when absent). Only the first `rerank` accepted
   * candidates (the graph's order) are scored exactly (all of them for a filtered search, whose matches
   * come from anywhere in the list). `tail`: the matches the graph does not cover yet, ranked over their
   * sketches (when absent, each is scored exactly).
   */
  | { kind: 'ann'; candidates: number; rerank: number; matches: MatchSet | undefined; wanted: number; widest: number; scan?: MatchScanPlan; tail?: MatchScanPlan };

export interface PlanInput {
  /** Dense query vector (undefined for sparse-only queries). */
  vector: Float32Array | undefined;
  /** Whether the query has sparse values (hybrid and sparse queries are scored exactly). */
  hasSparse: boolean;
  filter: CompiledFilter | undefined;
  topK: number;
}

// Costs in exact scores (one record scored by the JS scorer). A graph search for k candidates costs
// k² / GRAPH_QUADRATIC of them plus GRAPH_FIXED: usearch keeps its ef = k best in a sorted buffer, so its
// cost grows with k² once k is in the hundreds. Measured on hard data (1000 overlapping low-rank clusters;
// bench/src/filtered-recall.ts, bench/RESULTS.md), loaded machine, in the same runs as exact scans of
// the matches: k = 400 / 1000 cost 1.67 / 17 ms at 100k × 128 (exact score 0.6–0.8 µs: k² / 41), 11 / 94 ms
// at 100k × 768 (exact score 7.9 µs: k² / 84–111).
const GRAPH_QUADRATIC = 64;
const GRAPH_FIXED = 64;
// The sketch scan: each match costs a fraction of an exact score (an int8 row copied and compared with
// SIMD: both grow with the dimension, the sketch's 4× slower, plus a per-row part that weighs most at low
// dimensions), plus the exact re-scoring of its candidates and a fixed part (quantising the query, one
// usearch call per values chunk). Fitted on 100k hard vectors, same-run ratios of the two scans of the same
// match sets (bench/RESULTS.md "Filtered scan over int8 sketches"): a match cost ≈ 0.74 of an exact score
// at 128-d and ≈ 0.32 at 768-d; 1000 matches were scanned faster exactly at 128-d (0.41 vs 0.51 ms) and
// over the sketches at 768-d (1.1–1.4 vs 2.0–3.1 ms).
const SKETCH_PER_MATCH = 0.2;
const SKETCH_PER_MATCH_DIMS = 70;
const SKETCH_FIXED = 300;
/**
 * Sketch candidates re-scored exactly: at least SKETCH_CANDIDATES_MIN (4 × topK when larger), one per
 * SKETCH_MATCHES_PER_CANDIDATE matches beyond. The int8 sketch ranks so close to the cosine that the true
 * top 10 were within its first 20 for every query (40) and filter (10 % and 1 %, independent and correlated,
 * buckets and float ranges) of the hard, easy and GloVe data at 100k (bench/RESULTS.md, s8-filtered); the
 * candidates that can pass a true neighbour by the sketch's rounding grow with the matches near its score,
 * so the breadth follows the match set (10k: 40, as many as at 1000; 100k: 400). Each re-score reads a
 * float32 row (one `pread` after a restart): 100 of them were ~0.2 ms of a 10 % query, half a 1 % one.
 */
const SKETCH_CANDIDATES_MIN = 40;
const SKETCH_MATCHES_PER_CANDIDATE = 250;

/** The sketch scan's exact re-scores for `matches` matches (`options.sketchCandidates` overrides the rule). */
function sketchBreadth(options: SearchOptions, topK: number, matches: number): number {
  if (options.sketchCandidates !== undefined) return Math.max(options.sketchCandidates, topK * 10);
  return sketchShortlist(topK, matches);
}

/**
 * Unindexed ranges of at least this many rows are ranked over the int8 sketches (cosine namespaces whose sketches
 * cover them: the tail's scan, search/tail-prescan.ts, and a filtered graph search's tail matches): four sketch
 * chunks, ~25 ms of float32 scanning a query at 768-d. Below it the scan stays exact, where the sketches' shortlist
 * can miss a row among many near-duplicates (vectors crowded within the sketches' rounding of each other: the crash
 * e2e's one-plane vectors, at a 16k threshold, did not find a stored vector by its own values in a 20k tail).
 */
export const SKETCH_RANGE_MIN = 65_536;

/**
 * The sketch candidates to re-score exactly so that the best `topK` of `rows` rows by cosine are among them
 * (the rule above: the filtered scan's and, per sketch chunk, the unindexed tail's, search/tail-prescan.ts).
 */
export function sketchShortlist(topK: number, rows: number): number {
  return Math.max(SKETCH_CANDIDATES_MIN, topK * 4, Math.ceil(rows / SKETCH_MATCHES_PER_CANDIDATE));
}

/**
 * The most candidates one graph search may ask for before scanning the match set (which costs `scanCost`
 * exact scores) costs less (`graphCostScale` multiplies the graph's cost).
 */
function widestGraphSearch(scanCost: number, options: SearchOptions): number {
  const budget = scanCost / (options.graphCostScale ?? 1) - GRAPH_FIXED;
  return budget <= 0 ? 0 : Math.floor(Math.sqrt(budget * GRAPH_QUADRATIC));
}

// How fast the breadth grows with the graph (HNSW's recall at a fixed breadth falls as the graph grows), by
// dimension. Measured on the bench's data (100 full-rank Gaussian clusters, usearch int8 graphs, M = 16; engine
// level, bench/RESULTS.md "s6-ann-768"): at 128-d the candidates reaching recall@10 0.98 grow with √size (405 at
// 1M); at 768-d nearly linearly: ≈ 88 / 182 / 235 / 360 at 100k / 200k / 300k / 500k, (size / 100k)^0.8–0.9 (the
// walk must see a share of the ~n/100 near-equidistant members of the query's cluster; an f16 graph finds the
// same). 0.9 keeps the default's ×1.3–1.5 margin over that need at every size measured. Between the two
// dimensions, interpolated in log(dimension) (not measured).
const BREADTH_LOW_DIMENSION = 128;
const BREADTH_LOW_EXPONENT = 0.5;
const BREADTH_HIGH_DIMENSION = 768;
const BREADTH_HIGH_EXPONENT = 0.9;

/** The exponent of the graph size in the breadth rule for vectors of `dimension` (see above). */
export function breadthExponent(dimension: number): number {
  if (dimension <= BREADTH_LOW_DIMENSION) return BREADTH_LOW_EXPONENT;
  if (dimension >= BREADTH_HIGH_DIMENSION) return BREADTH_HIGH_EXPONENT;
  const at = Math.log(dimension / BREADTH_LOW_DIMENSION) / Math.log(BREADTH_HIGH_DIMENSION / BREADTH_LOW_DIMENSION);
  return BREADTH_LOW_EXPONENT + at * (BREADTH_HIGH_EXPONENT - BREADTH_LOW_EXPONENT);
}

/**
 * Graph candidates for an unfiltered query: the configured floor, widened beyond `annBreadthBase` vectors by
 * (graph size / base)^e, e = `annBreadthExponent` or `breadthExponent(dimension)` (½ when the dimension is not given).
 */
export function annBreadth(options: SearchOptions, topK: number, graphSize: number, dimension = 0): number {
  const exponent = options.annBreadthExponent ?? breadthExponent(dimension);
  const scale = Math.max(1, (graphSize / options.annBreadthBase) ** exponent);
  return Math.max(topK * 4, Math.ceil(options.annCandidates * scale));
}

/**
 * The unfiltered plan's candidates for a graph of `size` slots, `annLive` of them live: the rule's breadth
 * times the namespace's calibrated multiplier (search/calibrate.ts; 1 until calibrated), oversampled for the
 * dead slots.
 */
export function plannedCandidates(options: SearchOptions, topK: number, size: number, annLive: number, dimension: number, scale: number): number {
  return Math.ceil(Math.ceil(annBreadth(options, topK, annLive, dimension) * scale) * (size / annLive));
}

/**
 * Exact re-ranks for an unfiltered graph search of `candidates`: the floor times the namespace's calibrated
 * multiplier (below 1, a graph whose rule breadth is more than enough re-ranks fewer too; above 1, more: the true
 * neighbours a wider walk finds sit deeper in the graph's int8-ordered list, and a fixed floor capped what the
 * walk gained: at 200k × 768 bench data, ×2 measured 0.9954 re-ranking 64 and 0.9988 re-ranking 128, and at
 * 1M × 768 ×1 → ×1.5 bought only 0.976 → 0.979, bench/RESULTS.md session 11), and 4 × topK, at most all.
 */
export function annRerank(options: SearchOptions, topK: number, candidates: number, scale = 1): number {
  return Math.min(candidates, Math.max(topK * 4, Math.ceil(options.annRerank * scale)));
}

export function planQuery(ns: NamespaceStore | undefined, input: PlanInput, options: SearchOptions): QueryPlan {
  if (ns === undefined || ns.liveCount === 0) return { kind: 'empty' };
  const { vector, hasSparse, filter, topK } = input;
  // The graph is worth it only when the answer is a small part of the namespace; otherwise (and always
  // for sparse or hybrid queries, and namespaces without an ANN index yet) scan exactly.
  const ann = ns.ann;
  const useAnn = ann !== undefined && vector !== undefined && !hasSparse && ns.liveCount >= options.annMinVectors && topK * 4 < ns.liveCount;
  if (filter === undefined) {
    if (!useAnn) return { kind: 'exact', simd: vector !== undefined && !hasSparse };
    const annLive = Math.max(1, ann.size - ns.annDead);
    const k = plannedCandidates(options, topK, ann.size, annLive, ns.dimension, ns.annScale);
    if (k * 2 >= ann.size) return { kind: 'exact', simd: true };
    return { kind: 'ann', candidates: k, rerank: annRerank(options, topK, k, ns.annScale), matches: undefined, wanted: k, widest: Number.POSITIVE_INFINITY };
  }
  const matches = matchSet(ns, filter);
  const scan = matchScanPlan(ns, matches, vector !== undefined && !hasSparse, topK, options);
  if (!useAnn || matches.count <= options.exactFilterMax || topK * 4 >= matches.count) return scan;
  // Graph search with a filter (post-filtering: usearch's JS binding has no filtered search): the
  // candidates should hold as many matches as an unfiltered search would ask for, so oversample by the
  // inverse selectivity (and for dead slots). Fewer (4 × topK, as before) loses the true neighbours on
  // hard data: HNSW's candidate list is least accurate at its tail, which is where matches come from.
  const plan = filteredGraphPlan(ns, matches, topK, options, scan);
  if (plan.candidates * 2 >= ann.size || plan.candidates > plan.widest) return scan;
  const tail = vector !== undefined && !hasSparse ? tailMatchScanPlan(ns, matches, topK, options) : undefined;
  return tail === undefined ? plan : { ...plan, tail };
}

/**
 * The scan of a filtered graph search's matches in the slots its graph does not cover yet (the tail: hundreds of
 * thousands during and after a large ingest, where scoring a broad filter's matches one by one held the event loop
 * for 100s of ms): over their sketches when the tail is long (SKETCH_RANGE_MIN), the sketches cover it and that
 * costs less by the same model as a whole match set's; undefined when each match is to be scored exactly.
 */
function tailMatchScanPlan(ns: NamespaceStore, matches: MatchSet, topK: number, options: SearchOptions): MatchScanPlan | undefined {
  const from = ns.annUpTo;
  if (ns.slotCount - from < SKETCH_RANGE_MIN || !ns.sketchesCover(from, ns.slotCount)) return undefined;
  let slots: Int32Array;
  if (matches.slots !== undefined) slots = matches.slots.subarray(lowerBound(matches.slots, from));
  else {
    const { bits } = matches;
    const found: number[] = [];
    for (let slot = from; slot < ns.slotCount; slot++) if (bits[slot] === 1) found.push(slot);
    slots = Int32Array.from(found);
  }
  const candidates = sketchBreadth(options, topK, slots.length);
  if (sketchScanCost(ns.dimension, slots.length, candidates) * (options.sketchCostScale ?? 1) >= slots.length) return undefined;
  return { kind: 'sketch-filtered', matches: listMatchSet(ns.slotCount, slots), candidates };
}

/**
 * How to scan a filter's whole match set: over the int8 sketches when the namespace has them, the query is
 * dense-only and that costs less than scoring every match exactly; else exactly.
 */
function matchScanPlan(ns: NamespaceStore, matches: MatchSet, denseOnly: boolean, topK: number, options: SearchOptions): MatchScanPlan {
  const candidates = sketchBreadth(options, topK, matches.count);
  if (denseOnly && ns.sketchReady && sketchScanCost(ns.dimension, matches.count, candidates) * (options.sketchCostScale ?? 1) < matches.count) {
    return { kind: 'sketch-filtered', matches, candidates };
  }
  return { kind: 'exact-filtered', matches };
}

/** Modelled cost of a match-set scan, in exact scores. */
function matchScanCost(ns: NamespaceStore, plan: MatchScanPlan): number {
  return plan.kind === 'sketch-filtered' ? sketchScanCost(ns.dimension, plan.matches.count, plan.candidates) : plan.matches.count;
}

function sketchScanCost(dimension: number, count: number, candidates: number): number {
  return count * (SKETCH_PER_MATCH + SKETCH_PER_MATCH_DIMS / dimension) + candidates + SKETCH_FIXED;
}

/**
 * The graph search a filtered query gets when the graph is chosen (`ns` has a graph); `scan` is what it
 * falls back to (the match set's exact scan when absent), and what its widening is weighed against.
 */
export function filteredGraphPlan(
  ns: NamespaceStore,
  matches: MatchSet,
  topK: number,
  options: SearchOptions,
  scan: MatchScanPlan = { kind: 'exact-filtered', matches },
): Extract<QueryPlan, { kind: 'ann' }> {
  const size = ns.ann?.size ?? 0;
  const annLive = Math.max(1, size - ns.annDead);
  // A multiplier below 1 is an unfiltered economy (calibrated on unfiltered queries): filtered searches, whose
  // matches come from the list's tail, keep at least the rule.
  const wanted = Math.ceil(annBreadth(options, topK, annLive, ns.dimension) * Math.max(1, ns.annScale));
  const selectivity = Math.max(matches.count, 1) / Math.max(ns.liveCount, 1);
  const candidates = Math.ceil((wanted / selectivity) * (Math.max(size, 1) / annLive));
  return { kind: 'ann', candidates, rerank: candidates, matches, wanted, widest: widestGraphSearch(matchScanCost(ns, scan), options), scan };
}
