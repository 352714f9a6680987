#!/usr/bin/env -S node --experimental-strip-types
// Unfiltered recall@10 and latency at scale, engine level, against usearch alone on the same graph
// (issue 12 part 3; not part of `npm test` or `npm run bench`).
//   npx turbo run build --filter=@conifer/bench... &&
//   node --experimental-strip-types --max-old-space-size=8192 bench/src/recall-at-scale.ts [n=100000] [dim=768]
//     [queries=200] [bench|hard|easy] [--dir=/tmp/conifer-recall] [--efs=64,128,256] [--engine=C:R[:E],...]
//     [--grid=E:R,...] [--rounds=1] [--graphs=M16-efc128,M32-efc128] [--loaded] [--base-engine=<dist/index.js>]
//     [--calibrate=0.98]
// The data set, queries, brute-force answers and HNSW graph are cached in --dir (bench/src/recall-data.ts: the
// graph takes minutes to build). The engine runs as the store runs it after a restart: values served by
// pread from a values file (the `VectorSegment` the store attaches), the graph memory-mapped (`view`).
// Latency (wall ms) and the process's CPU ms per query (usearch searches one query on the calling thread), the steadier figure on a loaded machine.
// Rows, measured interleaved query by query (so that load noise hits them alike; round 0 warms up, then
// --rounds measured rounds; with --graphs, the engine and grid rows once per graph of the same data, each in a
// namespace of its own, labelled by the graph; the usearch and "alone" rows are the first graph's):
//   usearch ef=E          usearch alone, top 10 straight from the graph (quantized distances), ef = E
//   engine (default)      VectorIndex.query with the default search options (planner + exact re-rank)
//   engine C:R[:E]        the same with the planner's floors set to annCandidates=C, annRerank=R (and the breadth's
//                         growth exponent annBreadthExponent=E: C × (n / 100k)^E candidates)
//   graph E → re-rank R   (--grid) the graph asked for E candidates, the first R of them re-ranked exactly
//   --calibrate=T         first the store's breadth calibration for target T (engine calibrateBreadth, on this
//                         thread, timed) of the first graph's namespace: the default row then plans with its
//                         multiplier, a row `engine rule (×1)` without it (the before), the C:R rows at
//                         multiplier 1 (C candidates, R re-ranked: the real recall of each breadth the
//                         calibration estimated), and --grid rows (the graph asked for E, R re-ranked) give the
//                         rule's and the calibrated breadths side by side
//   graph alone / re-rank alone  the two halves of the default plan: ann.search for its candidates, and the
//                         exact scores of the first R of them (pread + dot product)
import { parseQueryRequest } from '@conifer/contracts';
import { calibrateBreadth, DEFAULT_ANN_PARAMS, DEFAULT_SEARCH_OPTIONS, planQuery, TopK, UsearchAnn, VectorIndex } from '@conifer/engine';
import type * as Engine from '@conifer/engine';
import { rng } from '@conifer/test-utils';
import { openGraphBytes } from '@conifer/vector-store';
import { load, PreadSegment, recallData, type RecallDataset } from './recall-data.ts';
import { commandLine } from './util.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 100_000);
const DIM = Number(args[1] ?? 768);
const QUERIES = Number(args[2] ?? 200);
const DATA = (args[3] ?? 'bench') as RecallDataset;
const DIR = flags.dir ?? '/tmp/conifer-recall';
const list = (s: string | undefined, d: number[]): number[] => (s === undefined ? d : s === '' ? [] : s.split(',').map(Number));
const EFS = list(flags.efs, [64, 128, 256]);
const ENGINE = (flags.engine ?? '100:10,200:64,400:64').split(',').filter((e) => e !== '').map((e) => e.split(':').map(Number) as [number, number, number?]);
const ROUNDS = Number(flags.rounds ?? 1);
const K = 10;

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const data = recallData(DATA, N, DIM, QUERIES, DIR, K);
const { queries, truth } = data;
const GRAPHS = flags.graphs === undefined ? [''] : flags.graphs.split(',');
const graphFileOf = (label: string): string => (label === '' ? data.graphFile : `${DIR}/${DATA}-${N}x${DIM}.${label}.usearch`);

