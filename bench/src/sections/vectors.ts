// [3–5] One generated dataset (cosine; `bench`: 100 Gaussian clusters, or `--data=hard`; metadata bucket 0..9 and
// centile 0..99, independent of the vectors): durable ingest
// through the gateway and straight to the store, queries right after ingest and once the ANN index is built
// (latency, recall@10 against exact, QPS; unfiltered, 10 % and 1 % filtered), the store's memory per vector, the
// disk's fsync ceiling, and for the dataset marked `restart` the store's restart and recovery. The data, bodies
// and exact answers are prepared on disk once per size (bench-data.ts) and the bodies read one at a time.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queryBody, recallAt, type UpsertBody } from '@conifer/test-utils';
import { benchData, FILTER_1, FILTER_10 } from '../bench-data.ts';
import { annCalibration, annPending, waitAnnCalibrated, annQueries, bench, createIndex, deleteIndex, loadTest, waitAnnBuilt } from '../harness.ts';
import { findNginx, startNginx } from '../nginx.ts';
import { ANN_WAIT, BASE_GATEWAY_MAIN, DATA_KIND, type DatasetSpec, DIRECT_INGEST_FIRST, DIRECT_INGEST_MAX, INGEST_CONCURRENCY, LOAD_SECONDS, QUERIES, RESTART_ANN_WAIT } from '../options.ts';
import { log, memoryTargetRatio, results, row } from '../report.ts';
import { load, status } from '../store-process.ts';
import { cpuSeconds, cpuTime, json, percentile, pool, progress, request, rssBytes, sleep, storeThreadCpu } from '../util.ts';

/** The store's entry point, started again by the restart measurement. */
const STORE_MAIN = path.resolve(import.meta.dirname, '../../../apps/vector-store/dist/main.js');

