import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseFilter, parseQueryRequest } from '@conifer/contracts';
import { VectorIndex } from '@conifer/engine';
import { rng } from '@conifer/test-utils';
import { cooperativeTailScan } from './cooperative-scan.js';

const DIM = 16;

/** Seeded numbers in [-0.5, 0.5). */
function random(seed: number): () => number {
  const next = rng(seed);
  return () => next() - 0.5;
}

const next = random(3);
const row = (): number[] => Array.from({ length: DIM }, next);

/** 20k records `r0…`, the graph over the first 2500 (the rest is the unindexed tail). */
function indexWithTail(): VectorIndex {
  const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 50 });
  for (let i = 0; i < 20_000; i += 1000) {
    index.apply(index.prepareUpsert({ namespace: '', vectors: Array.from({ length: 1000 }, (_, j) => ({ id: `r${i + j}`, values: Float32Array.from(row()) })) }));
  }
  index.buildAnnStep(2500);
  return index;
}

const options = { sliceMs: 0, minFloats: 1000 };

describe('cooperativeTailScan', () => {
  it('leaves small tails, filtered and by-id queries, wrong lengths and unknown namespaces to the engine', async () => {
    const index = indexWithTail();
    const request = parseQueryRequest({ vector: row(), topK: 10 });
    expect(await cooperativeTailScan(index, request, { sliceMs: 0, minFloats: 20_000 * DIM })).toBeUndefined();
    expect(await cooperativeTailScan(index, { ...request, filter: parseFilter({ a: 1 }) }, options)).toBeUndefined();
    expect(await cooperativeTailScan(index, parseQueryRequest({ id: 'r1', topK: 10 }), options)).toBeUndefined();
    expect(await cooperativeTailScan(index, parseQueryRequest({ vector: row().slice(1), topK: 10 }), options)).toBeUndefined();
    expect(await cooperativeTailScan(index, { ...request, namespace: 'other' }, options)).toBeUndefined();
  });

  it('scans the tail between event-loop turns; the query answers as the synchronous one, writes during the turns included', async () => {
    const index = indexWithTail();
    for (let q = 0; q < 5; q++) {
      const request = parseQueryRequest({ vector: row(), topK: 10 });
      // The event loop turns before the scan ends (17.5k rows in chunks of 4096, a zero slice: a yield per chunk).
      let turned = false;
      setImmediate(() => (turned = true));
      const scanning = cooperativeTailScan(index, request, options).then((prescan) => ({ prescan, turned }));
      // During the scan: the synchronous answer's best records die or are rewritten, new ones arrive.
      const best = index.query(request).matches.map((m) => m.id);
      index.apply(index.prepareDelete(parseDeleteRequest({ ids: best.slice(0, 5) })));
      index.apply(index.prepareUpsert({ namespace: '', vectors: [...best.slice(5), `n${q}`].map((id) => ({ id, values: Float32Array.from(row()) })) }));
      const { prescan, turned: yielded } = await scanning;
      expect(yielded).toBe(true);
      expect(prescan).toBeDefined();
      expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
    }
  });

  it('starts over when the namespace is renumbered during the turns', async () => {
    const index = indexWithTail();
    const request = parseQueryRequest({ vector: row(), topK: 10 });
    const scanning = cooperativeTailScan(index, request, options);
    const before = index.namespaces.get('')!.generation;
    // Deleting 40 % compacts the namespace (the graph is dropped: the new scan covers all of it).
    for (let i = 0; i < 8; i++) index.apply(index.prepareDelete(parseDeleteRequest({ ids: Array.from({ length: 1000 }, (_, j) => `r${(i * 1000 + j) * 2}`) })));
    const ns = index.namespaces.get('')!;
    expect(ns.generation).not.toBe(before);
    const prescan = await scanning;
    expect(prescan?.fits(ns)).toBe(true);
    expect([prescan?.from, prescan?.to]).toEqual([0, ns.slotCount]);
    expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
  });
});
