#!/usr/bin/env -S node --experimental-strip-types
// Where a filtered query's time goes (issue 12 part 7; not part of `npm test` or `npm run bench`), engine level,
// one process, no graph (at 10 % the planner scans the match set with or without one):
//   node --experimental-strip-types bench/src/filtered-profile.ts [n=100000] [dim=768] [queries=40] [hard|easy|glove] [--profile=<out.txt>]
// Builds the filtered benches' records (filtered-data.ts), then for the 10 % filters times each stage of the
// planned query separately, per query, median over the queries (thread CPU would be coarser: 4 ms ticks):
// `match set` (matchSet), `sketch pass` (NamespaceStore.sketchCandidates: the rows gathered and compared,
// the shortlist kept), `re-rank` (the exact scorer over the shortlist), `query` (index.query end to end: plan
// and all), and the floors the sketch pass is made of, timed alone on the same rows: `kernel` (usearch's int8
// inner product over as many contiguous rows, in calls of the engine's size) and `gather` (the matching rows
// copied into a contiguous buffer). With --profile, a V8 CPU profile of the planned queries (sampled every
// 50 µs), summarised as text (cpuprofile-summary.ts) into the file named (the raw .cpuprofile under the
// system's temporary directory). The stage timings re-score 100 candidates whatever the planner's breadth.
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { compileEngineFilter, matchSet, TopK, VectorIndex } from '@conifer/engine';
import usearch from 'usearch';
import { summarize } from './cpuprofile-summary.ts';
import { FILTERED_QUERIES, filteredData, filteredDataset } from './filtered-data.ts';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 100_000);
const DIM = Number(args[1] ?? 768);
const QUERIES = Number(args[2] ?? 40);
const DATA = filteredDataset(args[3] ?? 'hard');
const profileOut = flags.profile;
const K = 10;
const BATCH = 512;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const { values, meta, queries } = filteredData(DATA, N, DIM, QUERIES);
const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, {});
for (let i = 0; i < N; i += 1000) {
  const vectors: { id: string; values: number[]; metadata: (typeof meta)[0] }[] = [];
  for (let j = i; j < Math.min(N, i + 1000); j++) vectors.push({ id: `v${j}`, values: Array.from(values.subarray(j * DIM, (j + 1) * DIM)), metadata: meta[j]! });
  index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: '', vectors })));
}
const ns = index.namespaces.get('')!;
console.log(`${DATA} ${N} x ${DIM}, ${QUERIES} queries; load ${load()}`);

// A stand-in for the sketches (the same bytes per row, random): the floors are about moving and comparing rows.
const rows = new Int8Array(N * DIM);
for (let i = 0; i < rows.length; i++) rows[i] = (Math.random() * 255 - 127) | 0;
const scratch = new Int8Array(BATCH * DIM);
const query8 = new Int8Array(DIM).map(() => (Math.random() * 255 - 127) | 0);

// The 10 % filters (where the sketch scan's time goes) and one 1 % for contrast.
const FILTERS: Record<string, Record<string, unknown>> = Object.fromEntries(
  (['indep 10%', 'corr 10%', 'float indep 10%', 'float corr 10%', 'indep 1%'] as const).map((name) => [name, FILTERED_QUERIES[name]]),
);
const table: Record<string, string>[] = [];
for (const [name, filter] of Object.entries(FILTERS)) {
  const compiled = compileEngineFilter(parseQueryRequest({ vector: Array.from(queries[0]!), topK: K, filter }).filter)!;
  const t = { match: [] as number[], sketch: [] as number[], rerank: [] as number[], query: [] as number[], kernel: [] as number[], gather: [] as number[] };
  let count = 0;
  let plan = '';
  for (let round = 0; round < 2; round++) {
    for (const q of queries) {
      const t0 = performance.now();
      const matches = matchSet(ns, compiled);
      const t1 = performance.now();
      const slots = matches.slots ?? Int32Array.from(Array.from(matches.bits.entries()).flatMap(([i, b]) => (b === 1 ? [i] : [])));
      const q8 = new Int8Array(DIM);
      let max = 0;
      for (let i = 0; i < DIM; i++) max = Math.max(max, Math.abs(q[i]!));
      for (let i = 0; i < DIM; i++) q8[i] = Math.round((q[i]! * 127) / max); // as the engine's quantizeRow
      const approx = new TopK(100);
      const t2 = performance.now();
      ns.sketchCandidates(slots, q8, approx.k, approx);
      const t3 = performance.now();
      const score = ns.scorer('cosine', q, undefined);
      const top = new TopK(K);
      for (const slot of approx.slotArray().sort()) top.push(score(slot), slot);
      const t4 = performance.now();
      // Floors: the same number of rows, contiguous, compared in calls of BATCH rows; and gathered alone.
      for (let from = 0; from < slots.length; from += BATCH) {
        const n = Math.min(BATCH, slots.length - from);
        usearch.exactSearch(rows.subarray(0, n * DIM), query8, DIM, Math.min(100, n), 'ip' as never, 1);
      }
      const t5 = performance.now();
      for (let from = 0; from < slots.length; from += BATCH) {
        const n = Math.min(BATCH, slots.length - from);
        for (let i = 0; i < n; i++) {
          const at = slots[from + i]! * DIM;
          scratch.set(rows.subarray(at, at + DIM), i * DIM);
        }
      }
      const t6 = performance.now();
      const request = parseQueryRequest({ vector: Array.from(q), topK: K, filter });
      const t7 = performance.now();
      const result = index.query(request);
      const t8 = performance.now();
      if (round === 0) continue;
      count = matches.count;
      plan = result.plan.plan;
      t.match.push(t1 - t0);
      t.sketch.push(t3 - t2);
      t.rerank.push(t4 - t3);
      t.kernel.push(t5 - t4);
      t.gather.push(t6 - t5);
      t.query.push(t8 - t7);
    }
  }
  table.push({
    filter: name,
    matches: String(count),
    plan,
    'query ms': median(t.query).toFixed(2),
    'match set': median(t.match).toFixed(2),
    'sketch pass': median(t.sketch).toFixed(2),
    're-rank': median(t.rerank).toFixed(2),
    'kernel floor': median(t.kernel).toFixed(2),
    'gather floor': median(t.gather).toFixed(2),
  });
}
console.table(table);
console.log(`load ${load()}`);

if (profileOut !== undefined) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  const requests = Object.values(FILTERS)
    .slice(0, 4)
    .flatMap((filter) => queries.map((q) => parseQueryRequest({ vector: Array.from(q), topK: K, filter })));
  await session.post('Profiler.start');
  const rounds = 5;
  for (let r = 0; r < rounds; r++) for (const request of requests) index.query(request);
  const { profile } = await session.post('Profiler.stop');
  // The raw profile stays out of the checkout (the text summary is what is kept).
  const file = join(tmpdir(), `${basename(profileOut)}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  writeFileSync(
    profileOut,
    summarize(file, {
      requests: rounds * requests.length,
      label: `${DATA} ${N} x ${DIM}: the four 10 % filters (indep, corr, float indep, float corr) planned by index.query, ${rounds} × ${QUERIES} queries each, no graph; load ${load()}`,
    }),
  );
  console.log(`wrote ${profileOut}`);
}