export async function datasetSection(spec: DatasetSpec): Promise<void> {
  const { n, dim, restart } = spec;
  const hard = DATA_KIND === 'hard';
  const name = hard ? `${spec.name}-hard` : spec.name;
  const label = `${n >= 1e6 ? `${n / 1e6}M` : `${n / 1000}k`} × ${dim}${hard ? ' hard' : ''}`;
  const section: Record<string, any> = { n, dim, metric: 'cosine', data: DATA_KIND, clusters: hard ? 1000 : 100, queries: QUERIES };
  results.sections[name] = section;
  log(`\n[3–5] ${label} (cosine, ${hard ? '1000 overlapping low-rank clusters, unit vectors' : '100 Gaussian clusters'}, metadata bucket 0..9)`);
  const data = benchData(n, dim, QUERIES, DATA_KIND);
  const { queries, truth, batch } = data;
  log(`  data: ${data.bodyCount} upsert bodies (${batch.toFixed(0)} vectors each on average: the 2 MB request limit), ${data.prepareSeconds === undefined ? 'from the cache' : `prepared in ${data.prepareSeconds.toFixed(0)} s`}; exact answers ${data.exactMsPerQuery.toFixed(1)} ms per query (usearch SIMD, unfiltered + 10 % + 1 %)`);
  section.exactMsPerQuery = data.exactMsPerQuery;
  section.loadAtStart = load();

  // The same bodies straight to the store, into a scratch index deleted afterwards: the reference for the gateway's
  // ingest. It runs after the gateway's (into a store that has served it and built its graph) unless
  // --direct-ingest-first, which runs it first in the fresh store: whether the two rates differ by path or by order.
  const directIngest = async (): Promise<{ direct: number; directN: number }> => {
    const scratch = `bench-scratch-${dim}`;
    await json(`${bench.storeUrl}/internal/indexes/${scratch}`, { method: 'PUT', headers: bench.internalHeaders, body: JSON.stringify({ dimension: dim, metric: 'cosine' }) });
    const directBodies = n > DIRECT_INGEST_MAX ? Math.ceil(DIRECT_INGEST_MAX / batch) : data.bodyCount;
    const directN = data.vectorsBefore(directBodies);
    const direct = await ingestBodies(`${bench.storeUrl}/internal/indexes/${scratch}/vectors/upsert`, bench.internalHeaders, directBodies, data.body, directN, 'ingest direct to store');
    await json(`${bench.storeUrl}/internal/indexes/${scratch}`, { method: 'DELETE', headers: bench.internalHeaders });
    return { direct, directN };
  };
  const directFirst = DIRECT_INGEST_FIRST ? await directIngest() : undefined;

  // ---- ingest through the gateway
  const index = await createIndex(name, dim);
  const rssBefore = rssBytes(bench.storeChild.pid!);
  const rssAnonBefore = status(bench.storeChild.pid!).rssAnon;
  const ingest = await ingestBodies(`${index.host}/vectors/upsert`, bench.keyHeaders, data.bodyCount, data.body, n, 'ingest via gateway');
  section.ingest = { vectorsPerSecond: ingest, batch, concurrency: INGEST_CONCURRENCY, load: load() };

  // ---- queries right after ingest (the ANN index may still be building; the unindexed tail is searched exactly)
  const pendingAfterIngest = await annPending();
  const unfilteredBodies = queries.map((q) => queryBody(q));
  const filteredBodies = queries.map((q) => queryBody(q, { filter: FILTER_10 }));
  const filtered1Bodies = queries.map((q) => queryBody(q, { filter: FILTER_1 }));
  const gatewayQuery = `${index.host}/query`;
  const directQuery = `${bench.storeUrl}/internal/indexes/${index.indexId}/query`;
  const truthAll = truth.map((r) => r.all);
  const truthFiltered = truth.map((r) => r.filtered10);
  const truthFiltered1 = truth.map((r) => r.filtered1);
  // At 1M vectors each of these scans up to the whole unindexed set (seconds per query on 2 cores): 20 of them.
  const earlyCount = n >= 1_000_000 ? 20 : unfilteredBodies.length;
  const early = await sequentialQueries(gatewayQuery, bench.keyHeaders, unfilteredBodies.slice(0, earlyCount), truthAll, 'queries right after ingest');
  section.afterIngestQueries = earlyCount;
  section.afterIngest = { annPendingVectors: pendingAfterIngest, ...early };
  const buildWait = await waitAnnBuilt('ANN index build (background, in the store)', ANN_WAIT);
  section.annBuildWaitSeconds = buildWait.seconds;
  section.annPendingWhenMeasured = buildWait.pending;
  section.annBuildProgress = buildWait.perMinute;
  section.annBuildLoad = load();
  if (buildWait.pending > 0) log(`  note: ${buildWait.pending} vectors are still not in the ANN index; the "indexed" figures below include their exact scan`);
  // The graph's breadth is calibrated after it is published (seconds of the ANN worker; ~2.7–3.6 s CPU at 100k × 768):
  // until then queries search with the rule's breadth, so the timed ones wait for it.
  const calibrationWait = await waitAnnCalibrated(600);
  section.annCalibrationWaitSeconds = calibrationWait;
  const calibration = await annCalibration(index.indexId);
  section.annCalibration = calibration;
  log(
    calibrationWait === undefined
      ? '  note: the breadth calibration had not finished after 600 s'
      : `  breadth calibration finished ${calibrationWait.toFixed(1)} s after the build: ${calibration === undefined ? 'no multiplier reported' : `×${calibration.scale} of the rule, estimated recall@10 ${calibration.estimatedRecall.toFixed(4)}; the graph serving is ${calibration.growth.toFixed(4)}× the one calibrated`}`,
  );
  // As the memory section: the graph-growth snapshot (checked every 5 s once nothing is pending) moves the values
  // to their file and the worker drops its graph copy after 10 s idle; memory is read after both.
  await sleep(17_000);
  const rssAfter = rssBytes(bench.storeChild.pid!);
  const rssAnonAfter = status(bench.storeChild.pid!).rssAnon;
  section.memory = { rssBeforeBytes: rssBefore, rssAfterBytes: rssAfter, baselineRssBytes: bench.storeBaselineRss, rssAnonBeforeBytes: rssAnonBefore, rssAnonAfterBytes: rssAnonAfter };
  log(`  store RssAnon after ingest + graph: ${(rssAnonAfter / 2 ** 30).toFixed(2)} GiB (${((rssAnonAfter - rssAnonBefore) / n).toFixed(0)} B/vector growth); load ${load()}`);
  row('memory', `[${label}] store RssAnon (ingested, graph built)`, rssAnonAfter / 2 ** 30, 'GiB', { ...(n >= 1_000_000 && dim === 768 ? { target: 3 } : {}), note: 'the whole store process' });

  // ---- indexed: through the gateway and directly, unfiltered, 10 % and 1 % filtered; the two (and a base
  // gateway, --base-gateway-main) interleaved query by query after a warm-up pass over every body on each.
  const paths: QueryPath[] = [
    { name: 'gateway', url: gatewayQuery, headers: bench.keyHeaders },
    { name: 'direct', url: directQuery, headers: bench.internalHeaders },
  ];
  if (BASE_GATEWAY_MAIN) paths.push({ name: 'base', url: `${bench.system.gateways[1]!.url}${new URL(index.host).pathname}/query`, headers: bench.keyHeaders });
  // nginx (when installed) proxying to the store: what a plain reverse proxy adds to the same query.
  const nginxBinary = findNginx();
  const nginx = nginxBinary ? await startNginx(nginxBinary, new URL(bench.storeUrl).port, mkdtempSync(path.join(os.tmpdir(), 'conifer-nginx-'))) : undefined;
  if (nginx) bench.cleanups.push(async () => nginx.stop());
  if (nginx) paths.push({ name: 'nginx', url: `${nginx.url}/internal/indexes/${index.indexId}/query`, headers: bench.internalHeaders });
  const storePid = bench.storeChild.pid!;
  const unfilteredCpu = passCpu(storePid, bench.system.gateways[0]!.child.pid!);
  const unfiltered = await interleavedQueries(paths, unfilteredBodies, truthAll, 'unfiltered', unfilteredCpu);
  const filtered10 = await interleavedQueries(paths, filteredBodies, truthFiltered, 'filter 10%');
  const filtered1 = await interleavedQueries(paths, filtered1Bodies, truthFiltered1, 'filter 1%');
  nginx?.stop();
  section.indexed = {
    gateway: unfiltered.gateway,
    direct: unfiltered.direct,
    gatewayFiltered: filtered10.gateway,
    directFiltered: filtered10.direct,
    gatewayFiltered1: filtered1.gateway,
    directFiltered1: filtered1.direct,
    ...(BASE_GATEWAY_MAIN ? { base: unfiltered.base, baseFiltered: filtered10.base, baseFiltered1: filtered1.base } : {}),
    ...(nginx ? { nginx: unfiltered.nginx, nginxFiltered: filtered10.nginx, nginxFiltered1: filtered1.nginx } : {}),
  };
  const loads: [string, string, Record<string, string>, string[]][] = [
    ['gateway', gatewayQuery, bench.keyHeaders, unfilteredBodies],
    ['direct', directQuery, bench.internalHeaders, unfilteredBodies],
    ['gatewayFiltered', gatewayQuery, bench.keyHeaders, filteredBodies],
  ];
  for (const [key, url, headers, list] of loads) {
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
  const gf1 = section.indexed.gatewayFiltered1;
  const df1 = section.indexed.directFiltered1;
  const tag = `[${label}]`;
  const indexedNote = buildWait.pending > 0 ? `${buildWait.pending} vectors still pending for the ANN index` : undefined;
  row('query', `${tag} p50 via gateway (indexed)`, g.p50Ms, 'ms', { reference: dr.p50Ms, refLabel: 'direct', target: 2, note: indexedNote });
  row('query', `${tag} p99 via gateway`, g.p99Ms, 'ms', { reference: dr.p99Ms, refLabel: 'direct' });
  row('query', `${tag} gateway added p50 (same query, interleaved)`, g.addedP50Ms, 'ms', { note: 'median over the queries of gateway − direct for the same query' });
  // The store's own CPU per query over the timed unfiltered pass (every path ends in one store query): set against
  // an engine-level CPU figure (recall-at-scale.ts, store-cpu.ts) measured at the same load, never a wall p50.
  const cpu = unfilteredCpu.perQuery;
  if (cpu !== undefined) {
    section.indexed.storeCpu = cpu;
    row('query', `${tag} store CPU per query (unfiltered, main thread)`, cpu.mainUs / 1000, 'ms', { reference: cpu.processUs / 1000, refLabel: 'whole process', note: `/proc over the timed pass, ${cpu.queries} store queries, load ${cpu.load}` });
    row('query', `${tag} gateway CPU per query (unfiltered)`, cpu.gatewayUs / 1000, 'ms', { note: `/proc over the timed pass less its rate at rest (${(cpu.gatewayIdleUsPerSecond / 1000).toFixed(0)} ms/s), ${cpu.gatewayQueries} gateway queries` });
  }
  const viaNginx = section.indexed.nginx as PathFigures | undefined;
  if (viaNginx) row('query', `${tag} nginx added p50 (same query, interleaved)`, viaNginx.addedP50Ms, 'ms', { reference: g.addedP50Ms, refLabel: 'gateway added', note: 'nginx proxying to the store' });
  const base = section.indexed.base as PathFigures | undefined;
  if (base) {
    row('query', `${tag} p50 via base gateway (--base-gateway-main)`, base.p50Ms, 'ms', { reference: g.p50Ms, refLabel: 'gateway' });
    row('query', `${tag} base gateway added p50 (same query, interleaved)`, base.addedP50Ms, 'ms', { reference: g.addedP50Ms, refLabel: 'gateway added' });
  }
  row('query', `${tag} recall@10 via gateway`, g.recall, 'recall', { reference: 1, refLabel: 'exact', target: dim === 768 ? 0.98 : 0.95, higherIsBetter: true });
  row('query', `${tag} QPS via gateway (8 conn.)`, g.qps, 'q/s', { reference: dr.qps, refLabel: 'direct' });
  row('query', `${tag} exact answers (reference)`, data.exactMsPerQuery, 'ms', { note: data.prepareSeconds === undefined ? 'cached from an earlier run' : 'usearch SIMD brute force, all cores, unfiltered + 10 % + 1 %' });
  row('query', `${tag} p50 filter 10% via gateway`, gf.p50Ms, 'ms', { reference: df.p50Ms, refLabel: 'direct', target: 5 });
  row('query', `${tag} p99 filter 10% via gateway`, gf.p99Ms, 'ms', { reference: df.p99Ms, refLabel: 'direct' });
  row('query', `${tag} recall@10 filter 10%`, gf.recall, 'recall', { reference: 1, refLabel: 'exact filtered', target: 0.95, higherIsBetter: true });
  row('query', `${tag} QPS filter 10% via gateway`, gf.qps, 'q/s');
  row('query', `${tag} p50 filter 1% via gateway`, gf1.p50Ms, 'ms', { reference: df1.p50Ms, refLabel: 'direct', target: 5 });
  row('query', `${tag} p99 filter 1% via gateway`, gf1.p99Ms, 'ms', { reference: df1.p99Ms, refLabel: 'direct' });
  row('query', `${tag} recall@10 filter 1%`, gf1.recall, 'recall', { reference: 1, refLabel: 'exact filtered', target: 0.95, higherIsBetter: true });
  if (early.p50Ms !== undefined) {
    row('query', `${tag} p50 right after ingest`, early.p50Ms, 'ms', { reference: g.p50Ms, refLabel: 'indexed', note: `${pendingAfterIngest} vectors not yet in the ANN index` });
    row('query', `${tag} recall right after ingest`, early.recall, 'recall', { reference: g.recall, refLabel: 'indexed' });
  }

  // ---- memory (first dataset: the fresh store's growth; the restarted one below replaces it)
  if (!restart) {
    const perVector = (rssAfter - bench.storeBaselineRss) / n;
    section.memory.bytesPerVector = perVector;
    row('memory', `${tag} store RSS per vector`, perVector, 'B', { reference: dim * 4, refLabel: 'raw float32', target: memoryTargetRatio(dim) * dim * 4, note: 'RSS growth of the fresh store, ANN built' });
  } else {
    const growth = (rssAfter - rssBefore) / n;
    section.memory.growthPerVector = growth;
    row('memory', `${tag} store RSS growth per vector (1st load)`, growth, 'B', { reference: dim * 4, refLabel: 'raw float32', note: 'RSS growth during ingest + ANN build; memory freed by the previous dataset is reused, so a low estimate' });
  }

  // ---- restart (recovery) on the same data directory
  if (restart) await restartSection(section, index, unfilteredBodies[0], tag, n, dim);

  // ---- ingest references: the same bodies straight to the store (scratch index), and the disk's fsync ceiling
  const { direct, directN } = directFirst ?? (await directIngest());
  section.ingest.directVectors = directN;
  section.ingest.directVectorsPerSecond = direct;
  const fsyncCeiling = diskCeiling(bench.system.dataDir, dim, batch);
  section.ingest.fsyncCeilingVectorsPerSecond = fsyncCeiling;
  row('ingest', `${tag} durable upsert via gateway`, ingest, 'vec/s', { reference: direct, refLabel: 'direct to store', ...(dim === 768 ? { target: 20_000, higherIsBetter: true } : {}), note: `${batch.toFixed(0)} vectors/request, ${INGEST_CONCURRENCY} in flight${directN < n ? `; reference from the first ${directN} vectors` : ''}` });
  row('ingest', `${tag} append+fsync ceiling (disk)`, fsyncCeiling, 'vec/s', { note: 'raw float32 batches appended and fsynced, no index' });
  await deleteIndex(name);
}

/** The store's CPU seconds by thread group (event loop, parse workers, ANN builder, the rest), and the gateways'. */
function ingestCpu(): Record<string, number> {
  const pid = bench.storeChild.pid!;
  const out: Record<string, number> = { store: cpuSeconds(pid), storeSys: cpuTime(pid).system, gateway: 0, client: cpuSeconds(process.pid), ...storeThreadCpu(pid) };
  for (const gateway of bench.system.gateways) out.gateway! += cpuSeconds(gateway.child.pid!);
  return out;
}

/**
 * Durable upserts of bodies 0..count-1, 4 in flight, each read when its turn comes (only the ones in flight are
 * held); the rate (vectors/s). Logs the CPU each process spent per 1000
 * vectors over the ingest (the store by thread group: what the gateway and the direct ingest differ in, whether
 * the path or the ANN builder's catching up), the graph's backlog at its start and end, and the requests' latency.
 */
async function ingestBodies(url: string, headers: Record<string, string>, bodyCount: number, bodyAt: (i: number) => UpsertBody, n: number, label: string): Promise<number> {
  const bar = progress(label);
  let done = 0;
  const latencies: number[] = [];
  const pendingBefore = await annPending();
  const cpu0 = ingestCpu();
  const t0 = performance.now();
  await pool(bodyCount, INGEST_CONCURRENCY, async (i) => {
    const { body, count } = bodyAt(i);
    const response = await request(url, { method: 'POST', headers, body });
    if (response.status !== 200) throw new Error(`upsert → ${response.status} ${response.text.slice(0, 300)}`);
    latencies.push(response.ms);
    done += count;
    const seconds = (performance.now() - t0) / 1000;
    bar.update(`${done.toLocaleString('en-US')}/${n.toLocaleString('en-US')} (${Math.round(done / seconds).toLocaleString('en-US')} vectors/s)`);
  });
  const rate = n / ((performance.now() - t0) / 1000);
  const cpu1 = ingestCpu();
  const pendingAfter = await annPending();
  const perThousand = Object.entries(cpu1)
    .map(([group, seconds]) => `${group} ${(((seconds - (cpu0[group] ?? 0)) * 1e6) / n).toFixed(0)}`)
    .join(', ');
  bar.done(`${Math.round(rate).toLocaleString('en-US')} vectors/s; CPU ms per 1000 vectors ${perThousand}; ANN pending ${pendingBefore} → ${pendingAfter}; request p50 ${percentile(latencies, 50).toFixed(0)} ms, p90 ${percentile(latencies, 90).toFixed(0)} ms; load ${load()}`);
  return rate;
}

async function sequentialQueries(url: string, headers: Record<string, string>, bodies: string[], truth: string[][], label: string): Promise<{ p50Ms: number; p99Ms: number; recall: number }> {
  const bar = progress(label);
  for (let i = 0; i < Math.min(20, Math.floor(bodies.length / 10)); i++) await request(url, { method: 'POST', headers, body: bodies[i] });
  const times: number[] = [];
  let recall = 0;
  for (let i = 0; i < bodies.length; i++) {
    const response = await request(url, { method: 'POST', headers, body: bodies[i] });
    if (response.status !== 200) throw new Error(`${label}: ${response.status} ${response.text.slice(0, 300)}`);
    times.push(response.ms);
    recall += recallAt(truth[i], JSON.parse(response.text).matches.map((m: { id: string }) => m.id));
    bar.update(`${i + 1}/${bodies.length}`);
  }
  const out = { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), recall: recall / bodies.length };
  bar.done(`p50 ${out.p50Ms.toFixed(2)} ms, p99 ${out.p99Ms.toFixed(2)} ms, recall@10 ${out.recall.toFixed(3)}`);
  return out;
}

