// Data sets and HNSW graphs for bench/src/recall-at-scale.ts, cached on disk so that the graph (minutes to
// build at 1M × 128 or 100k × 768 on a 2-core machine) is built once and reused by every measuring run.
// Files in `dir` (default /tmp/conifer-recall), per `<dataset>-<n>x<dim>`:
//   .values.f32   n rows of dim float32, the store's values-file layout (row `slot` at slot × dim × 4)
//   .queries.f32  the queries (same distribution, not in the data)
//   .truth.json   brute-force top-10 per query (double precision cosine over every record)
//   .M16-efc128.usearch  the graph, built exactly as the engine builds it (UsearchAnn, engine defaults; other
//                        parameters by RECALL_CONNECTIVITY / RECALL_EXPANSION_ADD, named after them)
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { DEFAULT_ANN_PARAMS, UsearchAnn, type AnnParams } from '@conifer/engine';
import { makeDataset, vectorDistribution } from '@conifer/test-utils';

export interface RecallData {
  n: number;
  dim: number;
  values: Float32Array;
  queries: Float32Array[];
  /** Per query, the reference top-10 slots and their scores, best first. */
  truth: { slots: number[]; scores: number[] }[];
  graphFile: string;
}

/** Native threads for the graph build (RECALL_BUILD_THREADS; 0: one per core, as the engine's own build). */
const BUILD_THREADS = Number(process.env.RECALL_BUILD_THREADS ?? 0);

/**
 * The graph's parameters: the engine's defaults, or RECALL_CONNECTIVITY / RECALL_EXPANSION_ADD to build (and
 * measure) another graph of the same data side by side; the file name records them.
 */
export const graphParams = (): AnnParams => ({
  ...DEFAULT_ANN_PARAMS,
  connectivity: Number(process.env.RECALL_CONNECTIVITY ?? DEFAULT_ANN_PARAMS.connectivity),
  expansionAdd: Number(process.env.RECALL_EXPANSION_ADD ?? DEFAULT_ANN_PARAMS.expansionAdd),
});

