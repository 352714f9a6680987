#!/usr/bin/env -S node --experimental-strip-types
// Restart benchmark (not part of `npm test`): the store's IndexRegistry in-process with its background
// graph builder, as in production. Ingests n × dim (durable), waits for the graph, measures query p50 and
// recall@10 against exact, stops cleanly (shutdown snapshot with the graph), reopens and measures the time
// to load (what /readyz waits for), the time until every query is served by the graph, query p50 after
// the restart, and RssAnon. Run after building:
//   npx turbo run build --filter=@conifer/vector-store... &&
//   node --experimental-strip-types --expose-gc apps/vector-store/bench/restart-bench.ts [n=100000] [dim=768] [dataset=hard] [queries=200]
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { vectorDistribution } from '@conifer/test-utils';
import { IndexRegistry } from '@conifer/vector-store';

const N = Number(process.argv[2] ?? 100_000);
const DIM = Number(process.argv[3] ?? 768);
const DATA = process.argv[4] ?? 'hard';
if (DATA !== 'easy' && DATA !== 'hard') throw new Error(`unknown dataset ${DATA} (easy, hard)`);
const QUERIES = Number(process.argv[5] ?? 200);
const logger = pino({ level: 'warn' });
const uptime = () => execSync('uptime').toString().trim().replace(/.*load/, 'load');
const rssAnon = () => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const sec = (ms: number): string => (ms / 1000).toFixed(1);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

console.log(`restart bench: ${N} x ${DIM} (${DATA}), ${QUERIES} queries; ${uptime()}`);
const gen = vectorDistribution(DATA, DIM);
const values = new Float32Array(N * DIM);
for (let j = 0; j < N; j++) gen.sample(values, j * DIM);
const queries = Array.from({ length: QUERIES }, () => {
  const q = new Float32Array(DIM);
  gen.sample(q, 0);
  return q;
});

global.gc?.();
const baseline = rssAnon(); // the process, the data and queries held by the bench
const dataDir = mkdtempSync(path.join(tmpdir(), 'conifer-restart-'));
try {
  let registry = await IndexRegistry.open(dataDir, logger);
  await registry.create('bench', { dimension: DIM, metric: 'cosine', vectorType: 'dense' });
  let index = registry.get('bench');
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const loopReport = () => `event loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`;
  loop.enable();
  let t0 = performance.now();
  let next = 0;
  const writer = async () => {
    while (next < N) {
      const from = next;
      next += 1000;
      const vectors = [];
      for (let j = from; j < Math.min(N, from + 1000); j++) vectors.push({ id: `doc-${j}`, values: values.subarray(j * DIM, (j + 1) * DIM), metadata: { bucket: j % 100 } });
      await index.mutate(index.index.prepareUpsert({ namespace: '', vectors }));
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  console.log(`ingest (engine level, durable): ${sec(performance.now() - t0)} s = ${Math.round(N / ((performance.now() - t0) / 1000))} vectors/s; ${loopReport()}; ${uptime()}`);
  loop.reset();
  t0 = performance.now();
  while (!registry.annIdle()) await sleep(200);
  console.log(`graph built in the background: ${sec(performance.now() - t0)} s after the ingest; ${loopReport()} (graph swaps); ${uptime()}`);
  await sleep(1500); // the last publish

  // Exact answers once (the reference for recall), then the planned (graph) answers.
  const exact = queries.map((q) => {
    const search = index.index.search;
    const min = search.annMinVectors;
    search.annMinVectors = Number.MAX_SAFE_INTEGER;
    const ids = index.index.query({ namespace: '', vector: q, topK: 10, includeValues: false, includeMetadata: false }).matches.map((m) => m.id);
    search.annMinVectors = min;
    return ids;
  });
  const measure = (label: string) => {
    global.gc?.();
    const times: number[] = [];
    const plans = new Map();
    let hits = 0;
    queries.forEach((q, i) => {
      const t = performance.now();
      const result = index.index.query({ namespace: '', vector: q, topK: 10, includeValues: false, includeMetadata: false });
      times.push(performance.now() - t);
      plans.set(result.plan.plan, (plans.get(result.plan.plan) ?? 0) + 1);
      const want = new Set(exact[i]);
      for (const m of result.matches) if (want.has(m.id)) hits++;
    });
    console.log(
      `${label}: recall@10 ${(hits / (10 * queries.length)).toFixed(4)}, engine p50 ${pct(times, 50).toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms ` +
        `(plans ${[...plans].map(([k, v]) => `${k}:${v}`).join(' ')}); store RssAnon ${((rssAnon() - baseline) / N).toFixed(0)} B/vector (raw float32 ${DIM * 4}); ${uptime()}`,
    );
    return pct(times, 50);
  };
  measure('before restart');
  measure('before restart (again)');
  loop.reset();
  t0 = performance.now();
  await index.snapshot();
  console.log(`snapshot with its graph: ${sec(performance.now() - t0)} s; ${loopReport()}; ${uptime()}`);
  loop.disable();
  t0 = performance.now();
  await registry.close();
  console.log(`clean stop (shutdown snapshot + graph): ${sec(performance.now() - t0)} s`);

  t0 = performance.now();
  registry = await IndexRegistry.open(dataDir, logger);
  const loadedMs = performance.now() - t0;
  index = registry.get('bench');
  console.log(`restart: loaded (what /readyz waits for) in ${sec(loadedMs)} s; pending graph work ${registry.pendingAnnVectors()} vectors; ${uptime()}`);
  while (!registry.annIdle()) await sleep(100);
  console.log(`restart: every query served by the graph ${sec(performance.now() - t0)} s after the start`);
  measure('after restart (first pass, cold pages)');
  measure('after restart');
  await registry.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
