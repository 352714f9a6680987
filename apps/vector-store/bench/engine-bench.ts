#!/usr/bin/env -S node --experimental-strip-types
// Engine benchmark (not part of `npm test`). Run after building:
//   npx turbo run build --filter=@conifer/vector-store... && node --experimental-strip-types apps/vector-store/bench/engine-bench.ts [n] [dim] [queries]
// Prints durable ingest rate (WAL + fsync), ANN build rate, recall@10 vs exact and p50/p99 latency for
// unfiltered and filtered (10 %, 1 %) queries, and resident bytes per vector.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { pino } from 'pino';
import { gaussian, rng } from '@conifer/test-utils';
import { DurableIndex, DEFAULT_DURABLE_OPTIONS } from '@conifer/vector-store';

const N = Number(process.argv[2] ?? 100_000);
const DIM = Number(process.argv[3] ?? 768);
const QUERIES = Number(process.argv[4] ?? 200);
const CLUSTERS = 100;
const logger = pino({ level: 'warn' });

const random = rng(42);
const gauss = gaussian(random);
const centers = Array.from({ length: CLUSTERS }, () => Float32Array.from({ length: DIM }, gauss));
function sample(c: number): Float32Array {
  const v = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) v[d] = centers[c]![d]! + gauss() * 0.6;
  return v;
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const dir = mkdtempSync(path.join(tmpdir(), 'conifer-bench-'));
try {
  const index = await DurableIndex.create('bench', path.join(dir, 'bench'), { dimension: DIM, metric: 'cosine', vectorType: 'dense' }, DEFAULT_DURABLE_OPTIONS, logger);

  // ---- durable ingest: batches of 1000 (the API's maximum), 4 requests in flight, each acknowledged after fsync.
  // Values are generated up front into one array; ids and metadata objects are made per batch, so the heap
  // growth measured below is what the index keeps. `bucket` is independent of the cluster; `region` is
  // the cluster's own (a filter correlated with the vectors, the hard case for graph search).
  const BATCH = 1000;
  const values = new Float32Array(N * DIM);
  const cluster = new Uint8Array(N);
  for (let j = 0; j < N; j++) {
    cluster[j] = Math.floor(random() * CLUSTERS);
    values.set(sample(cluster[j]), j * DIM);
  }
  const metaRandom = rng(7);
  const batchAt = (i: number) => {
    const vectors = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      vectors.push({
        id: `doc-${j}`,
        values: values.subarray(j * DIM, (j + 1) * DIM),
        metadata: { bucket: Math.floor(metaRandom() * 100), genre: ['a', 'b', 'c', 'd'][Math.floor(metaRandom() * 4)], region: cluster[j] % 10 },
      });
    }
    return vectors;
  };
  global.gc?.();
  const before = process.memoryUsage();
  let t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const vectors = batchAt(next);
      next += BATCH;
      await index.mutate(index.index.prepareUpsert({ namespace: '', vectors }));
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const ingestMs = performance.now() - t0;
  console.log(`ingest (WAL fsync + in-memory, engine level): ${N} x ${DIM} in ${(ingestMs / 1000).toFixed(2)} s = ${Math.round(N / (ingestMs / 1000))} vectors/s (incl. one 256 MB-log snapshot at 100k x 768)`);

  // JSON parse cost of the same data through the contracts parser (what the HTTP route adds per vector).
  const sampleBody = JSON.stringify({ vectors: batchAt(0).map((v) => ({ ...v, values: Array.from(v.values) })) });
  t0 = performance.now();
  for (let i = 0; i < 5; i++) parseUpsertRequest(JSON.parse(sampleBody));
  console.log(`JSON.parse + parseUpsertRequest: ${Math.round((5 * BATCH) / ((performance.now() - t0) / 1000))} vectors/s on one core`);

  global.gc?.();
  const afterIngest = process.memoryUsage();
  // ---- ANN build (background in the server; run to completion here)
  t0 = performance.now();
  while (index.index.buildAnnStep(4096) > 0);
  const buildMs = performance.now() - t0;
  console.log(`ANN build (usearch HNSW M=16 efC=128, int8, all cores): ${(buildMs / 1000).toFixed(1)} s = ${Math.round(N / (buildMs / 1000))} vectors/s`);

  global.gc?.();
  const after = process.memoryUsage();
  // Resident cost per vector = dense arrays (capacity) + JS heap (ids, id map, metadata objects) + ANN (rss growth during the build).
  const dense = index.index.denseBytes();
  const heap = afterIngest.heapUsed - before.heapUsed;
  const ann = Math.max(0, after.rss - afterIngest.rss);
  const perVector = (dense + heap + ann) / N;
  console.log(
    `memory per vector: ${Math.round(perVector)} B = dense arrays ${Math.round(dense / N)} (float32 values + norm + live byte, incl. growth slack) + ` +
      `JS heap ${Math.round(heap / N)} (id, map entry, metadata) + ANN ${Math.round(ann / N)} (int8 + graph); raw float32 is ${DIM * 4} B ` +
      `(${(perVector / (DIM * 4)).toFixed(2)}x)` + (global.gc ? '' : ' (run with --expose-gc for steadier numbers)'),
  );

  // ---- queries
  const qs = Array.from({ length: QUERIES }, (_, i) => Array.from(sample((i * 7) % CLUSTERS)));
  const queryCluster = (i: number): number => (i * 7) % CLUSTERS;
  const runSet = (label: string, filter?: object) => {
    const exactTimes = [];
    const annTimes = [];
    let hits = 0;
    let total = 0;
    const plans = new Map();
    for (const q of qs) {
      const req = parseQueryRequest({ vector: q, topK: 10, ...(filter ? { filter } : {}) });
      const search = index.index.search;
      const defaultMin = search.annMinVectors;
      search.annMinVectors = Number.MAX_SAFE_INTEGER;
      let t = performance.now();
      const exact = index.index.query(req).matches.map((m) => m.id);
      exactTimes.push(performance.now() - t);
      search.annMinVectors = defaultMin;
      t = performance.now();
      const result = index.index.query(req);
      annTimes.push(performance.now() - t);
      const got = result.matches.map((m) => m.id);
      plans.set(result.plan.plan, (plans.get(result.plan.plan) ?? 0) + 1);
      const set = new Set(exact);
      for (const id of got) if (set.has(id)) hits++;
      total += exact.length;
    }
    console.log(
      `${label.padEnd(22)} recall@10 ${(hits / total).toFixed(4)}  p50 ${pct(annTimes, 50).toFixed(2)} ms  p99 ${pct(annTimes, 99).toFixed(2)} ms  ` +
        `(exact scan p50 ${pct(exactTimes, 50).toFixed(1)} ms; plans ${[...plans].map(([k, v]) => `${k}:${v}`).join(' ')})`,
    );
  };
  void queryCluster;
  runSet('unfiltered', undefined);
  runSet('filter 10% (bucket<10)', { bucket: { $lt: 10 } });
  runSet('filter 1% (bucket=3)', { bucket: 3 });
  runSet('filter 25% (genre=a)', { genre: 'a' });
  runSet('10% correlated (region=3)', { region: 3 });
  await index.close();
  t0 = performance.now();
  const reopened = await DurableIndex.load('bench', path.join(dir, 'bench'), DEFAULT_DURABLE_OPTIONS, logger);
  console.log(`recovery after restart: ${reopened.index.totalVectorCount} vectors from snapshot + WAL in ${((performance.now() - t0) / 1000).toFixed(1)} s (the graph is then rebuilt in the background)`);
  await reopened.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
