// Data sets and HNSW graphs for bench/src/recall-at-scale.ts, cached on disk so that the graph (minutes to
// build at 1M × 128 or 100k × 768 on a 2-core machine) is built once and reused by every measuring run.
// Files in `dir` (default /tmp/conifer-recall), per `<dataset>-<n>x<dim>`:
//   .values.f32   n rows of dim float32, the store's values-file layout (row `slot` at slot × dim × 4)
//   .queries.f32  the queries (same distribution, not in the data)
//   .truth.json   brute-force top-10 per query (SIMD float32 cosine over every record, its best 50 re-scored in
//                 double precision: see reference())
//   .M16-efc128.usearch  the graph, built exactly as the engine builds it (UsearchAnn, engine defaults; other
//                        parameters by RECALL_CONNECTIVITY / RECALL_EXPANSION_ADD, named after them)
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { DEFAULT_ANN_PARAMS, UsearchAnn, type AnnParams } from '@conifer/engine';
import usearch from 'usearch';
import { makeDataset, vectorDistribution } from '@conifer/test-utils';
import { exactTopCosine } from './exact-top.ts';

export interface RecallData {
  n: number;
  dim: number;
  values: Float32Array;
  queries: Float32Array[];
  /** Per query, the reference top-10 slots and their scores, best first. */
  truth: { slots: number[]; scores: number[] }[];
  graphFile: string;
}

/** Smaller sizes prepared in the same pass (RECALL_PREFIXES=100000,300000: see recallData). */
const PREFIXES = (process.env.RECALL_PREFIXES ?? '').split(',').filter((p) => p !== '').map(Number);

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

/**
 * RECALL_QUANTIZATION=f16: the graph's vectors in f16 instead of the engine's int8 for cosine (built with usearch
 * directly; `view` takes the scalar kind from the file, so the engine searches it as it is), named `…-f16`.
 */
const QUANTIZATION = process.env.RECALL_QUANTIZATION === 'f16' ? 'f16' : 'i8';
const graphName = (params: AnnParams): string => `M${params.connectivity}-efc${params.expansionAdd}${QUANTIZATION === 'f16' ? '-f16' : ''}`;

/** A graph builder: the engine's own (UsearchAnn), or usearch with f16 vectors (RECALL_QUANTIZATION). */
function graphBuilder(dim: number, params: AnnParams): { add(slots: Int32Array, vectors: Float32Array): void; save(file: string): void } {
  if (QUANTIZATION === 'i8') {
    const ann = new UsearchAnn('cosine', dim, params);
    return { add: (slots, vectors) => ann.add(slots, vectors, BUILD_THREADS), save: (file) => ann.save(file) };
  }
  const index = new usearch.Index({
    dimensions: dim,
    metric: 'cos' as never,
    quantization: 'f16' as never,
    connectivity: params.connectivity,
    expansion_add: params.expansionAdd,
    expansion_search: params.expansionSearch,
    multi: false,
  });
  return {
    add: (slots, vectors) => index.add(BigUint64Array.from(slots, (s) => BigInt(s)), vectors, BUILD_THREADS),
    save: (file) => index.save(file),
  };
}

