#!/usr/bin/env -S node --experimental-strip-types
// The store's CPU per query, thread by thread, against the engine alone on the same files (session 13, query):
// a store process (this build, or --main=<another build's dist/main.js>) on a copy of an ingested data directory
// (store-query.ts --data-dir makes one), queried one request at a time over HTTP with the bench's queries, after
// the start-up work is done; the CPU of each of its threads (/proc/<pid>/task/*/stat) over the measured queries,
// per query. Then (--engine) the engine alone in this process on the same directory (DurableIndex.load: values by
// pread, graph viewed, as the store and bare-store.ts do), the same queries: this thread's CPU per query.
//   BENCH_DATA_DIR=... node --experimental-strip-types bench/src/store-cpu.ts --data-dir=<ingested store dir>
//     [--n=1000000] [--dim=128] [--queries=1000] [--measure=1000] [--main=<dist/main.js>] [--engine] [--perf=<file>]
//     [--node-args=<space-separated node options for the store>] [--ingest [--at-once]] [--windows=1] [--no-store]
//     [--scales=<breadth multipliers for the engine alone, comma-separated>] [--filter=10|1]
// --ingest: a fresh store ingests the data (no --data-dir), then is timed once its calibration is over (--at-once:
// as soon as the graph has caught up); --windows: that many measured passes in a row; --no-store: the engine only.
// --filter: every query with the bench's 10 % (`bucket = 3`) or 1 % (`centile = 42`) filter, recall against its answers.
// --perf=<file>: `perf record -g` of the store process over the measured queries (run perf report on it).
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { queryBody } from '@conifer/test-utils';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex, readQueryBody } from '@conifer/vector-store';
import { pino } from 'pino';
import { benchData, namedFilter } from './bench-data.ts';
import { load, Store } from './store-process.ts';
import { commandLine, freePort, percentile, request, sleep, threadCpu } from './util.ts';

const { flags } = commandLine();
const n = Number(flags.n ?? 1_000_000);
const dim = Number(flags.dim ?? 128);
const queryCount = Number(flags.queries ?? 1000);
const measure = Number(flags.measure ?? queryCount);
const main = path.resolve(flags.main ?? path.join(import.meta.dirname, '../../apps/vector-store/dist/main.js'));
const source = flags['data-dir'];
const ingest = flags.ingest !== undefined;
if (source === undefined && !ingest) throw new Error('--data-dir=<an ingested store directory> or --ingest is required');
const windows = Number(flags.windows ?? 1);
const log = (text: string): void => void process.stderr.write(`${text}\n`);


