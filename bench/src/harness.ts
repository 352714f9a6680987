// The running system every section measures (vector store + gateway processes on free ports, own database,
// started like the e2e suite) and the helpers the sections share: index creation through the control plane,
// the store's ANN progress, and the load generator in its own process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSystem, type System } from '@conifer/test-utils';
import { BASE_GATEWAY_MAIN, LOAD_SECONDS } from './options.ts';
import { log, results } from './report.ts';
import { json, progress, request, rssBytes, sleep } from './util.ts';

/** Node flags a TypeScript entry point of the bench needs in a child process (Node 22 strips types only with it). */
export const TS_NODE_FLAGS = ['--experimental-strip-types', '--no-warnings=ExperimentalWarning'];

export interface Bench {
  system: System;
  storeEnv: Record<string, string>;
  internalHeaders: Record<string, string>;
  keyHeaders: Record<string, string>;
  projectId: string;
  /** The store's URL and process; the restart sections replace the process. */
  storeUrl: string;
  storeChild: ChildProcess;
  /** A store process the bench started itself (stopped at the end). */
  restartedStore: ChildProcess | null;
  storeBaselineRss: number;
  /** Run in reverse order at the end. */
  cleanups: (() => Promise<unknown>)[];
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Set by startBench(). */
export const bench = {} as Bench;

export async function startBench(): Promise<void> {
  const system = await startSystem({
    env: { CONIFER_LOG_LEVEL: 'warn' },
    ...(BASE_GATEWAY_MAIN ? { gateways: 2, gatewayMains: [undefined, path.resolve(BASE_GATEWAY_MAIN)] } : {}),
  });
  const storeEnv = system.env as Record<string, string>;
  const projectId = await system.defaultProjectId();
  const apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
  Object.assign(bench, {
    system,
    storeEnv,
    internalHeaders: { 'x-conifer-internal-token': storeEnv.CONIFER_INTERNAL_TOKEN },
    keyHeaders: { 'api-key': apiKey },
    projectId,
    storeUrl: system.store.url,
    storeChild: system.store.child,
    restartedStore: null,
    storeBaselineRss: rssBytes(system.store.child.pid!),
    cleanups: [],
  } satisfies Bench);
  results.storeBaselineRssBytes = bench.storeBaselineRss;
}

export async function stopBench(): Promise<void> {
  for (const cleanup of bench.cleanups.reverse()) await cleanup();
  const restarted = bench.restartedStore;
  if (restarted && restarted.exitCode === null) {
    restarted.kill('SIGTERM');
    await new Promise((r) => restarted.once('exit', r));
  }
  await bench.system.stop();
}

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
  duration: number;
  /** CPU the load generator itself used. */
  clientCpuSeconds: number;
}

/** autocannon in a separate process (load-worker.ts), bounded duration. */
export function loadTest({ url, headers, bodies, connections = 16, duration = LOAD_SECONDS }: {
  url: string;
  headers: Record<string, string>;
  bodies: (string | Buffer)[];
  connections?: number;
  duration?: number;
}): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'conifer-load-'));
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify({ url, headers, bodies: bodies.map(String), connections, duration }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_FLAGS, path.join(import.meta.dirname, 'load-worker.ts'), specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const result = JSON.parse(out.trim().split('\n').pop()!) as LoadResult;
      if (result.non2xx > 0 || result.errors > 0) log(`  warning: ${result.non2xx} non-2xx responses, ${result.errors} errors against ${url}`);
      resolve(result);
    });
    child.on('error', reject);
  });
}

export async function storeIndexIds(): Promise<Set<string>> {
  return new Set((await json(`${bench.storeUrl}/internal/indexes`, { headers: bench.internalHeaders })).indexes.map((i: { indexId: string }) => i.indexId));
}

