// Runs a plan: exact scans through the one exact-scan routine, graph searches re-ranked exactly. Returns
// the best slots and the plan that actually ran (a filtered graph search may fall back to the match set).
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { TopK } from '../top-k.js';
import type { ExecutedPlan, Metric } from '../types.js';
import { exactScan } from './exact-scan.js';
import type { QueryPlan } from './planner.js';

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
): Execution {
  const top = new TopK(topK);
  switch (plan.kind) {
    case 'empty':
      return { top, executed: { plan: 'empty', candidates: 0 } };
    case 'exact': {
      const simd = plan.simd && vector !== undefined ? { vector, metric } : undefined;
      return { top, executed: { plan: 'exact', candidates: exactScan({ ns, score, into: top, simd }) } };
    }
    case 'exact-filtered':
      return { top, executed: { plan: 'exact-filtered', candidates: exactScan({ ns, score, into: top, matches: plan.matches }) } };
    case 'ann':
      return annSearch(ns, plan, score, vector!, top, metric);
  }
}

function annSearch(
  ns: NamespaceStore,
  plan: Extract<QueryPlan, { kind: 'ann' }>,
  score: (slot: number) => number,
  vector: Float32Array,
  top: TopK,
  metric: Metric,
): Execution {
  const ann = ns.ann!;
  const { matches } = plan;
  const filtered = matches !== undefined;
  // Tail not yet in the graph: exact (read-your-writes).
  exactScan({ ns, score, into: top, matches, from: ns.annUpTo });
  const bits = matches?.bits;
  const seen = new Set<number>();
  let candidates = 0;
  let k = plan.candidates;
  let rerank = plan.rerank;
  for (;;) {
    if (k * 2 >= ann.size) {
      // The candidate list would cover half the graph: an exact scan is cheaper and complete.
      const fresh = new TopK(top.k);
      const n = exactScan({ ns, score, into: fresh, matches, simd: filtered ? undefined : { vector, metric } });
      return { top: fresh, executed: { plan: filtered ? 'exact-filtered' : 'exact', candidates: n } };
    }
    let accepted = 0;
    for (const slot of ann.search(vector, k)) {
      if (!ns.isLive(slot) || (bits !== undefined && bits[slot] !== 1)) continue;
      // Past the re-rank count the rest of the list only counts (the graph ranked them lower).
      if (accepted++ >= rerank || seen.has(slot)) continue;
      seen.add(slot);
      candidates++;
      top.push(score(slot), slot);
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
    if (k * 4 > plan.widest) {
      const fresh = new TopK(top.k);
      const n = exactScan({ ns, score, into: fresh, matches });
      return { top: fresh, executed: { plan: 'exact-filtered', candidates: n } };
    }
    k *= 4;
    rerank *= 4;
  }
  return { top, executed: { plan: filtered ? 'ann-filtered' : 'ann', candidates } };
}
