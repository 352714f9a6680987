#!/usr/bin/env -S node --experimental-strip-types
// Where the store's event loop spends long ticks while its graph catches up after a bulk ingest (issue 12 part 5:
// the stalls section's "graph build after the ingest" phase, without its slow 100-per-request ingest): one store
// process started with --cpu-prof, n × 768 vectors upserted in bodies of the 2 MB limit (4 in flight), then one
// query every 50 ms (top_k 10) until no vector is pending for the graph (or --wait seconds), then the store stops
// and writes its profile to --dir; the main thread's profile is the one to read with a busy-stretch summary.
//   node --experimental-strip-types bench/src/build-phase-profile.ts [--n=100000] [--wait=300] [--dir=/tmp/conifer-build-prof] [--store-main=<dist/main.js>]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { indexedUnitVectors, makeDataset, STORE_MAIN, upsertBodies } from '@conifer/test-utils';
import { Store } from './store-process.ts';
import { freePort, percentile, pool, request, sleep } from './util.ts';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '100000'));
const WAIT_S = Number(arg('wait', '300'));
const DIR = path.resolve(arg('dir', '/tmp/conifer-build-prof'));
const MAIN = path.resolve(arg('store-main', STORE_MAIN));
const DIM = 768;
const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');

mkdirSync(DIR, { recursive: true });
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-build-prof-'));
process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${DIR}`;
const store = new Store(MAIN, dataDir, await freePort());
delete process.env.NODE_OPTIONS;
try {
  await store.start();
  console.log(`store pid ${store.pid}; load ${load()}`);
  await request(`${store.url}/internal/indexes/bench`, { method: 'PUT', headers: store.headers, body: JSON.stringify({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }) });
  const bodies = upsertBodies(makeDataset({ n: N, dim: DIM, seed: DIM }));
  const t0 = performance.now();
  await pool(bodies.length, 4, async (i) => {
    const r = await request(`${store.url}/internal/indexes/bench/vectors/upsert`, { method: 'POST', headers: store.headers, body: bodies[i]!.body });
    if (r.status !== 200) throw new Error(`upsert ${r.status}`);
  });
  console.log(`ingest ${N} in ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${load()}`);
  const vectorAt = indexedUnitVectors(DIM);
  const scratch = new Float64Array(DIM);
  const queries = Array.from({ length: 50 }, (_, j) => JSON.stringify({ vector: Array.from(vectorAt(N + 1 + j, scratch)), topK: 10 }));
  const times: number[] = [];
  const t1 = performance.now();
  let pending = NaN;
  for (let i = 0; (performance.now() - t1) / 1000 < WAIT_S; i++) {
    const started = performance.now();
    const r = await request(`${store.url}/internal/indexes/bench/query`, { method: 'POST', headers: store.headers, body: queries[i % queries.length] });
    if (r.status !== 200) throw new Error(`query ${r.status}`);
    times.push(performance.now() - started);
    if (i % 20 === 0) {
      pending = Number(/^conifer_store_ann_pending_vectors (\d+)/m.exec(await store.metricsText())?.[1] ?? NaN);
      if (pending === 0) break;
    }
    await sleep(Math.max(0, 50 - (performance.now() - started)));
  }
  console.log(`graph phase ${((performance.now() - t1) / 1000).toFixed(1)} s, ${pending} pending at the end; ${times.length} queries p50 ${percentile(times, 50).toFixed(1)} ms p99 ${percentile(times, 99).toFixed(1)} ms; load ${load()}`);
} finally {
  await store.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
