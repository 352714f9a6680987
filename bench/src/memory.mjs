// Memory and restart of the vector store at size (issue 12; `npm run bench -- --only=memory`). For each size
// a store process of its own (no gateway: the figures are the store's) is started on an empty data
// directory, fed over HTTP (100-vector upserts, 4 in flight), left to build its graph and write its
// snapshot, then stopped with SIGTERM (shutdown snapshot) and started again. Reported per size:
//   - RssAnon per vector after ingest (graph built, values saved) and after the restart, against the raw
//     float32 size (/proc/<pid>/status; file-backed pages — graphs and values files read through the page
//     cache — are RssFile and not counted), with the JS heap and external (ArrayBuffer) bytes beside it;
//   - restart → /readyz 200, and restart → the first query answered by the graph (plan "ann").
// Options: --memory-sizes=100000x768,1000000x128 (default 20000x768; --full: 100000x768,1000000x128,1000000x768),
// --memory-ann-wait=<s> (longest wait for the graph after ingest), --memory-store-main=<path> (another build of
// the store's dist/main.js, e.g. a checkout of an older commit, for before/after figures).
import { execSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rng } from './data.mjs';
import { freePort, pool, progress, request, sleep } from './util.mjs';

const here = import.meta.dirname;
let storeMain = path.resolve(here, '../../apps/vector-store/dist/main.js');
const TOKEN = 'bench-memory-internal-token-0123456789abcdef';
const BATCH = 100;

function status(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN) * 1024;
  return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
}

const load = () => execSync('uptime').toString().trim().replace(/.*load average:\s*/, '');

/** Cluster centres and a generator of unit vectors around them (4 decimals, so JSON is exact), by index. */
function generator(dim) {
  const random = rng(7);
  const centers = Array.from({ length: 256 }, () => Float64Array.from({ length: dim }, () => random() * 2 - 1));
  return (j, out) => {
    const r = rng(1000 + j);
    const c = centers[j % centers.length];
    let s = 0;
    for (let d = 0; d < dim; d++) {
      out[d] = c[d] + (r() - 0.5) * 0.8;
      s += out[d] * out[d];
    }
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) out[d] = Math.round(out[d] * inv * 1e4) / 1e4;
    return out;
  };
}

class Store {
  constructor(dataDir, port) {
    this.dataDir = dataDir;
    this.url = `http://127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      // info: the store logs only start, stop, snapshots and 'index loaded' (with its timings) at info.
      CONIFER_LOG_LEVEL: 'info',
      CONIFER_BIND: '127.0.0.1',
      CONIFER_VECTOR_STORE_PORT: String(port),
      CONIFER_DATA_DIR: dataDir,
      CONIFER_INTERNAL_TOKEN: TOKEN,
    };
    this.headers = { 'x-conifer-internal-token': TOKEN };
  }

  /** Starts the process; resolves with the milliseconds until /readyz answers 200. */
  async start() {
    const t0 = performance.now();
    this.child = spawn(process.execPath, [storeMain], { env: this.env, stdio: ['ignore', 'pipe', 'inherit'] });
    this.loaded = undefined;
    let pending = '';
    this.child.stdout.on('data', (chunk) => {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop();
      for (const line of lines) if (line.includes('"index loaded"')) this.loaded = JSON.parse(line);
    });
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`store exited with ${this.child.exitCode}`);
      const ok = await request(`${this.url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await sleep(25);
    }
  }

  async stop() {
    if (this.child === undefined || this.child.exitCode !== null) return;
    await new Promise((resolve) => {
      this.child.once('exit', resolve);
      this.child.kill('SIGTERM');
    });
  }

