// Deterministic generated vector data for benchmarks and tests: clustered vectors, query sets, exact
// (brute-force) ground truth and the request bodies that carry them. Values are rounded to 4 decimals so the
// JSON a bench sends is exactly what the store keeps (the generator's own copy is the float32 of that
// decimal) and so bodies stay small. Every generator draws from `rng` (reference.ts), seeded.
import { rng } from './reference.js';

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

/** '.0001' … '.9999' without trailing zeros ('' for 0), by the 4-decimal fraction. */
const FRACTIONS = Array.from({ length: 10_000 }, (_, f) => (f === 0 ? '' : `.${String(f).padStart(4, '0').replace(/0+$/, '')}`));

/**
 * `String(round4(x))` from integers (6× faster than printing the double: 1M × 768 values are serialised
 * for the bench): the same text for every |x| < 2^31 / 1e4.
 */
export function decimal4(x: number): string {
  const i = Math.round(x * 1e4);
  const a = i < 0 ? -i : i;
  return (i < 0 ? '-' : '') + Math.floor(a / 1e4) + FRACTIONS[a % 1e4]!;
}

/** Standard normal samples from a uniform generator (Box–Muller). */
export function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}

export interface Dataset {
  readonly n: number;
  readonly dim: number;
  /** n × dim values, row-major. */
  readonly values: Float32Array;
  readonly norms: Float32Array;
  /** 0..9 per vector, independent of the cluster: `bucket = 3` selects 10 % of the data uniformly. */
  readonly bucket: Uint8Array;
  /**
   * 0..99 per vector, from the same uniform draw as `bucket` (its digits after the first), so independent of the
   * cluster and of `bucket`: `centile = 42` selects 1 % of the data uniformly. Sent only when a body asks for it.
   */
  readonly centile: Uint8Array;
  /** `count` query vectors from the same clusters (new samples, not stored vectors). */
  makeQueries(count: number): Float32Array[];
}

/**
 * The vectors of a generated set: `bench`, `clusters` Gaussian centres N(0, 1) with isotropic N(0, 0.6²) noise
 * (full intrinsic dimension inside a cluster: at 100k × 768 a query's 1st, 10th and 100th nearest lie at cosine
 * distances of about 0.23, 0.24 and 0.25, a near worst case for any graph index); `hard`, vectorDistribution('hard')'s
 * unit vectors (1000 clusters of low intrinsic dimension: 1st, 10th and 100th nearest at about 0.29, 0.45, 0.86).
 */
export type DatasetKind = 'bench' | 'hard';

/** n vectors of `dim` dimensions of the given kind (default `bench`: around `clusters` Gaussian centres). */
export function makeDataset({ n, dim, clusters = 100, seed = 42, kind = 'bench' }: { n: number; dim: number; clusters?: number; seed?: number; kind?: DatasetKind }): Dataset {
  const values = new Float32Array(n * dim);
  const norms = new Float32Array(n);
  const bucket = new Uint8Array(n);
  const centile = new Uint8Array(n);
  const metaRandom = rng(seed + 1);
  const source = kind === 'hard' ? hardSource(dim, seed) : gaussianSource(dim, clusters, seed);
  const row = new Float64Array(dim);
  for (let j = 0; j < n; j++) {
    source.vector(row);
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const v = Math.fround(round4(row[d]!));
      values[j * dim + d] = v;
      s += v * v;
    }
    norms[j] = Math.sqrt(s);
    const u = metaRandom();
    bucket[j] = Math.floor(u * 10);
    centile[j] = Math.floor(u * 1000) % 100;
  }
  const makeQueries = (count: number): Float32Array[] =>
    Array.from({ length: count }, (_, i) => {
      source.query(row, i);
      return Float32Array.from(row, (x) => Math.fround(round4(x)));
    });
  return { n, dim, values, norms, bucket, centile, makeQueries };
}

/** Where a set's vectors come from: `vector` writes the next stored vector, `query` query i (new draws). */
interface VectorSource {
  vector(out: Float64Array): void;
  query(out: Float64Array, i: number): void;
}

function gaussianSource(dim: number, clusters: number, seed: number): VectorSource {
  const random = rng(seed);
  const gauss = gaussian(random);
  const centers = Array.from({ length: clusters }, () => Float64Array.from({ length: dim }, gauss));
  const qgauss = gaussian(rng(seed + 2));
  return {
    vector(out) {
      const c = centers[Math.floor(random() * clusters)]!;
      for (let d = 0; d < dim; d++) out[d] = c[d]! + gauss() * 0.6;
    },
    query(out, i) {
      const c = centers[(i * 7) % clusters]!;
      for (let d = 0; d < dim; d++) out[d] = c[d]! + qgauss() * 0.6;
    },
  };
}

