#!/usr/bin/env -S node --experimental-strip-types
// The breadth calibration's two estimates against real queries on one graph (issue 12 part 3; engine
// search/calibrate.ts): `unseen`, records the graph never saw asked of usearch (what the store does when the
// namespace has a backlog), and `held-out`, the graph's own records each walked with its own node left out (the
// replay, ann/graph-file.ts: the fallback). Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types --max-old-space-size=4096 bench/src/recall-calibration-unseen.ts [n=100000] [dim=768]
//     [--kind=bench|hard] [--dir=/tmp/conifer-recall] [--unseen=1000] [--samples=1000] [--queries=1000]
//     [--scales=0.5,0.75,1,1.5] [--calibrate=0.98] [--repeats=8]
// The data: makeDataset's n rows of `kind` (the bench's data); the graph (built here, cached in --dir, the engine's
// UsearchAnn with its defaults, in slot order as the store builds) holds the first n − unseen rows, so the last
// --unseen rows are records the graph has not seen. Per breadth multiplier, planned as the engine plans (the
// rule's candidates × multiplier, the first annRerank re-ranked), recall@10 against the exact top 10 among the
// graph's rows (usearch's SIMD brute force, ≤ 50 queries per call) for
//   unseen     the last --unseen rows, asked of usearch
//   held-out   --samples of the graph's rows (seeded), each walked by the replay without its own node
//   real       --queries new draws of makeDataset's query distribution, asked of usearch
// Standard errors are over queries (one query's 10 neighbours are found or missed together).
// --calibrate=T: the engine's BreadthCalibrator as the store runs it (calibrationSamples of the graph's size),
// --repeats times on disjoint unseen subsets and on disjoint held-out samples: the multiplier each chose, its
// estimate, and the real queries' recall at that multiplier.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  annRerank,
  BreadthCalibrator,
  calibrationSamples,
  DEFAULT_ANN_PARAMS,
  DEFAULT_SEARCH_OPTIONS,
  plannedCandidates,
  UsearchAnn,
  UsearchGraphFile,
  type CalibrationSample,
} from '@conifer/engine';
import { makeDataset, rng, type DatasetKind } from '@conifer/test-utils';
import { openGraphBytes } from '@conifer/vector-store';
import { log } from './recall-data.ts';
import { commandLine } from './util.ts';
import { exactTop, hitsOf, summary } from './recall-estimate.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 100_000);
const DIM = Number(args[1] ?? 768);
const KIND = (flags.kind ?? 'bench') as DatasetKind;
const DIR = flags.dir ?? '/tmp/conifer-recall';
const UNSEEN = Number(flags.unseen ?? 1000);
const SAMPLES = Number(flags.samples ?? 1000);
const QUERIES = Number(flags.queries ?? 1000);
const SCALES = (flags.scales ?? '0.5,0.75,1,1.5').split(',').map(Number);
const TARGET = flags.calibrate === undefined ? 0 : Number(flags.calibrate);
const REPEATS = Number(flags.repeats ?? 8);
const K = 10;
const G = N - UNSEEN;


log(`generating ${KIND} ${N} x ${DIM}`);
const data = makeDataset({ n: N, dim: DIM, kind: KIND });
const values = data.values;
const graphRows = values.subarray(0, G * DIM);
const row = (slot: number): Float32Array => values.slice(slot * DIM, (slot + 1) * DIM);

