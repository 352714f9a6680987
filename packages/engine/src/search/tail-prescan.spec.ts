import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseFilter, parseQueryRequest } from '@conifer/contracts';
import { rng, vectorDistribution } from '@conifer/test-utils';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { TopK } from '../top-k.js';
import type { Metric } from '../types.js';
import { VectorIndex } from '../vector-index.js';
import { exactScan } from './exact-scan.js';
import { compile, slotsOf } from '../filter/matching.js';
import { quantizeRow } from '../simd-exact.js';
import { executePlan } from './execute.js';
import { planQuery } from './planner.js';
import { rangeScan, TailPrescan } from './tail-prescan.js';

const DIM = 8;

/** Seeded numbers in [-0.5, 0.5). */
function random(seed: number): () => number {
  const next = rng(seed);
  return () => next() - 0.5;
}

function vectorsFrom(next: () => number, n: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: DIM }, next));
}

/** An index of `n` records `r0…`, its graph over the first `graphed` slots (the rest is the unindexed tail). */
function indexWith(metric: Metric, rows: number[][], graphed: number): VectorIndex {
  const index = new VectorIndex({ dimension: DIM, metric, vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 50 });
  for (let i = 0; i < rows.length; i += 1000) {
    const vectors = rows.slice(i, i + 1000).map((values, j) => ({ id: `r${i + j}`, values: Float32Array.from(values) }));
    index.apply(index.prepareUpsert({ namespace: '', vectors }));
  }
  if (graphed > 0) index.buildAnnStep(graphed);
  return index;
}

/** The k best live slots of [from, slotCount) by the exact scorer, by brute force. */
function bruteForce(ns: NamespaceStore, metric: Metric, q: number[], from: number, k: number): number[] {
  const score = ns.scorer(metric, new Float32Array(q), undefined);
  const all: [number, number][] = [];
  for (let slot = from; slot < ns.slotCount; slot++) if (ns.isLive(slot)) all.push([score(slot), slot]);
  return all
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, slot]) => slot);
}

function pushed(ns: NamespaceStore, metric: Metric, q: number[], prescan: TailPrescan, k: number): number[] {
  const top = new TopK(k);
  prescan.pushInto(ns, ns.scorer(metric, new Float32Array(q), undefined), top);
  return top.sorted().map((m) => m.slot);
}

