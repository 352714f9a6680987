#!/usr/bin/env -S node --experimental-strip-types
// Does a breadth calibrated at one graph size hold once the graph has grown (issue 12 parts 3 and 8)? The store's
// builder calibrates a graph when it is published and again once it has doubled (engine search/calibrate.ts
// calibrationDueAt), so a graph built to 1M after its ingest was last calibrated somewhere between 500k and 1M and
// serves at 1M with that multiplier of the rule (planner annBreadth: candidates ∝ size^e). Not part of `npm test`
// or `npm run bench`.
//   node --experimental-strip-types --max-old-space-size=6144 bench/src/recall-calibration-growth.ts [final=400000]
//     [dim=768] [--from=final/2] [--kind=bench|hard] [--dir=/tmp/conifer-recall] [--unseen=1000] [--queries=1000]
//     [--scales=0.5,0.625,0.75,0.875,1,1.5] [--calibrate=0.98] [--repeats=4] [--small-only]
// The data: makeDataset's final + unseen rows of `kind`. One graph (the engine's UsearchAnn with its defaults, in
// slot order as the store builds) is saved when it holds the first --from rows (S), then grown to the first `final`
// rows (F); both files are cached in --dir. At each size, per multiplier planned as the engine plans: recall@10 of
// the next --unseen rows (records that graph has not seen, asked of usearch: the store's `unseen` estimate) and of
// --queries new draws of the query distribution (real queries), each against its exact top 10 among that graph's
// rows (usearch's SIMD brute force, ≤ 50 queries per call). The question is real@F against unseen@S.
// --calibrate=T: the engine's BreadthCalibrator at S and at F (calibrationSamples of the size, disjoint unseen
// subsets, --repeats times each): the multiplier chosen, its estimate, and real recall at F with it.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { annRerank, BreadthCalibrator, calibrationSamples, DEFAULT_ANN_PARAMS, DEFAULT_SEARCH_OPTIONS, plannedCandidates, UsearchAnn } from '@conifer/engine';
import { makeDataset, type DatasetKind } from '@conifer/test-utils';
import { log } from './recall-data.ts';
import { commandLine } from './util.ts';
import { exactTop, hitsOf, summary } from './recall-estimate.ts';

const { args, flags } = commandLine();
const F = Number(args[0] ?? 400_000);
const DIM = Number(args[1] ?? 768);
const S = Number(flags.from ?? Math.floor(F / 2));
const KIND = (flags.kind ?? 'bench') as DatasetKind;
const DIR = flags.dir ?? '/tmp/conifer-recall';
const UNSEEN = Number(flags.unseen ?? 1000);
const QUERIES = Number(flags.queries ?? 1000);
const SCALES = (flags.scales ?? '0.5,0.625,0.75,0.875,1,1.5').split(',').map(Number);
const TARGET = flags.calibrate === undefined ? 0 : Number(flags.calibrate);
const REPEATS = Number(flags.repeats ?? 4);
const K = 10;

const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

log(`generating ${KIND} ${F + UNSEEN} x ${DIM}`);
const data = makeDataset({ n: F + UNSEEN, dim: DIM, kind: KIND });
const values = data.values;
const row = (slot: number): Float32Array => values.slice(slot * DIM, (slot + 1) * DIM);
const realQueries = data.makeQueries(QUERIES);

const base = `${DIR}/${KIND}-${F + UNSEEN}x${DIM}`;
const fileOf = (size: number): string => `${base}.first-${size}.usearch`;

/** Builds (or finds cached) the graphs of the first S and the first F rows, one grown from the other. */
function build(): void {
  if (existsSync(fileOf(S)) && existsSync(fileOf(F))) return;
  const ann = existsSync(fileOf(S)) ? UsearchAnn.load(fileOf(S), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1) : new UsearchAnn('cosine', DIM, DEFAULT_ANN_PARAMS);
  const t0 = performance.now();
  const c0 = cpuSeconds();
  for (let from = ann.size; from < F; ) {
    const to = Math.min(from < S ? S : F, from + 10_000);
    ann.add(Int32Array.from({ length: to - from }, (_, i) => from + i), values.subarray(from * DIM, to * DIM), 0);
    from = to;
    if (to === S || to === F) {
      ann.save(`${fileOf(to)}.tmp`);
      renameSync(`${fileOf(to)}.tmp`, fileOf(to));
    }
    if (to % 50_000 === 0 || to === S || to === F) log(`graph ${to}/${F}, ${((performance.now() - t0) / 1000).toFixed(0)} s, ${(cpuSeconds() - c0).toFixed(0)} s CPU`);
  }
}