interface QueryPath {
  name: string;
  url: string;
  headers: Record<string, string>;
}

interface PathFigures {
  p50Ms: number;
  p99Ms: number;
  recall: number;
  /** Median over the queries of (this path's time − direct's time for the same query, sent next to it). */
  addedP50Ms?: number;
  qps?: number;
}

/** CPU seconds (user + system) of a process and of its main thread (/proc). */
function cpuOf(pid: number): { process: number; main: number } {
  const main = cpuTime(pid, pid);
  return { process: cpuSeconds(pid), main: main.user + main.system };
}

interface PassCpu {
  pid: number;
  gatewayPid: number;
  /**
   * Set by interleavedQueries: the store's CPU per query over its timed pass, and the gateway's per query through
   * it, less its CPU at rest (a gateway polls its nodes and scrapes itself: measured over 2 s before the pass) (µs).
   */
  perQuery?: { mainUs: number; processUs: number; queries: number; gatewayUs: number; gatewayIdleUsPerSecond: number; gatewayQueries: number; load: string };
}

const passCpu = (pid: number, gatewayPid: number): PassCpu => ({ pid, gatewayPid });

/**
 * The same queries on several paths (gateway, direct, base gateway), so that the paths' difference is the
 * path's own: first one pass of every body on every path (the store's graph and vectors may still be paged in
 * from their files after the build, and a path measured first would pay those faults for the others), then
 * query by query on each path in turn, the order rotated each query, so that the machine's load and the
 * store's caches fall on all paths alike.
 */
