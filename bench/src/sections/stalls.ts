// [stalls] Event-loop stalls of the vector store (issue 12: "snapshot, compaction, graph save and index swaps
// never block the event loop for more than 50 ms"; `npm run bench -- --only=stalls`, not in the default set).
// A store process of its own (no gateway) on an empty data directory goes through the phases below while a
// worker thread of the bench (its own event loop, so the bench's JSON building does not delay it) sends one
// query every 50 ms and times each. Per phase the store's event-loop delay is read from its /metrics:
//   - conifer_store_event_loop_delay_seconds (a 10 ms timer's lateness per tick, cumulative histogram):
//     the phase's ticks, p99 (upper bound of the bucket holding it) and ticks over 50 ms, from bucket deltas;
//   - nodejs_eventloop_lag_max_seconds and _p99_seconds (monitorEventLoopDelay, reset by each scrape): the
//     longest delay and the p99, the largest of the phase's scrapes (the ingest and the explicit snapshot are
//     scraped at their start and end only: their p99 is the whole phase's).
// Phases: ingest (n vectors, 100 per upsert, 4 in flight; the graph builds meanwhile, and a 768-d ingest of
// ≥ 85k vectors crosses the 256 MB log size that starts a snapshot), graph build after the ingest (graph
// swaps, the graph-growth snapshot), an explicit snapshot (POST /snapshot, with its graph), and a
// compaction (45 % of the ids written again: the last upsert compacts the namespace) with the start of the
// rebuild it causes.
// Options (options.ts): --stalls-sizes=100000x768 (default 30000x768; --full 100000x768),
// --stalls-ann-wait=<s> (longest wait for the graph after the ingest), --stalls-store-main=<path>
// (another build's dist/main.js, for before/after figures).
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { indexedUnitVectors, STORE_MAIN } from '@conifer/test-utils';
import { STALLS_ANN_WAIT, STALLS_CPU_PROF, STALLS_NODE_ARGS, STALLS_SIZES, STALLS_STORE_MAIN, STALLS_TRACE_GC } from '../options.ts';
import { log, results, row } from '../report.ts';
import { load, Store } from '../store-process.ts';
import { freePort, percentile, pool, progress, request, sleep } from '../util.ts';

const BATCH = 100;
const QUERY_EVERY_MS = 50;

