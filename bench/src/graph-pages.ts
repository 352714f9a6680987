#!/usr/bin/env -S node --experimental-strip-types
// The graph walk's page size (issue 12 part 8: 1M × 768 p50): the store serves a published graph memory-mapped
// from its file (UsearchAnn.view: page-cache pages, 4 KB each), so every node the walk visits in a graph far
// larger than the TLB's reach costs a page walk besides its cache misses. This tool times the same searches on
// the same graph served three ways, interleaved in rounds:
//   view    the file memory-mapped (what the store does)
//   load    a copy in anonymous memory (usearch's own allocation), under the machine's transparent huge page
//           setting (/sys/kernel/mm/transparent_hugepage/enabled: `madvise` leaves usearch's memory on 4 KB pages,
//           `always` lets the kernel back it with 2 MB pages; AnonHugePages below says which happened)
// Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/graph-pages.ts [n=200000] [dim=768] [--kind=bench|hard]
//     [--dir=/tmp/conifer-pages] [--queries=500] [--candidates=400] [--rounds=5] [--graph=<a saved graph file>]
// --graph: time a graph saved elsewhere (a store's published file, e.g. the 1M × 768 bench's) instead of building
// one; n is then only the size of the generated set the queries are drawn beside (the same clusters).
// Per mode and round: CPU time per search (this thread's, process.cpuUsage: load-independent as far as the core's
// caches are) and wall time; medians over rounds. The graph is built once (UsearchAnn defaults, slot order, 2
// threads) and cached in --dir.
import { readFileSync } from 'node:fs';
import { DEFAULT_ANN_PARAMS, UsearchAnn } from '@conifer/engine';
import type { DatasetKind } from '@conifer/test-utils';
import { cachedGraph } from './graph-cache.ts';
import { load, log } from './recall-data.ts';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 200_000);
const DIM = Number(args[1] ?? 768);
const KIND = (flags.kind ?? 'bench') as DatasetKind;
const DIR = flags.dir ?? '/tmp/conifer-pages';
const QUERIES = Number(flags.queries ?? 500);
const CANDIDATES = Number(flags.candidates ?? 400);
const ROUNDS = Number(flags.rounds ?? 5);


const { data, graphFile } = cachedGraph(KIND, N, DIM, DIR, log, flags.graph);
const queries = data.makeQueries(QUERIES);

const thp = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').trim();
const anonHuge = (): string => /AnonHugePages:\s+(\d+ kB)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? '?';
const filePmd = (): string => /FilePmdMapped:\s+(\d+ kB)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? '?';
log(`transparent huge pages: ${thp}; AnonHugePages before: ${anonHuge()}`);

const view = UsearchAnn.view(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
const loaded = UsearchAnn.load(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
log(`opened: AnonHugePages ${anonHuge()}, FilePmdMapped ${filePmd()}`);
const modes: [string, UsearchAnn][] = [
  ['view', view],
  ['load', loaded],
];
// Both answer the same: the same graph.
for (let q = 0; q < 20; q++) {
  const a = view.search(queries[q]!, CANDIDATES);
  const b = loaded.search(queries[q]!, CANDIDATES);
  if (a.length !== b.length || a.some((slot, i) => slot !== b[i])) throw new Error(`query ${q}: view and load differ`);
}

const cpu: Record<string, number[]> = { view: [], load: [] };
const wall: Record<string, number[]> = { view: [], load: [] };
// One warm-up pass each: the page cache and the anonymous copy both resident.
for (const [, ann] of modes) for (const q of queries) ann.search(q, CANDIDATES);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, ann] of round % 2 === 0 ? modes : [...modes].reverse()) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const q of queries) ann.search(q, CANDIDATES);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    cpu[name]!.push(((c1.user + c1.system) / 1000 / QUERIES) * 1000);
    wall[name]!.push(((t1 - t0) / QUERIES) * 1000);
  }
  log(`round ${round + 1}/${ROUNDS}: view ${cpu.view!.at(-1)!.toFixed(0)} µs CPU, load ${cpu.load!.at(-1)!.toFixed(0)} µs CPU per search`);
}
const line = (name: string): string => `${name}: ${median(cpu[name]!).toFixed(0)} µs CPU, ${median(wall[name]!).toFixed(0)} µs wall per search (median of ${ROUNDS} rounds)`;
process.stdout.write(
  `${KIND} ${N} x ${DIM}, ${QUERIES} queries, ${CANDIDATES} candidates, THP ${thp}, AnonHugePages ${anonHuge()}, FilePmdMapped ${filePmd()}, load ${load()}\n` +
    `${line('view')}\n${line('load')}\nload/view CPU: ${(median(cpu.load!) / median(cpu.view!)).toFixed(3)}\n`,
);
