// Reference answers of the benches (bench-data.ts, recall-data.ts): the exact top-k by cosine. usearch's SIMD
// brute force (float32 cosine, the threads given) picks the best `candidates` of each query, re-scored in double
// precision (the float32 scores' errors, ~1e-6, are far below the gap between a query's 10th and 50th
// neighbour), best first. Queries in batches of 20: one pass over the rows serves a batch. (A JS double-precision
// loop over every row took ~2.5 ns per element: 8 CPU-minutes for 200 queries over 1M × 768.)
import usearch from 'usearch';

export interface ExactTop {
  /** Rows of the matrix, best first. */
  rows: number[];
  /** Their cosine with the query, in double precision. */
  scores: number[];
}

const BATCH = 20;

/**
 * The best `k` rows of `matrix` (row-major, `dim` columns) for each query. usearch reads a typed array from its
 * buffer's start: `matrix` must start at offset 0 of its buffer (pass a copy, not an offset view).
 */
export function exactTopCosine(
  matrix: Float32Array,
  dim: number,
  queries: Float32Array[],
  { candidates, k, threads, onBatch }: { candidates: number; k: number; threads: number; onBatch?: (done: number) => void },
): ExactTop[] {
  if (matrix.byteOffset !== 0) throw new Error('exactTopCosine: the matrix must start at its buffer\'s offset 0');
  const wanted = Math.min(matrix.length / dim, candidates);
  const out: ExactTop[] = [];
  for (let q0 = 0; q0 < queries.length; q0 += BATCH) {
    const batch = queries.slice(q0, q0 + BATCH);
    const queryMatrix = new Float32Array(batch.length * dim);
    batch.forEach((q, i) => queryMatrix.set(q, i * dim));
    const result = usearch.exactSearch(matrix, queryMatrix, dim, wanted, 'cos' as never, threads) as unknown as { keys: BigUint64Array };
    for (let i = 0; i < batch.length; i++) {
      const q = batch[i]!;
      let qn = 0;
      for (let d = 0; d < dim; d++) qn += q[d]! * q[d]!;
      qn = Math.sqrt(qn) || 1;
      const scored: { row: number; score: number }[] = [];
      for (let c = 0; c < wanted; c++) {
        const row = Number(result.keys[i * wanted + c]);
        let dot = 0;
        let norm = 0;
        for (let d = 0; d < dim; d++) {
          const v = matrix[row * dim + d]!;
          dot += q[d]! * v;
          norm += v * v;
        }
        scored.push({ row, score: dot / (qn * (Math.sqrt(norm) || 1)) });
      }
      scored.sort((a, b) => b.score - a.score);
      const best = scored.slice(0, k);
      out.push({ rows: best.map((s) => s.row), scores: best.map((s) => s.score) });
    }
    onBatch?.(Math.min(q0 + BATCH, queries.length));
  }
  return out;
}
