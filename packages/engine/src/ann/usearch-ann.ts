// Approximate nearest-neighbour index over one namespace, keyed by slot number. usearch 2.25 (see
// README.md "Library choice"): HNSW with M=16, efConstruction=128, ef=64; int8 storage for cosine and f16
// for the other metrics, because every candidate is re-ranked with the exact float32 values we keep anyway.
// Dot product is not a metric and HNSW over raw inner products finds poor candidates, so dotproduct
// indexes use the usual MIPS→L2 reduction: x' = [x, sqrt(M² − |x|²)], q' = [q, 0], with M the largest
// norm seen when the ANN index was created (larger norms later are clamped; re-ranking stays exact).
import type { Metric } from '../types.js';
import { annBinding, type CompiledIndex } from './usearch-binding.js';

const METRIC = { cosine: 'cos', dotproduct: 'l2sq', euclidean: 'l2sq' } as const;

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export interface AnnParams {
  connectivity: number;
  expansionAdd: number;
  expansionSearch: number;
}

export const DEFAULT_ANN_PARAMS: AnnParams = { connectivity: 16, expansionAdd: 128, expansionSearch: 64 };

export class UsearchAnn {
  private readonly index: CompiledIndex;
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
    keyLookups = true,
  ) {
    this.augment = metric === 'dotproduct';
    this.maxNormSq = maxNorm * maxNorm;
    this.index = UsearchAnn.make(metric, this.augment ? dimension + 1 : dimension, params, keyLookups);
  }

  private static make(metric: Metric, dimensions: number, params: AnnParams, keyLookups: boolean): CompiledIndex {
    return new (annBinding().CompiledIndex)(
      dimensions,
      METRIC[metric],
      metric === 'cosine' ? 'i8' : 'f16',
      params.connectivity,
      params.expansionAdd,
      params.expansionSearch,
      false,
      keyLookups,
    );
  }

  /** Adds vectors (row-major, `slots.length` rows) using `threads` native threads (0: all cores). Blocks the calling thread. */
  add(slots: ArrayLike<number>, vectors: Float32Array, threads = 0): void {
    if (slots.length === 0) return;
    if (vectors.length !== slots.length * this.dimension) throw new Error(`${slots.length} slots need ${slots.length * this.dimension} values, not ${vectors.length}`);
    const keys = new BigUint64Array(slots.length);
    for (let i = 0; i < slots.length; i++) keys[i] = BigInt(slots[i]!);
    this.index.add(keys, this.augment ? this.augmentRows(vectors, slots.length) : vectors, threads);
    this.size += slots.length;
  }

  /** Writes the index to a file (usearch's own format). */
  save(path: string): void {
    this.index.save(path);
  }

  /**
   * A read-only index memory-mapped from a saved file (searching only), mapped on the calling thread: usearch reads
   * every node's level there (~40–110 ms at 1M nodes). The store uses `viewAsync`.
   */
  static view(path: string, metric: Metric, dimension: number, params: AnnParams, maxNorm: number): UsearchAnn {
    const ann = UsearchAnn.forView(metric, dimension, params, maxNorm);
    ann.index.view(path);
    return ann.viewed(path);
  }

  /**
   * `view` off the calling thread where the binding offers it (Conifer's compiled one: on libuv's pool, the file
   * read back and mapped in 2 MB pages where the kernel can); else `view` itself. With `expected`, the file must
   * have that size and CRC-32 or nothing is viewed (the error says which), checked on the read that brings the file
   * in: only where `viewChecksFiles()` (usearch's prebuilt binding cannot; callers check such a file first).
   */
  static async viewAsync(path: string, metric: Metric, dimension: number, params: AnnParams, maxNorm: number, expected?: FileChecksum): Promise<UsearchAnn> {
    const ann = UsearchAnn.forView(metric, dimension, params, maxNorm);
    if (ann.index.viewAsync !== undefined) await ann.index.viewAsync(path, expected?.bytes, expected?.crc32);
    else if (expected !== undefined) throw new Error("usearch's prebuilt binding cannot check a graph file as it views it: check the file first");
    else ann.index.view(path);
    return ann.viewed(path);
  }

  /** Whether `viewAsync` can check a file's size and CRC-32 as it views it (the binding in use is Conifer's compiled one). */
  static viewChecksFiles(): boolean {
    return annBinding().kind === 'compiled';
  }

  private static forView(metric: Metric, dimension: number, params: AnnParams, maxNorm: number): UsearchAnn {
    // A viewed graph is only searched: it needs no key → slot table (with the compiled binding, building that
    // table was ~60 % of a 1M-node view's time on the event loop).
    return new UsearchAnn(metric, dimension, params, maxNorm, false);
  }

  private viewed(path: string): this {
    this.size = this.index.size();
    this.file = path;
    return this;
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
    if (this.size === 0) return new Int32Array(0);
    const q = this.graphQuery(query);
    const [found, , counts] = this.index.search(q, Math.min(k, this.size), 1);
    const keys = found.subarray(0, Number(counts[0]));
    const out = new Int32Array(keys.length);
    if (!LITTLE_ENDIAN) {
      for (let i = 0; i < keys.length; i++) out[i] = Number(keys[i]);
      return out;
    }
    // Keys are slots (< 2³¹): the low 32-bit word of each u64 is the slot. Reading the words spares a BigInt
    // per key (a heap object each: 13 → 4 µs per query at 405 candidates, bench/RESULTS.md).
    const words = new Uint32Array(keys.buffer, keys.byteOffset, keys.length * 2);
    for (let i = 0; i < keys.length; i++) out[i] = words[i * 2]!;
    return out;
  }

  /** The vector usearch is asked with for `query` (dot product: the MIPS reduction's extra 0). */
  graphQuery(query: Float32Array): Float32Array {
    return this.augment ? augmentQuery(query) : query;
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

/** A file's size and CRC-32 (zlib's), as a snapshot records its graph. */
export interface FileChecksum {
  bytes: number;
  crc32: number;
}
