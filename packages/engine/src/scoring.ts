// Exact similarity. Internally every metric is "higher is better": cosine similarity, dot product, or the
// negated squared L2 distance (turned back into the distance for the response).
import type { ParsedSparseValues } from '@conifer/contracts';
import type { Metric } from './types.js';

function dot(a: Float32Array, aOffset: number, b: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += a[aOffset + i]! * b[i]!;
    s1 += a[aOffset + i + 1]! * b[i + 1]!;
    s2 += a[aOffset + i + 2]! * b[i + 2]!;
    s3 += a[aOffset + i + 3]! * b[i + 3]!;
  }
  for (; i < dim; i++) s0 += a[aOffset + i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

function l2sq(a: Float32Array, aOffset: number, b: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 1 < dim; i += 2) {
    const d0 = a[aOffset + i]! - b[i]!;
    const d1 = a[aOffset + i + 1]! - b[i + 1]!;
    s0 += d0 * d0;
    s1 += d1 * d1;
  }
  for (; i < dim; i++) {
    const d = a[aOffset + i]! - b[i]!;
    s0 += d * d;
  }
  return s0 + s1;
}

export function norm(v: Float32Array, offset: number, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += v[offset + i]! * v[offset + i]!;
  return Math.sqrt(s);
}

export function sparseDot(a: ParsedSparseValues, b: ParsedSparseValues): number {
  let i = 0;
  let j = 0;
  let s = 0;
  const ai = a.indices;
  const bi = b.indices;
  while (i < ai.length && j < bi.length) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x === y) {
      s += a.values[i++]! * b.values[j++]!;
    } else if (x < y) i++;
    else j++;
  }
  return s;
}

/** Dense similarity of the stored vector at `offset` with the query (higher is better). */
export function denseSimilarity(
  metric: Metric,
  data: Float32Array,
  offset: number,
  storedNorm: number,
  query: Float32Array,
  queryNorm: number,
  dim: number,
): number {
  if (metric === 'euclidean') return -l2sq(data, offset, query, dim);
  const d = dot(data, offset, query, dim);
  if (metric === 'dotproduct') return d;
  const denominator = storedNorm * queryNorm;
  return denominator === 0 ? 0 : d / denominator;
}

/** The score reported to clients for an internal similarity. */
export function reportedScore(metric: Metric, similarity: number): number {
  return metric === 'euclidean' ? -similarity : similarity;
}
