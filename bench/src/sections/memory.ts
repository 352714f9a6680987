// [memory] Memory and restart of the vector store at size (issue 12; `npm run bench -- --only=memory`, not in
// the default set). For each size a store process of its own (no gateway: the figures are the store's) is
// started on an empty data directory, fed over HTTP (100-vector upserts, 4 in flight), left to build its graph
// and write its snapshot, then stopped with SIGTERM (shutdown snapshot) and started again. Reported per size:
//   - RssAnon per vector after ingest (graph built, values saved) and after the restart, against the raw
//     float32 size (/proc/<pid>/status; file-backed pages — graphs and values files read through the page
//     cache — are RssFile and not counted), with the JS heap and external (ArrayBuffer) bytes beside it;
//   - restart → /readyz 200, and restart → the first query answered by the graph (plan "ann").
// Options (options.ts): --memory-sizes=100000x768,1000000x128 (default 20000x768; --full: 100000x768,
// 1000000x128,1000000x768), --memory-ann-wait=<s> (longest wait for the graph after ingest),
// --memory-store-main=<path> (another build of the store's dist/main.js, e.g. a checkout of an older commit,
// for before/after figures).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { indexedUnitVectors, STORE_MAIN } from '@conifer/test-utils';
import { MEMORY_ANN_WAIT, MEMORY_SIZES, MEMORY_STORE_MAIN } from '../options.ts';
import { log, memoryTargetRatio, results, row } from '../report.ts';
import { load, status, Store, type StoreMetrics } from '../store-process.ts';
import { freePort, pool, progress, request, sleep } from '../util.ts';

const BATCH = 100;

