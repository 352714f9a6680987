#!/usr/bin/env -S node --experimental-strip-types
// Filtered recall on hard data, engine level (issue 12 part 7; not part of `npm test` or `npm run bench`).
//   npx turbo run build --filter=@conifer/bench... &&
//   node --experimental-strip-types bench/src/filtered-recall.ts [n] [dim] [queries] [dataset]
// Builds one namespace of `dataset` vectors (default `hard`: 1000 overlapping low-rank clusters on the unit
// sphere, vectorDistribution of @conifer/test-utils; `easy`; `glove`: real word embeddings, dim 100, n up to
// 341k, filtered-data.ts), builds its whole HNSW graph, then runs the same queries unfiltered and with four
// filters: 10 % and 1 % independent of the vectors (`bucket`), 10 % and 1 % correlated with them
// (`region`/`zone`: a function of the vector, filtered-data.ts), and the same four as ranges over floats with
// a distinct value per record (`score`, `pos`; rows `float …`). Recall@10 is against the
// brute-force reference of @conifer/test-utils (double precision, every record scored); the reference's
// own time per query is printed beside the engine's p50 as the same-run yardstick.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import {
  annRerank,
  calibrateBreadth,
  compileEngineFilter,
  DEFAULT_ANN_PARAMS,
  executePlan,
  matchSet,
  plannedCandidates,
  UsearchAnn,
  VectorIndex,
  type QueryPlan,
} from '@conifer/engine';
import { refMatches, refScore } from '@conifer/test-utils';
import { openGraphBytes } from '@conifer/vector-store';
import { FILTERED_QUERIES, filteredData, filteredDataset, type FilterMeta } from './filtered-data.ts';

const N = Number(process.argv[2] ?? 30_000);
const DIM = Number(process.argv[3] ?? 768);
const QUERIES = Number(process.argv[4] ?? 100);
const DATA = filteredDataset(process.argv[5] ?? 'hard');
const K = 10;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

type Filter = Record<string, unknown> | undefined;
type Meta = FilterMeta;
const { values, meta, queries } = filteredData(DATA, N, DIM, QUERIES);
const FILTERS: Record<string, Filter> = { none: undefined, ...FILTERED_QUERIES };

// CONIFER_BENCH_SKETCH_CANDIDATES: the sketch scan's exact re-scoring breadth (the engine's default otherwise).
const sketchCandidates = process.env.CONIFER_BENCH_SKETCH_CANDIDATES === undefined ? undefined : Number(process.env.CONIFER_BENCH_SKETCH_CANDIDATES);
const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, sketchCandidates === undefined ? {} : { sketchCandidates });
let t0 = performance.now();
for (let i = 0; i < N; i += 1000) {
  const vectors: { id: string; values: number[]; metadata: Meta }[] = [];
  for (let j = i; j < Math.min(N, i + 1000); j++) vectors.push({ id: `v${j}`, values: Array.from(values.subarray(j * DIM, (j + 1) * DIM)), metadata: meta[j] });
  index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: '', vectors })));
}
const ingestS = (performance.now() - t0) / 1000;
t0 = performance.now();
// The data are deterministic (seeded), so the graph of a size is built once and kept under the system's
// temporary directory (CONIFER_BENCH_GRAPH_DIR): 100k × 768 takes many minutes to build on a loaded machine.
const graphFile = `${process.env.CONIFER_BENCH_GRAPH_DIR ?? '/tmp'}/conifer-filtered-recall-${DATA}-${N}x${DIM}.usearch`;
const built = !existsSync(graphFile);
if (built) {
  while (index.buildAnnStep(10_000) > 0);
  mkdirSync(dirname(graphFile), { recursive: true });
  index.namespaces.get('')!.ann!.save(graphFile);
} else index.namespaces.get('')!.installAnn(UsearchAnn.view(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1), N);
while (index.buildAnnStep(10_000) > 0);
const buildS = (performance.now() - t0) / 1000;
console.log(`${DATA} ${N} x ${DIM}, ${QUERIES} queries; ingest ${ingestS.toFixed(1)} s, graph ${built ? 'build' : `from ${graphFile}`} ${buildS.toFixed(1)} s; load ${load()}`);

