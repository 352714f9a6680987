#!/usr/bin/env -S node --experimental-strip-types
// Two builds of the usearch binding on one saved graph: each binary (a `.node` file: e.g. a copy of
// packages/engine/native/build/build/Release/conifer_usearch.node kept before a change to native/build.ts, and the
// rebuilt one) maps the graph with its own `viewAsync` (2 MB pages where the kernel can) and the same queries are
// searched on both, rounds alternating. The answers must be the same slots in the same order (else it stops);
// it prints the median CPU per search of each and their ratio. Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/addon-ab.ts <graph file> <dim> <candidates> <before.node> <after.node>
//     [--queries=300] [--rounds=6] [--kind=bench|hard]
// The queries are drawn beside the bench data's clusters of that kind (a graph of the bench's own data answers them
// as the store would).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { CompiledIndex } from '@conifer/engine';
import { makeDataset, type DatasetKind } from '@conifer/test-utils';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const [file, dimArg, candidatesArg, before, after] = args;
if (after === undefined) throw new Error('usage: addon-ab.ts <graph file> <dim> <candidates> <before.node> <after.node>');
const DIM = Number(dimArg);
const CANDIDATES = Number(candidatesArg);
const ROUNDS = Number(flags.rounds ?? 6);
const queries = makeDataset({ n: 20_000, dim: DIM, kind: (flags.kind ?? 'bench') as DatasetKind }).makeQueries(Number(flags.queries ?? 300));

const require = createRequire(import.meta.url);
type Addon = { CompiledIndex: new (...args: unknown[]) => CompiledIndex };
async function open(addon: string): Promise<CompiledIndex> {
  const index = new (require(resolve(addon)) as Addon).CompiledIndex(DIM, 'cos', 'i8', 16, 128, 64, false, false);
  if (index.viewAsync === undefined) throw new Error(`${addon} has no viewAsync`);
  await index.viewAsync(file!);
  return index;
}
const builds: [string, CompiledIndex][] = [
  ['before', await open(before!)],
  ['after', await open(after)],
];
for (const [q, query] of queries.entries()) {
  const [a, b] = builds.map(([, index]) => index.search(query, CANDIDATES, 1)[0].join());
  if (a !== b) throw new Error(`query ${q}: the two builds answer differently`);
}
const cpu: Record<string, number[]> = { before: [], after: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, index] of round % 2 === 0 ? builds : [...builds].reverse()) {
    const c0 = process.cpuUsage();
    for (const query of queries) index.search(query, CANDIDATES, 1);
    const c1 = process.cpuUsage(c0);
    cpu[name]!.push((c1.user + c1.system) / queries.length);
  }
}
const list = (name: string): string => `${median(cpu[name]!).toFixed(0)} µs [${cpu[name]!.map((v) => v.toFixed(0)).join(', ')}]`;
process.stdout.write(
  `${file}, ${CANDIDATES} candidates, ${queries.length} queries: answers identical; CPU per search before ${list('before')}, after ${list('after')}; after/before ${(median(cpu.after!) / median(cpu.before!)).toFixed(3)}\n`,
);
