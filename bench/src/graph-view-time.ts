// What a usearch `view` of a saved graph costs the thread that calls it (the store's event loop, at every graph
// publish and at start), by graph size: wall and CPU time (user, system) and the page faults it takes, for a
// view of a file in the page cache but not mapped by this process yet, and a second view of the same file
// while the first is still mapped. `view` touches the node region of the file (each node's level and key) and
// builds per-node tables (node offsets and pointers, vector pointers, the key → slot hash table); it never reads
// the vectors, so the dimension changes only the file's size: graphs of a small dimension (quick to build)
// stand for any, and so do graphs built with a small expansion (16: quick to build), whose nodes have the same
// layout (connectivity 16, usearch's level distribution).
//
//   node --experimental-strip-types bench/src/graph-view-time.ts [--sizes=100000,200000,400000,1000000] [--dim=32]
//     [--rounds=5] [--dir=/tmp/conifer-graph-view] [--file=<a saved graph to time too>]
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { DEFAULT_ANN_PARAMS, UsearchAnn } from '@conifer/engine';
import { commandLine, median } from './util.ts';

const { flags } = commandLine();
const SIZES = (flags.sizes ?? '100000,200000,400000,1000000').split(',').map(Number);
const DIM = Number(flags.dim ?? 32);
const ROUNDS = Number(flags.rounds ?? 5);
const DIR = flags.dir ?? '/tmp/conifer-graph-view';
const EXTRA = flags.file ?? '';

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** A graph of n random dim-d rows as the engine makes them (cosine, i8, connectivity 16; expansion 16 at build), built once. */
function graphFile(n: number): string {
  mkdirSync(DIR, { recursive: true });
  const file = `${DIR}/random-${n}x${DIM}.usearch`;
  if (existsSync(file)) return file;
  const ann = new UsearchAnn('cosine', DIM, { ...DEFAULT_ANN_PARAMS, expansionAdd: 16 });
  const batch = 50_000;
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    const values = new Float32Array((to - from) * DIM);
    for (let i = 0; i < values.length; i++) values[i] = Math.random() - 0.5;
    ann.add(Int32Array.from({ length: to - from }, (_, i) => from + i), values, 0);
    log(`  ${n}: ${to} added`);
  }
  ann.save(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  return file;
}

interface Sample {
  wallMs: number;
  userMs: number;
  systemMs: number;
  minorFaults: number;
  majorFaults: number;
}

function timedView(file: string, dim: number): { ann: UsearchAnn; sample: Sample } {
  const r0 = process.resourceUsage();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ann = UsearchAnn.view(file, 'cosine', dim, DEFAULT_ANN_PARAMS, 1);
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const r1 = process.resourceUsage();
  return {
    ann,
    sample: { wallMs, userMs: c.user / 1000, systemMs: c.system / 1000, minorFaults: r1.minorPageFault - r0.minorPageFault, majorFaults: r1.majorPageFault - r0.majorPageFault },
  };
}


function dimensionOf(file: string): number {
  const m = /x(\d+)[.]/.exec(file);
  return m ? Number(m[1]) : DIM;
}

const files = SIZES.map((n) => ({ label: `${n} x ${DIM}`, file: graphFile(n), dim: DIM }));
if (EXTRA !== '') files.push({ label: EXTRA.split('/').pop()!, file: EXTRA, dim: dimensionOf(EXTRA) });
const first = new Map<string, Sample[]>();
const second = new Map<string, Sample[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const { label, file, dim } of files) {
    const a = timedView(file, dim);
    const b = timedView(file, dim);
    // Both searched once (the view is usable), then dropped before the next file.
    a.ann.search(new Float32Array(dim).fill(0.1), 10);
    b.ann.search(new Float32Array(dim).fill(0.1), 10);
    (first.get(label) ?? first.set(label, []).get(label)!).push(a.sample);
    (second.get(label) ?? second.set(label, []).get(label)!).push(b.sample);
  }
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.log(`| graph | file MB | view | wall ms | user ms | system ms | minor faults | major faults |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const { label, file } of files) {
  const mb = (statSync(file).size / 1e6).toFixed(0);
  for (const [name, samples] of [
    ['first', first.get(label)!],
    ['second (first still mapped)', second.get(label)!],
  ] as const) {
    const m = (k: keyof Sample): string => median(samples.map((s) => s[k])).toFixed(k.endsWith('Faults') ? 0 : 1);
    console.log(`| ${label} | ${mb} | ${name} | ${m('wallMs')} | ${m('userMs')} | ${m('systemMs')} | ${m('minorFaults')} | ${m('majorFaults')} |`);
  }
}