// The search-breadth calibration the store's ANN worker runs on a published graph (engine search/calibrate.ts,
// the same function on this thread): CONIFER_BENCH_TARGET_RECALL (default 0.98, the store's default; 0: off).
// Its multiplier then applies to every planned query below; the row `none (rule)` is the unfiltered graph
// search at multiplier 1 (the rule alone), interleaved with the calibrated one.
const TARGET = Number(process.env.CONIFER_BENCH_TARGET_RECALL ?? 0.98);
{
  const cpu0 = process.threadCpuUsage();
  const wall0 = performance.now();
  // The held-out walk reads the graph's file (saved above, or the cache it was viewed from).
  const bytes = openGraphBytes(graphFile);
  const result = calibrateBreadth(index.namespaces.get('')!, 'cosine', index.search, TARGET, bytes);
  bytes.close();
  const cpu = process.threadCpuUsage(cpu0);
  if (result !== undefined) {
    console.log(
      `calibration (target ${TARGET}, ${result.method}): multiplier ${result.scale}, estimated recall ${result.recall.toFixed(4)}; tried ${result.tried
        .map((t) => `${t.scale}×(${t.candidates}:${t.rerank})=${t.recall.toFixed(4)}`)
        .join(' ')}; ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ${(performance.now() - wall0).toFixed(0)} ms wall; load ${load()}`,
    );
  }
}

// Brute-force reference: every record scored once per query, then each filter's top-10 among its matches.
const masks = Object.fromEntries(Object.entries(FILTERS).map(([name, f]) => [name, meta.map((m) => refMatches(f, m))]));
t0 = performance.now();
const expected = queries.map((q) => {
  const scores = new Float64Array(N);
  for (let j = 0; j < N; j++) scores[j] = refScore('cosine', q, values.subarray(j * DIM, (j + 1) * DIM));
  const order = Array.from({ length: N }, (_, j) => j).sort((a, b) => scores[b]! - scores[a]!);
  return Object.fromEntries(
    Object.keys(FILTERS).map((name) => {
      const mask = masks[name]!;
      const top: { id: string; score: number }[] = [];
      for (const j of order) {
        if (!mask[j]) continue;
        top.push({ id: `v${j}`, score: scores[j]! });
        if (top.length === K) break;
      }
      return [name, top];
    }),
  );
});
const refMs = (performance.now() - t0) / QUERIES;