const data = benchData(n, dim, queryCount, 'bench');
const { filter, answers } = namedFilter(flags.filter);
const bodies = data.queries.map((q) => queryBody(q, { filter }));
const truth = data.truth.map((t) => t[answers]);
const work = mkdtempSync(path.join(os.tmpdir(), 'conifer-store-cpu-'));
const dir = path.join(work, 'data');
if (!ingest) cpSync(source!, dir, { recursive: true });
const store = new Store(main, dir, await freePort(), flags['node-args']?.split(' ').filter((a) => a !== '') ?? []);
// --no-store: the engine alone only.
if (flags['no-store'] === undefined) try {
  await store.start();
  if (ingest) {
    log(`ingesting ${n} × ${dim} into a fresh store, load ${load()}`);
    await store.ingest(dim, data.bodyCount, (i) => data.body(i).body);
  }
  for (;;) {
    if ((await store.metrics()).annPending === 0) break;
    await sleep(500);
  }
  if (ingest) log(`ingested, graph caught up; load ${load()}`);
  // As the bench: timed once the graph's breadth calibration is over (at 1M × 128 it ran > 60 s after the build
  // caught up, 0.4–0.6 of a core); --at-once: measured while it runs.
  for (; ingest && flags['at-once'] === undefined; ) {
    if (/^conifer_store_ann_calibrating 0/m.test(await store.metricsText())) break;
    await sleep(1000);
  }
  // The restored store sketches and may calibrate at start.
  if (!ingest) await store.quiet();
  log(`store quiet, breadth multiplier ${await store.breadthScale()}; load ${load()}`);
  const url = `${store.url}/internal/indexes/bench/query`;
  const ask = async (i: number): Promise<{ ms: number; ids: string[] }> => {
    const t0 = performance.now();
    const r = await request(url, { method: 'POST', headers: store.headers, body: bodies[i % bodies.length]! });
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`query: ${r.status} ${r.text.slice(0, 200)}`);
    return { ms, ids: (JSON.parse(r.text) as { matches: { id: string }[] }).matches.map((m) => m.id) };
  };
  for (let i = 0; i < Math.min(200, bodies.length); i++) await ask(i);
  for (let w = 0; w < windows; w++) {
    if (ingest || windows > 1) log(`window ${w + 1}: breadth multiplier ${await store.breadthScale()}`);
    const idle0 = threadCpu(store.pid);
    await sleep(2000);
    const idle1 = threadCpu(store.pid);
    const perf = flags.perf === undefined ? undefined : spawn('perf', ['record', '-F', '2000', '-g', '-p', String(store.pid), '-o', flags.perf], { stdio: 'ignore' });
    if (perf !== undefined) await sleep(500);
    const before = threadCpu(store.pid);
    const t0 = performance.now();
    const times: number[] = [];
    let hits = 0;
    for (let i = 0; i < measure; i++) {
      const r = await ask(i);
      times.push(r.ms);
      const want = new Set(truth[i % truth.length]);
      hits += r.ids.filter((id) => want.has(id)).length;
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = threadCpu(store.pid);
    if (perf !== undefined) {
      const exited = new Promise((resolve) => perf.once('exit', resolve));
      perf.kill('SIGINT');
      await exited;
    }
    log(`store ${path.relative(process.cwd(), main)}: ${measure} queries one at a time over HTTP, wall p50 ${percentile(times, 50).toFixed(3)} ms, p90 ${percentile(times, 90).toFixed(3)} ms, recall@10 ${(hits / (measure * 10)).toFixed(4)}; load ${load()}`);
    let total = 0;
    for (const [tid, t] of after) {
      const idle = ((idle1.get(tid)?.cpu ?? 0) - (idle0.get(tid)?.cpu ?? 0)) / 2;
      const used = t.cpu - (before.get(tid)?.cpu ?? 0);
      total += used;
      if (used > 0.005) log(`  thread ${tid} ${t.name.padEnd(16)} ${((used * 1e6) / measure).toFixed(0).padStart(6)} µs per query (idle ${(idle * 1000).toFixed(0)} ms/s)`);
    }
    log(`  process total ${((total * 1e6) / measure).toFixed(0)} µs per query over ${seconds.toFixed(1)} s`);
  }
} finally {
  await store.stop();
}

if (flags.engine !== undefined) {
  const index = await DurableIndex.load('bench', path.join(dir, 'vector-store/indexes/bench'), DEFAULT_DURABLE_OPTIONS, pino({ level: 'silent' }));
  const requests = bodies.map((b) => readQueryBody(Buffer.from(b)).request);
  for (let i = 0; i < Math.min(200, requests.length); i++) index.index.query(requests[i]!);
  const ns = index.index.namespaces.get('')!;
  const calibrated = ns.annCalibration;
  // --scales=a,b: the engine also at these breadth multipliers (the calibration's own first).
  const scales = [calibrated?.scale ?? 1, ...(flags.scales?.split(',').map(Number) ?? [])];
  for (const scale of scales) {
    ns.setAnnCalibration({ scale, recall: calibrated?.recall ?? 0, size: calibrated?.size ?? ns.ann!.size });
    for (let i = 0; i < Math.min(100, requests.length); i++) index.index.query(requests[i]!);
    const ms: number[] = [];
    let hits = 0;
    const c0 = process.threadCpuUsage();
    for (let i = 0; i < measure; i++) {
      const t = performance.now();
      const result = index.index.query(requests[i % requests.length]!);
      ms.push(performance.now() - t);
      const want = new Set(truth[i % truth.length]);
      hits += result.matches.filter((m) => want.has(m.id)).length;
    }
    const c1 = process.threadCpuUsage(c0);
    const plan = index.index.query(requests[0]!).plan;
    log(`engine alone in this process (same directory, DurableIndex.load), ×${scale}: this thread ${((c1.user + c1.system) / measure).toFixed(0)} µs CPU per query, wall p50 ${percentile(ms, 50).toFixed(3)} ms, recall@10 ${(hits / (measure * 10)).toFixed(4)}, plan ${plan.plan} (${plan.candidates} re-ranked); load ${load()}`);
  }
  await index.close();
}
rmSync(work, { recursive: true, force: true });
