// Shared by the calibration-bias tools (recall-calibration-bias.ts, recall-calibration-unseen.ts): exact answers
// in small groups of queries, one query's recall as the planner counts it, and a mean with its standard error.
import usearch from 'usearch';

/**
 * Queries per exact-search call: usearch's exactSearch holds every query × row distance at once (3000 queries over
 * 1M rows took 23 GB and the machine's OOM killer, 6 Dec 16:10), so the queries go through it in small groups.
 */
const EXACT_GROUP = 50;

/**
 * Exact top `k` rows of `rows` (row-major, `dim` columns, at offset 0 of its buffer) for each query: usearch's SIMD
 * brute force, float32 cosine, on 2 threads.
 */
export function exactTop(rows: Float32Array, dim: number, qs: Float32Array[], k: number): number[][] {
  const out: number[][] = [];
  for (let from = 0; from < qs.length; from += EXACT_GROUP) {
    const group = qs.slice(from, from + EXACT_GROUP);
    const flat = new Float32Array(group.length * dim);
    group.forEach((q, i) => flat.set(q, i * dim));
    const found = usearch.exactSearch(rows, flat, dim, k, 'cos' as never, 2) as unknown as { keys: BigUint64Array };
    group.forEach((_, i) => out.push(Array.from(found.keys.subarray(i * k, (i + 1) * k), Number)));
  }
  return out;
}

/**
 * The share of `truth` among the first `rerank` slots of a graph answer `found`, skipping `self` (a held-out
 * query's own slot), as the planner re-ranks them.
 */
export function hitsOf(found: ArrayLike<number>, truth: Set<number>, rerank: number, self = -1): number {
  let hits = 0;
  let accepted = 0;
  for (let i = 0; i < found.length; i++) {
    const slot = found[i]!;
    if (slot === self) continue;
    if (accepted++ >= rerank) break;
    if (truth.has(slot)) hits++;
  }
  return hits / truth.size;
}

/** The mean of per-query figures and its standard error. */
export function summary(xs: number[]): { mean: number; se: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1);
  return { mean, se: Math.sqrt(variance / xs.length) };
}