async function interleavedQueries(paths: QueryPath[], bodies: string[], truth: string[][], label: string, cpu?: PassCpu): Promise<Record<string, PathFigures>> {
  const bar = progress(`${paths.map((p) => p.name).join(' / ')}, ${label}`);
  for (let i = 0; i < bodies.length; i++) {
    for (const p of paths) await request(p.url, { method: 'POST', headers: p.headers, body: bodies[i] });
    bar.update(`warm-up ${i + 1}/${bodies.length}`);
  }
  const times: Record<string, number[]> = Object.fromEntries(paths.map((p) => [p.name, []]));
  const recall: Record<string, number> = Object.fromEntries(paths.map((p) => [p.name, 0]));
  let gatewayIdle = 0;
  if (cpu !== undefined) {
    const idle0 = cpuSeconds(cpu.gatewayPid);
    await sleep(2000);
    gatewayIdle = (cpuSeconds(cpu.gatewayPid) - idle0) / 2;
  }
  const cpu0 = cpu === undefined ? undefined : cpuOf(cpu.pid);
  const gateway0 = cpu === undefined ? 0 : cpuSeconds(cpu.gatewayPid);
  const pass0 = performance.now();
  for (let i = 0; i < bodies.length; i++) {
    for (let k = 0; k < paths.length; k++) {
      const p = paths[(i + k) % paths.length]!;
      const response = await request(p.url, { method: 'POST', headers: p.headers, body: bodies[i] });
      if (response.status !== 200) throw new Error(`${p.name}, ${label}: ${response.status} ${response.text.slice(0, 300)}`);
      times[p.name]!.push(response.ms);
      recall[p.name]! += recallAt(truth[i]!, JSON.parse(response.text).matches.map((m: { id: string }) => m.id));
    }
    bar.update(`${i + 1}/${bodies.length}`);
  }
  if (cpu !== undefined && cpu0 !== undefined) {
    const cpu1 = cpuOf(cpu.pid);
    const gatewaySeconds = cpuSeconds(cpu.gatewayPid) - gateway0 - (gatewayIdle * (performance.now() - pass0)) / 1000;
    const queries = bodies.length * paths.length;
    const gatewayQueries = bodies.length;
    cpu.perQuery = {
      mainUs: ((cpu1.main - cpu0.main) * 1e6) / queries,
      processUs: ((cpu1.process - cpu0.process) * 1e6) / queries,
      queries,
      gatewayUs: (gatewaySeconds * 1e6) / gatewayQueries,
      gatewayIdleUsPerSecond: gatewayIdle * 1e6,
      gatewayQueries,
      load: load(),
    };
    log(`  store CPU over the timed ${label} pass: main thread ${cpu.perQuery.mainUs.toFixed(0)} µs per query, whole process ${cpu.perQuery.processUs.toFixed(0)} µs (${queries} store queries); gateway ${cpu.perQuery.gatewayUs.toFixed(0)} µs per query less its ${(gatewayIdle * 1000).toFixed(0)} ms/s at rest; load ${cpu.perQuery.load}`);
  }
  const out: Record<string, PathFigures> = {};
  const direct = times.direct;
  for (const p of paths) {
    const t = times[p.name]!;
    out[p.name] = { p50Ms: percentile(t, 50), p99Ms: percentile(t, 99), recall: recall[p.name]! / bodies.length };
    if (direct !== undefined && p.name !== 'direct') out[p.name]!.addedP50Ms = percentile(t.map((ms, i) => ms - direct[i]!), 50);
  }
  bar.done(paths.map((p) => `${p.name} p50 ${out[p.name]!.p50Ms.toFixed(2)} ms, p99 ${out[p.name]!.p99Ms.toFixed(2)} ms, recall@10 ${out[p.name]!.recall.toFixed(3)}${out[p.name]!.addedP50Ms === undefined ? '' : ` (over direct, paired p50 ${out[p.name]!.addedP50Ms!.toFixed(3)} ms)`}`).join('; '));
  return out;
}