const base = `${DIR}/${KIND}-${N}x${DIM}.first-${G}`;
const graphFile = `${base}.usearch`;
if (!existsSync(graphFile)) {
  log(`building the graph of the first ${G} rows`);
  const t0 = performance.now();
  const ann = new UsearchAnn('cosine', DIM, DEFAULT_ANN_PARAMS);
  for (let from = 0; from < G; from += 10_000) {
    const to = Math.min(G, from + 10_000);
    ann.add(Int32Array.from({ length: to - from }, (_, i) => from + i), values.subarray(from * DIM, to * DIM), 0);
    log(`graph ${to}/${G}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  ann.save(`${graphFile}.tmp`);
  renameSync(`${graphFile}.tmp`, graphFile);
}

const random = rng(G + 7);
const chosen = new Set<number>();
while (chosen.size < SAMPLES) chosen.add(Math.floor(random() * G));
const heldSlots = [...chosen];
const unseenSlots = Array.from({ length: UNSEEN }, (_, i) => G + i);
const heldQueries = heldSlots.map(row);
const unseenQueries = unseenSlots.map(row);
const realQueries = data.makeQueries(QUERIES);

const exactFile = `${base}.exact-${SAMPLES}-${UNSEEN}-${QUERIES}.json`;
let exact: { held: number[][]; unseen: number[][]; real: number[][] };
if (existsSync(exactFile)) exact = JSON.parse(readFileSync(exactFile, 'utf8')) as typeof exact;
else {
  log(`exact answers: ${SAMPLES} held-out, ${UNSEEN} unseen, ${QUERIES} real over ${G} x ${DIM}`);
  exact = {
    held: exactTop(graphRows, DIM, heldQueries, K + 1),
    unseen: exactTop(graphRows, DIM, unseenQueries, K),
    real: exactTop(graphRows, DIM, realQueries, K),
  };
  writeFileSync(exactFile, JSON.stringify(exact));
}
const heldTruth = exact.held.map((top, i) => new Set(top.filter((s) => s !== heldSlots[i]).slice(0, K)));
const unseenTruth = exact.unseen.map((top) => new Set(top));
const realTruth = exact.real.map((top) => new Set(top));

const ann = UsearchAnn.view(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
const bytes = openGraphBytes(graphFile);
const graph = new UsearchGraphFile(bytes, 2 ** 31 - 1);
const nodeOf = graph.nodesOf(heldSlots);
const expansion = DEFAULT_ANN_PARAMS.expansionSearch;

const plan = (scale: number): { candidates: number; rerank: number } => {
  const candidates = plannedCandidates(DEFAULT_SEARCH_OPTIONS, K, G, G, DIM, scale);
  return { candidates, rerank: annRerank(DEFAULT_SEARCH_OPTIONS, K, candidates, scale) };
};
const realAt = new Map<number, { mean: number; se: number }>();
const realRecall = (scale: number): { mean: number; se: number } => {
  let r = realAt.get(scale);
  if (r === undefined) {
    const { candidates, rerank } = plan(scale);
    r = summary(realQueries.map((q, i) => hitsOf(ann.search(q, candidates), realTruth[i]!, rerank)));
    realAt.set(scale, r);
  }
  return r;
};
const pm = (s: { mean: number; se: number }): string => `${s.mean.toFixed(4)} ± ${s.se.toFixed(4)}`;
const diff = (a: { mean: number; se: number }, b: { mean: number; se: number }): string =>
  `${(a.mean - b.mean >= 0 ? '+' : '') + (a.mean - b.mean).toFixed(4)} ± ${Math.hypot(a.se, b.se).toFixed(4)}`;

const rows = [];
for (const scale of SCALES) {
  const { candidates, rerank } = plan(scale);
  const unseen = summary(unseenQueries.map((q, i) => hitsOf(ann.search(q, candidates), unseenTruth[i]!, rerank)));
  const held = summary(heldSlots.map((self, i) => hitsOf(graph.search(heldQueries[i]!, candidates, expansion, nodeOf.get(self) ?? -1), heldTruth[i]!, rerank, self)));
  const real = realRecall(scale);
  rows.push({
    scale,
    'candidates:rerank': `${candidates}:${rerank}`,
    unseen: pm(unseen),
    'held-out': pm(held),
    real: pm(real),
    'unseen − real': diff(unseen, real),
    'held-out − real': diff(held, real),
  });
  log(`scale ${scale}: ${JSON.stringify(rows[rows.length - 1])}`);
}
console.log(`${KIND} ${N} x ${DIM}: graph of the first ${G} rows; ${UNSEEN} unseen rows, ${SAMPLES} held-out samples, ${QUERIES} real queries`);
console.table(rows);

if (TARGET > 0) {
  const count = calibrationSamples(G);
  const sampleOf = (slots: number[], unseen: boolean): CalibrationSample => {
    const queries = new Float32Array(slots.length * DIM);
    slots.forEach((slot, i) => queries.set(values.subarray(slot * DIM, (slot + 1) * DIM), i * DIM));
    return { queries, slots: Int32Array.from(slots), ...(unseen ? { unseen } : {}) };
  };
  const calibrations = [];
  for (let r = 0; r < REPEATS; r++) {
    for (const method of ['unseen', 'held-out'] as const) {
      const pool = method === 'unseen' ? unseenSlots : heldSlots;
      if ((r + 1) * count > pool.length) continue;
      const calibrator = new BreadthCalibrator('cosine', DIM, sampleOf(pool.slice(r * count, (r + 1) * count), method === 'unseen'));
      const t0 = process.cpuUsage();
      for (let from = 0; from < G; from += 8192) {
        const to = Math.min(G, from + 8192);
        calibrator.addRows(Int32Array.from({ length: to - from }, (_, i) => from + i), values.slice(from * DIM, to * DIM), 2);
      }
      const result = calibrator.evaluate(ann, DEFAULT_SEARCH_OPTIONS, TARGET, bytes);
      const cpu = process.cpuUsage(t0);
      const real = realRecall(result.scale);
      calibrations.push({
        repeat: r,
        method: result.method,
        scale: result.scale,
        estimate: `${result.recall.toFixed(4)} ± ${result.tried[result.tried.length - 1]!.stderr.toFixed(4)}`,
        real: pm(real),
        'estimate − real': (result.recall - real.mean).toFixed(4),
        tried: result.tried.map((t) => `${t.scale}:${t.recall.toFixed(3)}`).join(' '),
        'cpu s': ((cpu.user + cpu.system) / 1e6).toFixed(1),
      });
      log(`calibration ${JSON.stringify(calibrations[calibrations.length - 1])}`);
    }
  }
  console.log(`calibration to ${TARGET} with ${count} queries per run (disjoint subsets)`);
  console.table(calibrations);
}
bytes.close();