// The engine as the store serves it after a restart: records restored with their norms, values read from the
// values file, graph viewed from its file (one namespace per graph, named by its label).
const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' });
const segment = new PreadSegment(`${DIR}/${DATA}-${N}x${DIM}.values.f32`, DIM, N);
const norms: number[] = [];
for (let j = 0; j < N; j++) {
  let s = 0;
  for (let d = 0; d < DIM; d++) s += data.values[j * DIM + d]! * data.values[j * DIM + d]!;
  norms.push(Math.sqrt(s));
}
const placed = norms.map((norm, slot) => ({ slot, id: `v${slot}`, norm }));
for (const label of GRAPHS) {
  const ns = index.namespaces.obtain(label);
  ns.attachSegment(segment, N);
  index.restore(label, placed);
  // The file's own connectivity applies (usearch reads it from the file's header).
  ns.installAnn(UsearchAnn.view(graphFileOf(label), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1), N);
}
placed.length = 0;
const ns = index.namespaces.get(GRAPHS[0]!)!;
if (flags.calibrate !== undefined) {
  const target = Number(flags.calibrate);
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const bytes = openGraphBytes(graphFileOf(GRAPHS[0]!));
  const result = calibrateBreadth(ns, 'cosine', index.search, target, bytes)!;
  bytes.close();
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `calibration (target ${target}, ${result.method}): multiplier ${result.scale}, estimated recall ${result.recall.toFixed(4)}; tried ${result.tried
      .map((t) => `${t.scale}×(${t.candidates}:${t.rerank})=${t.recall.toFixed(4)}±${t.stderr.toFixed(4)}`)
      .join(' ')}; ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ${(performance.now() - wall0).toFixed(0)} ms wall; load ${load()}`,
  );
}
const planned = planQuery(ns, { vector: queries[0], hasSparse: false, filter: undefined, topK: K }, index.search);
const defaultK = planned.kind === 'ann' ? planned.candidates : 0;
const defaultR = planned.kind === 'ann' ? planned.rerank : 0;
console.log(`${DATA} ${N} x ${DIM}, ${QUERIES} queries; graphs ${GRAPHS.map(graphFileOf).join(', ')}; default plan ${JSON.stringify(planned)}; load ${load()}`);