/** Appending and fsyncing batches of raw float32 vectors on the data directory's disk: the durability ceiling. */
function diskCeiling(dir: string, dim: number, batch: number): number {
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

async function restartSection(section: Record<string, any>, index: { host: string }, body: string, tag: string, n: number, dim: number): Promise<void> {
  log('  restart: SIGTERM the store, start it again on the same data directory');
  await new Promise((resolve) => {
    bench.storeChild.once('exit', resolve);
    bench.storeChild.kill('SIGTERM');
  });
  const t0 = performance.now();
  const child = spawn(process.execPath, [STORE_MAIN], { env: bench.storeEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  bench.restartedStore = child;
  bench.storeChild = child;
  const bar = progress('recovery');
  let readyMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error('restarted store exited');
    try {
      if ((await request(`${bench.storeUrl}/readyz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    bar.update(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(50);
  }
  readyMs = performance.now() - t0;
  let firstQueryMs;
  for (;;) {
    const response = await request(`${index.host}/query`, { method: 'POST', headers: bench.keyHeaders, body }).catch(() => ({ status: 0 }));
    if (response.status === 200) break;
    await sleep(50);
  }
  firstQueryMs = performance.now() - t0;
  // The first query the graph answered (the store's plan="ann" counter), through the gateway: the graph is
  // loaded from its file after /readyz (or rebuilt when it is missing).
  const annBefore = await annQueries();
  let indexedMs: number | undefined;
  for (;;) {
    await request(`${index.host}/query`, { method: 'POST', headers: bench.keyHeaders, body });
    if ((await annQueries()) > annBefore) {
      indexedMs = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > RESTART_ANN_WAIT * 1000) break;
  }
  bar.done(
    `ready after ${(readyMs / 1000).toFixed(2)} s, first query answered through the gateway after ${(firstQueryMs / 1000).toFixed(2)} s, ` +
      `first by the graph after ${indexedMs === undefined ? `– (none in ${RESTART_ANN_WAIT} s)` : `${(indexedMs / 1000).toFixed(2)} s`}; load ${load()}`,
  );
  const rssLoaded = rssBytes(child.pid!);
  const ann = await waitAnnBuilt('ANN rebuild after restart', RESTART_ANN_WAIT);
  await sleep(1000);
  const rss = rssBytes(child.pid!);
  const rssAnon = status(child.pid!).rssAnon;
  section.memory.restartedRssAnonBytes = rssAnon;
  section.restart = {
    readySeconds: readyMs / 1000,
    firstQuerySeconds: firstQueryMs / 1000,
    firstIndexedQuerySeconds: indexedMs === undefined ? undefined : indexedMs / 1000,
    annRebuiltSeconds: ann.seconds === undefined ? undefined : (performance.now() - t0) / 1000,
    annPendingAtCap: ann.pending,
  };
  section.memory.restartedLoadedRssBytes = rssLoaded;
  section.memory.restartedRssBytes = rss;
  row('restart', `${tag} store restart → /readyz 200`, readyMs / 1000, 's', { note: 'SIGTERM, new process on the same data directory' });
  row('restart', `${tag} restart → first query via gateway`, firstQueryMs / 1000, 's', { note: 'answered exactly until the graph is loaded' });
  row('restart', `${tag} restart → first query answered by the graph`, indexedMs === undefined ? undefined : indexedMs / 1000, 's', { target: 10, note: 'via gateway; the store\'s plan="ann" counter' });
  row('memory', `${tag} store RssAnon (restarted)`, rssAnon / 2 ** 30, 'GiB', { ...(n >= 1_000_000 && dim === 768 ? { target: 3 } : {}), note: 'the whole store process, after the queries' });
  if (ann.seconds !== undefined) {
    row('restart', `${tag} restart → ANN index rebuilt`, section.restart.annRebuiltSeconds, 's');
    section.memory.bytesPerVector = (rss - bench.storeBaselineRss) / n;
    row('memory', `${tag} store RSS per vector (restarted, ANN built)`, section.memory.bytesPerVector, 'B', { reference: dim * 4, refLabel: 'raw float32', target: memoryTargetRatio(dim) * dim * 4 });
  } else {
    row('restart', `${tag} restart → ANN index rebuilt`, undefined, 's', { note: `not reached: ${ann.pending} vectors still pending after ${RESTART_ANN_WAIT} s` });
  }
  section.memory.loadedBytesPerVector = (rssLoaded - bench.storeBaselineRss) / n;
  row('memory', `${tag} store RSS per vector (restarted, before ANN)`, section.memory.loadedBytesPerVector, 'B', { reference: dim * 4, refLabel: 'raw float32', note: 'vectors, ids, metadata loaded; no ANN yet' });
}