interface Stage {
  size: number;
  ann: UsearchAnn;
  unseenSlots: number[];
  unseenQueries: Float32Array[];
  unseenTruth: Set<number>[];
  realTruth: Set<number>[];
}

function stage(size: number): Stage {
  const unseenSlots = Array.from({ length: UNSEEN }, (_, i) => size + i);
  const unseenQueries = unseenSlots.map(row);
  const exactFile = `${base}.first-${size}.exact-${UNSEEN}-${QUERIES}.json`;
  let exact: { unseen: number[][]; real: number[][] };
  if (existsSync(exactFile)) exact = JSON.parse(readFileSync(exactFile, 'utf8')) as typeof exact;
  else {
    log(`exact answers: ${UNSEEN} unseen, ${QUERIES} real over ${size} x ${DIM}`);
    const rows = values.subarray(0, size * DIM);
    exact = { unseen: exactTop(rows, DIM, unseenQueries, K), real: exactTop(rows, DIM, realQueries, K) };
    writeFileSync(exactFile, JSON.stringify(exact));
  }
  const ann = UsearchAnn.view(fileOf(size), 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
  return { size, ann, unseenSlots, unseenQueries, unseenTruth: exact.unseen.map((t) => new Set(t)), realTruth: exact.real.map((t) => new Set(t)) };
}

const plan = (size: number, scale: number): { candidates: number; rerank: number } => {
  const candidates = plannedCandidates(DEFAULT_SEARCH_OPTIONS, K, size, size, DIM, scale);
  return { candidates, rerank: annRerank(DEFAULT_SEARCH_OPTIONS, K, candidates, scale) };
};
const recallOf = (st: Stage, queries: Float32Array[], truth: Set<number>[], scale: number): { mean: number; se: number } => {
  const { candidates, rerank } = plan(st.size, scale);
  return summary(queries.map((q, i) => hitsOf(st.ann.search(q, candidates), truth[i]!, rerank)));
};
const realMemo = new Map<string, { mean: number; se: number }>();
const real = (st: Stage, scale: number): { mean: number; se: number } => {
  const key = `${st.size}:${scale}`;
  let r = realMemo.get(key);
  if (r === undefined) realMemo.set(key, (r = recallOf(st, realQueries, st.realTruth, scale)));
  return r;
};
const pm = (s: { mean: number; se: number }): string => `${s.mean.toFixed(4)} ± ${s.se.toFixed(4)}`;
const diff = (a: { mean: number; se: number }, b: { mean: number; se: number }): string =>
  `${(a.mean - b.mean >= 0 ? '+' : '') + (a.mean - b.mean).toFixed(4)} ± ${Math.hypot(a.se, b.se).toFixed(4)}`;

/** The engine's calibration of `st` on `count` unseen rows from its pool (repeat r: the r-th disjoint subset). */
function calibrate(st: Stage, r: number): { scale: number; recall: number; stderr: number; tried: string; cpu: number } | undefined {
  const count = calibrationSamples(st.size);
  if ((r + 1) * count > UNSEEN) return undefined;
  const slots = st.unseenSlots.slice(r * count, (r + 1) * count);
  const queries = new Float32Array(slots.length * DIM);
  slots.forEach((slot, i) => queries.set(values.subarray(slot * DIM, (slot + 1) * DIM), i * DIM));
  const calibrator = new BreadthCalibrator('cosine', DIM, { queries, slots: Int32Array.from(slots), unseen: true });
  const c0 = cpuSeconds();
  for (let from = 0; from < st.size; from += 8192) {
    const to = Math.min(st.size, from + 8192);
    calibrator.addRows(Int32Array.from({ length: to - from }, (_, i) => from + i), values.slice(from * DIM, to * DIM), 2);
  }
  const result = calibrator.evaluate(st.ann, DEFAULT_SEARCH_OPTIONS, TARGET);
  const chosen = result.tried[result.tried.length - 1]!;
  return {
    scale: result.scale,
    recall: result.recall,
    stderr: chosen.stderr,
    tried: result.tried.map((t) => `${t.scale}:${t.recall.toFixed(4)}`).join(' '),
    cpu: cpuSeconds() - c0,
  };
}

// --small-only: the small graph's figures alone, from its cached file (while another run still grows the graph).
if (flags['small-only'] === undefined) build();
const small = stage(S);
const rows: Record<string, string | number>[] = [];
const calibrations: Record<string, string | number>[] = [];
// The small graph's figures first: they are printed before the big graph's exact answers are computed.
const smallAt = new Map<number, { unseen: { mean: number; se: number }; real: { mean: number; se: number } }>();
for (const scale of SCALES) {
  const unseen = recallOf(small, small.unseenQueries, small.unseenTruth, scale);
  smallAt.set(scale, { unseen, real: real(small, scale) });
  log(`S=${S} ×${scale} (${JSON.stringify(plan(S, scale))}): unseen ${pm(unseen)}, real ${pm(real(small, scale))}`);
}
const calibratedSmall = [];
if (TARGET > 0) {
  for (let r = 0; r < REPEATS; r++) {
    const c = calibrate(small, r);
    if (c === undefined) break;
    calibratedSmall.push(c);
    log(`calibration at ${S}: ×${c.scale} at ${c.recall.toFixed(4)} ± ${c.stderr.toFixed(4)} (${c.tried}), ${c.cpu.toFixed(1)} s CPU`);
  }
}
if (flags['small-only'] !== undefined) process.exit(0);
const big = stage(F);
for (const scale of SCALES) {
  const at = smallAt.get(scale)!;
  const unseenF = recallOf(big, big.unseenQueries, big.unseenTruth, scale);
  const realF = real(big, scale);
  rows.push({
    scale,
    [`plan ${S}`]: `${plan(S, scale).candidates}:${plan(S, scale).rerank}`,
    [`unseen ${S}`]: pm(at.unseen),
    [`real ${S}`]: pm(at.real),
    [`plan ${F}`]: `${plan(F, scale).candidates}:${plan(F, scale).rerank}`,
    [`unseen ${F}`]: pm(unseenF),
    [`real ${F}`]: pm(realF),
    [`unseen ${S} − real ${F}`]: diff(at.unseen, realF),
    [`unseen ${F} − real ${F}`]: diff(unseenF, realF),
  });
  log(`F=${F} ${JSON.stringify(rows[rows.length - 1])}`);
}
if (TARGET > 0) {
  for (const c of calibratedSmall) {
    calibrations.push({ at: S, scale: c.scale, estimate: `${c.recall.toFixed(4)} ± ${c.stderr.toFixed(4)}`, [`real ${S}`]: pm(real(small, c.scale)), [`real ${F}`]: pm(real(big, c.scale)), tried: c.tried, 'cpu s': c.cpu.toFixed(1) });
  }
  for (let r = 0; r < REPEATS; r++) {
    const c = calibrate(big, r);
    if (c === undefined) break;
    calibrations.push({ at: F, scale: c.scale, estimate: `${c.recall.toFixed(4)} ± ${c.stderr.toFixed(4)}`, [`real ${S}`]: '', [`real ${F}`]: pm(real(big, c.scale)), tried: c.tried, 'cpu s': c.cpu.toFixed(1) });
    log(`calibration at ${F}: ${JSON.stringify(calibrations[calibrations.length - 1])}`);
  }
}
console.log(`${KIND} ${F + UNSEEN} x ${DIM}: graphs of the first ${S} and ${F} rows (one grown from the other); ${UNSEEN} unseen rows after each, ${QUERIES} real queries`);
console.table(rows);
if (calibrations.length > 0) {
  console.log(`calibration to ${TARGET} (calibrationSamples of each size per run, disjoint unseen subsets)`);
  console.table(calibrations);
}
