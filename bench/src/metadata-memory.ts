#!/usr/bin/env -S node --expose-gc --experimental-strip-types
// Memory of the metadata index per record, two engine builds side by side (issue 12 part 7; not part of
// `npm test` or `npm run bench`), one process, no vectors:
//   node --expose-gc --experimental-strip-types bench/src/metadata-memory.ts --base-engine=<another build's packages/engine/dist/index.js> [n=100000]
// For each field shape (a float with a distinct value per record, an integer timestamp, 100 distinct integers,
// 10 strings), each build's MetadataIndex is filled with the same n records' metadata (allocated beforehand
// and kept), and the growth of the V8 heap plus array buffers after a full collection is divided by n: the
// bytes each indexed value costs. Three rounds per build, alternating; the smallest growth counts.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import * as current from '@conifer/engine';
import type { RecordMetadata } from '@conifer/contracts';
import { rng } from '@conifer/test-utils';
import { commandLine } from './util.ts';

const { args, flags } = commandLine();
const basePath = flags['base-engine'];
if (basePath === undefined) throw new Error('--base-engine=<path to another build of packages/engine/dist/index.js> is required');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const N = Number(args[0] ?? 100_000);
const ROUNDS = 3;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

type Engine = typeof current;
const engines: Record<string, Engine> = { base: (await import(pathToFileURL(resolve(basePath)).href)) as Engine, current };

const random = rng(23);
const SHAPES: Record<string, () => RecordMetadata> = {
  'float, distinct per record': () => ({ v: random() }),
  'integer timestamp, distinct per record': (() => {
    let t = 1_700_000_000_000;
    return () => ({ v: (t += 1 + Math.floor(random() * 1000)) });
  })(),
  '100 distinct integers': () => ({ v: Math.floor(random() * 100) }),
  '10 distinct strings': () => ({ v: `s${Math.floor(random() * 10)}` }),
};

const used = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Bytes per record of one build's index of `metadata` (the index lives only inside this call). */
function growth(engine: Engine, metadata: RecordMetadata[]): number {
  const before = used();
  const index = new engine.MetadataIndex();
  for (let slot = 0; slot < metadata.length; slot++) index.add(slot, metadata[slot]);
  const after = used();
  if (index.stats().slots !== metadata.length) throw new Error(`${index.stats().slots} slots indexed, ${metadata.length} expected`);
  return (after - before) / metadata.length;
}

console.log(`metadata index memory, ${N} records, base ${basePath}; load ${load()}`);
const rows: Record<string, string>[] = [];
for (const [shape, make] of Object.entries(SHAPES)) {
  const metadata = Array.from({ length: N }, make);
  const best: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, engine] of Object.entries(engines)) best[name] = Math.min(best[name] ?? Infinity, growth(engine, metadata));
  }
  for (const [name, bytes] of Object.entries(best)) rows.push({ field: shape, engine: name, 'bytes per record': bytes.toFixed(1) });
}
console.table(rows);
console.log(`load at the end ${load()}`);