/** Creates an index through the control plane; returns its data-plane host and the store's index id. */
export async function createIndex(name: string, dimension: number): Promise<{ name: string; host: string; indexId: string }> {
  const before = await storeIndexIds();
  const created = await json(`${bench.system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers: bench.keyHeaders,
    body: JSON.stringify({ name, dimension, metric: 'cosine', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  for (let i = 0; i < 100 && !created.status?.ready; i++) {
    await sleep(100);
    Object.assign(created, await json(`${bench.system.gatewayUrl}/indexes/${name}`, { headers: bench.keyHeaders }));
  }
  const added = [...(await storeIndexIds())].filter((id) => !before.has(id));
  if (added.length !== 1) throw new Error(`could not find the store's id of index ${name}`);
  return { name, host: created.host, indexId: added[0] };
}

export async function deleteIndex(name: string): Promise<void> {
  await request(`${bench.system.gatewayUrl}/indexes/${name}`, { method: 'DELETE', headers: bench.keyHeaders });
}

/** The store's Prometheus exposition, as text (the gauges below read it). */
async function storeMetricsText(): Promise<string> {
  return (await request(`${bench.storeUrl}/metrics`, { headers: bench.internalHeaders })).text;
}

export async function annPending(): Promise<number> {
  const text = await storeMetricsText();
  return Number(/^conifer_store_ann_pending_vectors (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Queries the store answered from a graph (its plan="ann" counters, summed). */
export async function annQueries(): Promise<number> {
  const text = await storeMetricsText();
  let sum = 0;
  for (const m of text.matchAll(/^conifer_store_queries_total\{[^}]*plan="ann"[^}]*\} (\d+)/gm)) sum += Number(m[1]);
  return sum;
}

/**
 * Waits until no published graph waits for or is under its breadth calibration (the store's
 * `conifer_store_ann_calibrating` gauge), so that timed queries all search with the calibrated breadth; the seconds
 * waited, or undefined when `capSeconds` passed first.
 */
export async function waitAnnCalibrated(capSeconds: number): Promise<number | undefined> {
  const t0 = performance.now();
  for (;;) {
    const text = await storeMetricsText();
    if (/^conifer_store_ann_calibrating 0/m.test(text)) return (performance.now() - t0) / 1000;
    if ((performance.now() - t0) / 1000 > capSeconds) return undefined;
    await sleep(500);
  }
}

/** The store's calibrated breadth multiplier and recall estimate for an index (its gauges), when it has them. */
export async function annCalibration(indexId: string): Promise<{ scale: number; estimatedRecall: number; growth: number } | undefined> {
  const text = await storeMetricsText();
  const gauge = (name: string): number => Number(new RegExp(`^${name}\\{index="${indexId}"\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  const scale = gauge('conifer_store_ann_breadth_scale');
  const estimatedRecall = gauge('conifer_store_ann_estimated_recall');
  // The graph's size over the size it was calibrated at (NaN from a store without the gauge: a --store-main of an older build).
  const growth = gauge('conifer_store_ann_calibration_growth');
  return Number.isFinite(scale) && Number.isFinite(estimatedRecall) ? { scale, estimatedRecall, growth } : undefined;
}

/** Waits until no vector is pending for the graph; `perMinute`: the pending count at each whole minute (build progress). */
export async function waitAnnBuilt(label: string, capSeconds = Infinity): Promise<{ seconds: number | undefined; pending: number; perMinute: { minute: number; pending: number; load: string }[] }> {
  const bar = progress(label);
  const t0 = performance.now();
  const perMinute: { minute: number; pending: number; load: string }[] = [];
  let pending;
  while ((pending = await annPending()) > 0) {
    const minute = Math.floor((performance.now() - t0) / 60_000);
    if (minute > (perMinute.at(-1)?.minute ?? 0)) {
      perMinute.push({ minute, pending, load: loadAverage() });
      log(`  ${label}: ${pending.toLocaleString('en-US')} vectors pending after ${minute} min (load ${loadAverage()})`);
    }
    if ((performance.now() - t0) / 1000 > capSeconds) {
      bar.done(`stopped waiting after ${capSeconds} s with ${pending} vectors still pending`);
      return { seconds: undefined, pending, perMinute };
    }
    bar.update(`${pending.toLocaleString('en-US')} vectors pending, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    await sleep(500);
  }
  const seconds = (performance.now() - t0) / 1000;
  bar.done(`built (waited ${seconds.toFixed(1)} s)`);
  return { seconds, pending: 0, perMinute };
}
