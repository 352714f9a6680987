// The records and queries of the engine-level filtered benches (filtered-recall.ts, sketch-scan-ab.ts): `n`
// vectors of an easy or hard distribution (@conifer/test-utils' vectorDistribution) with metadata `bucket`
// (0..99, independent of the vector) and `region` / `zone` (10 % and 1 % of the clusters: correlated with it).
import { rng, vectorDistribution } from '@conifer/test-utils';

// A type alias, not an interface: the engine's metadata parameter needs its implicit index signature.
export type FilterMeta = { bucket: number; region: number; zone: number };

export function filteredData(data: 'easy' | 'hard', n: number, dim: number, queryCount: number): { values: Float32Array; meta: FilterMeta[]; queries: Float32Array[] } {
  const gen = vectorDistribution(data, dim);
  const values = new Float32Array(n * dim);
  const meta: FilterMeta[] = [];
  const metaRandom = rng(7);
  for (let j = 0; j < n; j++) {
    const cluster = gen.sample(values, j * dim);
    meta.push({ bucket: Math.floor(metaRandom() * 100), region: cluster % 10, zone: cluster % 100 });
  }
  const queries = Array.from({ length: queryCount }, () => {
    const q = new Float32Array(dim);
    gen.sample(q, 0);
    return q;
  });
  return { values, meta, queries };
}
