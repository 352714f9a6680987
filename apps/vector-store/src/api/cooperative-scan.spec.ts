import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseFilter, parseQueryRequest } from '@conifer/contracts';
import { planQuery, VectorIndex } from '@conifer/engine';
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

  it('rescans the chunks that deletes during the turns left stale, so that the query rescans none', async () => {
    const index = indexWithTail();
    const ns = index.namespaces.get('')!;
    for (let q = 0; q < 3; q++) {
      const request = parseQueryRequest({ vector: row(), topK: 10 });
      const scanning = cooperativeTailScan(index, request, options);
      // Deletes arrive during the scan's turns, as a compaction's do: the best tail rows of every chunk (by the
      // synchronous answer over a wide top) die, a batch per turn.
      const best = index.query({ ...request, topK: 400 }).matches.map((m) => m.id).filter((id) => (ns.slotOf(id) ?? 0) >= ns.annUpTo);
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        index.apply(index.prepareDelete(parseDeleteRequest({ ids: best.slice(i * 100, (i + 1) * 100) })));
      }
      const prescan = await scanning;
      expect(prescan).toBeDefined();
      // Nothing left for the query to rescan synchronously.
      prescan!.recheck();
      expect(prescan!.refreshStep(ns)).toBe(false);
      expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
    }
  });

  it('scans from slot 0 when the graph is too small to search (the query scans the whole namespace)', async () => {
    const index = new VectorIndex({ dimension: DIM, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 50 });
    index.apply(index.prepareUpsert({ namespace: '', vectors: Array.from({ length: 9000 }, (_, j) => ({ id: `s${j}`, values: Float32Array.from(row()) })) }));
    index.buildAnnStep(150);
    const ns = index.namespaces.get('')!;
    const request = parseQueryRequest({ vector: row(), topK: 10 });
    expect(ns.annUpTo).toBe(150);
    expect(planQuery(ns, { vector: request.vector, hasSparse: false, filter: undefined, topK: 10 }, index.search).kind).toBe('exact');
    const prescan = await cooperativeTailScan(index, request, options);
    expect([prescan?.from, prescan?.to]).toEqual([0, 9000]);
    expect(index.query(request, prescan).matches).toEqual(index.query(request).matches);
    // A graph large enough to search: the scan starts at its end.
    index.buildAnnStep(9000 - 150);
    expect(planQuery(ns, { vector: request.vector, hasSparse: false, filter: undefined, topK: 10 }, index.search).kind).toBe('ann');
    index.apply(index.prepareUpsert({ namespace: '', vectors: Array.from({ length: 3000 }, (_, j) => ({ id: `t${j}`, values: Float32Array.from(row()) })) }));
    const tail = await cooperativeTailScan(index, request, options);
    expect([tail?.from, tail?.to]).toEqual([9000, 12_000]);
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
