#!/usr/bin/env node
// Conifer through-the-system benchmarks (issue #7). Not part of `npm test`.
//   npm run build && npm run bench            quick sizes (a few minutes on 2 cores)
//   npm run bench -- --full                   the issue's sizes: 100k x 768 and 1M x 128
//   options: --only=overhead,framework,keys,query,text  --duration=<s per load case>  --queries=<n>  --rounds=<n>  --text-docs=<n>
// Starts the real system (vector store + gateway processes on free ports, own database) like the e2e suite,
// prints a table (metric, Conifer, reference, ratio, target, pass) and writes bench/results/<time>.json.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSystem } from '@conifer/test-utils';
import { exactTopK, makeDataset, queryBody, recallAt, upsertBodies } from './data.mjs';
import { findNginx, startNginx } from './nginx.mjs';
import { bruteForceTopK, makeCorpus, textRecall } from './text.mjs';
import { freePort, json, percentile, pool, progress, request, rssBytes, sleep } from './util.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
};
const FULL = flag('full');
const ONLY = option('only', 'overhead,framework,keys,query,text').split(',');
const LOAD_SECONDS = Number(option('duration', FULL ? 15 : 5));
const QUERIES = Number(option('queries', 200));
// How long to wait for the ANN rebuild after the restart (the 1M rebuild alone can take many minutes).
const RESTART_ANN_WAIT = Number(option('restart-ann-wait', FULL ? 240 : 1800));
// Vectors sent straight to the store for the ingest reference (the rate, not the whole set, is wanted).
const DIRECT_INGEST_MAX = Number(option('direct-ingest-max', FULL ? 200_000 : Infinity));
const DATASETS = FULL
  ? [
      { n: 100_000, dim: 768, name: 'bench-768' },
      { n: 1_000_000, dim: 128, name: 'bench-128', restart: true },
    ]
  : [
      { n: 20_000, dim: 768, name: 'bench-768' },
      { n: 100_000, dim: 128, name: 'bench-128', restart: true },
    ];
// --n768=<n> / --n128=<n> override the dataset sizes (smoke runs).
for (const d of DATASETS) d.n = Number(option(`n${d.dim}`, d.n));
// --datasets=128 runs only the 128-d set, etc.
const DATASET_DIMS = option('datasets', DATASETS.map((d) => d.dim).join(',')).split(',').map(Number);
// Longest wait for the background ANN build after ingest (then queries are measured as they are, and said so).
const ANN_WAIT = Number(option('ann-wait', Infinity));
const INGEST_CONCURRENCY = 4;
const here = import.meta.dirname;
const STORE_MAIN = path.resolve(here, '../../apps/vector-store/dist/main.js');

// ------------------------------------------------------------------------------------------------ results
const rows = [];
const results = { machine: machine(), mode: FULL ? 'full' : 'quick', startedAt: new Date().toISOString(), sections: {} };
/** One table row. `higherIsBetter` decides the pass/fail direction against `target`. */
function row(section, metric, value, unit, { reference, refLabel, ratio, target, higherIsBetter = false, note } = {}) {
  const pass = target === undefined || value === undefined || Number.isNaN(value) ? undefined : higherIsBetter ? value >= target : value <= target;
  rows.push({ section, metric, value, unit, reference, refLabel, ratio: ratio ?? (reference ? value / reference : undefined), target, higherIsBetter, pass, note });
}
const fmt = (x, unit) => {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (unit === 'ratio' || unit === 'recall') return x.toFixed(3);
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(Math.abs(x) >= 1 ? 2 : 3);
};

function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    kernel: os.release(),
    date: new Date().toISOString(),
    loadAverageAtStart: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

function log(text) {
  process.stderr.write(`${text}\n`);
}

// ------------------------------------------------------------------------------------------------ system
log(`Conifer bench (${FULL ? 'full' : 'quick'}): ${results.machine.nproc} cores, ${results.machine.memoryGiB} GiB, node ${process.version}, load average ${results.machine.loadAverageAtStart.join(' ')}`);
if (results.machine.loadAverageAtStart[0] > results.machine.nproc / 2) {
  log('  warning: the machine is already busy (load average above half the cores): figures will be noisy and low');
}
log('starting the system (vector store + gateway, log level warn) ...');
const system = await startSystem({ env: { CONIFER_LOG_LEVEL: 'warn' } });
const storeEnv = system.env;
const internalHeaders = { 'x-conifer-internal-token': storeEnv.CONIFER_INTERNAL_TOKEN };
let storeUrl = system.store.url;
let storeChild = system.store.child;
let restartedStore = null;
const cleanups = [];
const projectId = await system.defaultProjectId();
const apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
const keyHeaders = { 'api-key': apiKey };
const storeBaselineRss = rssBytes(storeChild.pid);
results.storeBaselineRssBytes = storeBaselineRss;

async function storeIndexIds() {
  return new Set((await json(`${storeUrl}/internal/indexes`, { headers: internalHeaders })).indexes.map((i) => i.indexId));
}

