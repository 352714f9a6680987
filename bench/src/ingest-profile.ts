#!/usr/bin/env -S node --experimental-strip-types
// Where the store's upsert path spends its time, stage by stage, for 1000 × `dim` upsert bodies (issue 12
// part 4), in one thread with no HTTP and no disk: what a parse worker does (UTF-8 decode, JSON.parse,
// contracts validation, packing the values), then what the event loop does (prepareUpsert, WAL encode,
// CRC-32, apply into the namespace store). Not part of `npm run bench`.
//   npx turbo run build --filter=@conifer/bench... &&
//   node --experimental-strip-types bench/src/ingest-profile.ts [batches] [dim] [round4]
import { crc32 } from 'node:zlib';
import { loadavg } from 'node:os';
import { parseUpsertRequest } from '@conifer/contracts';
import { VectorIndex } from '@conifer/engine';
import { rng, vectorDistribution } from '@conifer/test-utils';
import { encodeMutation, readUpsertBody } from '@conifer/vector-store';

const BATCHES = Number(process.argv[2] ?? 20);
const DIM = Number(process.argv[3] ?? 768);
// `round4`: values printed with 4 decimals (the bench's datasets) instead of float32 → double's 17 digits.
const ROUND4 = process.argv.includes('round4');
const gen = vectorDistribution('hard', DIM);
const metaRandom = rng(7);
const row = new Float32Array(DIM);
const bodies = Array.from({ length: BATCHES }, (_, b) => {
  const vectors: { id: string; values: number[]; metadata: Record<string, unknown> }[] = [];
  for (let j = 0; j < 1000; j++) {
    gen.sample(row, 0);
    vectors.push({ id: `doc-${b * 1000 + j}`, values: Array.from(row, (v) => (ROUND4 ? Math.round(v * 1e4) / 1e4 : v)), metadata: { bucket: Math.floor(metaRandom() * 100), genre: ['a', 'b', 'c', 'd'][j % 4] } });
  }
  return Buffer.from(JSON.stringify({ namespace: 'ns', vectors }));
});
// As the parse worker decodes (apps/vector-store/src/api/parse-worker.ts).
const decoder = new TextDecoder('utf-8', { fatal: true });
const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' });
const stages: Record<string, number[]> = {};
const time = <T>(name: string, fn: () => T): T => {
  const t = performance.now();
  const out = fn();
  (stages[name] ??= []).push(performance.now() - t);
  return out;
};
for (const body of bodies) {
  const text = time('worker: utf-8 decode', () => decoder.decode(body));
  const json = time('worker: JSON.parse', () => JSON.parse(text));
  const request = time('worker: contracts validation', () => parseUpsertRequest(json));
  const packed = time('worker: pack values', () => {
    let total = 0;
    for (const r of request.vectors) total += r.values?.length ?? 0;
    const values = new Float32Array(total);
    let offset = 0;
    for (const r of request.vectors) {
      if (r.values === undefined) continue;
      values.set(r.values, offset);
      offset += r.values.length;
    }
    return values;
  });
  void packed;
  // What the store's parse worker (or event loop) does now: one scan of the bytes (upsert-body.ts).
  const scanned = time('worker now: readUpsertBody (scan, values → float32)', () => readUpsertBody(body));
  if (scanned.packed === undefined || scanned.request.vectors.length !== request.vectors.length) throw new Error('the fast path did not take the body');
  const mutation = time('loop: prepareUpsert', () => index.prepareUpsert(scanned.request));
  const payload = time('loop: WAL encode', () => encodeMutation(mutation));
  time('loop: CRC-32', () => crc32(payload));
  time('loop: apply', () => index.apply(mutation));
}
const sum = (xs: number[]): number => xs.slice(2).reduce((a, b) => a + b, 0) / (xs.length - 2); // first two batches warm up
const rows = Object.entries(stages).map(([stage, xs]) => ({ stage, 'ms per 1000 vectors': sum(xs).toFixed(2) }));
const worker = Object.entries(stages).filter(([s]) => s.startsWith('worker:')).reduce((a, [, xs]) => a + sum(xs), 0);
const scanner = sum(stages['worker now: readUpsertBody (scan, values → float32)']!);
const loop = Object.entries(stages).filter(([s]) => s.startsWith('loop')).reduce((a, [, xs]) => a + sum(xs), 0);
console.log(`${BATCHES} bodies of 1000 × ${DIM} (${(bodies[0]!.length / 1e6).toFixed(1)} MB each); load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.table(rows);
console.log(`per thread: parse worker before (decode + JSON.parse + validate + pack) ${(1e6 / worker).toFixed(0)} vectors/s, now (readUpsertBody) ${(1e6 / scanner).toFixed(0)} vectors/s, event loop ${(1e6 / loop).toFixed(0)} vectors/s (without fsync, HTTP, structured clone)`);