export const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const log = (msg: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg} (load ${load()})\n`);

function readF32(file: string): Float32Array {
  const buf = readFileSync(file);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

function writeAtomic(file: string, data: string | NodeJS.ArrayBufferView): void {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
}

export type RecallDataset = 'bench' | 'easy' | 'hard';

/**
 * Loads (or makes and saves) one data set with its queries, reference answers and graph. `bench` is the data
 * of `npm run bench` (makeDataset: 100 Gaussian clusters, σ 0.6, 4 decimals; full-rank, so HNSW's hardest);
 * `easy`/`hard` are vectorDistribution's (`hard`: low-rank clusters, hard for filters, easy for the graph).
 */
export function recallData(dataset: RecallDataset, n: number, dim: number, queryCount: number, dir: string, k = 10, only?: 'graph' | 'truth'): RecallData {
  const buildGraph = only !== 'truth';
  const base = `${dir}/${dataset}-${n}x${dim}`;
  let values: Float32Array;
  let queries: Float32Array[];
  if (existsSync(`${base}.values.f32`) && existsSync(`${base}.queries.f32`) && readF32(`${base}.queries.f32`).length >= queryCount * dim) {
    values = readF32(`${base}.values.f32`);
    const q = readF32(`${base}.queries.f32`);
    queries = Array.from({ length: queryCount }, (_, i) => q.slice(i * dim, (i + 1) * dim));
  } else {
    log(`generating ${dataset} ${n} x ${dim}`);
    const q = new Float32Array(queryCount * dim);
    if (dataset === 'bench') {
      const made = makeDataset({ n, dim });
      values = made.values;
      made.makeQueries(queryCount).forEach((query, i) => q.set(query, i * dim));
    } else {
      const gen = vectorDistribution(dataset, dim);
      values = new Float32Array(n * dim);
      for (let j = 0; j < n; j++) gen.sample(values, j * dim);
      for (let i = 0; i < queryCount; i++) gen.sample(q, i * dim);
    }
    writeAtomic(`${base}.values.f32`, values);
    writeAtomic(`${base}.queries.f32`, q);
    queries = Array.from({ length: queryCount }, (_, i) => q.slice(i * dim, (i + 1) * dim));
  }

  const truthFile = `${base}.truth.json`;
  let truth: RecallData['truth'] = existsSync(truthFile) ? (JSON.parse(readFileSync(truthFile, 'utf8')) as RecallData['truth']) : [];
  if (truth.length < queryCount && only !== 'graph') {
    log(`brute-force reference for ${queryCount} queries`);
    const norms = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += values[j * dim + d]! * values[j * dim + d]!;
      norms[j] = Math.sqrt(s) || 1;
    }
    truth = queries.map((q) => {
      let qn = 0;
      for (let d = 0; d < dim; d++) qn += q[d]! * q[d]!;
      qn = Math.sqrt(qn) || 1;
      // A running top-k (insertion into a short sorted list): n scores, k kept.
      const slots: number[] = [];
      const scores: number[] = [];
      for (let j = 0; j < n; j++) {
        let s = 0;
        const off = j * dim;
        for (let d = 0; d < dim; d++) s += q[d]! * values[off + d]!;
        s /= qn * norms[j]!;
        if (scores.length === k && s <= scores[k - 1]!) continue;
        let i = scores.length === k ? k - 1 : scores.length;
        while (i > 0 && scores[i - 1]! < s) i--;
        scores.splice(i, 0, s);
        slots.splice(i, 0, j);
        if (scores.length > k) {
          scores.pop();
          slots.pop();
        }
      }
      return { slots, scores };
    });
    writeAtomic(truthFile, JSON.stringify(truth));
    log('reference done');
  }
  const params = graphParams();
  const graphFile = `${base}.M${params.connectivity}-efc${params.expansionAdd}.usearch`;
  if (buildGraph && !existsSync(graphFile)) {
    log(`building the graph of ${n} x ${dim} (parameters ${JSON.stringify(params)}, ${BUILD_THREADS || 'all'} threads)`);
    const t0 = performance.now();
    const ann = new UsearchAnn('cosine', dim, params);
    const batch = 50_000;
    for (let from = 0; from < n; from += batch) {
      const to = Math.min(n, from + batch);
      const slots = Int32Array.from({ length: to - from }, (_, i) => from + i);
      ann.add(slots, values.subarray(from * dim, to * dim), BUILD_THREADS);
      log(`graph ${to}/${n}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    ann.save(`${graphFile}.tmp`);
    renameSync(`${graphFile}.tmp`, graphFile);
    log(`graph built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  return { n, dim, values, queries, truth: truth.slice(0, queryCount), graphFile };
}

/** A pread-backed `VectorSegment` over the values file, as the store's ValuesFile serves re-ranking reads. */
export class PreadSegment {
  private readonly fd: number;
  readonly dimension: number;
  readonly rows: number;
  constructor(file: string, dimension: number, rows: number) {
    this.fd = openSync(file, 'r');
    this.dimension = dimension;
    this.rows = rows;
  }
  read(first: number, count: number, out: Float32Array, outOffset: number): void {
    const bytes = count * this.dimension * 4;
    readSync(this.fd, new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, bytes), 0, bytes, first * this.dimension * 4);
  }
  close(): void {
    closeSync(this.fd);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // node --experimental-strip-types bench/src/recall-data.ts <dataset> <n> <dim> <queries> [dir] [graph|truth]:
  // prepare only (`graph` / `truth`: only the graph or the reference answers, two processes side by side).
  const [dataset = 'bench', n = '100000', dim = '768', q = '200', dir = '/tmp/conifer-recall', only] = process.argv.slice(2);
  recallData(dataset as RecallDataset, Number(n), Number(dim), Number(q), dir, 10, only as 'graph' | 'truth' | undefined);
}