  async metrics() {
    const text = (await request(`${this.url}/metrics`, { headers: this.headers })).text;
    const value = (re) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      annPending: value(/^conifer_store_ann_pending_vectors (\d+)/m),
      annQueries: value(/^conifer_store_queries_total\{[^}]*plan="ann"[^}]*\} (\d+)/m) || 0,
      heapUsed: value(/^nodejs_heap_size_used_bytes (\d+)/m),
      heapTotal: value(/^nodejs_heap_size_total_bytes (\d+)/m),
      external: value(/^nodejs_external_memory_bytes (\d+)/m),
    };
  }

  post(url, body) {
    return request(`${this.url}/internal/indexes/bench${url}`, { method: 'POST', headers: this.headers, body });
  }
}

/**
 * One size. `row(section, metric, value, unit, extra)` adds a table row (bench.mjs), `log` prints.
 */
async function measureSize({ n, dim }, { row, log, annWaitSeconds }) {
  const tag = `${n / 1000}k × ${dim}`;
  const raw = dim * 4;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-bench-memory-'));
  const store = new Store(dataDir, await freePort());
  const out = { n, dim, loadAtStart: load() };
  try {
    await store.start();
    await sleep(500);
    const baseline = status(store.child.pid).rssAnon;
    const base = await store.metrics();
    const heap = (m) =>
      `heap used ${((m.heapUsed - base.heapUsed) / n).toFixed(0)} B/vector (committed ${((m.heapTotal - base.heapTotal) / n).toFixed(0)}), external ${((m.external - base.external) / n).toFixed(0)} B/vector`;
    const created = await request(`${store.url}/internal/indexes/bench`, {
      method: 'PUT',
      headers: store.headers,
      body: JSON.stringify({ dimension: dim, metric: 'cosine', vectorType: 'dense' }),
    });
    if (created.status >= 300) throw new Error(`create index: ${created.status} ${created.text}`);
    const gen = generator(dim);
    const row1 = new Float64Array(dim);
    const bar = progress(`${tag} ingest`);
    const t0 = performance.now();
    await pool(Math.ceil(n / BATCH), 4, async (b) => {
      const vectors = [];
      for (let j = b * BATCH; j < Math.min(n, (b + 1) * BATCH); j++) vectors.push({ id: `v${j}`, values: Array.from(gen(j, row1)), metadata: { bucket: j % 10, j } });
      const r = await store.post('/vectors/upsert', JSON.stringify({ vectors }));
      if (r.status !== 200) throw new Error(`upsert: ${r.status} ${r.text.slice(0, 200)}`);
      if (b % 50 === 0) bar.update(`${(b * BATCH).toLocaleString('en-US')} vectors`);
    });
    out.ingestSeconds = (performance.now() - t0) / 1000;
    bar.done(`${n.toLocaleString('en-US')} vectors in ${out.ingestSeconds.toFixed(1)} s (${Math.round(n / out.ingestSeconds)} vectors/s over HTTP)`);
    const build = progress(`${tag} graph build`);
    const tb = performance.now();
    let pending;
    while ((pending = (await store.metrics()).annPending) > 0 && (performance.now() - tb) / 1000 < annWaitSeconds) {
      build.update(`${pending.toLocaleString('en-US')} vectors pending`);
      await sleep(1000);
    }
    out.annBuildSeconds = (performance.now() - tb) / 1000;
    out.annPendingAfterWait = pending;
    build.done(pending > 0 ? `stopped waiting after ${annWaitSeconds} s (${pending} pending)` : `built ${out.annBuildSeconds.toFixed(1)} s after the ingest`);
    // The graph-growth snapshot (checked every 5 s once nothing is pending) saves the values; the worker
    // drops its graph copy after 10 s idle. Wait for both, then read memory.
    await sleep(17_000);
    const queryBody = (j) => {
      const q = gen(n + 1 + j, row1);
      return JSON.stringify({ vector: Array.from(q), topK: 10 });
    };
    for (let i = 0; i < 20; i++) await store.post('/query', queryBody(i));
    const afterIngest = { ...status(store.child.pid), ...(await store.metrics()) };
    out.afterIngest = afterIngest;
    const perVector = (afterIngest.rssAnon - baseline) / n;
    log(
      `  ${tag} after ingest + graph: RssAnon ${(perVector / 1024).toFixed(2)} KB/vector (${(perVector / raw).toFixed(2)}× raw ${raw} B); ` +
        `${heap(afterIngest)}, RssFile ${(afterIngest.rssFile / 2 ** 20).toFixed(0)} MB; load ${load()}`,
    );
    row('memory', `${tag} store RssAnon per vector (after ingest, graph built)`, perVector, 'B', { reference: raw, refLabel: 'raw float32', target: 0.75 * raw });

    // Restart.
    await store.stop();
    out.loadAtRestart = load();
    const t1 = performance.now();
    const readyMs = await store.start();
    const before = (await store.metrics()).annQueries;
    let annMs;
    let queries = 0;
    for (;;) {
      await store.post('/query', queryBody(queries++ % 50));
      if ((await store.metrics()).annQueries > before) {
        annMs = performance.now() - t1;
        break;
      }
      if (performance.now() - t1 > 600_000) break;
    }
    for (let i = 0; i < 50; i++) await store.post('/query', queryBody(i));
    const times = [];
    for (let i = 0; i < 100; i++) times.push((await store.post('/query', queryBody(i))).ms);
    times.sort((a, b) => a - b);
    const afterRestart = { ...status(store.child.pid), ...(await store.metrics()) };
    out.restart = { indexLoaded: store.loaded, readySeconds: readyMs / 1000, firstAnnQuerySeconds: annMs === undefined ? undefined : annMs / 1000, queryP50Ms: times[50], afterRestart };
    const restartedPerVector = (afterRestart.rssAnon - baseline) / n;
    log(
      `  ${tag} restart: /readyz after ${(readyMs / 1000).toFixed(2)} s, first graph-served query after ${annMs === undefined ? 'never (10 min)' : `${(annMs / 1000).toFixed(2)} s`}, ` +
        `query p50 ${times[50].toFixed(2)} ms (store direct); index load: ${
          store.loaded?.replayMs === undefined ? 'no timings logged' : `snapshot + log replay ${store.loaded.replayMs} ms, graph check + view ${store.loaded.graphsMs} ms`
        }; RssAnon ${(restartedPerVector / 1024).toFixed(2)} KB/vector (${(restartedPerVector / raw).toFixed(2)}× raw), ` +
        `${heap(afterRestart)}, RssFile ${(afterRestart.rssFile / 2 ** 20).toFixed(0)} MB; load ${load()}`,
    );
    row('restart', `${tag} store restart → /readyz 200`, readyMs / 1000, 's', { target: 10, note: `load ${out.loadAtRestart}` });
    row('restart', `${tag} restart → first query served by the graph`, annMs === undefined ? undefined : annMs / 1000, 's', { target: 10 });
    row('memory', `${tag} store RssAnon per vector (after restart)`, restartedPerVector, 'B', { reference: raw, refLabel: 'raw float32', target: 0.75 * raw });
    return out;
  } finally {
    await store.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The section: `option(name, fallback)` reads `--name=value`; results go into `results.sections.memory`. */
export async function memorySection({ row, log, option, full, results }) {
  const sizes = option('memory-sizes', full ? '100000x768,1000000x128,1000000x768' : '20000x768')
    .split(',')
    .map((s) => {
      const [n, dim] = s.split('x').map(Number);
      return { n, dim };
    });
  const annWaitSeconds = Number(option('memory-ann-wait', 3600));
  storeMain = path.resolve(option('memory-store-main', storeMain));
  log(`\n[memory] store memory and restart: ${sizes.map((s) => `${s.n} × ${s.dim}`).join(', ')}; own store process each (${storeMain}); load ${load()}`);
  results.sections.memory = [];
  for (const size of sizes) results.sections.memory.push(await measureSize(size, { row, log, annWaitSeconds }));
}
