#!/usr/bin/env -S node --experimental-strip-types
// CPU of the ANN builder's graph insertion alone (issue 12 part 4): usearch `add` of the bench's 768-d data in
// the builder's batches (2048 rows, as the store's AnnBuilder sends them) on one native thread, as the store's
// ANN worker does on 2 cores. Prints thread CPU per 1000 vectors by graph size. Not part of `npm run bench`.
//   node --experimental-strip-types bench/src/ann-add-cost.ts [--n=20000] [--dim=768] [--metric=cosine] [--efc=128] [--m=16] [--threads=1]
import os from 'node:os';
import { UsearchAnn, type Metric } from '@conifer/engine';
import { makeDataset } from '@conifer/test-utils';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const N = Number(arg('n', '20000'));
const DIM = Number(arg('dim', '768'));
const METRIC = arg('metric', 'cosine') as Metric;
const EFC = Number(arg('efc', '128'));
const M = Number(arg('m', '16'));
const THREADS = Number(arg('threads', '1'));
const BATCH = 2048;
const data = makeDataset({ n: N, dim: DIM, seed: DIM });
const ann = new UsearchAnn(METRIC, DIM, { connectivity: M, expansionAdd: EFC, expansionSearch: 64 }, 1);
const cpu = () => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
console.log(`${N} × ${DIM} ${METRIC}, M=${M} efc=${EFC}, ${THREADS} thread(s); load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
let c0 = cpu();
let t0 = performance.now();
let from = 0;
for (let start = 0; start < N; start += BATCH) {
  const end = Math.min(N, start + BATCH);
  const slots = Int32Array.from({ length: end - start }, (_, i) => start + i);
  ann.add(slots, data.values.subarray(start * DIM, end * DIM), THREADS);
  if (end % 10240 === 0 || end === N) {
    const c = cpu();
    const p = process.cpuUsage();
    console.log(`  ${from}–${end}: ${(((c - c0) * 1000) / (end - from)).toFixed(1)} ms thread CPU per 1000 (process ${((p.user + p.system) / 1000).toFixed(0)} ms so far), ${(((performance.now() - t0) * 1000) / (end - from)).toFixed(1)} ms wall per 1000`);
    c0 = c;
    t0 = performance.now();
    from = end;
  }
}
