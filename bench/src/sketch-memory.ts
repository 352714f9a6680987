#!/usr/bin/env -S node --experimental-strip-types
// What the int8 sketches of the filtered scan cost in resident anonymous memory after a restart (issue 12
// part 7; not part of `npm test` or `npm run bench`):
//   node --experimental-strip-types bench/src/sketch-memory.ts [n=100000] [dim=768]
// Writes n unit vectors to a values file under the system's temporary directory, restores a cosine
// namespace from it the way the store does after a restart (slots with their norms, values served by
// pread from the file, so they are page cache and not RssAnon), then reads RssAnon before and after the
// background builder has sketched every restored slot, and the time that took.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VectorIndex } from '@conifer/engine';
import { vectorDistribution } from '@conifer/test-utils';
import { fileSegment } from './util.ts';

const N = Number(process.argv[2] ?? 100_000);
const DIM = Number(process.argv[3] ?? 768);
const rssAnon = (): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const file = join(tmpdir(), `conifer-sketch-memory-${process.pid}.f32`);
const gen = vectorDistribution('hard', DIM);
const norms = new Float32Array(N);
{
  const fd = openSync(file, 'w');
  const rows = new Float32Array(1000 * DIM);
  for (let i = 0; i < N; i += 1000) {
    for (let j = 0; j < 1000; j++) {
      gen.sample(rows, j * DIM);
      let sq = 0;
      for (let d = 0; d < DIM; d++) sq += rows[j * DIM + d]! ** 2;
      norms[i + j] = Math.sqrt(sq);
    }
    writeSync(fd, new Uint8Array(rows.buffer, 0, Math.min(1000, N - i) * DIM * 4));
  }
  closeSync(fd);
}
const segment = fileSegment(file, N, DIM);
const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: Number.MAX_SAFE_INTEGER });
const ns = index.namespaces.obtain('');
ns.attachSegment(segment, N);
index.restore(
  '',
  Array.from({ length: N }, (_, slot) => ({ slot, id: `v${slot}`, norm: norms[slot]!, metadata: { bucket: slot % 100 } })),
);
globalThis.gc?.();
const before = rssAnon();
const t0 = performance.now();
while (index.buildAnnStep(4096) > 0);
const ms = performance.now() - t0;
globalThis.gc?.();
const after = rssAnon();
const raw = N * DIM * 4;
console.log(
  `${N} x ${DIM}: sketched ${N - ns.pendingSketches} slots in ${(ms / 1000).toFixed(2)} s; RssAnon ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB ` +
    `(+${((after - before) / N).toFixed(0)} B/vector = ${((after - before) / raw).toFixed(3)}× raw; whole process ${(after / raw).toFixed(2)}× raw); load ${load()}`,
);
segment.close();
unlinkSync(file);
