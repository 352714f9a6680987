// Runs a plan: exact scans through the one exact-scan routine, graph searches re-ranked exactly. Returns
// the best slots and the plan that actually ran (a filtered graph search may fall back to the match set).
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { TopK } from '../top-k.js';
import type { ExecutedPlan, Metric } from '../types.js';
import { exactScan } from './exact-scan.js';
import type { MatchScanPlan, QueryPlan } from './planner.js';
import { sketchScan } from './sketch-scan.js';
import type { TailPrescan } from './tail-prescan.js';

export interface Execution {
  top: TopK;
  executed: ExecutedPlan;
}

export function executePlan(
  ns: NamespaceStore,
  plan: QueryPlan,
  score: (slot: number) => number,
  vector: Float32Array | undefined,
  topK: number,
  metric: Metric,
  prescan?: TailPrescan,
): Execution {
  const top = new TopK(topK);
  // A prescan made before renumbering (compaction, clear) or for another namespace object is not used.
  const pre = prescan?.fits(ns) === true ? prescan : undefined;
  switch (plan.kind) {
    case 'empty':
      return { top, executed: { plan: 'empty', candidates: 0 } };
    case 'exact': {
      if (plan.simd && vector !== undefined) return { top, executed: { plan: 'exact', candidates: denseScan(ns, score, top, 0, vector, metric, pre) } };
      return { top, executed: { plan: 'exact', candidates: exactScan({ ns, score, into: top }) } };
    }
    case 'exact-filtered':
    case 'sketch-filtered':
      return scanMatches(ns, plan, score, vector, top);
    case 'ann':
      return annSearch(ns, plan, score, vector!, top, metric, pre);
  }
}

/**
 * The unfiltered exact scan of slots [from, slotCount) of a dense query (SIMD candidates), the part a prescan
 * covers taken from it (its candidates below `from` too: `seen` collects the slots pushed, for the graph
 * search to skip). Returns the live rows scanned.
 */
function denseScan(
  ns: NamespaceStore,
  score: (slot: number) => number,
  into: TopK,
  from: number,
  vector: Float32Array,
  metric: Metric,
  pre: TailPrescan | undefined,
  seen?: Set<number>,
): number {
  const simd = { vector, metric };
  if (pre === undefined) return exactScan({ ns, score, into, from, simd });
  let n = pre.pushInto(ns, score, into, seen);
  // What the prescan does not cover: below it (a graph smaller than when it started) and the slots written since.
  if (from < pre.from) n += exactScan({ ns, score, into, from, to: pre.from, simd });
  n += exactScan({ ns, score, into, from: Math.max(from, pre.to), simd });
  return n;
}

/** Scans a filter's match set (exactly, or over the sketches for a dense vector). */
function scanMatches(ns: NamespaceStore, plan: MatchScanPlan, score: (slot: number) => number, vector: Float32Array | undefined, top: TopK): Execution {
  if (plan.kind === 'sketch-filtered' && vector !== undefined) {
    return { top, executed: { plan: 'sketch-filtered', candidates: sketchScan(ns, plan.matches, vector, plan.candidates, score, top) } };
  }
  return { top, executed: { plan: 'exact-filtered', candidates: exactScan({ ns, score, into: top, matches: plan.matches }) } };
}

function annSearch(
  ns: NamespaceStore,
  plan: Extract<QueryPlan, { kind: 'ann' }>,
  score: (slot: number) => number,
  vector: Float32Array,
  top: TopK,
  metric: Metric,
  pre: TailPrescan | undefined,
): Execution {
  const ann = ns.ann!;
  const { matches } = plan;
  const filtered = matches !== undefined;
  const bits = matches?.bits;
  const seen = new Set<number>();
  // Tail not yet in the graph (read-your-writes): SIMD candidates when unfiltered, from the prescan when the store
  // made one (whose candidates the graph may hold by now: `seen`); a long tail's over the sketches (planner.ts,
  // SKETCH_RANGE_MIN); a filter's tail matches scored one by one, or over their sketches (`plan.tail`).
  if (filtered) {
    if (plan.tail !== undefined) scanMatches(ns, plan.tail, score, vector, top);
    else exactScan({ ns, score, into: top, matches, from: ns.annUpTo });
  } else denseScan(ns, score, top, ns.annUpTo, vector, metric, pre, seen);
  let candidates = 0;
  let k = plan.candidates;
  let rerank = plan.rerank;
  for (;;) {
    if (k * 2 >= ann.size) {
      // The candidate list would cover half the graph: a scan is cheaper and complete.
      if (filtered) return scanMatches(ns, plan.scan ?? { kind: 'exact-filtered', matches }, score, vector, new TopK(top.k));
      const fresh = new TopK(top.k);
      return { top: fresh, executed: { plan: 'exact', candidates: denseScan(ns, score, fresh, 0, vector, metric, pre) } };
    }
    let accepted = 0;
    for (const slot of ann.search(vector, k)) {
      if (!ns.isLive(slot) || (bits !== undefined && bits[slot] !== 1)) continue;
      // Past the re-rank count the rest of the list only counts (the graph ranked them lower).
      if (accepted++ >= rerank || seen.has(slot)) continue;
      seen.add(slot);
      candidates++;
      top.push(score(slot), slot);
      // Unfiltered, the rest of the list would only be counted, and enough are: stop (spares a liveness
      // lookup, a random read of a namespace-sized array, per remaining candidate: ~340 at 1M).
      if (!filtered && accepted >= rerank && accepted >= top.k) break;
    }
    if (!filtered) {
      if (accepted >= top.k) break;
      k *= 4;
      rerank *= 4;
      continue;
    }
    // Enough matches, and not much fewer than the selectivity promised (0.7: three standard deviations
    // below the ~100 an independent filter yields): the neighbourhood is covered. At half, a correlated
    // filter kept recall 0.895 at 100k × 768 hard data.
    if (accepted >= top.k && accepted >= plan.wanted * 0.7) break;
    // The matches are sparser around the query than in the namespace (filter and vectors correlated),
    // so the ones found are not the nearest: widen the graph search while that costs less than scoring
    // every match, then score every match.
    if (k * 4 > plan.widest) return scanMatches(ns, plan.scan ?? { kind: 'exact-filtered', matches: matches! }, score, vector, new TopK(top.k));
    k *= 4;
    rerank *= 4;
  }
  return { top, executed: { plan: filtered ? 'ann-filtered' : 'ann', candidates } };
}
