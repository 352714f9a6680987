// Shared by the calibration-bias tools (recall-calibration-bias.ts, recall-calibration-unseen.ts): one query's
// recall as the planner counts it, and a mean with its standard error over queries.

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
