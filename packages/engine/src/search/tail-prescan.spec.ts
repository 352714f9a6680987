import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseQueryRequest } from '@conifer/contracts';
import { rng } from '@conifer/test-utils';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { TopK } from '../top-k.js';
import type { Metric } from '../types.js';
import { VectorIndex } from '../vector-index.js';
import { exactScan } from './exact-scan.js';
import { TailPrescan } from './tail-prescan.js';

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
    const index = indexWith(metric, rows, 0);
    const ns = index.namespaces.get('')!;
    const q = queries[2]!;
    const prescan = new TailPrescan(ns, new Float32Array(q), metric, 10);
    while (!prescan.done) prescan.step(ns);
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