type Case = { name: string; run: (q: Float32Array, qi: number) => number[] | undefined };
// The queries as the store's JSON parse hands them over (number arrays), made once: Array.from of a 768-d Float32Array
// costs 20–75 µs, which the engine rows used to include.
const queryArrays = queries.map((q) => Array.from(q));
// `scale`: the breadth multiplier this case plans with instead of the namespace's calibrated one (restored after).
const engine = (namespace: string, options: Partial<typeof DEFAULT_SEARCH_OPTIONS>, scale?: number) => (_q: Float32Array, qi: number): number[] => {
  delete index.search.annBreadthExponent; // not in the defaults: a case's own must not stay for the next
  Object.assign(index.search, DEFAULT_SEARCH_OPTIONS, options);
  const target = index.namespaces.get(namespace)!;
  const calibrated = target.annCalibration;
  if (scale !== undefined) target.setAnnCalibration({ scale, recall: 0, size: target.ann?.size ?? 0 });
  try {
    const result = index.query(parseQueryRequest({ vector: queryArrays[qi]!, topK: K, namespace }));
    return result.matches.map((m) => Number(m.id.slice(1)));
  } finally {
    if (scale !== undefined && calibrated !== undefined) target.setAnnCalibration(calibrated);
  }
};
const cases: Case[] = [];
for (const ef of EFS) {
  const ann = UsearchAnn.view(graphFileOf(GRAPHS[0]!), 'cosine', DIM, { ...DEFAULT_ANN_PARAMS, expansionSearch: ef }, 1);
  cases.push({ name: `usearch alone ef=${ef}`, run: (q) => Array.from(ann.search(q, K)) });
}
// --base-engine=<another build's packages/engine/dist/index.js>: that build's engine too (before/after), its own
// index over the same records, values file and graph file, its default search options: row "base engine default".
if (flags['base-engine'] !== undefined) {
  const base = (await import(flags['base-engine'])) as typeof Engine;
  const baseIndex = new base.VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' });
  const baseNs = baseIndex.namespaces.obtain('');
  baseNs.attachSegment(segment, N);
  baseIndex.restore('', norms.map((norm, slot) => ({ slot, id: `v${slot}`, norm })));
  const baseAnn = base.UsearchAnn.view(graphFileOf(GRAPHS[0]!), 'cosine', DIM, base.DEFAULT_ANN_PARAMS, 1);
  // The same native index (one mapping of the graph file) as this build's engine rows: a mapping of its own,
  // used by one row only, stays colder in the page tables and measured 0.3 ms slower at 1M × 128.
  (baseAnn as unknown as { index: unknown }).index = (ns.ann as unknown as { index: unknown }).index;
  baseNs.installAnn(baseAnn, N);
  cases.push({
    name: 'base engine default',
    run: (_q, qi) => baseIndex.query(parseQueryRequest({ vector: queryArrays[qi]!, topK: K })).matches.map((m) => Number(m.id.slice(1))),
  });
}
// --loaded: the same searches on a copy of the first graph loaded into (anonymous) memory rather than viewed,
// e.g. with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 to see what transparent huge pages would give the graph walk.
if (flags.loaded !== undefined) {
  for (const ef of EFS) {
    const ann = UsearchAnn.load(graphFileOf(GRAPHS[0]!), 'cosine', DIM, { ...DEFAULT_ANN_PARAMS, expansionSearch: ef }, 1);
    cases.push({ name: `usearch alone, loaded, ef=${ef}`, run: (q) => Array.from(ann.search(q, K)) });
  }
  if (defaultK > 0) {
    const ann = UsearchAnn.load(graphFileOf(GRAPHS[0]!), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
    cases.push({ name: `graph alone, loaded, k=${defaultK}`, run: (q) => void ann.search(q, defaultK) });
  }
}
for (const label of GRAPHS) {
  const tag = GRAPHS.length > 1 ? `[${label || 'default'}] ` : '';
  cases.push({ name: `${tag}engine default (${defaultK}:${defaultR})`, run: engine(label, {}) });
  // With --calibrate: the rule alone (multiplier 1), the before of the calibrated default, and the C:R rows at
  // multiplier 1 too (their C and R as given), so that the calibrated breadth meets the real recall of each.
  const ruleScale = flags.calibrate === undefined ? undefined : 1;
  if (ruleScale !== undefined) cases.push({ name: `${tag}engine rule (×1)`, run: engine(label, {}, ruleScale) });
  for (const [c, r, e] of ENGINE) {
    const options = e === undefined ? { annCandidates: c, annRerank: r } : { annCandidates: c, annRerank: r, annBreadthExponent: e };
    cases.push({ name: `${tag}engine ${c}:${r}${e === undefined ? '' : `:${e}`}`, run: engine(label, options, ruleScale) });
  }
  // Graph breadth and re-rank count apart: ask the graph for E candidates (usearch's ef = max(expansion, E)),
  // score the first R of them (the graph's own, quantized order) exactly, keep the best 10.
  const gns = index.namespaces.get(label)!;
  for (const pair of flags.grid === undefined || flags.grid === '' ? [] : flags.grid.split(',')) {
    const graph = gns.ann!;
    const [e, r] = pair.split(':').map(Number) as [number, number];
    cases.push({
      name: `${tag}graph ${e} → re-rank ${r}`,
      run: (q) => {
        const scorer = gns.scorer('cosine', q, undefined);
        const found = graph.search(q, e);
        const top = new TopK(K);
        for (let i = 0; i < Math.min(r, found.length); i++) top.push(scorer(found[i]!), found[i]!);
        return top.sorted().map((m) => m.slot);
      },
    });
  }
}
if (defaultK > 0) {
  const graph = ns.ann!;
  cases.push({ name: `graph alone k=${defaultK}`, run: (q) => void graph.search(q, defaultK) });
  // The default plan's re-ranked candidates per query, found once: that row times the exact scoring alone.
  const found = queries.map((q) => graph.search(q, defaultK).subarray(0, defaultR));
  cases.push({
    name: `re-rank alone ${defaultR}`,
    run: (q, qi) => {
      const scorer = ns.scorer('cosine', q, undefined);
      let s = 0;
      for (const slot of found[qi]!) s += scorer(slot);
      return Number.isNaN(s) ? [] : undefined;
    },
  });
}

// The process's CPU time in ns: getrusage(RUSAGE_SELF) sums each thread's exact run time, whereas
// RUSAGE_THREAD (process.threadCpuUsage) and /proc/thread-self/schedstat move in whole scheduler ticks here.
// The other threads (GC helpers) are near idle: the queries run on the main thread (usearch too, one query).
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

const stats = cases.map(() => ({ times: [] as number[], cpu: [] as number[], hits: 0, total: 0 }));
const startLoad = load();
const order = cases.map((_, i) => i);
const shuffle = rng(5);
for (let round = 0; round <= ROUNDS; round++) {
  for (let qi = 0; qi < QUERIES; qi++) {
    const q = queries[qi]!;
    const want = truth[qi]!;
    const wantSet = new Set(want.slots);
    // Ties at the cut count as hits (the reference's order among equal scores is arbitrary).
    const cut = want.scores[K - 1]! - 1e-6;
    // The cases run in a new random order for every query: a case that always ran after the same one
    // would always find the caches as that one left them (after usearch alone, which maps the graph
    // file a second time and has its own search buffers, an engine case measured ~1 ms more at 1M × 128).
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const c of order) {
      const cpu = cpuNs();
      const t = performance.now();
      const got = cases[c]!.run(q, qi);
      const ms = performance.now() - t;
      const used = cpuNs() - cpu;
      if (round === 0) continue;
      const st = stats[c]!;
      st.times.push(ms);
      st.cpu.push(used / 1e6);
      if (got === undefined) continue;
      for (const slot of got) {
        if (wantSet.has(slot)) st.hits++;
        else {
          let s = 0;
          let a = 0;
          let b = 0;
          for (let d = 0; d < DIM; d++) {
            const x = q[d]!;
            const y = data.values[slot * DIM + d]!;
            s += x * y;
            a += x * x;
            b += y * y;
          }
          if (s / Math.sqrt(a * b) >= cut) st.hits++;
        }
      }
      st.total += K;
    }
  }
}
console.table(
  cases.map((c, i) => {
    const st = stats[i]!;
    return { case: c.name, 'recall@10': st.total > 0 ? (st.hits / st.total).toFixed(3) : '', p50: pct(st.times, 50).toFixed(3), p99: pct(st.times, 99).toFixed(3), 'cpu p50': pct(st.cpu, 50).toFixed(3), 'cpu mean': (st.cpu.reduce((a, b) => a + b, 0) / st.cpu.length).toFixed(3) };
  }),
);
console.log(`load ${startLoad} → ${load()}`);
segment.close();
