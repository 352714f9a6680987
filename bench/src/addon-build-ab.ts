#!/usr/bin/env -S node --experimental-strip-types
// Two builds of the usearch binding inserting the same graph (issue 12: the builder's time after an ingest is time
// the namespace's tail is scanned exactly): each binary (a `.node` file, as for addon-ab.ts) builds a graph of the
// bench's data on one thread in the store builder's batches (2048 rows), rounds alternating; the saved files must be
// byte-identical (one thread inserts deterministically), else it stops. Prints each round's thread CPU per 1000
// vectors and the medians' ratio. Not part of `npm test` or `npm run bench`.
//   node --experimental-strip-types bench/src/addon-build-ab.ts <n> <dim> <before.node> <after.node> [--rounds=4] [--kind=bench|hard]
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { resolve } from 'node:path';
import type { CompiledIndex } from '@conifer/engine';
import { makeDataset, type DatasetKind } from '@conifer/test-utils';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const [nArg, dimArg, before, after] = args;
if (after === undefined) throw new Error('usage: addon-build-ab.ts <n> <dim> <before.node> <after.node>');
const N = Number(nArg);
const DIM = Number(dimArg);
const ROUNDS = Number(flags.rounds ?? 4);
const BATCH = 2048;
const data = makeDataset({ n: N, dim: DIM, seed: DIM, kind: (flags.kind ?? 'bench') as DatasetKind });

const require = createRequire(import.meta.url);
type Addon = { CompiledIndex: new (...args: unknown[]) => CompiledIndex };
const classes: Record<string, Addon['CompiledIndex']> = {
  before: (require(resolve(before!)) as Addon).CompiledIndex,
  after: (require(resolve(after)) as Addon).CompiledIndex,
};

/** Thread CPU ms to insert the whole set, and the saved graph's bytes. */
function build(name: string): { ms: number; file: Buffer } {
  const index = new classes[name]!(DIM, 'cos', 'i8', 16, 128, 64, false, false);
  const c0 = process.threadCpuUsage();
  for (let start = 0; start < N; start += BATCH) {
    const end = Math.min(N, start + BATCH);
    const keys = BigUint64Array.from({ length: end - start }, (_, i) => BigInt(start + i));
    index.add(keys, data.values.slice(start * DIM, end * DIM), 1);
  }
  const c1 = process.threadCpuUsage(c0);
  const path = `${os.tmpdir()}/addon-build-ab-${process.pid}-${name}.usearch`;
  index.save(path);
  const file = readFileSync(path);
  rmSync(path);
  return { ms: (c1.user + c1.system) / 1000, file };
}

const cpu: Record<string, number[]> = { before: [], after: [] };
let reference: Buffer | undefined;
for (let round = 0; round < ROUNDS; round++) {
  for (const name of round % 2 === 0 ? ['before', 'after'] : ['after', 'before']) {
    const { ms, file } = build(name);
    reference ??= file;
    if (!file.equals(reference)) throw new Error(`round ${round}: ${name}'s graph differs from the first one built`);
    cpu[name]!.push((ms * 1000) / N);
    process.stderr.write(`round ${round} ${name}: ${((ms * 1000) / N).toFixed(1)} ms per 1000 vectors\n`);
  }
}
const list = (name: string): string => `${median(cpu[name]!).toFixed(1)} [${cpu[name]!.map((v) => v.toFixed(1)).join(', ')}]`;
process.stdout.write(
  `${N} × ${DIM} ${flags.kind ?? 'bench'}, 1 thread, ${ROUNDS} rounds, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}: graphs byte-identical; CPU ms per 1000 vectors before ${list('before')}, after ${list('after')}; after/before ${(median(cpu.after!) / median(cpu.before!)).toFixed(3)}\n`,
);