function hardSource(dim: number, seed: number): VectorSource {
  const distribution = vectorDistribution('hard', dim, seed);
  const scratch = new Float32Array(dim);
  // Queries continue the stored vectors' draws (makeDataset makes all n first): new samples of the distribution.
  const next = (out: Float64Array) => {
    distribution.sample(scratch, 0);
    for (let d = 0; d < dim; d++) out[d] = scratch[d]!;
  };
  return { vector: next, query: next };
}

export const idOf = (j: number): string => `v${j}`;

/** The JSON text of vector j's record (values printed as the 4-decimal numbers they were made from). */
function recordJson(data: Dataset, j: number, withCentile: boolean): string {
  const { dim, values } = data;
  let text = `{"id":"${idOf(j)}","values":[`;
  for (let d = 0; d < dim; d++) text += (d ? ',' : '') + decimal4(values[j * dim + d]!);
  return `${text}],"metadata":{"bucket":${data.bucket[j]}${withCentile ? `,"centile":${data.centile[j]}` : ''}}}`;
}

export interface UpsertBody {
  readonly count: number;
  readonly body: Buffer;
}

export interface UpsertBodyOptions {
  maxVectors?: number;
  maxBytes?: number;
  /** Adds `centile` to each record's metadata (for 1 % filters). */
  withCentile?: boolean;
  onProgress?: (j: number) => void;
}

/**
 * Upsert bodies of at most `maxVectors` records and `maxBytes` bytes each (the API's limits: 1000 vectors,
 * 2 MB), as Buffers so they stay off the JS heap.
 */
export function upsertBodies(data: Dataset, options: UpsertBodyOptions = {}): UpsertBody[] {
  const bodies: UpsertBody[] = [];
  forEachUpsertBody(data, (body) => bodies.push(body), options);
  return bodies;
}

/** The bodies of upsertBodies handed to `visit` one at a time (for sets too large to hold as JSON: 1M × 768 is ~7 GB). */
export function forEachUpsertBody(
  data: Dataset,
  visit: (body: UpsertBody) => void,
  { maxVectors = 1000, maxBytes = 2 * 1024 * 1024 - 1024, withCentile = false, onProgress }: UpsertBodyOptions = {},
): void {
  let parts: string[] = [];
  let bytes = 20;
  const flush = () => {
    if (parts.length === 0) return;
    visit({ count: parts.length, body: Buffer.from(`{"vectors":[${parts.join(',')}]}`) });
    parts = [];
    bytes = 20;
  };
  for (let j = 0; j < data.n; j++) {
    const record = recordJson(data, j, withCentile);
    if (parts.length >= maxVectors || bytes + record.length + 1 > maxBytes) flush();
    parts.push(record);
    bytes += record.length + 1;
    if (onProgress && j % 10000 === 0) onProgress(j);
  }
  flush();
}

/** The top-k ids of one query, unfiltered and restricted to one bucket. */
export interface ExactResult {
  readonly all: string[];
  readonly filtered: string[];
}

/** Exact cosine top-k, unfiltered and restricted to bucket === filterBucket, for each query. */
export function exactTopK(
  data: Dataset,
  queries: Float32Array[],
  { k = 10, filterBucket = 3, onProgress }: { k?: number; filterBucket?: number; onProgress?: (done: number) => void } = {},
): { results: ExactResult[]; msPerQuery: number } {
  const { n, dim, values, norms, bucket } = data;
  const results: ExactResult[] = [];
  const started = performance.now();
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi]!;
    const all = new TopK(k);
    const filtered = new TopK(k);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const base = j * dim;
      for (let d = 0; d < dim; d++) dot += q[d]! * values[base + d]!;
      const score = norms[j] === 0 ? 0 : dot / norms[j]!;
      all.push(j, score);
      if (bucket[j] === filterBucket) filtered.push(j, score);
    }
    results.push({ all: all.ids(), filtered: filtered.ids() });
    onProgress?.(qi + 1);
  }
  return { results, msPerQuery: (performance.now() - started) / queries.length };
}

class TopK {
  private readonly items: { id: number; score: number }[] = [];
  private min = -Infinity;

  constructor(private readonly k: number) {}