/** The query trickle, in a worker thread: one query every 50 ms (or right after a slower one), timed. */
const TRICKLE = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, headers, bodies, every } = workerData;
let stop = false;
const samples = [];
parentPort.on('message', () => { stop = true; });
(async () => {
  for (let i = 0; !stop; i++) {
    const sent = performance.timeOrigin + performance.now();
    let ok = true;
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: bodies[i % bodies.length] });
      await response.arrayBuffer();
      ok = response.status === 200;
    } catch { ok = false; }
    const ms = performance.timeOrigin + performance.now() - sent;
    samples.push([sent, ms, ok ? 1 : 0]);
    if (ms < every) await new Promise((r) => setTimeout(r, every - ms));
  }
  parentPort.postMessage(samples);
})();
`;

/** monitorEventLoopDelay's resolution in prom-client (its figures include it). */
const LAG_RESOLUTION_S = 0.01;

interface LoopReading {
  /** Cumulative count per bucket upper bound (seconds): conifer_store_event_loop_delay_seconds. */
  delay: [number, number][];
  /** The same for conifer_store_event_loop_busy_seconds (empty when the store has none). */
  busy: [number, number][];
  /** monitorEventLoopDelay's max since the previous scrape, less its resolution. */
  lagMax: number;
  /** monitorEventLoopDelay's p99 since the previous scrape, less its resolution. */
  lagP99: number;
  /** Garbage collections so far by kind (prom-client's nodejs_gc_duration_seconds: pauses of the loop's thread). */
  gc: Map<string, { count: number; seconds: number; over100ms: number }>;
}

function gcReading(text: string): LoopReading['gc'] {
  const out: LoopReading['gc'] = new Map();
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_count\{kind="(\w+)"\} (\d+)/gm)) {
    const kind = m[1]!;
    const seconds = Number(new RegExp(`^nodejs_gc_duration_seconds_sum\\{kind="${kind}"\\} ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? NaN);
    const upTo100ms = Number(new RegExp(`^nodejs_gc_duration_seconds_bucket\\{le="0.1",kind="${kind}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    out.set(kind, { count: Number(m[2]), seconds, over100ms: Number(m[2]) - upTo100ms });
  }
  return out;
}

function buckets(text: string, name: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))) out.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  return out;
}

function readLoop(text: string): LoopReading {
  const lagMax = Number(/^nodejs_eventloop_lag_max_seconds ([\d.e+-]+)/m.exec(text)?.[1] ?? NaN) - LAG_RESOLUTION_S;
  const lagP99 = Number(/^nodejs_eventloop_lag_p99_seconds ([\d.e+-]+)/m.exec(text)?.[1] ?? NaN) - LAG_RESOLUTION_S;
  return { delay: buckets(text, 'conifer_store_event_loop_delay_seconds'), busy: buckets(text, 'conifer_store_event_loop_busy_seconds'), lagMax, lagP99, gc: gcReading(text) };
}

/** One collection from --trace-gc: when the bench read the line (ms, its clock), kind, pause, heap, reason. */
interface TracedGc {
  at: number;
  /** The isolate (the store's main thread, or a worker's). */
  isolate: string;
  kind: string;
  pauseMs: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  /** Why it ran; for a mark-compact after incremental marking, why the marking started (--trace-incremental-marking) when known. */
  reason: string;
}

const GC_LINE = /\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+[\d.]+ ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)\S*(?: \([^)]*\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, .*?([\d.]+) \/ [\d.]+ ms .*\(average mu = [\d.]+, current mu = [\d.]+\) ([^;]*)/;
const MARKING_START = /\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+[\d.]+ ms: \[IncrementalMarking\] Start \(([^)]*)\)/;

/** Collects the store's --trace-gc lines as they arrive (and the raw lines into a file, with the phases' boundaries). */
class GcTrace {
  readonly gcs: TracedGc[] = [];
  /** Per isolate: why its incremental marking under way started. */
  private readonly markingReason = new Map<string, string>();
  private readonly file: string;

  constructor(file: string) {
    this.file = file;
    if (file !== '-') writeFileSync(file, '');
  }

  line(text: string): void {
    const start = MARKING_START.exec(text);
    if (this.file !== '-' && (start !== null || !text.includes('[IncrementalMar'))) appendFileSync(this.file, `${text}\n`);
    if (start) {
      this.markingReason.set(start[1]!, start[2]!);
      return;
    }
    const m = GC_LINE.exec(text);
    if (!m) return;
    const isolate = m[1]!;
    let reason = m[6]!.trim();
    const started = this.markingReason.get(isolate);
    if (m[2] === 'Mark-Compact' && reason.startsWith('finalize incremental marking') && started !== undefined) reason = `marking started by ${started}`;
    this.markingReason.delete(isolate);
    this.gcs.push({ at: performance.timeOrigin + performance.now(), isolate, kind: m[2]!, pauseMs: Number(m[5]), heapBeforeMb: Number(m[3]), heapAfterMb: Number(m[4]), reason });
  }

  mark(text: string): void {
    if (this.file !== '-') appendFileSync(this.file, `### ${text}\n`);
  }

  /**
   * The main thread's collections in [from, to), per kind: count, pauses (total, max), the heap before (range), and
   * the reasons by count. The main thread's isolate is the one with the most collections (the workers' isolates
   * collect little; the process re-executes itself at start, so its first isolate is not the one that serves).
   */
  summary(from: number, to: number): string {
    const counts = new Map<string, number>();
    for (const g of this.gcs) counts.set(g.isolate, (counts.get(g.isolate) ?? 0) + 1);
    const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const mine = this.gcs.filter((g) => g.isolate === main && g.at >= from && g.at < to);
    const kinds = [...new Set(mine.map((g) => g.kind))];
    return kinds
      .map((kind) => {
        const of = mine.filter((g) => g.kind === kind);
        const pauses = of.map((g) => g.pauseMs);
        const reasons = new Map<string, number>();
        for (const g of of) reasons.set(g.reason, (reasons.get(g.reason) ?? 0) + 1);
        const before = of.map((g) => g.heapBeforeMb);
        return (
          `${kind} ${of.length} × (total ${pauses.reduce((a, b) => a + b, 0).toFixed(0)} ms, max ${Math.max(...pauses).toFixed(1)} ms, heap before ${Math.min(...before).toFixed(0)}–${Math.max(...before).toFixed(0)} MB): ` +
          [...reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n} ${r}`).join(', ')
        );
      })
      .join('; ');
  }
}

interface TickFigures {
  ticks: number;
  /** Upper bound of the bucket holding the 99th percentile (ms). */
  p99Ms: number;
  over50ms: number;
  /** The bucket holding the largest tick (ms): (from, to]. */
  maxMs: [number, number];
}

/** Figures of the ticks between two readings of one cumulative histogram. */
function ticksBetween(first: [number, number][], last: [number, number][]): TickFigures | undefined {
  if (last.length === 0 || first.length !== last.length) return undefined;
  const delta = last.map(([le, n], i) => [le, n - first[i]![1]] as const);
  const ticks = delta[delta.length - 1]![1];
  const top = delta.findIndex(([, n]) => n === ticks);
  return {
    ticks,
    p99Ms: (delta.find(([, n]) => n >= 0.99 * ticks)?.[0] ?? NaN) * 1000,
    over50ms: ticks - (delta.find(([le]) => le === 0.05)?.[1] ?? NaN),
    maxMs: [top > 0 ? delta[top - 1]![0] * 1000 : 0, delta[top]![0] * 1000],
  };
}

interface PhaseResult {
  phase: string;
  seconds: number;
  delay: TickFigures | undefined;
  delayMaxMs: number;
  /** monitorEventLoopDelay's p99, the largest of the phase's scrape intervals (the whole phase when scraped only at its end). */
  lagP99Ms: number;
  busy: TickFigures | undefined;
  /** Collections during the phase: kind → count, pause time (ms), pauses over 100 ms. */
  gc: Record<string, { count: number; ms: number; over100ms: number }>;
  queries: number;
  failed: number;
  queryP50Ms: number;
  queryP99Ms: number;
  queryMaxMs: number;
  load: string;
}

/** A phase: event-loop readings at its start, at every scrape inside it, and at its end. */
class Phase {
  readonly name: string;
  private readonly first: LoopReading;
  private last: LoopReading;
  private lagMax = 0;
  private lagP99 = 0;
  readonly start = performance.timeOrigin + performance.now();
  /** Start and end in µs of the monotonic clock (a --cpu-prof profile's timestamps on Linux). */
  readonly startUs = Number(process.hrtime.bigint() / 1000n);
  endUs = 0;
  end = 0;
  loadAtEnd = '';

  private constructor(name: string, first: LoopReading) {
    this.name = name;
    this.first = first;
    this.last = first;
  }

  /** Starts a phase (this scrape resets monitorEventLoopDelay: the phase's max starts here). */
  static async begin(name: string, store: Store): Promise<Phase> {
    return new Phase(name, readLoop(await store.metricsText()));
  }

  /** A scrape inside the phase (its /metrics text, e.g. read for the pending graph work). */
  observe(text: string): void {
    this.last = readLoop(text);
    this.lagMax = Math.max(this.lagMax, this.last.lagMax);
    this.lagP99 = Math.max(this.lagP99, this.last.lagP99);
  }

  async finish(store: Store): Promise<void> {
    this.observe(await store.metricsText());
    this.end = performance.timeOrigin + performance.now();
    this.endUs = Number(process.hrtime.bigint() / 1000n);
    this.loadAtEnd = load();
  }

  result(samples: [number, number, number][]): PhaseResult {
    const mine = samples.filter(([sent]) => sent >= this.start && sent < this.end);
    const ms = mine.filter((s) => s[2] === 1).map((s) => s[1]);
    return {
      phase: this.name,
      seconds: (this.end - this.start) / 1000,
      delay: ticksBetween(this.first.delay, this.last.delay),
      delayMaxMs: this.lagMax * 1000,
      lagP99Ms: this.lagP99 * 1000,
      busy: ticksBetween(this.first.busy, this.last.busy),
      gc: Object.fromEntries(
        [...this.last.gc].map(([kind, last]) => {
          const first = this.first.gc.get(kind) ?? { count: 0, seconds: 0, over100ms: 0 };
          return [kind, { count: last.count - first.count, ms: (last.seconds - first.seconds) * 1000, over100ms: last.over100ms - first.over100ms }];
        }),
      ),
      queries: mine.length,
      failed: mine.length - ms.length,
      queryP50Ms: percentile(ms, 50),
      queryP99Ms: percentile(ms, 99),
      queryMaxMs: ms.length === 0 ? NaN : Math.max(...ms),
      load: this.loadAtEnd,
    };
  }
}

async function measureSize({ n, dim }: { n: number; dim: number }, storeMain: string): Promise<Record<string, unknown>> {
  const tag = `${n / 1000}k × ${dim}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'conifer-bench-stalls-'));
  const profArgs = STALLS_CPU_PROF === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(STALLS_CPU_PROF)}`];
  const gcTrace = STALLS_TRACE_GC === '' ? undefined : new GcTrace(STALLS_TRACE_GC);
  const store = new Store(storeMain, dataDir, await freePort(), [...profArgs, ...(gcTrace ? ['--trace-gc'] : []), ...STALLS_NODE_ARGS]);
  if (gcTrace) store.onOtherLine = (line) => gcTrace.line(line);
  const out: Record<string, unknown> = { n, dim, loadAtStart: load() };
  const phases: Phase[] = [];
  let trickle: Worker | undefined;
  try {
    await store.start();
    const created = await request(`${store.url}/internal/indexes/bench`, {
      method: 'PUT',
      headers: store.headers,
      body: JSON.stringify({ dimension: dim, metric: 'cosine', vectorType: 'dense' }),
    });
    if (created.status >= 300) throw new Error(`create index: ${created.status} ${created.text}`);
    const names = await store.metricsText();
    if (!names.includes('conifer_store_event_loop_delay_seconds_count')) log('  this store build has no conifer_store_event_loop_delay_seconds: delay p99 and ticks over 50 ms are not reported (max is)');
    if (!names.includes('conifer_store_event_loop_busy_seconds_count')) log('  this store build has no conifer_store_event_loop_busy_seconds: no CPU-per-tick figures');
    const vectorAt = indexedUnitVectors(dim);
    const scratch = new Float64Array(dim);
    const bodies = Array.from({ length: 50 }, (_, j) => JSON.stringify({ vector: Array.from(vectorAt(n + 1 + j, scratch)), topK: 10 }));
    trickle = new Worker(TRICKLE, { eval: true, workerData: { url: `${store.url}/internal/indexes/bench/query`, headers: store.headers, bodies, every: QUERY_EVERY_MS } });
    const samples = new Promise<[number, number, number][]>((resolve) => trickle!.once('message', resolve));

    const ingest = async (label: string, from: number, to: number): Promise<void> => {
      const bar = progress(`${tag} ${label}`);
      const t0 = performance.now();
      await pool(Math.ceil((to - from) / BATCH), 4, async (b) => {
        const vectors = [];
        for (let j = from + b * BATCH; j < Math.min(to, from + (b + 1) * BATCH); j++) vectors.push({ id: `v${j}`, values: Array.from(vectorAt(j, scratch)), metadata: { bucket: j % 10, j } });
        const r = await store.post('/vectors/upsert', JSON.stringify({ vectors }));
        if (r.status !== 200) throw new Error(`upsert: ${r.status} ${r.text.slice(0, 200)}`);
        if (b % 50 === 0) bar.update(`${(b * BATCH).toLocaleString('en-US')} vectors`);
      });
      const seconds = (performance.now() - t0) / 1000;
      bar.done(`${(to - from).toLocaleString('en-US')} vectors in ${seconds.toFixed(1)} s (${Math.round((to - from) / seconds)} vectors/s)`);
    };
    const waitForGraph = async (phase: Phase, label: string): Promise<number> => {
      const bar = progress(`${tag} ${label}`);
      const t0 = performance.now();
      let pending = Infinity;
      while ((performance.now() - t0) / 1000 < STALLS_ANN_WAIT) {
        const text = await store.metricsText();
        phase.observe(text);
        pending = Number(/^conifer_store_ann_pending_vectors (\d+)/m.exec(text)?.[1] ?? NaN);
        if (pending === 0) break;
        bar.update(`${pending.toLocaleString('en-US')} vectors pending`);
        await sleep(1000);
      }
      bar.done(pending > 0 ? `stopped waiting after ${STALLS_ANN_WAIT} s (${pending} pending)` : `built ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return pending;
    };

    await sleep(1000);
    const idle = await Phase.begin('idle (no work, the trickle only)', store);
    phases.push(idle);
    await sleep(5000);
    await idle.finish(store);

    const ingestPhase = await Phase.begin(`ingest ${n.toLocaleString('en-US')} (graph building meanwhile)`, store);
    phases.push(ingestPhase);
    await ingest('ingest', 0, n);
    await ingestPhase.finish(store);

    const build = await Phase.begin('graph build after the ingest (graph swaps, graph-growth snapshot)', store);
    phases.push(build);
    out.annPendingAfterWait = await waitForGraph(build, 'graph build');
    // The graph-growth snapshot is checked every 5 s once nothing is pending: let it run inside this phase.
    await sleep(8000);
    await build.finish(store);

    const snapshot = await Phase.begin('explicit snapshot (POST /snapshot, with its graph)', store);
    phases.push(snapshot);
    const t0 = performance.now();
    const taken = await request(`${store.url}/internal/indexes/bench/snapshot`, { method: 'POST', headers: store.headers });
    if (taken.status !== 200) throw new Error(`snapshot: ${taken.status} ${taken.text}`);
    out.snapshotSeconds = (performance.now() - t0) / 1000;
    await snapshot.finish(store);

    // 45 % of the records deleted, 1000 ids per request (2 in flight): past 30 % of the slots dead the
    // namespace compacts; then the graph is rebuilt from scratch (slots renumbered).
    const deleted = Math.ceil(n * 0.45);
    const compaction = await Phase.begin(`compaction (${deleted.toLocaleString('en-US')} ids deleted, 1000 per request) until it swaps + 5 s`, store);
    phases.push(compaction);
    await pool(Math.ceil(deleted / 1000), 2, async (b) => {
      const ids = Array.from({ length: Math.min(1000, deleted - b * 1000) }, (_, k) => `v${b * 1000 + k}`);
      const r = await store.post('/vectors/delete', JSON.stringify({ ids }));
      if (r.status !== 200) throw new Error(`delete: ${r.status} ${r.text.slice(0, 200)}`);
    });
    // The compaction runs in slices after the last delete; on a busy machine it may outlast a fixed wait, and
    // the rebuild phase would then measure nothing (its graph still whole). Its end drops the graph: the
    // pending count jumps to the live records.
    const waitFrom = performance.now();
    for (;;) {
      const text = await store.metricsText();
      compaction.observe(text);
      if (Number(/^conifer_store_ann_pending_vectors (\d+)/m.exec(text)?.[1] ?? NaN) > 0 || performance.now() - waitFrom > 120_000) break;
      await sleep(500);
    }
    out.compactionSwapSeconds = (performance.now() - waitFrom) / 1000;
    await sleep(5000);
    await compaction.finish(store);
    const rebuild = await Phase.begin('graph rebuild after the compaction (exact scans meanwhile)', store);
    phases.push(rebuild);
    out.annPendingAfterRebuild = await waitForGraph(rebuild, 'graph rebuild');
    await rebuild.finish(store);

    trickle.postMessage('stop');
    const all = await samples;
    const rows = phases.map((p) => p.result(all));
    // Always printed: the windows also place a `perf record -k CLOCK_MONOTONIC` of the store (sample times in s).
    const short = (name: string): string => name.split(' ').slice(0, name.startsWith('graph') ? 2 : 1).join('-');
    const windows = phases.map((p) => `${short(p.name)}:${p.startUs}:${p.endUs}`).join(',');
    log(`  phase windows (monotonic µs, for bench/src/long-ticks.ts once the store has stopped): --phases=${windows}`);
    out.phases = rows;
    if (gcTrace) {
      log(`  ${tag} the store's collections per phase (--trace-gc; a mark-compact's reason is why its incremental marking started when --stalls-node-args=--trace-incremental-marking):`);
      for (const p of phases) {
        const summary = gcTrace.summary(p.start, p.end);
        gcTrace.mark(`${p.name}: ${summary}`);
        log(`  - ${p.name}: ${summary || 'none'}`);
      }
      out.gcTrace = phases.map((p) => ({ phase: p.name, gcs: gcTrace.gcs.filter((g) => g.at >= p.start && g.at < p.end) }));
    }
    const f = (x: number | undefined, digits = 1): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
    log(`  ${tag} event-loop delay of the store and the latency of a query every ${QUERY_EVERY_MS} ms, per phase:`);
    const gcCell = (g: { count: number; ms: number; over100ms: number } | undefined, long: boolean): string =>
      g === undefined ? '–' : `${g.count} / ${f(g.ms, 0)} ms${long ? ` / ${g.over100ms}` : ''}`;
    const range = (t: TickFigures | undefined): string => (t === undefined ? '–' : `${f(t.maxMs[0], 0)}–${f(t.maxMs[1], 0)} ms`);
    log('  | phase | s | delay p99 (≤) | monitorEventLoopDelay p99 | delay max | delay ticks > 50 ms | CPU per tick p99 (≤) | CPU max (bucket) | CPU ticks > 50 ms / ticks | GC major: n / ms / > 100 ms | GC minor: n / ms | queries | query p50 | p99 | max | load |');
    log('  | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      log(
        `  | ${r.phase} | ${f(r.seconds)} | ${f(r.delay?.p99Ms, 0)} ms | ${f(r.lagP99Ms, 0)} ms | ${f(r.delayMaxMs, 0)} ms | ${r.delay?.over50ms ?? '–'} | ` +
          `${f(r.busy?.p99Ms, 0)} ms | ${range(r.busy)} | ${r.busy === undefined ? '–' : `${r.busy.over50ms} / ${r.busy.ticks}`} | ` +
          `${gcCell(r.gc.major, true)} | ${gcCell(r.gc.minor, false)} | ` +
          `${r.queries}${r.failed > 0 ? ` (${r.failed} failed)` : ''} | ${f(r.queryP50Ms)} ms | ${f(r.queryP99Ms)} ms | ${f(r.queryMaxMs)} ms | ${r.load} |`,
      );
      row('stalls', `${tag} ${r.phase}: event-loop delay max`, r.delayMaxMs, 'ms', {
        target: 50,
        note: `monitorEventLoopDelay p99 ${f(r.lagP99Ms, 0)} ms; CPU per tick max ${range(r.busy)}; load ${r.load}`,
      });
    }
    return out;
  } finally {
    if (trickle !== undefined) await trickle.terminate();
    await store.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Needs no running system (each size starts its own store process); results go into `results.sections.stalls`. */
export async function stallsSection(): Promise<void> {
  const storeMain = STALLS_STORE_MAIN ? path.resolve(STALLS_STORE_MAIN) : STORE_MAIN;
  log(`\n[stalls] store event-loop stalls: ${STALLS_SIZES.map((s) => `${s.n} × ${s.dim}`).join(', ')}; own store process each (${storeMain}); load ${load()}`);
  const sizes: Record<string, unknown>[] = [];
  results.sections.stalls = sizes;
  for (const size of STALLS_SIZES) sizes.push(await measureSize(size, storeMain));
}
