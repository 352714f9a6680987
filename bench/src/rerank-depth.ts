#!/usr/bin/env -S node --experimental-strip-types
// Does the exact re-rank's depth cap recall (issue 12 parts 3 and 8)? Above ×1 of the breadth rule the planner
// re-ranks a fixed `annRerank` of the graph's candidates (planner.ts annRerank), so a wider walk only helps when the
// true neighbours it finds also rise into that many of the graph's first (int8-ordered) answers. This tool asks one
// graph for the planner's candidates at each multiplier and counts recall@10 as the planner would with several
// re-rank depths (a true neighbour among the first R is found, since the re-rank scores them exactly).
// Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/rerank-depth.ts [n=200000] [dim=768] [--kind=bench|hard]
//     [--dir=/tmp/conifer-pages] [--queries=500] [--scales=0.5,1,1.5,2,3] [--depths=40,64,128,256,100000]
// The graph: graph-cache.ts's (shared with graph-pages.ts; built if missing: the engine's UsearchAnn defaults, rows in order, so slot i
// is row i); the truth: usearch's exact top 10 over the same rows.
import { annRerank, DEFAULT_ANN_PARAMS, DEFAULT_SEARCH_OPTIONS, plannedCandidates, UsearchAnn } from '@conifer/engine';
import type { DatasetKind } from '@conifer/test-utils';
import { cachedGraph } from './graph-cache.ts';
import { load, log } from './recall-data.ts';
import { exactTop, hitsOf, summary } from './recall-estimate.ts';
import { commandLine } from './util.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 200_000);
const DIM = Number(args[1] ?? 768);
const KIND = (flags.kind ?? 'bench') as DatasetKind;
const DIR = flags.dir ?? '/tmp/conifer-pages';
const QUERIES = Number(flags.queries ?? 500);
const SCALES = (flags.scales ?? '0.5,1,1.5,2,3').split(',').map(Number);
const DEPTHS = (flags.depths ?? '40,64,128,256,100000').split(',').map(Number);
const K = 10;


const { data, graphFile } = cachedGraph(KIND, N, DIM, DIR, log);
const queries = data.makeQueries(QUERIES);
const graph = UsearchAnn.view(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
log('exact answers');
const truth = exactTop(data.values, DIM, queries, K).map((slots) => new Set(slots));

const header = `| multiplier | candidates | planner's re-rank: recall | ${DEPTHS.map((d) => `re-rank ${d >= N ? 'all' : d}`).join(' | ')} |`;
const rows = [header, `|${' --- |'.repeat(3 + DEPTHS.length)}`];
for (const scale of SCALES) {
  const candidates = plannedCandidates(DEFAULT_SEARCH_OPTIONS, K, N, N, DIM, scale);
  const planned = annRerank(DEFAULT_SEARCH_OPTIONS, K, candidates, scale);
  const answers = queries.map((q) => graph.search(q, candidates));
  const at = (depth: number): string => {
    const { mean, se } = summary(answers.map((found, i) => hitsOf(found, truth[i]!, depth)));
    return `${mean.toFixed(4)} ± ${se.toFixed(4)}`;
  };
  rows.push(`| ×${scale} | ${candidates} | ${planned}: ${at(planned)} | ${DEPTHS.map(at).join(' | ')} |`);
  log(`×${scale} done`);
}
process.stdout.write(`${KIND} ${N} x ${DIM}, ${QUERIES} queries, load ${load()}\n${rows.join('\n')}\n`);