describe('TailPrescan', () => {
  const next = random(7);
  const rows = vectorsFrom(next, 12_000);
  const queries = vectorsFrom(next, 8);

  /** An index of `rows` with its graph over the first `graphed` slots, and a prescan for `q` run to its end. */
  function scannedTail(metric: Metric, graphed: number, q: number[]): { index: VectorIndex; ns: NamespaceStore; prescan: TailPrescan } {
    const index = indexWith(metric, rows, graphed);
    const ns = index.namespaces.get('')!;
    const prescan = new TailPrescan(ns, new Float32Array(q), metric, 10);
    while (!prescan.done) prescan.step(ns);
    return { index, ns, prescan };
  }

  for (const metric of ['cosine', 'dotproduct', 'euclidean'] as const) {
    it(`gives the exact top-k of the unindexed tail, chunk edges inside the range (${metric})`, () => {
      // The graph ends inside the first chunk (4096 rows), the tail ends inside the third.
      const index = indexWith(metric, rows, 3000);
      const ns = index.namespaces.get('')!;
      expect(ns.annUpTo).toBe(3000);
      for (const q of queries) {
        const prescan = new TailPrescan(ns, new Float32Array(q), metric, 10);
        expect([prescan.from, prescan.to]).toEqual([3000, 12_000]);
        expect(pushed(ns, metric, q, prescan, 10)).toEqual(bruteForce(ns, metric, q, 3000, 10));
      }
    });
  }

  it('scores its candidates during its steps: the query only pushes them (and scores rescanned chunks)', () => {
    const metric = 'cosine';
    const q = queries[1]!;
    const { index, ns, prescan } = scannedTail(metric, 3000, q);
    const exact = ns.scorer(metric, new Float32Array(q), undefined);
    let calls = 0;
    const counting = (slot: number): number => {
      calls++;
      return exact(slot);
    };
    const top = new TopK(10);
    prescan.pushInto(ns, counting, top);
    expect(calls).toBe(0);
    expect(top.sorted().map((m) => m.slot)).toEqual(bruteForce(ns, metric, q, 3000, 10));
    for (const m of top.sorted()) expect(m.score).toBe(exact(m.slot));
    // Deleting a chunk's candidates makes it stale: that chunk is scanned and scored by the query.
    const best = bruteForce(ns, metric, q, 3000, 100).map((slot) => ns.idOf(slot));
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: best })));
    const after = new TopK(10);
    prescan.pushInto(ns, counting, after);
    expect(calls).toBeGreaterThan(0);
    expect(after.sorted().map((m) => m.slot)).toEqual(bruteForce(ns, metric, q, 3000, 10));
  });

  it('stays exact when the best rows of the tail are deleted or updated between its steps', () => {
    const metric = 'cosine';
    const index = indexWith(metric, rows, 3000);
    const ns = index.namespaces.get('')!;
    const q = queries[0]!;
    const prescan = new TailPrescan(ns, new Float32Array(q), metric, 10);
    prescan.step(ns);
    prescan.step(ns);
    // The 200 best tail rows (more than a chunk's candidates) die: half deleted, half updated (a new slot).
    const best = bruteForce(ns, metric, q, 3000, 200).map((slot) => ns.idOf(slot));
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: best.slice(0, 100) })));
    index.apply(index.prepareUpsert({ namespace: '', vectors: best.slice(100).map((id) => ({ id, values: Float32Array.from(rows[0]!) })) }));
    expect(prescan.fits(ns)).toBe(true);
    // The rest of the range, then what it holds: the range's live rows only (the updates went past it).
    const fromRange = pushed(ns, metric, q, prescan, 10);
    const exact = bruteForce(ns, metric, q, 3000, 10_000).filter((slot) => slot < prescan.to).slice(0, 10);
    expect(fromRange).toEqual(exact);
    // The query with the prescan answers as the synchronous one (which scans the updated rows itself).
    const request = parseQueryRequest({ vector: q, topK: 10 });
    expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
  });

  it('rescans, a chunk per refreshStep, the chunks that deletes left with too few live candidates (none after a recheck)', () => {
    const metric = 'cosine';
    const q = queries[2]!;
    const { index, ns, prescan } = scannedTail(metric, 0, q);
    expect(prescan.refreshStep(ns)).toBe(false);
    // The 60 best rows of each of the first two chunks die (every candidate a chunk kept, 10 + 16, and more).
    for (const [lo, hi] of [
      [0, 4096],
      [4096, 8192],
    ]) {
      const inChunk = bruteForce(ns, metric, q, lo, 12_000)
        .filter((slot) => slot < hi)
        .slice(0, 60);
      index.apply(index.prepareDelete(parseDeleteRequest({ ids: inChunk.map((slot) => ns.idOf(slot)) })));
    }
    // A chunk already passed is not looked at again until a recheck.
    prescan.recheck();
    expect(prescan.refreshStep(ns)).toBe(true);
    expect(prescan.refreshStep(ns)).toBe(true);
    expect(prescan.refreshStep(ns)).toBe(false);
    prescan.recheck();
    expect(prescan.refreshStep(ns)).toBe(false);
    expect(pushed(ns, metric, q, prescan, 10)).toEqual(bruteForce(ns, metric, q, 0, 10));
    const request = parseQueryRequest({ vector: q, topK: 10 });
    expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
  });

  it('covers the slots below the graph when started from 0 (a query the planner answers by a whole scan)', () => {
    const metric = 'euclidean';
    const index = indexWith(metric, rows, 3000);
    const ns = index.namespaces.get('')!;
    for (const q of queries.slice(0, 3)) {
      const prescan = new TailPrescan(ns, new Float32Array(q), metric, 10, 0);
      expect([prescan.from, prescan.to]).toEqual([0, 12_000]);
      while (!prescan.done) prescan.step(ns);
      expect(pushed(ns, metric, q, prescan, 10)).toEqual(bruteForce(ns, metric, q, 0, 10));
      // Used by a graph search too: its candidates below the graph's end are scored once, the answer unchanged.
      const request = parseQueryRequest({ vector: q, topK: 10 });
      expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
    }
  });

  it('answers queries as the synchronous scan does, graph or not, and is ignored once slots are renumbered', () => {
    for (const graphed of [0, 3000]) {
      const index = indexWith('euclidean', rows, graphed);
      const ns = index.namespaces.get('')!;
      for (const q of queries) {
        const request = parseQueryRequest({ vector: q, topK: 10 });
        const prescan = new TailPrescan(ns, request.vector!, 'euclidean', 10);
        while (!prescan.done) prescan.step(ns);
        const expected = index.query(request);
        expect(index.query(request, prescan).matches).toEqual(expected.matches);
        if (graphed === 0) expect(expected.matches.map((m) => m.id)).toEqual(bruteForce(ns, 'euclidean', q, 0, 10).map((slot) => ns.idOf(slot)));
      }
    }
    const index = indexWith('euclidean', rows, 0);
    const ns = index.namespaces.get('')!;
    const request = parseQueryRequest({ vector: queries[1]!, topK: 10 });
    const prescan = new TailPrescan(ns, request.vector!, 'euclidean', 10);
    // Deleting 40 % compacts the namespace (slots renumbered): the prescan no longer fits and is not used.
    for (let i = 0; i < 5; i++) index.apply(index.prepareDelete(parseDeleteRequest({ ids: Array.from({ length: 1000 }, (_, j) => `r${(i * 1000 + j) * 2}`) })));
    while (index.compactionStep(100_000));
    expect(prescan.fits(ns)).toBe(false);
    expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
  });
});