  push(id: number, score: number): void {
    if (this.items.length === this.k && score <= this.min) return;
    const items = this.items;
    if (items.length === this.k) items.pop();
    let i = items.length;
    while (i > 0 && items[i - 1]!.score < score) i--;
    items.splice(i, 0, { id, score });
    if (items.length === this.k) this.min = items[items.length - 1]!.score;
  }

  ids(): string[] {
    return this.items.map((item) => idOf(item.id));
  }
}

/** The share of the expected ids that were returned. */
export function recallAt(expectedIds: readonly string[], gotIds: readonly string[]): number {
  const expected = new Set(expectedIds);
  let hits = 0;
  for (const id of gotIds) if (expected.has(id)) hits++;
  return expected.size === 0 ? 1 : hits / expected.size;
}

/** A query request body for `vector` (values printed to 4 decimals). */
export function queryBody(vector: Float32Array, { topK = 10, filter }: { topK?: number; filter?: unknown } = {}): string {
  let text = '{"topK":' + topK + ',"vector":[';
  for (let d = 0; d < vector.length; d++) text += (d ? ',' : '') + String(round4(vector[d]!));
  text += ']';
  if (filter) text += ',"filter":' + JSON.stringify(filter);
  return text + '}';
}

/** A generator of vectors: `sample(out, offset)` writes one vector at `offset` and returns its cluster. */
export interface VectorDistribution {
  readonly clusters: number;
  sample(out: Float32Array, offset: number): number;
}

/**
 * `easy`: 100 well-separated Gaussian clusters. `hard`: unit vectors from 1000 overlapping clusters, each a
 * low-rank (16-d) subspace around its centre plus isotropic noise, which is what real embeddings look like to
 * an HNSW graph (low intrinsic dimension per cluster, clusters overlapping, everything on the sphere).
 * Queries are drawn from the same distribution.
 */
export function vectorDistribution(name: 'easy' | 'hard', dim: number, seed = 42): VectorDistribution {
  const random = rng(seed);
  const gauss = gaussian(random);
  if (name === 'easy') {
    const clusters = 100;
    const centers = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gauss));
    return {
      clusters,
      sample(out, offset) {
        const c = Math.floor(random() * clusters);
        for (let d = 0; d < dim; d++) out[offset + d] = centers[c]![d]! + gauss() * 0.6;
        return c;
      },
    };
  }
  if (name === 'hard') {
    const clusters = 1000;
    const rank = 16;
    const centers = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, () => gauss() / Math.sqrt(dim)));
    const bases = Array.from({ length: clusters }, () => Float32Array.from({ length: rank * dim }, () => gauss() / Math.sqrt(dim)));
    const z = new Float64Array(rank);
    return {
      clusters,
      sample(out, offset) {
        const c = Math.floor(random() * clusters);
        const center = centers[c]!;
        const basis = bases[c]!;
        for (let r = 0; r < rank; r++) z[r] = gauss() * 0.35;
        let norm = 0;
        for (let d = 0; d < dim; d++) {
          let v = center[d]! + gauss() * (0.15 / Math.sqrt(dim));
          for (let r = 0; r < rank; r++) v += z[r]! * basis[r * dim + d]!;
          out[offset + d] = v;
          norm += v * v;
        }
        norm = Math.sqrt(norm) || 1;
        for (let d = 0; d < dim; d++) out[offset + d]! /= norm;
        return c;
      },
    };
  }
  throw new Error(`unknown dataset ${String(name)} (easy, hard)`);
}

/**
 * Vector `j` of an unbounded set of unit vectors around `clusters` uniform centres, computed from `j` alone
 * (its own seeded generator), so a bench can stream millions of vectors, or make queries past the end,
 * without holding the set. Values rounded to 4 decimals (exact in JSON). Writes into `out` and returns it.
 */
export function indexedUnitVectors(dim: number, { clusters = 256, seed = 7 }: { clusters?: number; seed?: number } = {}): (j: number, out: Float64Array) => Float64Array {
  const random = rng(seed);
  const centers = Array.from({ length: clusters }, () => Float64Array.from({ length: dim }, () => random() * 2 - 1));
  return (j, out) => {
    const r = rng(1000 + j);
    const c = centers[j % clusters]!;
    let s = 0;
    for (let d = 0; d < dim; d++) {
      out[d] = c[d]! + (r() - 0.5) * 0.8;
      s += out[d]! * out[d]!;
    }
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) out[d] = round4(out[d]! * inv);
    return out;
  };
}