export const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
/** A progress line on stderr, stamped with the time of day and the machine's load (the graph tools' log). */
export const log = (msg: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg} (load ${load()})\n`);

/** Node reads and writes at most 2 GB per call: files are read and written in pieces of this size (1M × 768 is 3 GB). */
const PIECE = 1 << 30;

function readF32(file: string): Float32Array {
  const fd = openSync(file, 'r');
  try {
    const bytes = fstatSync(fd).size;
    const out = new Float32Array(bytes / 4);
    const view = new Uint8Array(out.buffer);
    for (let at = 0; at < bytes; ) at += readSync(fd, view, at, Math.min(PIECE, bytes - at), at);
    return out;
  } finally {
    closeSync(fd);
  }
}

function writeAtomic(file: string, data: string | NodeJS.ArrayBufferView): void {
  if (typeof data === 'string') writeFileSync(`${file}.tmp`, data);
  else {
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const fd = openSync(`${file}.tmp`, 'w');
    try {
      for (let at = 0; at < view.length; ) at += writeSync(fd, view, at, Math.min(PIECE, view.length - at), at);
    } finally {
      closeSync(fd);
    }
  }
  renameSync(`${file}.tmp`, file);
}

/** Candidates per query of the SIMD brute force, re-scored in double precision (the best k of them kept). */
const REFERENCE_CANDIDATES = 50;

/** The reference top-k of each query over the first `rows` rows (exact-top.ts), best first. */
function reference(values: Float32Array, rows: number, dim: number, queries: Float32Array[], k: number): RecallData['truth'] {
  // usearch reads a typed array from its buffer's start: values starts at offset 0 (a fresh buffer).
  const matrix = values.byteOffset === 0 ? values.subarray(0, rows * dim) : values.slice(0, rows * dim);
  return exactTopCosine(matrix, dim, queries, { candidates: REFERENCE_CANDIDATES, k, threads: BUILD_THREADS }).map(({ rows: slots, scores }) => ({ slots, scores }));
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

  // RECALL_PREFIXES (bench data only): the first p rows of makeDataset's n are makeDataset's p rows (one seeded
  // sequence; the queries do not depend on n), so preparing n also prepares each prefix size p: its values and
  // queries files are links to n's, its reference answers a brute force over the first p rows, and its graph is
  // n's graph saved when p vectors were in (HNSW inserts one vector at a time).
  const prefixes = dataset === 'bench' ? PREFIXES.filter((p) => p < n) : [];
  for (const p of prefixes) {
    for (const ext of ['values.f32', 'queries.f32']) {
      const link = `${dir}/${dataset}-${p}x${dim}.${ext}`;
      if (!existsSync(link)) symlinkSync(`${base}.${ext}`, link);
    }
  }
  const truthFileOf = (rows: number): string => `${dir}/${dataset}-${rows}x${dim}.truth.json`;
  const truthFile = truthFileOf(n);
  let truth: RecallData['truth'] = existsSync(truthFile) ? (JSON.parse(readFileSync(truthFile, 'utf8')) as RecallData['truth']) : [];
  if (only !== 'graph') {
    for (const rows of [...prefixes.filter((p) => !existsSync(truthFileOf(p))), ...(truth.length < queryCount ? [n] : [])]) {
      log(`brute-force reference for ${queryCount} queries over ${rows} x ${dim}`);
      const answers = reference(values, rows, dim, queries, k);
      writeAtomic(truthFileOf(rows), JSON.stringify(answers));
      if (rows === n) truth = answers;
    }
    log('reference done');
  }
  const params = graphParams();
  const graphFile = `${base}.${graphName(params)}.usearch`;
  if (buildGraph && !existsSync(graphFile)) {
    log(`building the graph of ${n} x ${dim} (parameters ${JSON.stringify(params)}, ${BUILD_THREADS || 'all'} threads)`);
    const t0 = performance.now();
    const ann = graphBuilder(dim, params);
    const batch = 50_000;
    for (let from = 0; from < n; ) {
      const to = Math.min(n, from + batch, ...prefixes.filter((p) => p > from));
      const slots = Int32Array.from({ length: to - from }, (_, i) => from + i);
      ann.add(slots, values.subarray(from * dim, to * dim));
      log(`graph ${to}/${n}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      const prefixGraph = `${dir}/${dataset}-${to}x${dim}.${graphName(params)}.usearch`;
      if (prefixes.includes(to) && !existsSync(prefixGraph)) {
        ann.save(`${prefixGraph}.tmp`);
        renameSync(`${prefixGraph}.tmp`, prefixGraph);
        log(`saved the graph of the first ${to} as ${prefixGraph}`);
      }
      from = to;
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