describe('exactScan over a range starting inside a values chunk', () => {
  it('gives the exact top-k of the range (SIMD over the whole chunk, rows outside the range left out)', () => {
    const next = random(11);
    const index = indexWith('cosine', vectorsFrom(next, 9000), 0);
    const ns = index.namespaces.get('')!;
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: Array.from({ length: 300 }, (_, i) => `r${1000 + i * 7}`) })));
    for (const q of vectorsFrom(next, 5)) {
      for (const from of [1000, 3500, 4096, 5000]) {
        const top = new TopK(10);
        const vector = new Float32Array(q);
        const scanned = exactScan({ ns, score: ns.scorer('cosine', vector, undefined), into: top, from, simd: { vector, metric: 'cosine' } });
        let live = 0;
        for (let slot = from; slot < ns.slotCount; slot++) if (ns.isLive(slot)) live++;
        expect(scanned).toBe(live);
        expect(top.sorted().map((m) => m.slot)).toEqual(bruteForce(ns, 'cosine', q, from, 10));
      }
    }
  });
});

describe('TailPrescan over the int8 sketches (long ranges of cosine namespaces)', () => {
  const SKETCH_DIM = 96;
  const N = 75_000;
  const GRAPHED = 5_000;
  const dist = vectorDistribution('hard', SKETCH_DIM, 11);
  const data = new Float32Array(N * SKETCH_DIM);
  for (let i = 0; i < N; i++) dist.sample(data, i * SKETCH_DIM);
  const row = (i: number): Float32Array => data.slice(i * SKETCH_DIM, (i + 1) * SKETCH_DIM);
  // Queries near rows of the tail (a row plus noise) and two that are rows of the tail themselves.
  const noise = random(5);
  const queries = [
    ...Array.from({ length: 18 }, (_, q) => Float32Array.from(row(GRAPHED + 1 + q * 3851), (v) => v + noise() * 0.05)),
    row(GRAPHED + 7),
    row(N - 3),
  ];

  function sketchIndex(metric: Metric): VectorIndex {
    const index = new VectorIndex({ dimension: SKETCH_DIM, metric, vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 50 });
    for (let i = 0; i < N; i += 1000) {
      const vectors = Array.from({ length: 1000 }, (_, j) => ({ id: `r${i + j}`, values: row(i + j) }));
      index.apply(index.prepareUpsert({ namespace: '', vectors }));
    }
    index.buildAnnStep(GRAPHED);
    return index;
  }

  const bruteTop = (ns: NamespaceStore, q: Float32Array, from: number, k: number): number[] => bruteForce(ns, 'cosine', Array.from(q), from, k);

  it('ranks a long cosine range over the sketches, a short one, or another metric, over the values', () => {
    const cosine = sketchIndex('cosine');
    const ns = cosine.namespaces.get('')!;
    expect(ns.annUpTo).toBe(GRAPHED);
    expect(rangeScan(ns, queries[0]!, 'cosine', 10, GRAPHED, N).sketch).toBeInstanceOf(Int8Array);
    expect(rangeScan(ns, queries[0]!, 'cosine', 10, N - 65_535, N).sketch).toBeUndefined();
    const dot = sketchIndex('dotproduct').namespaces.get('')!;
    expect(rangeScan(dot, queries[0]!, 'dotproduct', 10, GRAPHED, N).sketch).toBeUndefined();
  });

  it('finds the exact top-k of the tail (recall ≥ 0.99 over 20 queries; a stored row first), scored exactly', () => {
    const index = sketchIndex('cosine');
    const ns = index.namespaces.get('')!;
    let hits = 0;
    for (const [i, q] of queries.entries()) {
      const prescan = new TailPrescan(ns, q, 'cosine', 10);
      while (!prescan.done) prescan.step(ns);
      const top = new TopK(10);
      const score = ns.scorer('cosine', q, undefined);
      prescan.pushInto(ns, score, top);
      const got = top.sorted();
      const want = bruteTop(ns, q, GRAPHED, 10);
      hits += got.filter((m) => want.includes(m.slot)).length;
      // Exact scores, best first.
      for (const m of got) expect(m.score).toBe(score(m.slot));
      if (i === 18) expect(got[0]!.slot).toBe(GRAPHED + 7);
      if (i === 19) expect(got[0]!.slot).toBe(N - 3);
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.99);
  });

  it('gives the same answers through the synchronous scan, and keeps them when the best rows die between steps', () => {
    const index = sketchIndex('cosine');
    const ns = index.namespaces.get('')!;
    const q = queries[3]!;
    const viaScan = new TopK(10);
    exactScan({ ns, score: ns.scorer('cosine', q, undefined), into: viaScan, from: GRAPHED, simd: { vector: q, metric: 'cosine' } });
    const prescan = new TailPrescan(ns, q, 'cosine', 10);
    while (!prescan.done) prescan.step(ns);
    expect(pushed(ns, 'cosine', Array.from(q), prescan, 10)).toEqual(viaScan.sorted().map((m) => m.slot));
    // The 300 best tail rows (more than a sketch chunk's shortlist) are deleted after the scan.
    const best = bruteTop(ns, q, GRAPHED, 300);
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: best.map((slot) => ns.idOf(slot)) })));
    const after = pushed(ns, 'cosine', Array.from(q), prescan, 10);
    const truth = bruteTop(ns, q, GRAPHED, 10);
    expect(after.filter((slot) => truth.includes(slot)).length).toBeGreaterThanOrEqual(9);
    for (const slot of after) expect(ns.isLive(slot)).toBe(true);
  });

  it('sketchRangeCandidates: the range’s live slots only, min(want, live) of them, whether compared in place or gathered', () => {
    const index = sketchIndex('cosine');
    const ns = index.namespaces.get('')!;
    const query = new Int8Array(SKETCH_DIM);
    quantizeRow(queries[0]!, 0, SKETCH_DIM, query, 0);
    // Delete every third slot of the second sketch chunk.
    const dead = Array.from({ length: 16_384 / 3 }, (_, i) => 16_384 + i * 3);
    for (let i = 0; i < dead.length; i += 1000) index.apply(index.prepareDelete(parseDeleteRequest({ ids: dead.slice(i, i + 1000).map((slot) => ns.idOf(slot)) })));
    // In place (the range is most of the chunk), gathered (a small part at its end), and all of a few rows.
    for (const [lo, hi, want] of [
      [16_384, 32_768, 60],
      [16_384 + 2_000, 32_768, 60],
      [32_000, 32_768, 60],
      [20_000, 20_050, 60],
    ] as const) {
      const out: number[] = [];
      const live = ns.sketchRangeCandidates(lo, hi, query, want, out);
      let expectedLive = 0;
      for (let slot = lo; slot < hi; slot++) if (ns.isLive(slot)) expectedLive++;
      expect(live).toBe(expectedLive);
      expect(out.length).toBe(Math.min(want, expectedLive));
      expect(new Set(out).size).toBe(out.length);
      for (const slot of out) {
        expect(slot >= lo && slot < hi).toBe(true);
        expect(ns.isLive(slot)).toBe(true);
      }
    }
    // Either way the shortlist holds the range's true best rows by cosine.
    const score = ns.scorer('cosine', queries[0]!, undefined);
    for (const [lo, hi] of [
      [16_384, 32_768],
      [32_000, 32_768],
    ] as const) {
      const out: number[] = [];
      ns.sketchRangeCandidates(lo, hi, query, 60, out);
      const best: [number, number][] = [];
      for (let slot = lo; slot < hi; slot++) if (ns.isLive(slot)) best.push([score(slot), slot]);
      best.sort((a, b) => b[0] - a[0]);
      for (const [, slot] of best.slice(0, 10)) expect(out).toContain(slot);
    }
  });

  it('ranks a filtered graph search’s matches in the tail over their sketches (cosine), and finds the same answers', () => {
    const build = (metric: Metric): VectorIndex => {
      // At 96-d the cost model prefers scanning 4000 matches to a graph search, and scoring them to their sketches:
      // scaled here so that the graph and the sketches are chosen as they are at 768-d and larger sizes.
      const index = new VectorIndex({ dimension: SKETCH_DIM, metric, vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 50, graphCostScale: 0.01, sketchCostScale: 0.5 });
      for (let i = 0; i < N; i += 1000) {
        const vectors = Array.from({ length: 1000 }, (_, j) => ({ id: `r${i + j}`, values: row(i + j), metadata: { bucket: (i + j) % 10 } }));
        index.apply(index.prepareUpsert({ namespace: '', vectors }));
      }
      index.buildAnnStep(GRAPHED);
      return index;
    };
    const index = build('cosine');
    const ns = index.namespaces.get('')!;
    const filter = compile(parseFilter({ bucket: { $eq: 3 } }))!;
    const plan = planQuery(ns, { vector: queries[0]!, hasSparse: false, filter, topK: 10 }, index.search);
    expect(plan).toMatchObject({ kind: 'ann', tail: { kind: 'sketch-filtered' } });
    if (plan.kind !== 'ann' || plan.tail === undefined) throw new Error('no tail plan');
    // Only the tail's matches, in slot order.
    const tailSlots = Array.from(slotsOf(plan.tail.matches));
    expect(tailSlots.length).toBe((N - GRAPHED) / 10);
    expect(tailSlots.every((slot, i) => slot >= GRAPHED && slot % 10 === 3 && (i === 0 || slot > tailSlots[i - 1]!))).toBe(true);
    // The same answers as with each tail match scored exactly (the plan without `tail`), over 20 queries.
    let same = 0;
    for (const q of queries) {
      const score = ns.scorer('cosine', q, undefined);
      const planned = planQuery(ns, { vector: q, hasSparse: false, filter, topK: 10 }, index.search);
      const viaSketches = executePlan(ns, planned, score, q, 10, 'cosine').top.slotArray();
      const exactTail = executePlan(ns, { ...planned, tail: undefined } as typeof planned, score, q, 10, 'cosine').top.slotArray();
      same += Array.from(viaSketches).filter((slot) => exactTail.includes(slot)).length;
    }
    expect(same / (queries.length * 10)).toBeGreaterThanOrEqual(0.99);
    // A stored tail row that matches is its own best match.
    const stored = GRAPHED + 3;
    expect(index.query(parseQueryRequest({ vector: Array.from(row(stored)), topK: 10, filter: { bucket: { $eq: 3 } } })).matches[0]!.id).toBe(`r${stored}`);
    // Euclidean namespaces have no sketches: their tail's matches are scored one by one.
    const euclidean = build('euclidean');
    const plainPlan = planQuery(euclidean.namespaces.get('')!, { vector: queries[0]!, hasSparse: false, filter, topK: 10 }, euclidean.search);
    expect(plainPlan).toMatchObject({ kind: 'ann' });
    expect((plainPlan as { tail?: unknown }).tail).toBeUndefined();
  });

  it('sketchRangeCandidates: a query with no positive dot product in the chunk still gets the range’s best rows', () => {
    // Every row near one direction, the query opposite: the zeroed spare rows outrank every row of the range when
    // compared in place, and the range is gathered instead.
    const dim = 32;
    const next = random(9);
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: Number.MAX_SAFE_INTEGER });
    for (let i = 0; i < 20_000; i += 1000) {
      const vectors = Array.from({ length: 1000 }, (_, j) => ({ id: `r${i + j}`, values: Float32Array.from({ length: dim }, (_, d) => (d === 0 ? 4 : 0) + next()) }));
      index.apply(index.prepareUpsert({ namespace: '', vectors }));
    }
    const ns = index.namespaces.get('')!;
    const q = Float32Array.from({ length: dim }, (_, d) => (d === 0 ? -1 : 0));
    const query = new Int8Array(dim);
    quantizeRow(q, 0, dim, query, 0);
    const out: number[] = [];
    expect(ns.sketchRangeCandidates(0, 16_384, query, 40, out)).toBe(16_384);
    expect(out.length).toBe(40);
    const score = ns.scorer('cosine', q, undefined);
    const best = Array.from({ length: 16_384 }, (_, slot) => [score(slot), slot] as const).sort((a, b) => b[0] - a[0]);
    for (const [, slot] of best.slice(0, 10)) expect(out).toContain(slot);
  });

  it('leaves a range whose sketches are not built yet (restored slots) to the values', () => {
    const index = sketchIndex('cosine');
    const ns = index.namespaces.get('')!;
    const restored = new VectorIndex({ dimension: SKETCH_DIM, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: Number.MAX_SAFE_INTEGER });
    const target = restored.namespaces.obtain('');
    target.attachSegment({ rows: N, read: (first, count, out, offset) => out.set(data.subarray(first * SKETCH_DIM, (first + count) * SKETCH_DIM), offset) }, N);
    restored.restore(
      '',
      Array.from({ length: N }, (_, slot) => ({ slot, id: ns.idOf(slot), norm: Math.hypot(...row(slot)) })),
    );
    expect(target.pendingSketches).toBe(N);
    expect(rangeScan(target, queries[0]!, 'cosine', 10, 0, N).sketch).toBeUndefined();
    while (target.buildSketches(8192) > 0);
    expect(rangeScan(target, queries[0]!, 'cosine', 10, 0, N).sketch).toBeInstanceOf(Int8Array);
  });
});
