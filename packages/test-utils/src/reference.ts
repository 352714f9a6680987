// Brute-force reference used by the tests: an independent filter evaluator over raw filter JSON and
// exact scoring in double precision over the float32 values.
import { readFileSync } from 'node:fs';
import type { IndexMetric } from '@conifer/contracts';
type Json = unknown;
type Md = Record<string, unknown> | undefined;

export function refMatches(filter: Json, md: Md): boolean {
  if (filter === undefined || filter === null) return true;
  const f = filter as Record<string, unknown>;
  return Object.entries(f).every(([key, cond]) => {
    if (key === '$and') return (cond as Json[]).every((c) => refMatches(c, md));
    if (key === '$or') return (cond as Json[]).some((c) => refMatches(c, md));
    const ops = typeof cond === 'object' && cond !== null && !Array.isArray(cond) ? (cond as Record<string, unknown>) : { $eq: cond };
    const has = md !== undefined && Object.prototype.hasOwnProperty.call(md, key);
    const v = has ? md![key] : undefined;
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    return Object.entries(ops).every(([op, arg]) => {
      switch (op) {
        case '$eq':
          return values.some((x) => x === arg);
        case '$ne':
          return !values.some((x) => x === arg);
        case '$in':
          return values.some((x) => (arg as unknown[]).includes(x));
        case '$nin':
          return !values.some((x) => (arg as unknown[]).includes(x));
        case '$gt':
          return typeof v === 'number' && v > (arg as number);
        case '$gte':
          return typeof v === 'number' && v >= (arg as number);
        case '$lt':
          return typeof v === 'number' && v < (arg as number);
        case '$lte':
          return typeof v === 'number' && v <= (arg as number);
        case '$exists':
          return has === arg;
        default:
          throw new Error(`reference: unknown op ${op}`);
      }
    });
  });
}

/** The metric type is contracts' (declared once); `Metric` is the name the engine's tests use. */
export type Metric = IndexMetric;

/** Score as the API reports it (cosine/dot: higher first; euclidean: squared distance, lower first). */
export function refScore(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.fround(a[i]!);
    const y = Math.fround(b[i]!);
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  if (metric === 'euclidean') return l2;
  if (metric === 'dotproduct') return dot;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export function refTopK(
  metric: Metric,
  query: ArrayLike<number>,
  records: { id: string; values: ArrayLike<number>; metadata?: Record<string, unknown> }[],
  filter: Json,
  k: number,
): { id: string; score: number }[] {
  const scored = records
    .filter((r) => refMatches(filter, r.metadata))
    .map((r) => ({ id: r.id, score: refScore(metric, query, r.values) }));
  scored.sort((x, y) => (metric === 'euclidean' ? x.score - y.score : y.score - x.score));
  return scored.slice(0, k);
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const COLORS = ['red', 'green', 'blue', 'yellow', 'black'];
export const TAGS = ['a', 'b', 'c', 'd', 'e', 'f'];

export function randomMetadata(random: () => number): Record<string, unknown> | undefined {
  if (random() < 0.05) return undefined;
  const md: Record<string, unknown> = {};
  if (random() < 0.9) md.color = COLORS[Math.floor(random() * COLORS.length)];
  if (random() < 0.9) md.n = Math.floor(random() * 100);
  if (random() < 0.7) md.tags = TAGS.filter(() => random() < 0.3);
  if (random() < 0.8) md.flag = random() < 0.5;
  return md;
}

/** One filter per operator and some combinations. */
/** A record of the reference data sets: plain number arrays (float32-exact) and optional random metadata. */
export interface RefRecord {
  id: string;
  values: number[];
  metadata?: Record<string, unknown>;
}

/**
 * `n` records around 8 random centres (noise ±0.3 per dimension) with random metadata, ids `<prefix><i>`: the
 * engine's unit tests' data set, the same for a given seed.
 */
export function clusteredRecords(n: number, dim: number, seed: number, prefix = 'v'): RefRecord[] {
  const random = rng(seed);
  const centers = Array.from({ length: 8 }, () => Array.from({ length: dim }, () => random() * 2 - 1));
  return Array.from({ length: n }, (_, i) => {
    const c = centers[i % centers.length]!;
    const values = c.map((x) => Math.fround(x + (random() - 0.5) * 0.6));
    const metadata = randomMetadata(random);
    return metadata === undefined ? { id: `${prefix}${i}`, values } : { id: `${prefix}${i}`, values, metadata };
  });
}

export const FILTERS: Json[] = [
  { color: 'red' },
  { color: { $eq: 'blue' } },
  { color: { $ne: 'blue' } },
  { n: { $gt: 50 } },
  { n: { $gte: 50 } },
  { n: { $lt: 10 } },
  { n: { $lte: 10 } },
  { n: { $eq: 42 } },
  { color: { $in: ['red', 'green'] } },
  { color: { $nin: ['red', 'green'] } },
  { n: { $in: [1, 2, 3, 4, 5] } },
  { tags: 'a' },
  { tags: { $in: ['b', 'c'] } },
  { tags: { $nin: ['a'] } },
  { tags: { $ne: 'b' } },
  { tags: { $exists: true } },
  { tags: { $exists: false } },
  { flag: true },
  { flag: { $ne: false } },
  { $and: [{ color: 'red' }, { n: { $gt: 20 } }] },
  { $or: [{ color: 'red' }, { flag: true }] },
  { $or: [{ $and: [{ color: 'blue' }, { n: { $lt: 30 } }] }, { tags: { $in: ['f'] } }] },
  { color: 'green', n: { $gte: 10, $lt: 60 } },
  { n: { $gt: 98 } },
];

/**
 * `bytes` with 1–3 random edits (a byte deleted, inserted or replaced; new bytes drawn from `alphabet`): the
 * corruptions the body readers' property tests compare against their reference parsers.
 */
export function corruptBytes(bytes: Buffer, random: () => number, alphabet: Buffer): Buffer {
  let body = bytes;
  const edits = 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * body.length);
    const op = Math.floor(random() * 3);
    const byte = Buffer.from([alphabet[Math.floor(random() * alphabet.length)]!]);
    if (op === 0) body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
    else if (op === 1) body = Buffer.concat([body.subarray(0, at), byte, body.subarray(at)]);
    else body = Buffer.concat([body.subarray(0, at), byte, body.subarray(at + 1)]);
  }
  return body;
}

/**
 * A saved file's bytes, read whole, in the shape of the engine's `GraphBytes` (the held-out calibration walk
 * over a saved usearch graph, engine ann/graph-file.ts; the store lends it pread on its published files).
 */
export function fileBytes(path: string): { byteLength: number; read(out: Uint8Array, at: number): void } {
  const data = readFileSync(path);
  return {
    byteLength: data.length,
    read: (out, at) => {
      if (at < 0 || at + out.length > data.length) throw new Error(`${path}: read past its end`);
      out.set(data.subarray(at, at + out.length));
    },
  };
}
