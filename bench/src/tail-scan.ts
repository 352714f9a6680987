#!/usr/bin/env -S node --experimental-strip-types
// What a dense query costs when its namespace's graph has not caught up with the ingest (issue 12 parts 5 and 8:
// after a 1M × 768 ingest the graph lags by hundreds of thousands of vectors for minutes, and every query scans that
// tail), with two builds of the engine, rounds alternating: `VectorIndex.query` as the store calls it (the store
// runs an unfiltered query's tail scan ahead, a chunk per event-loop turn, with the same work). The namespace is
// restored as after a snapshot: values served by pread from a values file (page cache), int8 sketches built, a graph
// over the first `--graphed` slots (none by default: all of it is tail), records with the bench's `bucket` metadata.
// Prints per build the median CPU per query (and of its synchronous part, after the prescan), its plan and recall@10 against the exact answers (every row, or every
// match of `--filter=10` (bucket = 3) or `--filter=50` (bucket < 5), scored by the exact scorer). Not part of
// `npm test` or `npm run bench`:
//   node --experimental-strip-types bench/src/tail-scan.ts <before engine dist/index.js> <after engine dist/index.js>
//     [--n=300000] [--dim=768] [--graphed=0] [--filter=10|50] [--queries=20] [--rounds=3] [--kind=bench|hard]
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseQueryRequest } from '@conifer/contracts';
import type * as EngineModule from '@conifer/engine';
import { makeDataset, type DatasetKind } from '@conifer/test-utils';
import { commandLine, fileSegment, median } from './util.ts';

type Engine = typeof EngineModule;
const { args, flags } = commandLine();
const [beforePath, afterPath] = args;
if (afterPath === undefined) throw new Error('usage: tail-scan.ts <before engine index.js> <after engine index.js> [--n=] [--dim=] [--queries=] [--rounds=]');
const N = Number(flags.n ?? 300_000);
const DIM = Number(flags.dim ?? 768);
const QUERIES = Number(flags.queries ?? 20);
const ROUNDS = Number(flags.rounds ?? 3);
const GRAPHED = Number(flags.graphed ?? 0);
// `--filter=10`: bucket = 3 (10 %); `--filter=50`: bucket < 5 (50 %, a broad filter: the planner's filtered graph search).
const FILTERS: Record<string, { filter: Record<string, unknown>; matches: (bucket: number) => boolean }> = {
  '10': { filter: { bucket: { $eq: 3 } }, matches: (bucket) => bucket === 3 },
  '50': { filter: { bucket: { $lt: 5 } }, matches: (bucket) => bucket < 5 },
};
const FILTER = flags.filter === undefined ? undefined : FILTERS[flags.filter];
if (flags.filter !== undefined && FILTER === undefined) throw new Error('--filter=10, --filter=50 or none');
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

console.log(`tail scan, ${N} × ${DIM}, ${N - GRAPHED} of them unindexed, ${FILTER === undefined ? 'unfiltered' : JSON.stringify(FILTER.filter)}, ${QUERIES} queries × ${ROUNDS} rounds; load ${load()}`);
const data = makeDataset({ n: N, dim: DIM, kind: (flags.kind ?? 'bench') as DatasetKind });
const queries = data.makeQueries(QUERIES);
const file = join(tmpdir(), `conifer-tail-scan-${process.pid}.f32`);
{
  const fd = openSync(file, 'w');
  writeSync(fd, new Uint8Array(data.values.buffer, data.values.byteOffset, data.values.byteLength));
  closeSync(fd);
}
const segment = fileSegment(file, N, DIM);

async function restored(path: string) {
  const engine = (await import(resolve(path))) as Engine;
  const index = new engine.VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: GRAPHED > 0 ? 1 : Number.MAX_SAFE_INTEGER });
  const ns = index.namespaces.obtain('');
  ns.attachSegment(segment, N);
  index.restore(
    '',
    Array.from({ length: N }, (_, slot) => ({ slot, id: `v${slot}`, norm: data.norms[slot]!, metadata: { bucket: data.bucket[slot]! } })),
  );
  while (ns.buildSketches(65_536) > 0);
  while (ns.annUpTo < GRAPHED) if (index.buildAnnStep(Math.min(4096, GRAPHED - ns.annUpTo)) === 0) break;
  const request = (q: Float32Array) => parseQueryRequest({ vector: Array.from(q), topK: 10, ...(FILTER === undefined ? {} : { filter: FILTER.filter }) });
  const plans = new Set<string>();
  /**
   * One query: an unfiltered one as the store runs it (cooperative-scan.ts: the tail's prescan in steps between
   * event-loop turns, then the query's synchronous part, timed apart: what blocks the loop), a filtered one whole.
   */
  const run = (q: Float32Array, syncMs: number[]): string[] => {
    const query = request(q);
    let prescan: InstanceType<Engine['TailPrescan']> | undefined;
    if (FILTER === undefined) {
      const plan = engine.planQuery(ns, { vector: q, hasSparse: false, filter: undefined, topK: 10 }, index.search);
      prescan = new engine.TailPrescan(ns, q, 'cosine', 10, plan.kind === 'exact' ? 0 : ns.annUpTo);
      while (!prescan.done) prescan.step(ns);
    }
    const t = process.cpuUsage();
    const result = index.query(query, prescan);
    const used = process.cpuUsage(t);
    syncMs.push((used.user + used.system) / 1000);
    plans.add(result.plan.plan);
    return result.matches.map((m) => m.id);
  };
  const exact = (q: Float32Array): string[] => {
    const score = ns.scorer('cosine', q, undefined);
    const top = new engine.TopK(10);
    for (let slot = 0; slot < N; slot++) if (FILTER === undefined || FILTER.matches(data.bucket[slot]!)) top.push(score(slot), slot);
    return top.sorted().map((m) => `v${m.slot}`);
  };
  return { run, exact, graphed: ns.annUpTo, plans };
}

const builds = [
  { name: 'before', ...(await restored(beforePath!)), cpu: [] as number[], sync: [] as number[], hits: 0 },
  { name: 'after', ...(await restored(afterPath)), cpu: [] as number[], sync: [] as number[], hits: 0 },
];
const truth = queries.map((q) => builds[0]!.exact(q));
for (let round = 0; round < ROUNDS; round++) {
  for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
    for (const [i, q] of queries.entries()) {
      const t = process.cpuUsage();
      const got = build.run(q, build.sync);
      const used = process.cpuUsage(t);
      build.cpu.push((used.user + used.system) / 1000);
      if (round === 0) build.hits += got.filter((id) => truth[i]!.includes(id)).length;
    }
  }
}
console.log(`  graph over ${builds.map((b) => b.graphed).join(' / ')} slots`);
for (const build of builds) {
  console.log(`  ${build.name.padEnd(6)} ${median(build.cpu).toFixed(2)} ms CPU per query (median of ${build.cpu.length}), of which the synchronous part ${median(build.sync).toFixed(2)} ms, recall@10 ${(build.hits / (QUERIES * 10)).toFixed(3)}, plan ${[...build.plans].join(', ')}`);
}
console.log(`  after / before: ×${(median(builds[1]!.cpu) / median(builds[0]!.cpu)).toFixed(3)}; load ${load()}`);
segment.close();
unlinkSync(file);
