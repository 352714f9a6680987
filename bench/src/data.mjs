// Deterministic clustered data, query sets and exact (brute-force) ground truth, all in plain JS over
// Float32Array. Values are rounded to 4 decimals so the JSON the bench sends is exactly what the store keeps
// (the bench's own copy is the float32 of that decimal) and so bodies stay small.

/** mulberry32: a small seeded PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round4 = (x) => Math.round(x * 1e4) / 1e4;

/**
 * n vectors of `dim` dimensions around `clusters` Gaussian centres; `bucket` (0..9) is independent of the
 * cluster, so `bucket = 3` selects 10 % of the data uniformly.
 */
export function makeDataset({ n, dim, clusters = 100, seed = 42 }) {
  const random = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centers = Array.from({ length: clusters }, () => Float64Array.from({ length: dim }, gauss));
  const values = new Float32Array(n * dim);
  const norms = new Float32Array(n);
  const bucket = new Uint8Array(n);
  const metaRandom = rng(seed + 1);
  for (let j = 0; j < n; j++) {
    const c = centers[Math.floor(random() * clusters)];
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const v = Math.fround(round4(c[d] + gauss() * 0.6));
      values[j * dim + d] = v;
      s += v * v;
    }
    norms[j] = Math.sqrt(s);
    bucket[j] = Math.floor(metaRandom() * 10);
  }
  const queryRandom = rng(seed + 2);
  const qgauss = () => Math.sqrt(-2 * Math.log(queryRandom() + 1e-12)) * Math.cos(2 * Math.PI * queryRandom());
  const makeQueries = (count) =>
    Array.from({ length: count }, (_, i) => {
      const c = centers[(i * 7) % clusters];
      return Float32Array.from({ length: dim }, (_, d) => Math.fround(round4(c[d] + qgauss() * 0.6)));
    });
  return { n, dim, values, norms, bucket, makeQueries };
}

export const idOf = (j) => `v${j}`;

/** The JSON text of vector j's record (values printed as the 4-decimal numbers they were made from). */
export function recordJson(data, j) {
  const { dim, values } = data;
  let text = `{"id":"${idOf(j)}","values":[`;
  for (let d = 0; d < dim; d++) text += (d ? ',' : '') + String(round4(values[j * dim + d]));
  return `${text}],"metadata":{"bucket":${data.bucket[j]}}}`;
}

/**
 * Upsert bodies of at most `maxVectors` records and `maxBytes` bytes each (the API's limits: 1000 vectors,
 * 2 MB), as Buffers so they stay off the JS heap.
 */
export function upsertBodies(data, { maxVectors = 1000, maxBytes = 2 * 1024 * 1024 - 1024, onProgress } = {}) {
  const bodies = [];
  let parts = [];
  let bytes = 20;
  const flush = () => {
    if (parts.length === 0) return;
    bodies.push({ count: parts.length, body: Buffer.from(`{"vectors":[${parts.join(',')}]}`) });
    parts = [];
    bytes = 20;
  };
  for (let j = 0; j < data.n; j++) {
    const record = recordJson(data, j);
    if (parts.length >= maxVectors || bytes + record.length + 1 > maxBytes) flush();
    parts.push(record);
    bytes += record.length + 1;
    if (onProgress && j % 10000 === 0) onProgress(j);
  }
  flush();
  return bodies;
}

/** Exact cosine top-k, unfiltered and restricted to bucket === filterBucket, for each query. */
export function exactTopK(data, queries, { k = 10, filterBucket = 3, onProgress } = {}) {
  const { n, dim, values, norms, bucket } = data;
  const results = [];
  const started = performance.now();
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi];
    const all = new TopK(k);
    const filtered = new TopK(k);
    for (let j = 0; j < n; j++) {
      let dot = 0;
      const base = j * dim;
      for (let d = 0; d < dim; d++) dot += q[d] * values[base + d];
      const score = norms[j] === 0 ? 0 : dot / norms[j];
      all.push(j, score);
      if (bucket[j] === filterBucket) filtered.push(j, score);
    }
    results.push({ all: all.ids(), filtered: filtered.ids() });
    onProgress?.(qi + 1);
  }
  return { results, msPerQuery: (performance.now() - started) / queries.length };
}

class TopK {
  constructor(k) {
    this.k = k;
    this.items = [];
    this.min = -Infinity;
  }
  push(id, score) {
    if (this.items.length === this.k && score <= this.min) return;
    const items = this.items;
    let i = items.length;
    if (i === this.k) items.pop(), (i = items.length);
    while (i > 0 && items[i - 1].score < score) i--;
    items.splice(i, 0, { id, score });
    if (items.length === this.k) this.min = items[items.length - 1].score;
  }
  ids() {
    return this.items.map((item) => idOf(item.id));
  }
}

export function recallAt(expectedIds, gotIds) {
  const expected = new Set(expectedIds);
  let hits = 0;
  for (const id of gotIds) if (expected.has(id)) hits++;
  return expected.size === 0 ? 1 : hits / expected.size;
}

export function queryBody(vector, { topK = 10, filter } = {}) {
  let text = '{"topK":' + topK + ',"vector":[';
  for (let d = 0; d < vector.length; d++) text += (d ? ',' : '') + String(round4(vector[d]));
  text += ']';
  if (filter) text += ',"filter":' + JSON.stringify(filter);
  return text + '}';
}
