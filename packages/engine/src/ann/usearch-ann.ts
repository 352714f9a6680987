// Approximate nearest-neighbour index over one namespace, keyed by slot number. usearch 2.25 (see
// README.md "Library choice"): HNSW with M=16, efConstruction=128, ef=64; int8 storage for cosine and f16
// for the other metrics, because every candidate is re-ranked with the exact float32 values we keep anyway.
// Dot product is not a metric and HNSW over raw inner products finds poor candidates, so dotproduct
// indexes use the usual MIPS→L2 reduction: x' = [x, sqrt(M² − |x|²)], q' = [q, 0], with M the largest
// norm seen when the ANN index was created (larger norms later are clamped; re-ranking stays exact).
import usearch from 'usearch';
import type { Metric } from '../types.js';

const METRIC = { cosine: 'cos', dotproduct: 'l2sq', euclidean: 'l2sq' } as const;

export interface AnnParams {
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

export const DEFAULT_ANN_PARAMS: AnnParams = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 };

export class UsearchAnn {
  private readonly index: InstanceType<typeof usearch.Index>;
  /** Number of vectors added. */
  size = 0;
  private readonly augment: boolean;
  private readonly maxNormSq: number;
  /** The file this index is memory-mapped from (read-only), if it was opened with view(). */
  file: string | undefined;

  constructor(
    readonly metric: Metric,
    readonly dimension: number,
    readonly params: AnnParams = DEFAULT_ANN_PARAMS,
    readonly maxNorm = 1,
  ) {
    this.augment = metric === 'dotproduct';
    this.maxNormSq = maxNorm * maxNorm;
    this.index = new usearch.Index({
      dimensions: this.augment ? dimension + 1 : dimension,
      metric: METRIC[metric] as never,
      quantization: (metric === 'cosine' ? 'i8' : 'f16') as never,
      connectivity: params.connectivity,
      expansion_add: params.expansionAdd,
      expansion_search: params.expansionSearch,
      multi: false,
    });
  }

  /** Adds vectors (row-major, `slots.length` rows) using `threads` native threads (0: all cores). Blocks the calling thread. */
  add(slots: ArrayLike<number>, vectors: Float32Array, threads = 0): void {
    if (slots.length === 0) return;
    const keys = new BigUint64Array(slots.length);
    for (let i = 0; i < slots.length; i++) keys[i] = BigInt(slots[i]!);
    this.index.add(keys, this.augment ? this.augmentRows(vectors, slots.length) : vectors, threads);
    this.size += slots.length;
  }

  /** Writes the index to a file (usearch's own format). */
  save(path: string): void {
    this.index.save(path);
  }

  /** A read-only index memory-mapped from a saved file (searching only). */
  static view(path: string, metric: Metric, dimension: number, params: AnnParams, maxNorm: number): UsearchAnn {
    const ann = new UsearchAnn(metric, dimension, params, maxNorm);
    ann.index.view(path);
    ann.size = ann.index.size();
    ann.file = path;
    return ann;
  }

  /** A writable copy loaded from a saved file. */
  static load(path: string, metric: Metric, dimension: number, params: AnnParams, maxNorm: number): UsearchAnn {
    const ann = new UsearchAnn(metric, dimension, params, maxNorm);
    ann.index.load(path);
    ann.size = ann.index.size();
    return ann;
  }

  /** Slots of the (approximately) k nearest vectors, nearest first. */
  search(query: Float32Array, k: number): Int32Array {
    return this.searchScored(query, k).slots;
  }

  /**
   * The same, with the graph's estimate of each one's exact similarity (the engine scorer's, from usearch's
   * distance over its quantized vectors: 1 − distance for cosine, −distance for euclidean's squared L2),
   * best first; `estimates` is undefined for dotproduct, whose augmented distance says little for vectors
   * longer than the norm the graph was created with.
   */
  searchScored(query: Float32Array, k: number): { slots: Int32Array; estimates: Float32Array | undefined } {
    if (this.size === 0) return { slots: new Int32Array(0), estimates: undefined };
    const q = this.augment ? augmentQuery(query) : query;
    const result = this.index.search(q, Math.min(k, this.size), 1) as unknown as { keys: BigUint64Array; distances: Float32Array };
    const { keys, distances } = result;
    const slots = new Int32Array(keys.length);
    for (let i = 0; i < keys.length; i++) slots[i] = Number(keys[i]);
    if (this.augment) return { slots, estimates: undefined };
    const sign = this.metric === 'cosine' ? 1 : 0;
    for (let i = 0; i < distances.length; i++) distances[i] = sign - distances[i]!;
    return { slots, estimates: distances };
  }

  /** The graph's connectivity (M): its own, read from the file for a viewed or loaded graph, whatever `params` said. */
  get connectivity(): number {
    return this.index.connectivity();
  }

  private augmentRows(vectors: Float32Array, rows: number): Float32Array {
    const dim = this.dimension;
    const out = new Float32Array(rows * (dim + 1));
    for (let r = 0; r < rows; r++) {
      let sq = 0;
      for (let i = 0; i < dim; i++) {
        const v = vectors[r * dim + i]!;
        out[r * (dim + 1) + i] = v;
        sq += v * v;
      }
      out[r * (dim + 1) + dim] = Math.sqrt(Math.max(0, this.maxNormSq - sq));
    }
    return out;
  }
}

function augmentQuery(query: Float32Array): Float32Array {
  const out = new Float32Array(query.length + 1);
  out.set(query);
  return out;
}
