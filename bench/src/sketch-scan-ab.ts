#!/usr/bin/env -S node --experimental-strip-types
// The filtered sketch scan of two engine builds side by side (issue 12 part 7; not part of `npm test` or
// `npm run bench`), engine level, one process, no graph:
//   node --experimental-strip-types bench/src/sketch-scan-ab.ts --base-engine=<another build's packages/engine/dist/index.js> [n=100000] [dim=768] [queries=40] [hard|easy]
// The base build must sit inside this checkout (e.g. under .tools/, git-ignored) so that its imports resolve
// to the same node_modules: `git archive <commit> packages/engine tsconfig.base.json | tar -x -C .tools/base`
// then `tsc -p tsconfig.build.json` in .tools/base/packages/engine. Both engines get the same records (the
// filtered-recall bench's data and filters); for every query, one engine after the other, the `sketch-filtered`
// plan runs 5 times with its match set built each time, and the fastest run counts (the least preempted
// on a shared machine); printed: the median over queries, the match set's share, recall@10 against the exact
// scan of the same matches, and the plan each engine's planner chooses for the query. Then the query as the
// engine plans it (`index.query`: match set, plan, search; fastest of 5 too): `query ms`, `query recall`.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import * as current from '@conifer/engine';
import { FILTERED_QUERIES, filteredData, filteredDataset } from './filtered-data.ts';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const basePath = flags['base-engine'];
if (basePath === undefined) throw new Error('--base-engine=<path to another build of packages/engine/dist/index.js> is required');
const N = Number(args[0] ?? 100_000);
const DIM = Number(args[1] ?? 768);
const QUERIES = Number(args[2] ?? 40);
const DATA = filteredDataset(args[3] ?? 'hard');
const K = 10;
const REPEATS = 5;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

type Engine = typeof current;
const engines: Record<string, Engine> = { base: (await import(pathToFileURL(resolve(basePath)).href)) as Engine, current };

const { values, meta, queries } = filteredData(DATA, N, DIM, QUERIES);
const indexes = Object.fromEntries(
  Object.entries(engines).map(([name, engine]) => {
    const index = new engine.VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, {});
    for (let i = 0; i < N; i += 1000) {
      const vectors: { id: string; values: number[]; metadata: (typeof meta)[0] }[] = [];
      for (let j = i; j < Math.min(N, i + 1000); j++) vectors.push({ id: `v${j}`, values: Array.from(values.subarray(j * DIM, (j + 1) * DIM)), metadata: meta[j]! });
      index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: '', vectors })));
    }
    return [name, index];
  }),
);
console.log(`${DATA} ${N} x ${DIM}, ${QUERIES} queries, base ${basePath}; load ${load()}`);
const FILTERS = FILTERED_QUERIES;
const rows: Record<string, string>[] = [];
for (const [name, filter] of Object.entries(FILTERS)) {
  const stats = Object.fromEntries(
    Object.keys(engines).map((e) => [e, { best: [] as number[], match: [] as number[], query: [] as number[], hits: 0, queryHits: 0, plans: new Set<string>() }]),
  );
  for (const q of queries) {
    const request = parseQueryRequest({ vector: Array.from(q), topK: K, filter });
    const ns0 = indexes.current!.namespaces.get('')!;
    const exact = current.executePlan(ns0, { kind: 'exact-filtered', matches: current.matchSet(ns0, current.compileEngineFilter(request.filter)!) }, ns0.scorer('cosine', q, undefined), q, K, 'cosine');
    const truth = new Set(exact.top.sorted().map((m) => ns0.idOf(m.slot)));
    for (const [engineName, engine] of Object.entries(engines)) {
      const index = indexes[engineName]!;
      const ns = index.namespaces.get('')!;
      const compiled = engine.compileEngineFilter(request.filter)!;
      let best = Infinity;
      let bestMatch = Infinity;
      let found: string[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const t0 = performance.now();
        const matches = engine.matchSet(ns, compiled);
        const t1 = performance.now();
        const { top } = engine.executePlan(ns, { kind: 'sketch-filtered', matches, candidates: 100 }, ns.scorer('cosine', q, undefined), q, K, 'cosine');
        const t2 = performance.now();
        best = Math.min(best, t2 - t0);
        bestMatch = Math.min(bestMatch, t1 - t0);
        found = top.sorted().map((m) => ns.idOf(m.slot));
      }
      // The query as planned (index.query: match set, plan, search), also the fastest of REPEATS.
      let bestQuery = Infinity;
      let answered: string[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const t0 = performance.now();
        const result = index.query(request);
        bestQuery = Math.min(bestQuery, performance.now() - t0);
        answered = result.matches.map((m) => m.id);
        if (r === 0) stats[engineName]!.plans.add(result.plan.plan);
      }
      const st = stats[engineName]!;
      st.best.push(best);
      st.match.push(bestMatch);
      st.query.push(bestQuery);
      st.hits += found.filter((id) => truth.has(id)).length;
      st.queryHits += answered.filter((id) => truth.has(id)).length;
    }
  }
  for (const [engineName, st] of Object.entries(stats)) {
    rows.push({
      filter: name,
      engine: engineName,
      'median ms': median(st.best).toFixed(2),
      'match set ms': median(st.match).toFixed(2),
      recall: (st.hits / (QUERIES * K)).toFixed(3),
      'query ms': median(st.query).toFixed(2),
      'query recall': (st.queryHits / (QUERIES * K)).toFixed(3),
      planned: [...st.plans].join(','),
    });
  }
}
console.table(rows);
console.log(`load at the end ${load()}`);