async function measureSize({ n, dim }: { n: number; dim: number }, storeMain: string): Promise<Record<string, unknown>> {
  const tag = `${n / 1000}k × ${dim}`;
  const raw = dim * 4;
  const target = memoryTargetRatio(dim) * raw;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-bench-memory-'));
  const store = new Store(storeMain, dataDir, await freePort());
  const out: Record<string, unknown> = { n, dim, loadAtStart: load() };
  try {
    await store.start();
    await sleep(500);
    const baseline = status(store.pid).rssAnon;
    const base = await store.metrics();
    const heap = (m: StoreMetrics): string =>
      `heap used ${((m.heapUsed - base.heapUsed) / n).toFixed(0)} B/vector (committed ${((m.heapTotal - base.heapTotal) / n).toFixed(0)}), external ${((m.external - base.external) / n).toFixed(0)} B/vector`;
    const created = await request(`${store.url}/internal/indexes/bench`, {
      method: 'PUT',
      headers: store.headers,
      body: JSON.stringify({ dimension: dim, metric: 'cosine', vectorType: 'dense' }),
    });
    if (created.status >= 300) throw new Error(`create index: ${created.status} ${created.text}`);
    const vectorAt = indexedUnitVectors(dim);
    const scratch = new Float64Array(dim);
    const bar = progress(`${tag} ingest`);
    const t0 = performance.now();
    await pool(Math.ceil(n / BATCH), 4, async (b) => {
      const vectors = [];
      for (let j = b * BATCH; j < Math.min(n, (b + 1) * BATCH); j++) vectors.push({ id: `v${j}`, values: Array.from(vectorAt(j, scratch)), metadata: { bucket: j % 10, j } });
      const r = await store.post('/vectors/upsert', JSON.stringify({ vectors }));
      if (r.status !== 200) throw new Error(`upsert: ${r.status} ${r.text.slice(0, 200)}`);
      if (b % 50 === 0) bar.update(`${(b * BATCH).toLocaleString('en-US')} vectors`);
    });
    const ingestSeconds = (performance.now() - t0) / 1000;
    out.ingestSeconds = ingestSeconds;
    bar.done(`${n.toLocaleString('en-US')} vectors in ${ingestSeconds.toFixed(1)} s (${Math.round(n / ingestSeconds)} vectors/s over HTTP)`);
    const build = progress(`${tag} graph build`);
    const tb = performance.now();
    let pending: number;
    while ((pending = (await store.metrics()).annPending) > 0 && (performance.now() - tb) / 1000 < MEMORY_ANN_WAIT) {
      build.update(`${pending.toLocaleString('en-US')} vectors pending`);
      await sleep(1000);
    }
    const annBuildSeconds = (performance.now() - tb) / 1000;
    Object.assign(out, { annBuildSeconds, annPendingAfterWait: pending });
    build.done(pending > 0 ? `stopped waiting after ${MEMORY_ANN_WAIT} s (${pending} pending)` : `built ${annBuildSeconds.toFixed(1)} s after the ingest`);
    // The graph-growth snapshot (checked every 5 s once nothing is pending) saves the values; the worker
    // drops its graph copy after 10 s idle. Wait for both, then read memory.
    await sleep(17_000);
    const queryBody = (j: number): string => JSON.stringify({ vector: Array.from(vectorAt(n + 1 + j, scratch)), topK: 10 });
    for (let i = 0; i < 20; i++) await store.post('/query', queryBody(i));
    const afterIngest = { ...status(store.pid), ...(await store.metrics()) };
    out.afterIngest = afterIngest;
    // Below the planner's minimum (annMinVectors) or with the graph unbuilt, the store scans exactly: then no
    // query after the restart would be the graph's either, and waiting for one would only time out.
    const graphServes = afterIngest.annQueries > base.annQueries;
    const perVector = (afterIngest.rssAnon - baseline) / n;
    log(
      `  ${tag} after ingest + graph: RssAnon ${(perVector / 1024).toFixed(2)} KB/vector (${(perVector / raw).toFixed(2)}× raw ${raw} B); ` +
        `${heap(afterIngest)}, RssFile ${(afterIngest.rssFile / 2 ** 20).toFixed(0)} MB; load ${load()}`,
    );
    row('memory', `${tag} store RssAnon per vector (after ingest, graph built)`, perVector, 'B', { reference: raw, refLabel: 'raw float32', target });

    // Restart.
    await store.stop();
    const loadAtRestart = load();
    out.loadAtRestart = loadAtRestart;
    const t1 = performance.now();
    const readyMs = await store.start();
    const before = (await store.metrics()).annQueries;
    let annMs: number | undefined;
    let queries = 0;
    while (graphServes) {
      await store.post('/query', queryBody(queries++ % 50));
      if ((await store.metrics()).annQueries > before) {
        annMs = performance.now() - t1;
        break;
      }
      if (performance.now() - t1 > 600_000) break;
    }
    for (let i = 0; i < 50; i++) await store.post('/query', queryBody(i));
    const times: number[] = [];
    for (let i = 0; i < 100; i++) times.push((await store.post('/query', queryBody(i))).ms);
    times.sort((a, b) => a - b);
    const p50 = times[50];
    const afterRestart = { ...status(store.pid), ...(await store.metrics()) };
    out.restart = { indexLoaded: store.loaded, readySeconds: readyMs / 1000, firstAnnQuerySeconds: annMs === undefined ? undefined : annMs / 1000, queryP50Ms: p50, afterRestart };
    const restartedPerVector = (afterRestart.rssAnon - baseline) / n;
    log(
      `  ${tag} restart: /readyz after ${(readyMs / 1000).toFixed(2)} s, first graph-served query after ${annMs !== undefined ? `${(annMs / 1000).toFixed(2)} s` : graphServes ? 'never (10 min)' : '– (no query served by the graph before the restart either)'}, ` +
        `query p50 ${p50.toFixed(2)} ms (store direct); index load: ${
          store.loaded?.replayMs === undefined ? 'no timings logged' : `snapshot + log replay ${store.loaded.replayMs} ms, graph check + view ${store.loaded.graphsMs} ms`
        }; RssAnon ${(restartedPerVector / 1024).toFixed(2)} KB/vector (${(restartedPerVector / raw).toFixed(2)}× raw), ` +
        `${heap(afterRestart)}, RssFile ${(afterRestart.rssFile / 2 ** 20).toFixed(0)} MB; load ${load()}`,
    );
    row('restart', `${tag} store restart → /readyz 200`, readyMs / 1000, 's', { target: 10, note: `load ${loadAtRestart}` });
    row('restart', `${tag} restart → first query served by the graph`, annMs === undefined ? undefined : annMs / 1000, 's', {
      target: 10,
      note: graphServes ? undefined : 'the store answered every query by an exact scan (too few vectors for the graph)',
    });
    row('memory', `${tag} store RssAnon per vector (after restart)`, restartedPerVector, 'B', { reference: raw, refLabel: 'raw float32', target });
    return out;
  } finally {
    await store.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Needs no running system (each size starts its own store process); results go into `results.sections.memory`. */
export async function memorySection(): Promise<void> {
  const storeMain = MEMORY_STORE_MAIN ? path.resolve(MEMORY_STORE_MAIN) : STORE_MAIN;
  log(`\n[memory] store memory and restart: ${MEMORY_SIZES.map((s) => `${s.n} × ${s.dim}`).join(', ')}; own store process each (${storeMain}); load ${load()}`);
  const sizes: Record<string, unknown>[] = [];
  results.sections.memory = sizes;
  for (const size of MEMORY_SIZES) sizes.push(await measureSize(size, storeMain));
}
