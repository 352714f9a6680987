#!/usr/bin/env -S node --expose-gc --experimental-strip-types
// The two usearch bindings on one saved graph (packages/engine/README.md, "The compiled usearch binding"): each
// views the same file, then the same searches run through both in interleaved rounds. Per binding: the CPU time of
// a `view` on this thread (the event loop's cost of opening a published graph) and of a search (process.cpuUsage:
// this thread), medians over rounds, and whether every search returned the same slots in the same order.
// Not part of `npm test` or `npm run bench`.
//   node --expose-gc --experimental-strip-types bench/src/binding-ab.ts [n=1000000] [dim=128] [--kind=bench|hard]
//     [--dir=/tmp/conifer-pages] [--queries=300] [--candidates=608] [--rounds=5] [--graph=<a saved graph file>]
// The graph is built once (UsearchAnn defaults, 2 threads, with the compiled binding when built) and cached in
// --dir, as graph-pages.ts does; --graph times a graph saved elsewhere (e.g. a store's published file), with n only
// sizing the generated set the queries are drawn beside.
import { annBinding, DEFAULT_ANN_PARAMS, selectAnnBinding, UsearchAnn, type AnnBindingKind } from '@conifer/engine';
import type { DatasetKind } from '@conifer/test-utils';
import { cachedGraph } from './graph-cache.ts';
import { load, log } from './recall-data.ts';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 1_000_000);
const DIM = Number(args[1] ?? 128);
const KIND = (flags.kind ?? 'bench') as DatasetKind;
const QUERIES = Number(flags.queries ?? 300);
const CANDIDATES = Number(flags.candidates ?? 608);
const ROUNDS = Number(flags.rounds ?? 5);

const gc = (globalThis as { gc?: () => void }).gc;

if (annBinding().kind !== 'compiled') throw new Error(`the compiled binding is not available: ${annBinding().fallbackReason}`);
const { data, graphFile } = cachedGraph(KIND, N, DIM, flags.dir ?? '/tmp/conifer-pages', log, flags.graph);
const queries = data.makeQueries(QUERIES);
const kinds: AnnBindingKind[] = ['prebuilt', 'compiled'];

const viewCpu = new Map<AnnBindingKind, number[]>(kinds.map((k) => [k, []]));
const searchCpu = new Map<AnnBindingKind, number[]>(kinds.map((k) => [k, []]));
let reference: string[] | undefined;
let differing = 0;
for (let round = 0; round < ROUNDS; round++) {
  for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
    selectAnnBinding(kind);
    gc?.();
    const v0 = process.cpuUsage();
    const graph = UsearchAnn.view(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
    const v = process.cpuUsage(v0);
    viewCpu.get(kind)!.push((v.user + v.system) / 1000);
    const answers: string[] = [];
    const s0 = process.cpuUsage();
    for (const q of queries) answers.push(graph.search(q, CANDIDATES).join());
    const s = process.cpuUsage(s0);
    searchCpu.get(kind)!.push((s.user + s.system) / QUERIES);
    if (reference === undefined) reference = answers;
    else differing += answers.filter((a, i) => a !== reference![i]).length;
    log(`round ${round + 1} ${kind}: view ${((v.user + v.system) / 1000).toFixed(1)} ms, search ${((s.user + s.system) / QUERIES).toFixed(0)} µs`);
  }
}
const fmt = (xs: number[], digits: number): string => `${median(xs).toFixed(digits)} (${xs.map((x) => x.toFixed(digits)).join(' ')})`;
console.log(`${KIND} ${N} x ${DIM}, ${QUERIES} queries, ${CANDIDATES} candidates, ${ROUNDS} rounds, load ${load()}`);
for (const kind of kinds) console.log(`${kind}: view CPU ${fmt(viewCpu.get(kind)!, 1)} ms; search CPU ${fmt(searchCpu.get(kind)!, 0)} µs`);
console.log(`compiled / prebuilt search CPU: ${(median(searchCpu.get('compiled')!) / median(searchCpu.get('prebuilt')!)).toFixed(3)}`);
console.log(differing === 0 ? 'answers: identical in every round' : `answers: ${differing} searches differed from the first round's`);
