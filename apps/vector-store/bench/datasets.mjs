// Bench datasets (deterministic, generated): `easy` is 100 well-separated Gaussian clusters (the old
// bench data); `hard` is unit vectors from 1000 overlapping clusters, each a low-rank (16-d) subspace
// around its centre plus isotropic noise, which is what real embeddings look like to an HNSW graph
// (low intrinsic dimension per cluster, clusters overlapping, everything on the sphere).
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

function gaussian(random) {
  return () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
}

/**
 * A generator of `dim`-d vectors: `sample(out, offset)` writes one vector and returns its cluster.
 * Queries are drawn from the same distribution (new samples, not stored vectors).
 */
export function dataset(name, dim, seed = 42) {
  const random = rng(seed);
  const gauss = gaussian(random);
  if (name === 'easy') {
    const clusters = 100;
    const centers = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gauss));
    return {
      clusters,
      sample(out, offset) {
        const c = Math.floor(random() * clusters);
        for (let d = 0; d < dim; d++) out[offset + d] = centers[c][d] + gauss() * 0.6;
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
        const center = centers[c];
        const basis = bases[c];
        for (let r = 0; r < rank; r++) z[r] = gauss() * 0.35;
        let norm = 0;
        for (let d = 0; d < dim; d++) {
          let v = center[d] + gauss() * (0.15 / Math.sqrt(dim));
          for (let r = 0; r < rank; r++) v += z[r] * basis[r * dim + d];
          out[offset + d] = v;
          norm += v * v;
        }
        norm = Math.sqrt(norm) || 1;
        for (let d = 0; d < dim; d++) out[offset + d] /= norm;
        return c;
      },
    };
  }
  throw new Error(`unknown dataset ${name} (easy, hard)`);
}