/** Creates an index through the control plane; returns its data-plane host and the store's index id. */
async function createIndex(name, dimension) {
  const before = await storeIndexIds();
  const created = await json(`${system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers: keyHeaders,
    body: JSON.stringify({ name, dimension, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  for (let i = 0; i < 100 && !created.status?.ready; i++) {
    await sleep(100);
    Object.assign(created, await json(`${system.gatewayUrl}/indexes/${name}`, { headers: keyHeaders }));
  }
  const added = [...(await storeIndexIds())].filter((id) => !before.has(id));
  if (added.length !== 1) throw new Error(`could not find the store's id of index ${name}`);
  return { name, host: created.host, indexId: added[0] };
}

async function deleteIndex(name) {
  await request(`${system.gatewayUrl}/indexes/${name}`, { method: 'DELETE', headers: keyHeaders });
}

async function annPending() {
  const text = (await request(`${storeUrl}/metrics`, { headers: internalHeaders })).text;
  return Number(/^conifer_store_ann_pending_vectors (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function waitAnnBuilt(label, capSeconds = Infinity) {
  const bar = progress(label);
  const t0 = performance.now();
  let pending;
  while ((pending = await annPending()) > 0) {
    if ((performance.now() - t0) / 1000 > capSeconds) {
      bar.done(`stopped waiting after ${capSeconds} s with ${pending} vectors still pending`);
      return { seconds: undefined, pending };
    }
    bar.update(`${pending.toLocaleString('en-US')} vectors pending, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await sleep(500);
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.done(`built (waited ${seconds.toFixed(1)} s)`);
  return { seconds, pending: 0 };
}

/** autocannon in a separate process, bounded duration. */
function loadTest({ url, headers, bodies, connections = 16, duration = LOAD_SECONDS }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-load-'));
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify({ url, headers, bodies, connections, duration }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'load-worker.mjs'), specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const result = JSON.parse(out.trim().split('\n').pop());
      if (result.non2xx > 0 || result.errors > 0) log(`  warning: ${result.non2xx} non-2xx responses, ${result.errors} errors against ${url}`);
      resolve(result);
    });
    child.on('error', reject);
  });
}

try {
  if (ONLY.includes('overhead')) await overheadSection();
  if (ONLY.includes('framework')) await frameworkSection();
  if (ONLY.includes('keys')) await keysSection();
  if (ONLY.includes('query')) for (const dataset of DATASETS.filter((d) => DATASET_DIMS.includes(d.dim))) await datasetSection(dataset);
  if (ONLY.includes('text')) await textSection();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
  if (restartedStore && restartedStore.exitCode === null) {
    restartedStore.kill('SIGTERM');
    await new Promise((r) => restartedStore.once('exit', r));
  }
  await system.stop();
}
report();

// ------------------------------------------------------------------------------------------------ 1. overhead
async function overheadSection() {
  log('\n[1] gateway overhead: direct to the store vs through the gateway vs through nginx (plain reverse proxy) to the store');
  const { host, indexId } = await createIndex('bench-overhead', 128);
  const data = makeDataset({ n: 1000, dim: 128, seed: 1 });
  for (const { body } of upsertBodies(data)) await json(`${host}/vectors/upsert`, { method: 'POST', headers: keyHeaders, body });
  const body = queryBody(data.makeQueries(1)[0], { topK: 10 });
  const targets = [
    { name: 'direct', label: 'store directly', url: `${storeUrl}/internal/indexes/${indexId}/query`, headers: internalHeaders },
    { name: 'gateway', label: 'gateway → store', url: `${host}/query`, headers: keyHeaders },
  ];
  const nginxBinary = findNginx();
  let nginx = null;
  if (nginxBinary) {
    nginx = await startNginx(nginxBinary, new URL(storeUrl).port, mkdtempSync(path.join(os.tmpdir(), 'conifer-nginx-')));
    cleanups.push(async () => nginx.stop());
    targets.push({ name: 'nginx', label: `nginx ${nginx.version} → store`, url: `${nginx.url}/internal/indexes/${indexId}/query`, headers: internalHeaders });
    log(`  nginx found at ${nginxBinary} (${nginx.version}), proxying ${nginx.url} → ${storeUrl}`);
  } else {
    log('  nginx is not installed (not on PATH nor /usr/sbin): the nginx reference is skipped (apt-get install nginx to add it)');
  }
  const section = { query: 'top_k 10 over 1,000 × 128 (exact scan in the store)', nginx: nginx ? nginx.version : 'not installed', targets: {} };

  // Latency: one request at a time, the targets interleaved so drift hits all alike.
  const rounds = Number(option('rounds', FULL ? 10_000 : 3_000));
  const times = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let i = 0; i < 300; i++) for (const t of targets) await request(t.url, { method: 'POST', headers: t.headers, body });
  const bar = progress('sequential latency');
  for (let i = 0; i < rounds; i++) {
    for (const t of targets) {
      const response = await request(t.url, { method: 'POST', headers: t.headers, body });
      if (response.status !== 200) throw new Error(`${t.name}: ${response.status} ${response.text}`);
      times[t.name].push(response.ms);
    }
    bar.update(`${i + 1}/${rounds}`);
  }
  bar.done(`${rounds} rounds`);
  for (const t of targets) {
    section.targets[t.name] = { label: t.label, p50Ms: percentile(times[t.name], 50), p99Ms: percentile(times[t.name], 99) };
    log(`  ${t.label}: p50 ${section.targets[t.name].p50Ms.toFixed(3)} ms, p99 ${section.targets[t.name].p99Ms.toFixed(3)} ms`);
  }
  // Saturation: autocannon in its own process.
  for (const t of targets) {
    const bar2 = progress(`saturation ${t.label}`);
    bar2.update(`${LOAD_SECONDS} s, 16 connections ...`, true);
    const r = await loadTest({ url: t.url, headers: t.headers, bodies: [body] });
    section.targets[t.name].requestsPerSecond = r.requestsPerSecond;
    section.targets[t.name].saturationP50Ms = r.latencyP50;
    section.targets[t.name].saturationP99Ms = r.latencyP99;
    bar2.done(`${Math.round(r.requestsPerSecond)} req/s`);
  }
  results.sections.overhead = section;
  const d = section.targets.direct;
  const g = section.targets.gateway;
  const n = section.targets.nginx;
  row('overhead', 'p50 direct to store', d.p50Ms, 'ms');
  row('overhead', 'p50 via gateway', g.p50Ms, 'ms', { reference: d.p50Ms, refLabel: 'direct' });
  if (n) row('overhead', 'p50 via nginx', n.p50Ms, 'ms', { reference: d.p50Ms, refLabel: 'direct' });
  row('overhead', 'added p50, gateway', g.p50Ms - d.p50Ms, 'ms', { reference: n ? n.p50Ms - d.p50Ms : undefined, refLabel: 'nginx added', target: 0.5 });
  row('overhead', 'added p99, gateway', g.p99Ms - d.p99Ms, 'ms', { reference: n ? n.p99Ms - d.p99Ms : undefined, refLabel: 'nginx added' });
  row('overhead', 'req/s direct to store', d.requestsPerSecond, 'req/s');
  row('overhead', 'req/s via gateway', g.requestsPerSecond, 'req/s', {
    reference: n ? n.requestsPerSecond : d.requestsPerSecond,
    refLabel: n ? 'nginx' : 'direct',
    ...(n ? { target: 0.85 * n.requestsPerSecond, higherIsBetter: true } : {}),
  });
  if (n) row('overhead', 'req/s via nginx', n.requestsPerSecond, 'req/s', { reference: d.requestsPerSecond, refLabel: 'direct' });
  // The store's HTTP path over its engine: the same query answered by the engine in this process (same data,
  // exact scan as in the store at this size), timed alone.
  const engine = await engineQueryTimes(data, body, rounds);
  section.engine = engine;
  log(`  engine alone (in-process DurableIndex, same data and query): p50 ${engine.p50Ms.toFixed(3)} ms, p99 ${engine.p99Ms.toFixed(3)} ms`);
  row('overhead', 'p50 engine alone (same query)', engine.p50Ms, 'ms');
  row('overhead', 'store HTTP added p50 (direct − engine)', d.p50Ms - engine.p50Ms, 'ms', { target: 0.3 });
  await deleteIndex('bench-overhead');
}

async function engineQueryTimes(data, body, rounds) {
  const { DurableIndex, DEFAULT_DURABLE_OPTIONS } = await import(path.resolve(here, '../../apps/vector-store/dist/storage/durable-index.js'));
  const { parseQueryRequest } = await import('@conifer/contracts');
  const { pino } = await import('pino');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-engine-ref-'));
  const index = await DurableIndex.create('engine-ref', path.join(dir, 'i'), { dimension: data.dim, metric: 'cosine', vectorType: 'dense' }, DEFAULT_DURABLE_OPTIONS, pino({ level: 'silent' }));
  try {
    const vectors = [];
    for (let j = 0; j < data.n; j++) vectors.push({ id: `v${j}`, values: data.values.subarray(j * data.dim, (j + 1) * data.dim), metadata: { bucket: data.bucket[j] } });
    await index.mutate(index.index.prepareUpsert({ namespace: '', vectors }));
    const parsed = JSON.parse(body);
    const times = [];
    let result;
    for (let i = 0; i < rounds + 300; i++) {
      const t0 = process.hrtime.bigint();
      result = index.index.query(parseQueryRequest(parsed));
      if (i >= 300) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    // The engine reports the plan it ran on each result (@conifer/engine's QueryResult.plan).
    return { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), plan: result.plan.plan };
  } finally {
    await index.close?.();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------ 1b. framework
async function frameworkSection() {
  log('\n[1b] framework cost: the same trivial query route as a Fastify 5 route vs a bare node:http handler');
  const servers = [];
  for (const kind of ['fastify', 'http']) {
    const child = spawn(process.execPath, [path.join(here, 'framework-server.mjs'), kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]).port);
      });
      child.once('exit', (code) => reject(new Error(`framework server ${kind} exited with ${code}`)));
    });
    cleanups.push(async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    });
    servers.push({ name: kind, url: `http://127.0.0.1:${port}/internal/indexes/x/query`, headers: { 'x-conifer-internal-token': 'bench-token' } });
  }
  const body = '{"vector":[0.1,0.2,0.3],"topK":10}';
  const rounds = Number(option('rounds', FULL ? 10_000 : 3_000));
  const times = { fastify: [], http: [] };
  for (let i = 0; i < 300; i++) for (const t of servers) await request(t.url, { method: 'POST', headers: t.headers, body });
  for (let i = 0; i < rounds; i++) {
    for (const t of servers) {
      const response = await request(t.url, { method: 'POST', headers: t.headers, body });
      if (response.status !== 200) throw new Error(`${t.name}: ${response.status}`);
      times[t.name].push(response.ms);
    }
  }
  const section = {};
  for (const t of servers) {
    const r = await loadTest({ url: t.url, headers: t.headers, bodies: [body] });
    section[t.name] = { p50Ms: percentile(times[t.name], 50), p99Ms: percentile(times[t.name], 99), requestsPerSecond: r.requestsPerSecond };
    log(`  ${t.name}: p50 ${section[t.name].p50Ms.toFixed(3)} ms, p99 ${section[t.name].p99Ms.toFixed(3)} ms, ${Math.round(r.requestsPerSecond)} req/s`);
  }
  results.sections.framework = section;
  row('framework', 'p50 bare node:http', section.http.p50Ms, 'ms');
  row('framework', 'p50 Fastify route', section.fastify.p50Ms, 'ms', { reference: section.http.p50Ms, refLabel: 'node:http' });
  row('framework', 'Fastify added p50', section.fastify.p50Ms - section.http.p50Ms, 'ms');
  row('framework', 'req/s Fastify route', section.fastify.requestsPerSecond, 'req/s', { reference: section.http.requestsPerSecond, refLabel: 'node:http' });
}

// ------------------------------------------------------------------------------------------------ 2. keys
async function keysSection() {
  log('\n[2] key verification per cache layer (real gateway app in a separate process, KeyVerifier driven directly)');
  const keys = [];
  for (let i = 0; i < 64; i++) keys.push((await system.mintKey(projectId, ['ProjectViewer'])).value);
  const port = await freePort();
  const spec = { keys, durationMs: FULL ? 5000 : 2000, concurrency: 32 };
  const out = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'verify-worker.mjs'), JSON.stringify(spec)], {
      env: { ...storeEnv, CONIFER_GATEWAY_PORT: String(port), CONIFER_PUBLIC_URL: `http://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`verify worker exited with ${code}: ${text}`))));
  });
  const layers = JSON.parse(out.trim().split('\n').pop());
  results.sections.keys = { redis: storeEnv.REDIS_URL ? 'configured' : 'single-node (none)', layers };
  const local = layers[0];
  for (const layer of layers) {
    log(`  ${layer.name.padEnd(40)} ${Math.round(layer.opsPerSecond).toLocaleString('en-US').padStart(9)} /s  ${Math.round(layer.opsPerCpuSecond).toLocaleString('en-US').padStart(9)} per CPU-s  (concurrency ${layer.concurrency}${layer.wrong ? `, ${layer.wrong} unexpected` : ''})`);
    row('keys', `verify/s: ${layer.name}`, layer.opsPerSecond, '/s', {
      reference: layer === local ? undefined : local.opsPerSecond,
      refLabel: layer === local ? undefined : 'local hit',
      note: `${Math.round(layer.opsPerCpuSecond).toLocaleString('en-US')} per CPU-second of the gateway process`,
    });
  }
}

// ------------------------------------------------------------------------------------------------ 3–5. datasets
// ------------------------------------------------------------------------------------------------ [6] full-text search
async function textSection() {
  const n = Number(option('text-docs', FULL ? 100_000 : 20_000));
  const section = { n, queries: QUERIES, vocabulary: 20_000, wordsPerDocument: '10–120', zipf: 1.07 };
  results.sections.text = section;
  log(`\n[6] full-text search (BM25): ${n.toLocaleString('en-US')} documents, documents API through the gateway`);
  // A text-only index: created through the control plane, its schema handed to the store as the 2026-07
  // control plane does (until that lands, the bench sets it through the store's internal API).
  const before = await storeIndexIds();
  const created = await json(`${system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers: keyHeaders,
    body: JSON.stringify({ name: 'bench-text', vector_type: 'sparse', metric: 'dotproduct', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  const indexId = [...(await storeIndexIds())].find((id) => !before.has(id));
  const schema = { fields: { body: { type: 'string', full_text_search: { language: 'en' } } } };
  await json(`${storeUrl}/internal/indexes/${indexId}`, {
    method: 'PUT',
    headers: internalHeaders,
    body: JSON.stringify({ dimension: null, metric: 'dotproduct', vectorType: 'sparse', schema }),
  });
  cleanups.push(() => deleteIndex('bench-text'));
  const base = `${created.host}/namespaces/__default__/documents`;
  const headers = { ...keyHeaders, 'x-pinecone-api-version': '2026-07' };

  let bar = progress('generating the corpus');
  const corpus = makeCorpus({ n });
  const bodies = [];
  for (let j = 0; j < n; j += 500) {
    const documents = corpus.docs.slice(j, j + 500).map((d) => ({ _id: d.id, body: d.tokens.join(' '), bucket: d.bucket }));
    bodies.push(JSON.stringify({ documents }));
  }
  bar.done(`${n} documents in ${bodies.length} upserts of 500`);
  bar = progress('upserting documents through the gateway');
  const t0 = performance.now();
  let done = 0;
  await pool(bodies.length, INGEST_CONCURRENCY, async (i) => {
    const response = await request(`${base}/upsert`, { method: 'POST', headers, body: bodies[i] });
    if (response.status !== 200) throw new Error(`documents upsert → ${response.status} ${response.text.slice(0, 300)}`);
    done += 500;
    bar.update(`${Math.min(done, n)}/${n}`);
  });
  const ingestRate = n / ((performance.now() - t0) / 1000);
  bar.done(`${Math.round(ingestRate).toLocaleString('en-US')} documents/s`);
  row('text', `documents upsert, ${n / 1000}k docs (gateway)`, ingestRate, 'docs/s', { higherIsBetter: true, note: '500 per request, 4 in flight, WAL fsync per request' });

  const queries = corpus.queries(QUERIES);
  const body = (q, filter) => JSON.stringify({ score_by: [{ type: 'text', fields: ['body'], query: q.join(' ') }], top_k: 10, ...(filter ? { filter } : {}) });
  const first = await request(`${base}/search`, { method: 'POST', headers, body: body(queries[0]) });
  if (first.status !== 200) throw new Error(`search → ${first.status} ${first.text.slice(0, 300)}`);
  row('text', 'first search after ingest', first.ms, 'ms', { note: 'BM25 indexes are maintained on write' });

  bar = progress('brute-force BM25 (reference, JS)');
  const tb = performance.now();
  const truth = queries.map((q) => bruteForceTopK(corpus.docs, q, 10));
  const bruteMs = (performance.now() - tb) / queries.length;
  const truthFiltered = queries.map((q) => bruteForceTopK(corpus.docs, q, 10, (d) => d.bucket === 3));
  bar.done(`${bruteMs.toFixed(1)} ms per query`);

  for (const [label, filter, expected] of [
    ['BM25 search', undefined, truth],
    ['BM25 search, filter 10 %', { bucket: { $eq: 3 } }, truthFiltered],
  ]) {
    bar = progress(label);
    for (let i = 0; i < Math.min(20, queries.length); i++) await request(`${base}/search`, { method: 'POST', headers, body: body(queries[i], filter) });
    const times = [];
    let recall = 0;
    for (let i = 0; i < queries.length; i++) {
      const response = await request(`${base}/search`, { method: 'POST', headers, body: body(queries[i], filter) });
      if (response.status !== 200) throw new Error(`${label}: ${response.status} ${response.text.slice(0, 300)}`);
      times.push(response.ms);
      recall += textRecall(expected[i], JSON.parse(response.text).matches, 10);
      bar.update(`${i + 1}/${queries.length}`);
    }
    const p50 = percentile(times, 50);
    bar.done(`p50 ${p50.toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms, recall@10 ${(recall / queries.length).toFixed(3)}`);
    section[label] = { p50Ms: p50, p99Ms: percentile(times, 99), recall: recall / queries.length };
    row('text', `${label} p50, top 10 (gateway)`, p50, 'ms', { reference: bruteMs, refLabel: 'brute-force BM25 in JS, per query' });
    row('text', `${label} p99`, percentile(times, 99), 'ms');
    row('text', `${label} recall@10 vs brute force`, recall / queries.length, 'recall', { target: 0.99, higherIsBetter: true });
  }

  // Recovery: kill -9 the store, start it again; the BM25 indexes are rebuilt from the stored documents.
  // (Skipped when the query section's restart already replaced the store process with one of its own.)
  if (restartedStore !== null) {
    log('  restart of the store: skipped (the store was restarted by the query section; run with --only=text)');
    return;
  }
  bar = progress('kill -9 and restart of the store');
  await system.killStore();
  const tr = performance.now();
  await system.startStore();
  storeUrl = system.store.url;
  storeChild = system.store.child;
  const readyMs = performance.now() - tr;
  const again = await request(`${base}/search`, { method: 'POST', headers, body: body(queries[1]) });
  const same = again.status === 200 && textRecall(truth[1], JSON.parse(again.text).matches, 10) === 1;
  bar.done(`ready in ${readyMs.toFixed(0)} ms, first search ${again.ms.toFixed(1)} ms, results ${same ? 'as before' : 'DIFFERENT'}`);
  row('text', 'restart after kill -9 to ready (replay + BM25 rebuild)', readyMs, 'ms', { note: same ? 'same results after' : 'results differ after restart!' });
}

async function datasetSection({ n, dim, name, restart }) {
  const label = `${n >= 1e6 ? `${n / 1e6}M` : `${n / 1000}k`} × ${dim}`;
  const section = { n, dim, metric: 'cosine', clusters: 100, queries: QUERIES };
  results.sections[name] = section;
  log(`\n[3–5] ${label} (cosine, 100 clusters, metadata bucket 0..9)`);
  let bar = progress('generating data');
  const data = makeDataset({ n, dim, seed: dim });
  const queries = data.makeQueries(QUERIES);
  const bodies = upsertBodies(data, { onProgress: (j) => bar.update(`serialising ${j}/${n}`) });
  const batch = n / bodies.length;
  bar.done(`${n} vectors in ${bodies.length} upsert bodies (${batch.toFixed(0)} vectors each on average: the 2 MB request limit)`);
  bar = progress('exact top-10 (ground truth, brute force in JS)');
  const truth = exactTopK(data, queries, { onProgress: (q) => bar.update(`${q}/${QUERIES} queries`) });
  bar.done(`${truth.msPerQuery.toFixed(1)} ms per query (unfiltered + filtered in one pass)`);
  section.exactJsMsPerQuery = truth.msPerQuery;

  // ---- ingest through the gateway
  const index = await createIndex(name, dim);
  const rssBefore = rssBytes(storeChild.pid);
  const ingest = await ingestBodies(`${index.host}/vectors/upsert`, keyHeaders, bodies, n, 'ingest via gateway');
  section.ingest = { vectorsPerSecond: ingest, batch, concurrency: INGEST_CONCURRENCY };

  // ---- queries right after ingest (the ANN index may still be building; the unindexed tail is searched exactly)
  const pendingAfterIngest = await annPending();
  const unfilteredBodies = queries.map((q) => queryBody(q));
  const filteredBodies = queries.map((q) => queryBody(q, { filter: { bucket: { $eq: 3 } } }));
  const gatewayQuery = `${index.host}/query`;
  const directQuery = `${storeUrl}/internal/indexes/${index.indexId}/query`;
  const early = await sequentialQueries(gatewayQuery, keyHeaders, unfilteredBodies, truth.results.map((r) => r.all), 'queries right after ingest');
  section.afterIngest = { annPendingVectors: pendingAfterIngest, ...early };
  const buildWait = await waitAnnBuilt('ANN index build (background, in the store)', ANN_WAIT);
  section.annBuildWaitSeconds = buildWait.seconds;
  section.annPendingWhenMeasured = buildWait.pending;
  if (buildWait.pending > 0) log(`  note: ${buildWait.pending} vectors are still not in the ANN index; the "indexed" figures below include their exact scan`);
  await sleep(1000);
  const rssAfter = rssBytes(storeChild.pid);
  section.memory = { rssBeforeBytes: rssBefore, rssAfterBytes: rssAfter, baselineRssBytes: storeBaselineRss };

  // ---- indexed: through the gateway and directly, unfiltered and 10 % filtered
  const truthAll = truth.results.map((r) => r.all);
  const truthFiltered = truth.results.map((r) => r.filtered);
  section.indexed = {
    gateway: await sequentialQueries(gatewayQuery, keyHeaders, unfilteredBodies, truthAll, 'gateway, unfiltered'),
    direct: await sequentialQueries(directQuery, internalHeaders, unfilteredBodies, truthAll, 'direct, unfiltered'),
    gatewayFiltered: await sequentialQueries(gatewayQuery, keyHeaders, filteredBodies, truthFiltered, 'gateway, filter 10%'),
    directFiltered: await sequentialQueries(directQuery, internalHeaders, filteredBodies, truthFiltered, 'direct, filter 10%'),
  };
  for (const [key, url, headers, list] of [
    ['gateway', gatewayQuery, keyHeaders, unfilteredBodies],
    ['direct', directQuery, internalHeaders, unfilteredBodies],
    ['gatewayFiltered', gatewayQuery, keyHeaders, filteredBodies],
  ]) {
    const b = progress(`QPS ${key}`);
    b.update(`${LOAD_SECONDS} s, 8 connections, ${list.length} distinct queries ...`, true);
    const r = await loadTest({ url, headers, bodies: list, connections: 8 });
    section.indexed[key].qps = r.requestsPerSecond;
    b.done(`${Math.round(r.requestsPerSecond)} queries/s`);
  }

  const g = section.indexed.gateway;
  const dr = section.indexed.direct;
  const gf = section.indexed.gatewayFiltered;
  const df = section.indexed.directFiltered;
  const tag = `[${label}]`;
  const indexedNote = buildWait.pending > 0 ? `${buildWait.pending} vectors still pending for the ANN index` : undefined;
  row('query', `${tag} p50 via gateway (indexed)`, g.p50Ms, 'ms', { reference: dr.p50Ms, refLabel: 'direct', target: 2, note: indexedNote });
  row('query', `${tag} p99 via gateway`, g.p99Ms, 'ms', { reference: dr.p99Ms, refLabel: 'direct' });
  row('query', `${tag} recall@10 via gateway`, g.recall, 'recall', { reference: 1, refLabel: 'exact', target: 0.95, higherIsBetter: true });
  row('query', `${tag} QPS via gateway (8 conn.)`, g.qps, 'q/s', { reference: dr.qps, refLabel: 'direct' });
  row('query', `${tag} exact scan in JS (reference)`, truth.msPerQuery / 1, 'ms', { note: 'brute force, this process, unfiltered + filtered pass' });
  row('query', `${tag} p50 filter 10% via gateway`, gf.p50Ms, 'ms', { reference: df.p50Ms, refLabel: 'direct', target: 5 });
  row('query', `${tag} p99 filter 10% via gateway`, gf.p99Ms, 'ms', { reference: df.p99Ms, refLabel: 'direct' });
  row('query', `${tag} recall@10 filter 10%`, gf.recall, 'recall', { reference: 1, refLabel: 'exact filtered', target: 0.95, higherIsBetter: true });
  row('query', `${tag} QPS filter 10% via gateway`, gf.qps, 'q/s');
  if (early.p50Ms !== undefined) {
    row('query', `${tag} p50 right after ingest`, early.p50Ms, 'ms', { reference: g.p50Ms, refLabel: 'indexed', note: `${pendingAfterIngest} vectors not yet in the ANN index` });
    row('query', `${tag} recall right after ingest`, early.recall, 'recall', { reference: g.recall, refLabel: 'indexed' });
  }

  // ---- memory (first dataset: the fresh store's growth; the restarted one below replaces it)
  if (!restart) {
    const perVector = (rssAfter - storeBaselineRss) / n;
    section.memory.bytesPerVector = perVector;
    row('memory', `${tag} store RSS per vector`, perVector, 'B', { reference: dim * 4, refLabel: 'raw float32', target: 0.75 * dim * 4, note: 'RSS growth of the fresh store, ANN built' });
  } else {
    const growth = (rssAfter - rssBefore) / n;
    section.memory.growthPerVector = growth;
    row('memory', `${tag} store RSS growth per vector (1st load)`, growth, 'B', { reference: dim * 4, refLabel: 'raw float32', note: 'RSS growth during ingest + ANN build; memory freed by the previous dataset is reused, so a low estimate' });
  }

  // ---- restart (recovery) on the same data directory
  if (restart) await restartSection(section, index, unfilteredBodies[0], tag, n, dim);

  // ---- ingest references: the same bodies straight to the store (scratch index), and the disk's fsync ceiling
  const scratch = `bench-scratch-${dim}`;
  await json(`${storeUrl}/internal/indexes/${scratch}`, { method: 'PUT', headers: internalHeaders, body: JSON.stringify({ dimension: dim, metric: 'cosine' }) });
  let directBodies = bodies;
  if (n > DIRECT_INGEST_MAX) directBodies = bodies.slice(0, Math.ceil(DIRECT_INGEST_MAX / batch));
  const directN = directBodies.reduce((sum, b) => sum + b.count, 0);
  const direct = await ingestBodies(`${storeUrl}/internal/indexes/${scratch}/vectors/upsert`, internalHeaders, directBodies, directN, 'ingest direct to store');
  section.ingest.directVectors = directN;
  await json(`${storeUrl}/internal/indexes/${scratch}`, { method: 'DELETE', headers: internalHeaders });
  section.ingest.directVectorsPerSecond = direct;
  const fsyncCeiling = diskCeiling(system.dataDir, dim, batch);
  section.ingest.fsyncCeilingVectorsPerSecond = fsyncCeiling;
  row('ingest', `${tag} durable upsert via gateway`, ingest, 'vec/s', { reference: direct, refLabel: 'direct to store', ...(dim === 768 ? { target: 20_000, higherIsBetter: true } : {}), note: `${batch.toFixed(0)} vectors/request, ${INGEST_CONCURRENCY} in flight${directN < n ? `; reference from the first ${directN} vectors` : ''}` });
  row('ingest', `${tag} append+fsync ceiling (disk)`, fsyncCeiling, 'vec/s', { note: 'raw float32 batches appended and fsynced, no index' });
  await deleteIndex(name);
}

async function ingestBodies(url, headers, bodies, n, label) {
  const bar = progress(label);
  let done = 0;
  const t0 = performance.now();
  await pool(bodies.length, INGEST_CONCURRENCY, async (i) => {
    const { body, count } = bodies[i];
    const response = await request(url, { method: 'POST', headers, body });
    if (response.status !== 200) throw new Error(`upsert → ${response.status} ${response.text.slice(0, 300)}`);
    done += count;
    const seconds = (performance.now() - t0) / 1000;
    bar.update(`${done.toLocaleString('en-US')}/${n.toLocaleString('en-US')} (${Math.round(done / seconds).toLocaleString('en-US')} vectors/s)`);
  });
  const rate = n / ((performance.now() - t0) / 1000);
  bar.done(`${Math.round(rate).toLocaleString('en-US')} vectors/s`);
  return rate;
}

async function sequentialQueries(url, headers, bodies, truth, label) {
  const bar = progress(label);
  for (let i = 0; i < Math.min(20, bodies.length); i++) await request(url, { method: 'POST', headers, body: bodies[i] });
  const times = [];
  let recall = 0;
  for (let i = 0; i < bodies.length; i++) {
    const response = await request(url, { method: 'POST', headers, body: bodies[i] });
    if (response.status !== 200) throw new Error(`${label}: ${response.status} ${response.text.slice(0, 300)}`);
    times.push(response.ms);
    recall += recallAt(truth[i], JSON.parse(response.text).matches.map((m) => m.id));
    bar.update(`${i + 1}/${bodies.length}`);
  }
  const out = { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), recall: recall / bodies.length };
  bar.done(`p50 ${out.p50Ms.toFixed(2)} ms, p99 ${out.p99Ms.toFixed(2)} ms, recall@10 ${out.recall.toFixed(3)}`);
  return out;
}

/** Appending and fsyncing batches of raw float32 vectors on the data directory's disk: the durability ceiling. */
function diskCeiling(dir, dim, batch) {
  const file = path.join(dir, 'bench-fsync.tmp');
  const chunk = Buffer.alloc(Math.round(batch) * dim * 4, 7);
  const fd = openSync(file, 'w');
  const rounds = 50;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    writeSync(fd, chunk);
    fsyncSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  rmSync(file, { force: true });
  return (rounds * Math.round(batch)) / seconds;
}

async function restartSection(section, index, body, tag, n, dim) {
  log('  restart: SIGTERM the store, start it again on the same data directory');
  await new Promise((resolve) => {
    storeChild.once('exit', resolve);
    storeChild.kill('SIGTERM');
  });
  const t0 = performance.now();
  const child = spawn(process.execPath, [STORE_MAIN], { env: storeEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  restartedStore = child;
  storeChild = child;
  const bar = progress('recovery');
  let readyMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error('restarted store exited');
    try {
      if ((await request(`${storeUrl}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    bar.update(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(50);
  }
  readyMs = performance.now() - t0;
  let firstQueryMs;
  for (;;) {
    const response = await request(`${index.host}/query`, { method: 'POST', headers: keyHeaders, body }).catch(() => ({ status: 0 }));
    if (response.status === 200) break;
    await sleep(50);
  }
  firstQueryMs = performance.now() - t0;
  bar.done(`ready after ${(readyMs / 1000).toFixed(2)} s, first query answered through the gateway after ${(firstQueryMs / 1000).toFixed(2)} s`);
  const rssLoaded = rssBytes(child.pid);
  const ann = await waitAnnBuilt('ANN rebuild after restart', RESTART_ANN_WAIT);
  await sleep(1000);
  const rss = rssBytes(child.pid);
  section.restart = {
    readySeconds: readyMs / 1000,
    firstQuerySeconds: firstQueryMs / 1000,
    annRebuiltSeconds: ann.seconds === undefined ? undefined : (performance.now() - t0) / 1000,
    annPendingAtCap: ann.pending,
  };
  section.memory.restartedLoadedRssBytes = rssLoaded;
  section.memory.restartedRssBytes = rss;
  row('restart', `${tag} store restart → /readyz 200`, readyMs / 1000, 's', { note: 'SIGTERM, new process on the same data directory' });
  row('restart', `${tag} restart → first query via gateway`, firstQueryMs / 1000, 's', { note: 'answered exactly until the ANN index is rebuilt' });
  if (ann.seconds !== undefined) {
    row('restart', `${tag} restart → ANN index rebuilt`, section.restart.annRebuiltSeconds, 's');
    section.memory.bytesPerVector = (rss - storeBaselineRss) / n;
    row('memory', `${tag} store RSS per vector (restarted, ANN built)`, section.memory.bytesPerVector, 'B', { reference: dim * 4, refLabel: 'raw float32', target: 0.75 * dim * 4 });
  } else {
    row('restart', `${tag} restart → ANN index rebuilt`, undefined, 's', { note: `not reached: ${ann.pending} vectors still pending after ${RESTART_ANN_WAIT} s` });
  }
  section.memory.loadedBytesPerVector = (rssLoaded - storeBaselineRss) / n;
  row('memory', `${tag} store RSS per vector (restarted, before ANN)`, section.memory.loadedBytesPerVector, 'B', { reference: dim * 4, refLabel: 'raw float32', note: 'vectors, ids, metadata loaded; no ANN yet' });
}

// ------------------------------------------------------------------------------------------------ report
function report() {
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverageAtEnd = os.loadavg().map((x) => +x.toFixed(2));
  results.rows = rows;
  const header = ['metric', 'Conifer', 'reference', 'ratio', 'target', 'pass', 'note'];
  const lines = rows.map((r) => [
    r.metric,
    `${fmt(r.value, r.unit)} ${r.unit === 'recall' || r.unit === 'ratio' ? '' : r.unit}`.trim(),
    r.reference === undefined ? '' : `${fmt(r.reference, r.unit)} (${r.refLabel})`,
    r.ratio === undefined || !Number.isFinite(r.ratio) ? '' : `${r.ratio.toFixed(2)}×`,
    r.target === undefined ? '' : `${r.higherIsBetter ? '≥' : '≤'} ${fmt(r.target, r.unit)}`,
    r.pass === undefined ? '' : r.pass ? 'pass' : 'FAIL',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const print = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const m = results.machine;
  let out = `\nConifer bench, ${results.mode} — ${m.date} — ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, node ${m.node}, load average ${m.loadAverageAtStart[0]} at start, ${m.loadAverageAtEnd[0]} at end\n`;
  out += print(header) + '\n' + print(widths.map((w) => '-'.repeat(w))) + '\n';
  let section = '';
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].section !== section) section = rows[i].section;
    out += print(lines[i]) + '\n';
  }
  process.stdout.write(out);
  const dir = path.join(here, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${results.startedAt.replace(/[:.]/g, '-')}-${results.mode}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(results, null, 2));
  writeFileSync(path.join(dir, 'latest.md'), out);
  log(`\nresults: ${path.relative(process.cwd(), file)}`);
}
