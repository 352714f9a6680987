#!/usr/bin/env -S node --experimental-strip-types
// The store's engine call at 100k × 768 cut in its parts (issue 13), in one process on a store's index directory
// (a DurableIndex loaded as the store loads it: graph memory-mapped, values served by pread from the values file),
// each part timed with cold caches as a query meets them: per query, in this order,
//   body read        readQueryBody (the store's parser)
//   graph walk       ann.search for the plan's candidates (usearch, the first touch of this query's graph nodes)
//   re-rank (pread)  the exact scores of the plan's first `rerank` candidates through the namespace's scorer
//                    (one pread of the row from the values file + the JS dot product each)
//   re-rank (memory) the same number of the next candidates (other rows, as cold) scored from a heap copy of the
//                    values file: what the preads cost over reading memory
//   engine query (warm)  VectorIndex.query (the whole engine call) right after the parts: its nodes and rows just read
//   engine query (cold)  VectorIndex.query of the query half the list away (its nodes and rows not touched for 100
//                    queries: evicted from the CPU caches), timed first in each step
//   answer printed   renderQueryResult
// Wall µs, p50 over the rounds after the first (a loaded machine: CPU clocks per thread tick too coarsely here).
//   node --experimental-strip-types bench/src/engine-split.ts <index dir, e.g. <data>/vector-store/indexes/bench> [--rounds=6] [--gap-ms=0]
// --gap-ms=<ms>: the thread sleeps that long (a timer: the event loop idles in epoll, as a server's does between
// one-at-a-time requests) before each cold engine query.
// BENCH_DATA_DIR must hold the query section's 100k × 768 data (the queries).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { planQuery } from '@conifer/engine';
import { queryBody } from '@conifer/test-utils';
import { DEFAULT_DURABLE_OPTIONS, DurableIndex, readQueryBody, renderQueryResult } from '@conifer/vector-store';
import { pino } from 'pino';
import { benchData } from './bench-data.ts';
import { percentile } from './util.ts';

const dir = process.argv[2];
if (dir === undefined || dir.startsWith('--')) throw new Error('usage: engine-split.ts <index dir> [--rounds=6]');
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 6);
const gapMs = Number(process.argv.find((a) => a.startsWith('--gap-ms='))?.slice(9) ?? 0);
const durable = await DurableIndex.load('bench', dir, DEFAULT_DURABLE_OPTIONS, pino({ level: 'silent' }));
const engine = durable.index;
const ns = engine.namespaces.get('');
if (ns === undefined || ns.ann === undefined) throw new Error('the default namespace has no graph');
const dim = ns.dimension;
const data = benchData(ns.liveCount, dim, 200, 'bench');
const bodies = data.queries.map((q) => Buffer.from(queryBody(q)));
const plan = planQuery(ns, { vector: data.queries[0]!, hasSparse: false, filter: undefined, topK: 10 }, engine.search);
if (plan.kind !== 'ann') throw new Error(`the plan is ${plan.kind}, not a graph search`);
// The heap copy the "memory" re-rank reads (the values file as it is on disk).
const file = readdirSync(dir).find((f) => /\.values-\d+\.f32$/.test(f));
if (file === undefined) throw new Error('no values file: take a snapshot first');
const bytes = readFileSync(path.join(dir, file));
const memory = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
console.log(`${ns.liveCount} × ${dim}, breadth multiplier ${ns.annScale}: graph asked for ${plan.candidates}, ${plan.rerank} re-ranked`);

const parts = ['engine query (cold)', 'body read', 'graph walk', 're-rank (pread)', 're-rank (memory)', 'engine query (warm)', 'answer printed'] as const;
const times: Record<(typeof parts)[number], number[]> = Object.fromEntries(parts.map((p) => [p, []])) as never;
const now = (): number => performance.now() * 1000;
const requests = bodies.map((b) => readQueryBody(b).request);
let sink = 0;
for (let r = 0; r < rounds; r++) {
  for (let q = 0; q < bodies.length; q++) {
    const keep = r > 0;
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    let t = now();
    sink += engine.query(requests[(q + bodies.length / 2) % bodies.length]!).matches.length;
    if (keep) times['engine query (cold)'].push(now() - t);
    t = now();
    const { request } = readQueryBody(bodies[q]!);
    const vector = request.vector!;
    if (keep) times['body read'].push(now() - t);
    t = now();
    const candidates = ns.ann.search(vector, plan.candidates);
    if (keep) times['graph walk'].push(now() - t);
    const score = ns.scorer('cosine', vector, undefined);
    t = now();
    for (let i = 0; i < plan.rerank && i < candidates.length; i++) sink += score(candidates[i]!);
    if (keep) times['re-rank (pread)'].push(now() - t);
    t = now();
    for (let i = plan.rerank; i < 2 * plan.rerank && i < candidates.length; i++) {
      const at = candidates[i]! * dim;
      let s = 0;
      for (let j = 0; j < dim; j++) s += memory[at + j]! * vector[j]!;
      sink += s;
    }
    if (keep) times['re-rank (memory)'].push(now() - t);
    t = now();
    const result = engine.query(request);
    if (keep) times['engine query (warm)'].push(now() - t);
    t = now();
    renderQueryResult(result, request, '');
    if (keep) times['answer printed'].push(now() - t);
  }
}
for (const p of parts) console.log(`${p.padEnd(20)} p50 ${percentile(times[p], 50).toFixed(0).padStart(5)} µs`);
if (Number.isNaN(sink)) console.log('(a NaN score)');
await durable.close();
