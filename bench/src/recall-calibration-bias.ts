#!/usr/bin/env -S node --experimental-strip-types
// The breadth calibration's held-out estimate against real queries on the same graph, with their standard errors
// (issue 12 part 3; engine search/calibrate.ts, ann/graph-file.ts). Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types --max-old-space-size=8192 bench/src/recall-calibration-bias.ts [n=1000000] [dim=128]
//     [--dir=/tmp/conifer-recall] [--samples=1000] [--queries=1000] [--scales=0.5,0.75,1,1.5] [--replay=100] [--truth-only]
// (--truth-only: the exact answers alone, cached in --dir for the next run, e.g. while the graph is still building)
// Data and graph from bench/src/recall-data.ts (`bench` data, its n-row graph; a prefix size works too). Per breadth
// multiplier (planned as the engine plans it: rule candidates × multiplier, annRerank of them re-ranked):
//   held-out   --samples graph members as queries, each walked with its own node left out (the calibration's
//              estimate, UsearchGraphFile.search with skip), truth = its exact top 10 among the other n − 1
//   real       --queries new draws of makeDataset's query distribution (its makeQueries: the first 200 are
//              recall-data's), asked of usearch itself, truth = their exact top 10 (usearch's SIMD brute force)
//   replay     the first --replay real queries through the JS replay without a left-out node: must equal `real`
//              (else the replay, not the sampling, separates the two)
// Recall counts the true top 10 among the re-ranked candidates (what the exact re-rank then keeps), as the
// calibration counts it. Standard errors are over queries (one query's 10 neighbours are not independent).
import { annRerank, DEFAULT_ANN_PARAMS, DEFAULT_SEARCH_OPTIONS, plannedCandidates, UsearchAnn, UsearchGraphFile } from '@conifer/engine';
import { makeDataset, rng } from '@conifer/test-utils';
import { openGraphBytes } from '@conifer/vector-store';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { recallData, log } from './recall-data.ts';
import { commandLine } from './util.ts';
import { exactTop, hitsOf, summary } from './recall-estimate.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 1_000_000);
const DIM = Number(args[1] ?? 128);
const DIR = flags.dir ?? '/tmp/conifer-recall';
const SAMPLES = Number(flags.samples ?? 1000);
const QUERIES = Number(flags.queries ?? 1000);
const SCALES = (flags.scales ?? '0.5,0.75,1,1.5').split(',').map(Number);
const REPLAY = Number(flags.replay ?? 100);
const K = 10;


// --truth-only: only the exact answers, saved for a later run (the graph may still be building). Never builds a
// graph (recall-data.ts does that).
const TRUTH_ONLY = 'truth-only' in flags;
const data = recallData('bench', N, DIM, 200, DIR, K, 'truth');
if (!TRUTH_ONLY && !existsSync(data.graphFile)) throw new Error(`${data.graphFile}: no graph (bench/src/recall-data.ts builds it)`);
const values = data.values.subarray(0, N * DIM);
const queries = makeDataset({ n: 0, dim: DIM }).makeQueries(QUERIES);
for (let i = 0; i < Math.min(200, QUERIES); i++) {
  if (queries[i]!.some((x, d) => x !== data.queries[i]![d])) throw new Error(`query ${i} differs from recall-data's`);
}

const random = rng(N + 7);
const sampleSlots = new Set<number>();
while (sampleSlots.size < SAMPLES) sampleSlots.add(Math.floor(random() * N));
const slots = [...sampleSlots];
const samples = slots.map((s) => values.slice(s * DIM, (s + 1) * DIM));
const exactFile = `${DIR}/bench-${N}x${DIM}.bias-${SAMPLES}-${QUERIES}.json`;
let exact: { samples: number[][]; queries: number[][] };
if (existsSync(exactFile)) exact = JSON.parse(readFileSync(exactFile, 'utf8')) as typeof exact;
else {
  log(`exact answers: ${SAMPLES} samples, ${QUERIES} queries over ${N} x ${DIM}`);
  exact = { samples: exactTop(values, DIM, samples, K + 1), queries: exactTop(values, DIM, queries, K) };
  writeFileSync(exactFile, JSON.stringify(exact));
}
if (TRUTH_ONLY) process.exit(0);
const sampleTruth = exact.samples.map((top, i) => new Set(top.filter((s) => s !== slots[i]).slice(0, K)));
const queryTruth = exact.queries.map((top) => new Set(top));

const ann = UsearchAnn.view(data.graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
const bytes = openGraphBytes(data.graphFile);
const graph = new UsearchGraphFile(bytes, 2 ** 31 - 1);
bytes.close();
const expansion = DEFAULT_ANN_PARAMS.expansionSearch;
// The graph's node of each sample (node ≠ slot when the graph was built by several threads).
const nodeOf = graph.nodesOf(slots);
let moved = 0;
for (const s of slots) if (nodeOf.get(s) !== s) moved++;
log(`${moved} of ${SAMPLES} samples sit in a node other than their slot`);

const rows = [];
for (const scale of SCALES) {
  const candidates = plannedCandidates(DEFAULT_SEARCH_OPTIONS, K, N, N, DIM, scale);
  const rerank = annRerank(DEFAULT_SEARCH_OPTIONS, K, candidates, scale);
  const t0 = performance.now();
  const held = slots.map((self, i) => hitsOf(graph.search(samples[i]!, candidates, expansion, nodeOf.get(self) ?? -1), sampleTruth[i]!, rerank, self));
  const heldMs = (performance.now() - t0) / SAMPLES;
  const real = queries.map((q, i) => hitsOf(ann.search(q, candidates), queryTruth[i]!, rerank));
  const replay = queries.slice(0, REPLAY).map((q, i) => hitsOf(graph.search(q, candidates, expansion), queryTruth[i]!, rerank));
  const h = summary(held);
  const r = summary(real);
  const r200 = summary(real.slice(0, 200));
  const rp = summary(replay);
  const rPrefix = summary(real.slice(0, REPLAY));
  // By insertion time (slots are added in order): a sample inserted early had most of its neighbours inserted
  // after it, routed through it and linked to it; one inserted late found them in place, as a real query does.
  const early = summary(held.filter((_, i) => slots[i]! < N / 2));
  const late = summary(held.filter((_, i) => slots[i]! >= N / 2));
  rows.push({
    scale,
    'candidates:rerank': `${candidates}:${rerank}`,
    'held-out': `${h.mean.toFixed(4)} ± ${h.se.toFixed(4)}`,
    real: `${r.mean.toFixed(4)} ± ${r.se.toFixed(4)}`,
    'real (first 200)': r200.mean.toFixed(4),
    'held − real': `${(h.mean - r.mean).toFixed(4)} ± ${Math.hypot(h.se, r.se).toFixed(4)}`,
    [`replay/real (first ${REPLAY})`]: `${rp.mean.toFixed(4)}/${rPrefix.mean.toFixed(4)}`,
    'held-out early/late half': `${early.mean.toFixed(4)}/${late.mean.toFixed(4)}`,
    'walk ms': heldMs.toFixed(2),
  });
  log(`scale ${scale} done: ${JSON.stringify(rows[rows.length - 1])}`);
}
console.log(`bench ${N} x ${DIM}, graph ${data.graphFile}; ${SAMPLES} held-out samples, ${QUERIES} real queries`);
console.table(rows);
