// The query planner: decides, for one query on one namespace, between an exact scan and the HNSW graph
// (with how many candidates), and returns that decision as a plan. It computes the filter's match set
// because its size is the planner's main input; the executor reuses it.
import { matchSet, type CompiledFilter, type MatchSet } from '../filter/matching.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import type { SearchOptions } from '../types.js';

export type QueryPlan =
  | { kind: 'empty' }
  /** Score every live record (SIMD candidates when `simd`). */
  | { kind: 'exact'; simd: boolean }
  /** Score every record of the filter's match set. */
  | { kind: 'exact-filtered'; matches: MatchSet }
  /**
   * Ask the graph for `candidates` neighbours (re-ranked exactly), plus an exact scan of the slots not yet
   * in the graph. With `matches`, only matching candidates count; too few of them means the matches lie
   * away from the query and the executor scans the match set instead.
   */
  | { kind: 'ann'; candidates: number; matches: MatchSet | undefined };

export interface PlanInput {
  /** Dense query vector (undefined for sparse-only queries). */
  vector: Float32Array | undefined;
  /** Whether the query has sparse values (hybrid and sparse queries are scored exactly). */
  hasSparse: boolean;
  filter: CompiledFilter | undefined;
  topK: number;
}

/** Cost of scoring one record exactly and of one graph candidate, in µs (measured on 100k × 768). */
const EXACT_COST = 1.5;
const GRAPH_COST = 4;
const GRAPH_FIXED = 400;

/**
 * Graph candidates for an unfiltered query: the configured floor, widened with the square root of the
 * graph's size beyond `annBreadthBase` vectors (HNSW's recall at a fixed breadth falls as the graph grows).
 */
export function annBreadth(options: SearchOptions, topK: number, graphSize: number): number {
  const scale = Math.max(1, Math.sqrt(graphSize / options.annBreadthBase));
  return Math.max(topK * 4, Math.ceil(options.annCandidates * scale));
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
    const k = Math.ceil(annBreadth(options, topK, annLive) * (ann.size / annLive));
    return k * 2 >= ann.size ? { kind: 'exact', simd: true } : { kind: 'ann', candidates: k, matches: undefined };
  }
  const matches = matchSet(ns, filter);
  if (!useAnn) return { kind: 'exact-filtered', matches };
  // Graph search with a filter: oversample by the inverse selectivity (and for dead slots).
  const selectivity = matches.count / ns.liveCount;
  const filteredK = Math.max(topK * 4, 40) / Math.max(selectivity, 1e-9);
  const exactCheaper = matches.count * EXACT_COST <= GRAPH_FIXED + filteredK * GRAPH_COST;
  if (matches.count <= options.exactFilterMax || exactCheaper || topK * 4 >= matches.count) return { kind: 'exact-filtered', matches };
  const annLive = Math.max(1, ann.size - ns.annDead);
  const k = Math.ceil(filteredK * (ann.size / annLive));
  return k * 2 >= ann.size ? { kind: 'exact-filtered', matches } : { kind: 'ann', candidates: k, matches };
}
