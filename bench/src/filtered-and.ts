#!/usr/bin/env -S node --experimental-strip-types
// Filters that are an $and of two broad parts (issue 12 part 7; not part of `npm test` or `npm run bench`), two
// engine builds side by side, one process, no graph:
//   node --experimental-strip-types bench/src/filtered-and.ts --base-engine=<another build's packages/engine/dist/index.js> [n=100000] [dim=768] [queries=10]
// The filtered benches' hard records (filtered-data.ts); per query, one build after the other, the match set
// (`matchSet`) and the planned query (`index.query`), fastest of 3 each; printed: medians over the queries
// (first round dropped), the plan, and whether both builds answer the first query alike.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import * as current from '@conifer/engine';
import { filteredData } from './filtered-data.ts';
import { commandLine } from './util.ts';
const { args, flags } = commandLine();
const basePath = flags['base-engine'];
if (basePath === undefined) throw new Error('--base-engine=<path to another build of packages/engine/dist/index.js> is required');
const base = (await import(pathToFileURL(resolve(basePath)).href)) as typeof current;
const N = Number(args[0] ?? 100_000);
const DIM = Number(args[1] ?? 768);
const { values, meta, queries } = filteredData('hard', N, DIM, Number(args[2] ?? 10));
const engines = { base, current };
const built = Object.entries(engines).map(([name, e]) => {
  const index = new e.VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, {});
  for (let i = 0; i < N; i += 1000) {
    const vectors = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) vectors.push({ id: `v${j}`, values: Array.from(values.subarray(j * DIM, (j + 1) * DIM)), metadata: meta[j]! });
    index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: '', vectors })));
  }
  return { name, e, index, ns: index.namespaces.get('')! };
});
const FILTERS = {
  'bucket < 30 and score < 0.3 (9 %)': { bucket: { $lt: 30 }, score: { $lt: 0.3 } },
  'bucket < 50 and region in [1..5] (25 %)': { bucket: { $lt: 50 }, region: { $in: [1, 2, 3, 4, 5] } },
  'score < 0.2 and pos < 0.5 (10 %)': { score: { $lt: 0.2 }, pos: { $lt: 0.5 } },
};
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`load ${load()}`);
const med = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!.toFixed(2);
const rows = [];
for (const [label, filter] of Object.entries(FILTERS)) {
  const t: Record<string, { m: number[]; q: number[]; plan: string; count: number; ids: string }> = {};
  for (const b of built) t[b.name] = { m: [], q: [], plan: '', count: 0, ids: '' };
  // Rounds of all queries, each query run by one build then the other (the machine's load hits both alike).
  for (let r = 0; r < 4; r++) for (const q of queries) for (const b of built) {
    const request = parseQueryRequest({ vector: Array.from(q), topK: 10, filter });
    const compiled = b.e.compileEngineFilter(request.filter)!;
    let best = Infinity;
    let count = 0;
    for (let k = 0; k < 3; k++) { const a = performance.now(); count = b.e.matchSet(b.ns, compiled).count; best = Math.min(best, performance.now() - a); }
    let bq = Infinity; let res;
    for (let k = 0; k < 3; k++) { const a = performance.now(); res = b.index.query(request); bq = Math.min(bq, performance.now() - a); }
    if (r === 0) continue;
    t[b.name]!.m.push(best); t[b.name]!.q.push(bq); t[b.name]!.plan = res!.plan.plan; t[b.name]!.count = count;
    if (q === queries[0]) t[b.name]!.ids = res!.matches.map((m) => m.id).join(',');
  }
  rows.push({ filter: label, matches: t.current!.count, 'match set ms base → current': `${med(t.base!.m)} → ${med(t.current!.m)}`, 'query ms': `${med(t.base!.q)} → ${med(t.current!.q)}`, plan: t.current!.plan, 'same answer': t.base!.ids === t.current!.ids });
}
console.table(rows);
console.log(`load ${load()}`);
