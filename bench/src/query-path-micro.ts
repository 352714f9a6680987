#!/usr/bin/env -S node --experimental-strip-types
// The store's query parsing and answer printing alone, in one process (issue 13): the reference path the store
// took before (parseJsonBytes → JSON.parse → parseQueryRequest's number-array copy; renderQuery's wire object →
// renderQueryResponse) against the one it takes now (readQueryBody: the vector scanned from the bytes;
// renderQueryResult: printed from the engine's result), alternating in rounds, µs per query (CPU of this thread).
//   node --experimental-strip-types bench/src/query-path-micro.ts [--dim=768] [--rounds=5] [--n=2000]
import { parseJsonBytes, parseQueryRequest } from '@conifer/contracts';
import type { EngineMatch, QueryResult } from '@conifer/engine';
import { queryBody, rng } from '@conifer/test-utils';
import { readQueryBody, renderQueryResult } from '@conifer/vector-store';
import { renderQueryResponse } from '../../apps/vector-store/dist/api/json-response.js';
import { renderQuery } from '../../apps/vector-store/dist/api/render.js';
import { percentile } from './util.ts';

const option = (name: string, fallback: number): number => Number(process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const dim = option('dim', 768);
const rounds = option('rounds', 5);
const n = option('n', 2000);
const random = rng(5);
const bodies = Array.from({ length: 64 }, () => Buffer.from(queryBody(Float32Array.from({ length: dim }, () => random() * 2 - 1))));
const results = (values: boolean): QueryResult[] =>
  Array.from({ length: 64 }, () => ({
    matches: Array.from({ length: 10 }, (_, i): EngineMatch => ({ id: `doc-${Math.floor(random() * 1e6)}`, score: Math.fround(1 - i * 0.01 - random() * 0.01), ...(values ? { values: Float32Array.from({ length: dim }, () => Math.fround(Number((random() * 2 - 1).toFixed(4)))) } : {}) })),
    namespaceSize: 100_000,
    plan: { plan: 'ann', candidates: 64 },
  }));
const plain = results(false);
const withValues = results(true);
const request = parseQueryRequest({ vector: [1], topK: 10 });
const requestValues = parseQueryRequest({ vector: [1], topK: 10, includeValues: true });

/** CPU µs per call of `run` over n calls. */
function time(run: (i: number) => unknown): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) run(i);
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / n;
}

const cases: [string, (i: number) => unknown][] = [
  ['parse: JSON.parse + parseQueryRequest (before)', (i) => parseQueryRequest(parseJsonBytes(bodies[i % 64]!))],
  ['parse: readQueryBody (now)', (i) => readQueryBody(bodies[i % 64]!)],
  ['render top 10, no values: wire object + renderQueryResponse (before)', (i) => renderQueryResponse(renderQuery(plain[i % 64]!, request))],
  ['render top 10, no values: renderQueryResult (now)', (i) => renderQueryResult(plain[i % 64]!, request, '')],
  [`render top 10 with ${dim} values each (before)`, (i) => renderQueryResponse(renderQuery(withValues[i % 64]!, requestValues))],
  [`render top 10 with ${dim} values each (now)`, (i) => renderQueryResult(withValues[i % 64]!, requestValues, '')],
];
const figures: Record<string, number[]> = Object.fromEntries(cases.map(([label]) => [label, []]));
for (const [, run] of cases) time(run); // warm-up
for (let r = 0; r < rounds; r++) for (const [label, run] of cases) figures[label]!.push(time(run));
for (const [label] of cases) {
  const xs = figures[label]!;
  process.stdout.write(`${label.padEnd(72)} median ${percentile(xs, 50).toFixed(1).padStart(7)} µs, min ${Math.min(...xs).toFixed(1).padStart(7)} µs\n`);
}
process.stdout.write(`dim ${dim}, ${rounds} rounds × ${n} calls; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
