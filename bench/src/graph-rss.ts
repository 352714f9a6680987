#!/usr/bin/env -S node --experimental-strip-types
// What a viewed (memory-mapped) graph costs the process in memory: RssAnon and RssFile before the view, after it,
// and after `queries` searches of `k` candidates (recall-data.ts's cached queries), one graph per process so that
// the figures are its own. The graph's pages are file-backed (page cache), so its file size, not RssAnon, is what
// it needs of the machine's memory. Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/graph-rss.ts <graph.usearch> <queries.f32> [dim=768] [queries=500] [k=239]
import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_ANN_PARAMS, UsearchAnn } from '@conifer/engine';
import { commandLine } from './util.ts';

const { args } = commandLine();
const [graphFile, queriesFile] = [args[0]!, args[1]!];
const DIM = Number(args[2] ?? 768);
const QUERIES = Number(args[3] ?? 500);
const K = Number(args[4] ?? 239);

const memory = (): string => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return `RssAnon ${(kb('RssAnon') / 1024).toFixed(1)} MiB, RssFile ${(kb('RssFile') / 1024).toFixed(1)} MiB`;
};

const raw = readFileSync(queriesFile);
const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const queries = Array.from({ length: QUERIES }, (_, i) => all.slice(i * DIM, (i + 1) * DIM));
const before = memory();
const graph = UsearchAnn.view(graphFile, 'cosine', DIM, DEFAULT_ANN_PARAMS, 1);
const viewed = memory();
for (const q of queries) graph.search(q, K);
const searched = memory();
const bytes = statSync(graphFile).size;
process.stdout.write(
  `${graphFile}: M = ${graph.connectivity}, ${graph.size} vectors, ${bytes} bytes (${(bytes / graph.size).toFixed(0)} per vector)\n` +
    `  before view: ${before}\n  after view: ${viewed}\n  after ${QUERIES} searches of ${K}: ${searched}\n`,
);
