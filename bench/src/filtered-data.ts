// The records and queries of the engine-level filtered benches (filtered-recall.ts, sketch-scan-ab.ts): `n`
// vectors with metadata `bucket` (0..99, independent of the vector) and `region` / `zone` (10 % and 1 % of
// the records, correlated with the vector), and two floats with a distinct value per record (what a range
// filter on a timestamp, a price or a score meets): `score` (uniform in [0, 1), independent of the vector)
// and `pos` (in [0, 1), correlated with the vector: `pos < 0.1` and `pos < 0.01` are 10 % and 1 % of the
// clusters, or a 10 % and a 1 % slab of GloVe's sphere). Datasets: `easy` and `hard` (@conifer/test-utils'
// vectorDistribution: region and zone are 10 % and 1 % of the clusters), `glove` (real word embeddings,
// 100-d, real-embeddings.ts: region and zone are a 10 % and a 1 % slab of the sphere, by the rank of each
// record's projection on a random direction; the queries are held-out words).
import { rng, vectorDistribution } from '@conifer/test-utils';
import { GLOVE_DIMENSION, gloveVectors } from './real-embeddings.ts';

const DATA_DIR = process.env.BENCH_DATA_DIR ?? '/tmp/conifer-bench-data';

// A type alias, not an interface: the engine's metadata parameter needs its implicit index signature.
export type FilterMeta = { bucket: number; region: number; zone: number; score: number; pos: number };
/**
 * The filters the filtered benches ask over that metadata: `bucket`/`score` independent of the vectors,
 * `region`/`zone`/`pos` correlated with them, at 10 % and 1 %; `score` and `pos` are floats with a distinct
 * value per record (no posting list per value).
 */
export const FILTERED_QUERIES = {
  'indep 10%': { bucket: { $lt: 10 } },
  'indep 1%': { bucket: { $eq: 42 } },
  'corr 10%': { region: { $eq: 3 } },
  'corr 1%': { zone: { $eq: 7 } },
  'float indep 10%': { score: { $lt: 0.1 } },
  'float indep 1%': { score: { $gte: 0.99 } },
  'float corr 10%': { pos: { $lt: 0.1 } },
  'float corr 1%': { pos: { $lt: 0.01 } },
} as const satisfies Record<string, Record<string, unknown>>;

export interface FilteredData {
  values: Float32Array;
  meta: FilterMeta[];
  queries: Float32Array[];
}

export const FILTERED_DATASETS = ['easy', 'hard', 'glove'] as const;
export type FilteredDataset = (typeof FILTERED_DATASETS)[number];

/** A dataset named on the command line, or an error naming the known ones. */
export function filteredDataset(name: string): FilteredDataset {
  const known = FILTERED_DATASETS.find((d) => d === name);
  if (known === undefined) throw new Error(`unknown dataset ${name} (${FILTERED_DATASETS.join(', ')})`);
  return known;
}

export function filteredData(data: FilteredDataset, n: number, dim: number, queryCount: number): FilteredData {
  if (data === 'glove') return gloveData(n, dim, queryCount);
  const gen = vectorDistribution(data, dim);
  const values = new Float32Array(n * dim);
  const meta: FilterMeta[] = [];
  const buckets = rng(7);
  // Own generators, so that the vectors and the other fields stay those of earlier sessions (and their cached graphs).
  const scores = rng(13);
  const positions = rng(17);
  for (let j = 0; j < n; j++) {
    const cluster = gen.sample(values, j * dim);
    meta.push({ bucket: Math.floor(buckets() * 100), region: cluster % 10, zone: cluster % 100, score: scores(), pos: ((cluster % 100) + positions()) / 100 });
  }
  const queries = Array.from({ length: queryCount }, () => {
    const q = new Float32Array(dim);
    gen.sample(q, 0);
    return q;
  });
  return { values, meta, queries };
}

function gloveData(n: number, dim: number, queryCount: number): FilteredData {
  if (dim !== GLOVE_DIMENSION) throw new Error(`the glove dataset has ${GLOVE_DIMENSION} dimensions, not ${dim}`);
  const glove = gloveVectors(DATA_DIR);
  const total = glove.words.length;
  if (n + queryCount > total) throw new Error(`the glove dataset has ${total} words: ${n} records and ${queryCount} queries do not fit`);
  // The package orders the words by frequency; a seeded shuffle spreads records and queries over all of it.
  const order = Int32Array.from({ length: total }, (_, i) => i);
  const random = rng(11);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const row = (word: number): Float32Array => glove.values.subarray(word * dim, (word + 1) * dim);
  // Records from the front of the shuffle, queries from its back: the records of a size stay the same
  // whatever the query count (filtered-recall.ts caches their graph by size).
  const values = new Float32Array(n * dim);
  for (let j = 0; j < n; j++) values.set(row(order[j]!), j * dim);
  const queries = Array.from({ length: queryCount }, (_, i) => row(order[total - 1 - i]!).slice());
  const region = slabs(values, n, dim, 10, random);
  const zone = slabs(values, n, dim, 100, random);
  const rank = projectionRanks(values, n, dim, random);
  const buckets = rng(7);
  const scores = rng(13);
  const meta = Array.from({ length: n }, (_, j): FilterMeta => ({ bucket: Math.floor(buckets() * 100), region: region[j]!, zone: zone[j]!, score: scores(), pos: rank[j]! / n }));
  return { values, meta, queries };
}

/** Each record's slab (0..count-1, equal sizes) by the rank of its direction's projection on a random direction. */
function slabs(values: Float32Array, n: number, dim: number, count: number, random: () => number): Uint8Array {
  const rank = projectionRanks(values, n, dim, random);
  const slab = new Uint8Array(n);
  for (let j = 0; j < n; j++) slab[j] = Math.floor((rank[j]! * count) / n);
  return slab;
}

/** Each record's rank (0..n-1) by its direction's projection on a random direction. */
function projectionRanks(values: Float32Array, n: number, dim: number, random: () => number): Int32Array {
  const direction = Float64Array.from({ length: dim }, () => random() * 2 - 1);
  const projection = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let dot = 0;
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const x = values[j * dim + d]!;
      dot += x * direction[d]!;
      norm += x * x;
    }
    projection[j] = norm === 0 ? 0 : dot / Math.sqrt(norm);
  }
  const byProjection = Int32Array.from({ length: n }, (_, j) => j).sort((a, b) => projection[a]! - projection[b]!);
  const rank = new Int32Array(n);
  byProjection.forEach((j, r) => (rank[j] = r));
  return rank;
}
