#!/usr/bin/env -S node --experimental-strip-types
// HTTP-level benchmark (not part of `npm test`): the built server in-process on a free port, the ANN
// builder on its worker thread. Prints durable ingest through HTTP + JSON (batches of 100, 4 in flight),
// query latency while the graph is being built in the background, and once it is built.
//   node --experimental-strip-types apps/vector-store/bench/http-bench.ts [n] [dim]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { availableParallelism } from "node:os";
import { pino } from "pino";
import { rng } from '@conifer/test-utils';
import { buildServer, IndexRegistry } from '@conifer/vector-store';

const N = Number(process.argv[2] ?? 50_000);
const DIM = Number(process.argv[3] ?? 768);
const TOKEN = 'bench-token-0123456789abcdef0123456789';
const dir = mkdtempSync(path.join(tmpdir(), 'conifer-http-bench-'));
const logger = pino({ level: 'warn' });
const registry = await IndexRegistry.open(dir, logger);
const app = buildServer({ registry, internalToken: TOKEN, maxBodyBytes: 4 * 1024 * 1024, logger, parseWorkers: Number(process.env.PARSE_WORKERS ?? (availableParallelism() >= 4 ? availableParallelism() - 2 : 0)) });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const headers = { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' };
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const random = rng(1);
const centers = Array.from({ length: 100 }, () => Array.from({ length: DIM }, () => random() * 2 - 1));
const vec = (c: number): number[] => centers[c]!.map((x) => Math.round((x + (random() - 0.5)) * 1e4) / 1e4);

try {
  await fetch(`${base}/internal/indexes/bench`, { method: 'PUT', headers, body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }) });
  const BATCH = 100;
  const bodies: string[] = [];
  for (let i = 0; i < N; i += BATCH) {
    const vectors = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) vectors.push({ id: `d${j}`, values: vec(j % 100), metadata: { bucket: j % 100 } });
    bodies.push(JSON.stringify({ vectors }));
  }
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++];
      const res = await fetch(`${base}/internal/indexes/bench/vectors/upsert`, { method: 'POST', headers, body });
      if (res.status !== 200) throw new Error(`upsert ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const ms = performance.now() - t0;
  console.log(`HTTP durable ingest: ${N} x ${DIM} in ${(ms / 1000).toFixed(1)} s = ${Math.round(N / (ms / 1000))} vectors/s (batches of ${BATCH}, 4 in flight, ${(bodies[0].length / 1024).toFixed(0)} KB bodies)`);
  bodies.length = 0;

  const query = async (filter?: object): Promise<number> => {
    const body = JSON.stringify({ vector: vec(Math.floor(random() * 100)), topK: 10, ...(filter ? { filter } : {}) });
    const t = performance.now();
    const res = await fetch(`${base}/internal/indexes/bench/query`, { method: 'POST', headers, body });
    await res.json();
    return performance.now() - t;
  };
  const during = [];
  const buildStart = performance.now();
  while (registry.pendingAnnVectors() > 0) during.push(await query());
  const buildMs = performance.now() - buildStart;
  if (during.length > 0) {
    console.log(`while the worker builds the graph (${(buildMs / 1000).toFixed(1)} s): ${during.length} queries, p50 ${pct(during, 50).toFixed(1)} ms, p99 ${pct(during, 99).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms`);
  }
  const cases: [string, object | undefined][] = [['unfiltered', undefined], ['filter 10%', { bucket: { $lt: 10 } }], ['filter 1%', { bucket: 3 }]];
  for (const [label, filter] of cases) {
    const times = [];
    for (let i = 0; i < 200; i++) times.push(await query(filter));
    console.log(`after build, ${label.padEnd(10)} over HTTP: p50 ${pct(times, 50).toFixed(2)} ms, p99 ${pct(times, 99).toFixed(2)} ms`);
  }
} finally {
  await app.close();
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
}