// The planner's choice for every filter, plus, for the 10 % filters, the graph post-filter as it was before
// issue 12's fix (max(4 × topK, 40) / selectivity candidates, stop at topK matches) as a same-run yardstick.
const ns = index.namespaces.get('')!;
type Run = (q: Float32Array) => { matches: { id: string; score: number }[]; plan: { plan: string } };
const former = (filter: Filter): Run => {
  const compiled = compileEngineFilter(parseQueryRequest({ vector: [...queries[0]!], topK: K, filter }).filter);
  if (compiled === undefined) throw new Error('the former post-filter needs a filter');
  const matches = matchSet(ns, compiled);
  const candidates = Math.ceil(Math.max(4 * K, 40) / (matches.count / ns.liveCount));
  return (q) => {
    const { top } = executePlan(ns, { kind: 'ann', candidates, rerank: candidates, matches, wanted: 0, widest: Infinity }, ns.scorer('cosine', q, undefined), q, K, 'cosine');
    return { matches: top.sorted().map(({ slot, score }) => ({ id: ns.idOf(slot), score })), plan: { plan: `former ann k=${candidates}` } };
  };
};
// Each match-set scan forced, whatever the planner chose: the exact scan (the planner's choice before the
// sketches) is the same-run reference, the sketch scan the new path.
const forced = (filter: Filter, kind: 'exact-filtered' | 'sketch-filtered', label: string): Run => {
  const compiled = compileEngineFilter(parseQueryRequest({ vector: [...queries[0]!], topK: K, filter }).filter)!;
  return (q) => {
    // The match set is built per query, as a planned query does.
    const matches = matchSet(ns, compiled);
    const plan: QueryPlan = kind === 'exact-filtered' ? { kind, matches } : { kind, matches, candidates: Math.max(sketchCandidates ?? 100, 10 * K) };
    const { top, executed } = executePlan(ns, plan, ns.scorer('cosine', q, undefined), q, K, 'cosine');
    return { matches: top.sorted().map(({ slot, score }) => ({ id: ns.idOf(slot), score })), plan: { plan: `${label} ${executed.plan}` } };
  };
};
// The unfiltered graph search at the rule's breadth (multiplier 1), planned as planner.ts does.
const rule: Run = (q) => {
  const annLive = Math.max(1, ns.ann!.size - ns.annDead);
  const candidates = plannedCandidates(index.search, K, ns.ann!.size, annLive, DIM, 1);
  const plan: QueryPlan = { kind: 'ann', candidates, rerank: annRerank(index.search, K, candidates), matches: undefined, wanted: candidates, widest: Infinity };
  const { top, executed } = executePlan(ns, plan, ns.scorer('cosine', q, undefined), q, K, 'cosine');
  return { matches: top.sorted().map(({ slot, score }) => ({ id: ns.idOf(slot), score })), plan: { plan: `rule ${executed.plan} k=${candidates}` } };
};
const runs: [string, Filter, Run | undefined][] = [];
for (const [name, filter] of Object.entries(FILTERS)) {
  runs.push([name, filter, undefined]);
  if (filter === undefined) {
    if (ns.annScale !== 1) runs.push([`${name} (rule)`, filter, rule]);
    continue;
  }
  runs.push([`${name} exact scan (reference)`, filter, forced(filter, 'exact-filtered', 'forced')]);
  runs.push([`${name} sketch scan`, filter, forced(filter, 'sketch-filtered', 'forced')]);
  if (name.endsWith('10%')) runs.push([`${name} (former post-filter)`, filter, former(filter)]);
}
// The runs of one filter are interleaved query by query (the planner's choice, the exact scan reference, the
// sketch scan, the former post-filter), so that each sees the same load; besides wall time, the CPU time of
// this thread per query (process.threadCpuUsage), which preemption on a loaded machine does not inflate.
const cpuNow = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
const rows: Record<string, string>[] = [];
for (const base of Object.keys(FILTERS)) {
  const group = runs.filter(([name]) => name === base || name.startsWith(`${base} `));
  const filter = FILTERS[base];
  const selectivity = masks[base]!.filter(Boolean).length / N;
  const stats = group.map(() => ({ times: [] as number[], cpu: [] as number[], plans: {} as Record<string, number>, hits: 0, total: 0 }));
  for (let round = 0; round < 2; round++) {
    // Round 0 warms up; round 1 is measured.
    for (let qi = 0; qi < QUERIES; qi++) {
      const request = parseQueryRequest({ vector: Array.from(queries[qi]!), topK: K, ...(filter ? { filter } : {}) });
      group.forEach(([, , run], ri) => {
        const c = cpuNow();
        const t = performance.now();
        const result = run === undefined ? index.query(request) : run(queries[qi]!);
        const ms = performance.now() - t;
        const cpu = cpuNow() - c;
        if (round === 0) return;
        const st = stats[ri]!;
        st.times.push(ms);
        st.cpu.push(cpu);
        st.plans[result.plan.plan] = (st.plans[result.plan.plan] ?? 0) + 1;
        const want = expected[qi]![base]!;
        // Ties at the cut count as hits (the reference's order among equal scores is arbitrary).
        const cut = want.length === K ? want[K - 1]!.score - 1e-6 : -Infinity;
        const wantIds = new Set(want.map((m) => m.id));
        for (const m of result.matches) if (wantIds.has(m.id) || m.score >= cut) st.hits++;
        st.total += want.length;
      });
    }
  }
  group.forEach(([name], ri) => {
    const st = stats[ri]!;
    rows.push({
      filter: name,
      selectivity: selectivity.toFixed(3),
      recall: (st.hits / st.total).toFixed(3),
      p50: pct(st.times, 50).toFixed(2),
      p99: pct(st.times, 99).toFixed(2),
      // Mean, not median: the thread's CPU clock advances in scheduler ticks (4 ms here), so single samples are coarse.
      'cpu mean': (st.cpu.reduce((a, b) => a + b, 0) / st.cpu.length).toFixed(2),
      plans: JSON.stringify(st.plans),
    });
  });
}
console.log(`brute-force reference (JS, double, all ${N} records): ${refMs.toFixed(1)} ms/query; load ${load()}`);
console.table(rows);
console.log(`load at the end ${load()}`);
