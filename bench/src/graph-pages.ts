#!/usr/bin/env -S node --experimental-strip-types
// The graph walk's page size (issue 12 parts 3 and 8): every node the walk visits in a graph far larger than the
// TLB's reach costs a page walk besides its cache misses when the graph sits on 4 KB pages. This tool times the
// same searches on the same graph served three ways, interleaved in rounds:
//   view       a fresh copy of the file memory-mapped on the calling thread (UsearchAnn.view), its page cache as the
//              writer left it: 4 KB pages (what the store did before session 16)
//   viewAsync  the file memory-mapped by the compiled binding's viewAsync (what the store does): its page cache
//              dropped and read back through a mapping advised for huge pages, 2 MB pages where the kernel caches
//              the file in large folios (ext4, Linux ≥ 6.16; FilePmdMapped below says how much)
//   load       a copy in anonymous memory (usearch's arenas, which the compiled binding advises for huge pages:
//              AnonHugePages below; usearch's prebuilt one does not, and the machine's THP setting then decides)
// Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/graph-pages.ts [n=200000] [dim=768] [--kind=bench|hard]
//     [--dir=/tmp/conifer-pages] [--queries=500] [--candidates=400] [--rounds=5] [--graph=<a saved graph file>]
// --graph: time a graph saved elsewhere (a store's published file, e.g. the 1M × 768 bench's) instead of building
// one; n is then only the size of the generated set the queries are drawn beside (the same clusters).
// Per mode and round: CPU time per search (this thread's, process.cpuUsage: load-independent as far as the core's
// caches are) and wall time; medians over rounds. The graph is built once (UsearchAnn defaults, slot order, 2
// threads) and cached in --dir; the copy for `view` is made next to it and removed at the end.
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { annBinding, DEFAULT_ANN_PARAMS, UsearchAnn } from '@conifer/engine';
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

// viewAsync first: pages another mapping holds cannot be dropped, so the 4 KB view maps a copy of its own.
const viewAsync = await UsearchAnn.viewAsync(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
log(`viewAsync: FilePmdMapped ${filePmd()}`);
const copy = `${graphFile}.4k-copy`;
copyFileSync(graphFile, copy);
const view = UsearchAnn.view(copy, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
const loaded = UsearchAnn.load(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
rmSync(copy);
log(`opened: AnonHugePages ${anonHuge()}, FilePmdMapped ${filePmd()}`);
const modes: [string, UsearchAnn][] = [
  ['view', view],
  ['viewAsync', viewAsync],
  ['load', loaded],
];
// All answer the same: the same graph.
for (let q = 0; q < 20; q++) {
  const a = view.search(queries[q]!, CANDIDATES);
  for (const [name, ann] of modes) {
    const b = ann.search(queries[q]!, CANDIDATES);
    if (a.length !== b.length || a.some((slot, i) => slot !== b[i])) throw new Error(`query ${q}: view and ${name} differ`);
  }
}

const cpu: Record<string, number[]> = Object.fromEntries(modes.map(([name]) => [name, []]));
const wall: Record<string, number[]> = Object.fromEntries(modes.map(([name]) => [name, []]));
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
  log(`round ${round + 1}/${ROUNDS}: ${modes.map(([name]) => `${name} ${cpu[name]!.at(-1)!.toFixed(0)}`).join(', ')} µs CPU per search`);
}
const line = (name: string): string => `${name}: ${median(cpu[name]!).toFixed(0)} µs CPU, ${median(wall[name]!).toFixed(0)} µs wall per search (median of ${ROUNDS} rounds)`;
process.stdout.write(
  `${KIND} ${N} x ${DIM}, ${QUERIES} queries, ${CANDIDATES} candidates, ${annBinding().kind} binding, THP ${thp}, AnonHugePages ${anonHuge()}, FilePmdMapped ${filePmd()}, load ${load()}\n` +
    `${modes.map(([name]) => line(name)).join('\n')}\n` +
    `viewAsync/view CPU: ${(median(cpu.viewAsync!) / median(cpu.view!)).toFixed(3)}, load/view CPU: ${(median(cpu.load!) / median(cpu.view!)).toFixed(3)}\n`,
);
