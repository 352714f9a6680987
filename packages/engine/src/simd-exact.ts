// Exact nearest-neighbour candidates with usearch's SIMD brute force (≈2.5x the plain JS loop on 768-d),
// for unfiltered exact scans of large namespaces (before their graph exists, e.g. after a restart).
// The caller re-scores the candidates with its own exact scorer, so scores match the other paths.
import usearch from 'usearch';
import type { TopK } from './top-k.js';
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
 * Pushes into `into` the k rows of int8 `values` (`count` rows of `dim`, must start at offset 0 of its buffer)
 * with the largest dot product with an int8 `query`, as (dot, `rowSlots[row]`), through usearch's SIMD brute
 * force; rows that cannot enter `into` are skipped (usearch answers best first). The int8 sketches of the
 * filtered scan (`NamespaceStore.sketchCandidates`) all share one norm (`sketchRow`), so that the dot
 * product ranks them as the cosine does: usearch's int8 inner-product kernel takes half the time of its
 * cosine kernel, which also computes both norms per row (39 vs 70 ns a row at 768-d, 2048 rows a call).
 */
export function pushSketchCandidates(values: Int8Array, count: number, dim: number, query: Int8Array, k: number, rowSlots: Int32Array, into: TopK): void {
  // sketchBestRows refuses arrays not at offset 0 (a subarray from 0 keeps its array's offset).
  const rows = values.subarray(0, count * dim);
  const most = Math.min(k, count);
  // Once `into` is full, few rows of a batch beat its threshold: ask for a few first (usearch sorts and
  // returns only what is asked), and for all `most` only when every one of those entered.
  const ask = into.size >= into.k ? Math.min(most, SKETCH_FIRST_ASK) : most;
  const first = sketchBestRows(rows, dim, query, ask);
  const entered = pushRows(first, rowSlots, into, undefined);
  if (entered < ask || ask === most) return;
  const pushed = new Set<number>();
  for (let i = 0; i < entered; i++) pushed.add(Number(first.keys[i]));
  pushRows(sketchBestRows(rows, dim, query, most), rowSlots, into, pushed);
}

/**
 * Rows a sketch batch is first asked for when the shortlist is full: after the first batches, a row of a
 * 512-row batch enters a 100-candidate shortlist a few times a batch at most (10k matches, 20 batches).
 */
const SKETCH_FIRST_ASK = 16;

export interface RowAnswer {
  keys: BigUint64Array;
  distances: Float32Array;
}

/**
 * usearch's `ask` rows of int8 `rows` (from the start of its buffer) with the largest dot product with an int8
 * `query`, best first (distance: 1 − dot).
 */
export function sketchBestRows(rows: Int8Array, dim: number, query: Int8Array, ask: number): RowAnswer {
  if (rows.byteOffset !== 0 || query.byteOffset !== 0) throw new Error('sketchBestRows needs arrays at offset 0');
  return usearch.exactSearch(rows, query, dim, ask, 'ip' as never, 1) as unknown as RowAnswer;
}

/**
 * Pushes the rows of an answer that beat `into`'s threshold, those in `skip` excepted (pushed already);
 * returns how many of them (skipped ones included) beat it before the first that did not.
 */
function pushRows({ keys, distances }: RowAnswer, rowSlots: Int32Array, into: TopK, skip: Set<number> | undefined): number {
  let i = 0;
  for (; i < keys.length; i++) {
    // usearch's inner-product distance is 1 − dot.
    const dot = 1 - distances[i]!;
    if (dot <= into.threshold) break;
    const row = Number(keys[i]);
    if (skip === undefined || !skip.has(row)) into.push(dot, rowSlots[row]!);
  }
  return i;
}

/**
 * An int8 copy of a dense query row for `simdSketchCandidates`: scaled by its own largest magnitude to ±127
 * (the query's scale is common to every row compared, so it gets the full int8 range).
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

/**
 * A sketch's coordinate reaches ±127 at this many times the root mean square coordinate of its row (1/√dim
 * of the unit row); larger ones are clipped. Rows of near-Gaussian coordinates (their largest of 768 at
 * ~3.5 times) keep a resolution of 1/16 of that mean, which the re-scoring breadth does not notice
 * (bench/RESULTS.md); only rows with outlying coordinates lose some of them.
 */
const SKETCH_CLIP_RMS = 8;

/**
 * The int8 sketch of a dense row (cosine namespaces): the row divided by its norm and scaled so that every
 * sketch of the dimension has about the same norm, 127·√dim / SKETCH_CLIP_RMS (127 below 64 dimensions, where
 * no coordinate of a unit row can exceed it), clamped to ±127. With one norm for all rows, the dot product
 * with the query ranks rows as the cosine does (`simdSketchCandidates`).
 */
export function sketchRow(src: Float32Array, srcOffset: number, dim: number, out: Int8Array, outOffset: number): void {
  let sum = 0;
  for (let i = 0; i < dim; i++) {
    const v = src[srcOffset + i]!;
    sum += v * v;
  }
  const scale = sum > 0 ? (127 * Math.max(1, Math.sqrt(dim) / SKETCH_CLIP_RMS)) / Math.sqrt(sum) : 0;
  for (let i = 0; i < dim; i++) {
    const q = roundHalfUp(src[srcOffset + i]! * scale);
    out[outOffset + i] = q > 127 ? 127 : q < -127 ? -127 : q;
  }
}

/**
 * Math.round(x) for a finite x (the sketches' rounding), as floor(x + 0.5): V8's Math.round took ~10 ns per
 * element here, 3.5× the floor's, so it was most of `sketchRow` (~8 ms of the event loop per 1000 768-d
 * vectors ingested; bench/RESULTS.md, session 13 ingest). x + 0.5 is exact for every double except
 * 0.49999999999999994 (0.5 − 2⁻⁵⁴, where it rounds up to 1), the one x whose floor(x + 0.5) differs; negative
 * zero comes out as 0, which an Int8Array stores alike.
 */
export function roundHalfUp(x: number): number {
  const q = Math.floor(x + 0.5);
  return q === 1 && x < 0.5 ? 0 : q;
}
