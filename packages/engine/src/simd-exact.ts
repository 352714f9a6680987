// Exact nearest-neighbour candidates with usearch's SIMD brute force (≈2.5x the plain JS loop on 768-d),
// for unfiltered exact scans of large namespaces (before their graph exists, e.g. after a restart).
// The caller re-scores the candidates with its own exact scorer, so scores match the other paths.
import usearch from 'usearch';
import type { Metric } from './types.js';

const METRIC = { cosine: 'cos', dotproduct: 'ip', euclidean: 'l2sq' } as const;

/**
 * Row numbers of the k best rows of `values` (row-major, `count` rows of `dim`; must start at offset 0
 * of its buffer: usearch ignores subarray offsets).
 */
export function simdCandidates(values: Float32Array, count: number, dim: number, query: Float32Array, k: number, metric: Metric): Int32Array {
  if (values.byteOffset !== 0) throw new Error('simdCandidates needs an array at offset 0');
  const result = usearch.exactSearch(values.subarray(0, count * dim), query, dim, Math.min(k, count), METRIC[metric] as never, 1) as unknown as {
    keys: BigUint64Array;
  };
  const out = new Int32Array(result.keys.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(result.keys[i]);
  return out;
}

/**
 * The k nearest rows of int8 `values` (`count` rows of `dim`, must start at offset 0 of its buffer) to an
 * int8 `query` by cosine, through usearch's SIMD brute force: their row numbers and cosine distances
 * (nearest first). The int8 sketches of the filtered scan (`NamespaceStore.sketchCandidates`).
 */
export function simdCandidatesI8(values: Int8Array, count: number, dim: number, query: Int8Array, k: number): { rows: Int32Array; distances: Float32Array } {
  if (values.byteOffset !== 0 || query.byteOffset !== 0) throw new Error('simdCandidatesI8 needs arrays at offset 0');
  const result = usearch.exactSearch(values.subarray(0, count * dim), query, dim, Math.min(k, count), 'cos' as never, 1) as unknown as {
    keys: BigUint64Array;
    distances: Float32Array;
  };
  const rows = new Int32Array(result.keys.length);
  for (let i = 0; i < rows.length; i++) rows[i] = Number(result.keys[i]);
  return { rows, distances: result.distances };
}

/**
 * An int8 copy of a dense row for cosine comparisons: scaled by its own largest magnitude to ±127
 * (cosine ignores a row's scale, so each row gets the full int8 range).
 */
export function quantizeRow(src: Float32Array, srcOffset: number, dim: number, out: Int8Array, outOffset: number): void {
  let max = 0;
  for (let i = 0; i < dim; i++) {
    const v = Math.abs(src[srcOffset + i]!);
    if (v > max) max = v;
  }
  const scale = max > 0 ? 127 / max : 0;
  for (let i = 0; i < dim; i++) out[outOffset + i] = Math.round(src[srcOffset + i]! * scale);
}
