import { describe, expect, it } from '@jest/globals';
import {
  InvalidArgumentError,
  parseDeleteRequest,
  parseFetchByMetadataRequest,
  parseQueryRequest,
  parseUpdateRequest,
  parseUpsertRequest,
} from '@conifer/contracts';
import { FILTERS, refMatches, refTopK, type Metric, clusteredRecords, type RefRecord } from '@conifer/test-utils';
import type { EngineRecord, SearchOptions } from './types.js';
import { DEFAULT_SEARCH_OPTIONS, VectorIndex } from './vector-index.js';


/** Records with plain number arrays (toEqual tells Float32Array from number[]). */
function plain(records: EngineRecord[]): unknown[] {
  return records.map((r) => ({ ...r, ...(r.values ? { values: Array.from(r.values) } : {}) }));
}


function load(index: VectorIndex, records: RefRecord[], namespace = ''): void {
  for (let i = 0; i < records.length; i += 1000) {
    const body = { namespace, vectors: records.slice(i, i + 1000) };
    index.apply(index.prepareUpsert(parseUpsertRequest(body)));
  }
}

const EXACT: SearchOptions = { ...DEFAULT_SEARCH_OPTIONS, annMinVectors: Number.MAX_SAFE_INTEGER, exactFilterMax: Number.MAX_SAFE_INTEGER };

describe('VectorIndex against the brute-force reference', () => {
  const dim = 16;
  const records = clusteredRecords(1500, dim, 7);
  const queries = clusteredRecords(6, dim, 99).map((r) => r.values);

  for (const metric of ['cosine', 'euclidean', 'dotproduct'] as Metric[]) {
    it(`exact search returns the reference top-k for every filter (${metric})`, () => {
      const index = new VectorIndex({ dimension: dim, metric, vectorType: 'dense' }, EXACT);
      load(index, records);
      for (const filter of [undefined, ...FILTERS]) {
        for (const q of queries) {
          const expected = refTopK(metric, q, records, filter, 10);
          const got = index.query(parseQueryRequest({ vector: q, topK: 10, filter }));
          expect(got.matches.map((m) => m.id)).toEqual(expected.map((m) => m.id));
          got.matches.forEach((m, i) => expect(m.score).toBeCloseTo(expected[i]!.score, 4));
        }
      }
    });

    it(`ANN and planned filtered search reach recall >= 0.9 for every filter (${metric})`, () => {
      const index = new VectorIndex({ dimension: dim, metric, vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 50, graphCostScale: 0.01 });
      load(index, records);
      while (index.buildAnnStep(512) > 0);
      let hits = 0;
      let total = 0;
      const plans = new Set<string>();
      for (const filter of [undefined, ...FILTERS]) {
        for (const q of queries) {
          const expected = refTopK(metric, q, records, filter, 10).map((m) => m.id);
          const result = index.query(parseQueryRequest({ vector: q, topK: 10, filter }));
          const got = result.matches.map((m) => m.id);
          plans.add(result.plan.plan);
          // A selective filter still yields topK matches when they exist.
          expect(got.length).toBe(expected.length);
          for (const id of got) if (expected.includes(id)) hits++;
          total += expected.length;
          // Every returned match satisfies the filter.
          for (const id of got) expect(refMatches(filter, records.find((r) => r.id === id)!.metadata)).toBe(true);
        }
      }
      expect(plans).toEqual(new Set(['ann', 'ann-filtered', 'exact-filtered']));
      expect(hits / total).toBeGreaterThanOrEqual(0.9);
    });
  }

  it('reads its own writes: vectors not yet in the ANN index are searched exactly', () => {
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 100, exactFilterMax: 0 });
    load(index, records);
    while (index.buildAnnStep(512) > 0);
    const fresh = { id: 'fresh', values: queries[0]!, metadata: { color: 'red' } };
    index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: [fresh] })));
    const got = index.query(parseQueryRequest({ vector: queries[0], topK: 1 }));
    expect(got.matches[0]!.id).toBe('fresh');
    // Deleted vectors inside the ANN index are never returned.
    const top = index.query(parseQueryRequest({ vector: queries[1], topK: 5 })).matches.map((m) => m.id);
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: top })));
    const after = index.query(parseQueryRequest({ vector: queries[1], topK: 5 })).matches.map((m) => m.id);
    expect(after).toHaveLength(5);
    for (const id of top) expect(after).not.toContain(id);
  });
});

describe('SIMD exact scan of large namespaces', () => {
  for (const metric of ['cosine', 'euclidean', 'dotproduct'] as Metric[]) {
    it(`matches the reference with dead rows present (${metric})`, () => {
      const dim = 12;
      const records = clusteredRecords(9000, dim, 21); // more than two values chunks
      const index = new VectorIndex({ dimension: dim, metric, vectorType: 'dense' }, EXACT);
      load(index, records);
      const deleted = new Set(records.filter((_, i) => i % 7 === 0).map((r) => r.id));
      index.apply(index.prepareDelete(parseDeleteRequest({ ids: [...deleted].slice(0, 1000) })));
      const remaining = records.filter((r) => !deleted.has(r.id) || [...deleted].indexOf(r.id) >= 1000);
      for (const q of clusteredRecords(5, dim, 77).map((r) => r.values)) {
        const expected = refTopK(metric, q, remaining, undefined, 10);
        const got = index.query(parseQueryRequest({ vector: q, topK: 10 }));
        expect(got.matches.map((m) => m.id)).toEqual(expected.map((m) => m.id));
      }
    });
  }
});

describe('VectorIndex compaction', () => {
  it('compacts dead slots, keeps every live record and rebuilds the ANN index', () => {
    const dim = 8;
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 500 });
    const records = clusteredRecords(3000, dim, 5);
    load(index, records);
    while (index.buildAnnStep(1000) > 0);
    const ns = index.namespaces.get('')!;
    expect(ns.ann).toBeDefined();
    expect(ns.annUpTo).toBe(ns.slotCount);
    // Replace 2000 records: their old slots die; compaction runs once dead slots pass 30 %.
    const replaced = records.slice(0, 2000).map((r) => ({ ...r, values: r.values.map((v) => -v) }));
    load(index, replaced);
    expect(ns.slotCount).toBeLessThan(5000);
    expect(ns.liveCount).toBe(3000);
    const q = replaced[10]!.values;
    expect(index.query(parseQueryRequest({ vector: q, topK: 1 })).matches[0]!.id).toBe(replaced[10]!.id);
    while (index.buildAnnStep(1000) > 0);
    // The rebuilt graph is approximate: a self-query may rarely rank a near-duplicate first (seen 1 in ~300 with
    // multi-threaded builds), so ask for the record among the top 10 and for high self-recall overall.
    const selfHits = replaced.filter((r, i) => i % 10 === 0 && index.query(parseQueryRequest({ vector: r.values, topK: 1 })).matches[0]!.id === r.id);
    expect(selfHits.length / 200).toBeGreaterThanOrEqual(0.97);
    // Among the top 10, nearly always (one sampled record missed even there once in CI, under load: threads
    // scheduled differently build a different graph, and a node can end up poorly linked).
    const inTop10 = replaced.filter((r, i) => i % 10 === 0 && index.query(parseQueryRequest({ vector: r.values, topK: 10 })).matches.some((m) => m.id === r.id));
    expect(inTop10.length / 200).toBeGreaterThanOrEqual(0.99);
    expect(index.fetch({ namespace: '', ids: ['v10', 'v2999'] }).records[0]!.metadata).toEqual(replaced[10]!.metadata);
    expect(index.describeStats({ op: 'exists', field: 'color', value: true }).total).toBe(
      records.filter((r) => r.metadata?.color !== undefined).length,
    );
  });
});

describe('VectorIndex graph tail', () => {
  it('scans the vectors not yet in the graph exactly (SIMD candidates, whole and partial blocks)', () => {
    const dim = 16;
    const settings = { dimension: dim, metric: 'cosine' as const, vectorType: 'dense' as const };
    const graphed = new VectorIndex(settings, { annMinVectors: 500 });
    const exact = new VectorIndex(settings, EXACT);
    const head = clusteredRecords(6000, dim, 3);
    // The tail: near one direction, so the best matches of a query there are all in the tail.
    const tail = clusteredRecords(4000, dim, 4, 't').map((r) => ({ ...r, values: r.values.map((v, d) => (d === 0 ? v + 8 : v)) }));
    for (const index of [graphed, exact]) load(index, head);
    while (graphed.buildAnnStep(1000) > 0);
    for (const index of [graphed, exact]) load(index, tail);
    const ns = graphed.namespaces.get('')!;
    expect(ns.annUpTo).toBe(6000);
    expect(ns.slotCount).toBe(10_000);
    for (const probe of [tail[5]!, tail[3000]!, tail[3999]!]) {
      const request = parseQueryRequest({ vector: probe.values, topK: 10 });
      const got = graphed.query(request);
      expect(got.plan.plan).toBe('ann');
      const want = exact.query(request);
      expect(got.matches.map((m) => m.id)).toEqual(want.matches.map((m) => m.id));
      got.matches.forEach((m, i) => expect(m.score).toBe(want.matches[i]!.score));
    }
  });
});

describe('VectorIndex operations', () => {
  const settings = { dimension: 3, metric: 'cosine' as const, vectorType: 'dense' as const };

  it('upsert replaces by id, update merges metadata and replaces values, fetch returns what was written', () => {
    const index = new VectorIndex(settings, EXACT);
    index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: [{ id: 'a', values: [0.1, 0.2, 0.3], metadata: { x: 1, y: 'k' } }] })));
    index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: [{ id: 'a', values: [0.4, 0.5, 0.6], metadata: { x: 2 } }] })));
    expect(plain(index.fetch({ namespace: '', ids: ['a'] }).records)).toEqual([{ id: 'a', values: [0.4, 0.5, 0.6].map(Math.fround), metadata: { x: 2 } }]);
    index.apply(index.prepareUpdate(parseUpdateRequest({ id: 'a', setMetadata: { z: ['p', 'q'] } })));
    index.apply(index.prepareUpdate(parseUpdateRequest({ id: 'a', values: [1, 0, 0] })));
    expect(plain(index.fetch({ namespace: '', ids: ['a', 'missing', 'a'] }).records)).toEqual([{ id: 'a', values: [1, 0, 0], metadata: { x: 2, z: ['p', 'q'] } }]);
    expect(index.totalVectorCount).toBe(1);
    // Update of a missing id changes nothing.
    expect(index.apply(index.prepareUpdate(parseUpdateRequest({ id: 'nope', setMetadata: { a: 1 } })))).toBe(0);
  });

  it('rejects wrong dimensions and sparse values on a cosine index without applying anything', () => {
    const index = new VectorIndex(settings, EXACT);
    const bad = parseUpsertRequest({ vectors: [{ id: 'ok', values: [1, 2, 3] }, { id: 'bad', values: [1, 2] }] });
    expect(() => index.prepareUpsert(bad)).toThrow(InvalidArgumentError);
    expect(() =>
      index.prepareUpsert(parseUpsertRequest({ vectors: [{ id: 's', values: [1, 2, 3], sparseValues: { indices: [1], values: [1] } }] })),
    ).toThrow(/dotproduct/);
    expect(() => index.query(parseQueryRequest({ vector: [1, 2], topK: 1 }))).toThrow(/dimension/);
    expect(index.totalVectorCount).toBe(0);
  });

  it('deletes by ids, by filter and all; update by filter counts and merges', () => {
    const index = new VectorIndex(settings, EXACT);
    const vectors = Array.from({ length: 20 }, (_, i) => ({ id: `id-${String(i).padStart(2, '0')}`, values: [1, i, 0], metadata: { i, even: i % 2 === 0 } }));
    index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: 'ns', vectors })));
    expect(index.countMatching('ns', { op: 'eq', field: 'even', value: true })).toBe(10);
    expect(index.apply(index.prepareUpdate(parseUpdateRequest({ namespace: 'ns', filter: { even: true }, setMetadata: { tag: 'e' } })))).toBe(10);
    expect(index.describeStats({ op: 'eq', field: 'tag', value: 'e' }).namespaces).toEqual([{ name: 'ns', recordCount: 10 }]);
    index.apply(index.prepareDelete(parseDeleteRequest({ namespace: 'ns', ids: ['id-00', 'id-01'] })));
    index.apply(index.prepareDelete(parseDeleteRequest({ namespace: 'ns', filter: { i: { $gte: 15 } } })));
    expect(index.describeStats(undefined).total).toBe(13);
    index.apply(index.prepareDelete(parseDeleteRequest({ namespace: 'ns', deleteAll: true })));
    expect(index.describeStats(undefined).total).toBe(0);
  });

  it('lists ids by prefix with pagination tokens and omits pagination on the last page', () => {
    const index = new VectorIndex(settings, EXACT);
    const vectors = Array.from({ length: 25 }, (_, i) => ({ id: `${i % 2 === 0 ? 'doc' : 'img'}#${String(i).padStart(2, '0')}`, values: [1, 1, 1] }));
    index.apply(index.prepareUpsert(parseUpsertRequest({ vectors })));
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = index.list({ namespace: '', prefix: 'doc#', limit: 5, ...(after ? { after } : {}) });
      seen.push(...res.items);
      if (res.after === undefined) break;
      after = res.after;
    }
    expect(seen).toEqual(vectors.map((v) => v.id).filter((id) => id.startsWith('doc#')).sort());
    const all = index.list({ namespace: '', prefix: '', limit: 100 });
    expect(all.items).toHaveLength(25);
    expect(all.after).toBeUndefined();
  });

  it('fetches by metadata with pagination', () => {
    const index = new VectorIndex(settings, EXACT);
    const vectors = Array.from({ length: 30 }, (_, i) => ({ id: `r${String(i).padStart(2, '0')}`, values: [1, 2, 3], metadata: { k: i % 3 } }));
    index.apply(index.prepareUpsert(parseUpsertRequest({ vectors })));
    const ids: string[] = [];
    let after: string | undefined;
    for (;;) {
      const res = index.fetchByMetadata({ ...parseFetchByMetadataRequest({ filter: { k: 1 }, limit: 4 }), ...(after ? { after } : {}) });
      ids.push(...res.items.map((r) => r.id));
      if (res.after === undefined) break;
      after = res.after;
    }
    expect(ids).toEqual(vectors.filter((v) => v.metadata.k === 1).map((v) => v.id));
  });

  it('namespaces: created on first write or explicitly, listed, described, deleted', () => {
    const index = new VectorIndex(settings, EXACT);
    index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: '__default__', vectors: [{ id: 'a', values: [1, 2, 3] }] })));
    index.apply(index.prepareCreateNamespace('empty'));
    expect(() => index.prepareCreateNamespace('empty')).toThrow(/already exists/);
    expect(index.listNamespaces()).toEqual([
      { name: '', recordCount: 1 },
      { name: 'empty', recordCount: 0 },
    ]);
    expect(index.describeNamespace('')).toEqual({ name: '', recordCount: 1 });
    index.apply(index.prepareDeleteNamespace('empty'));
    expect(() => index.describeNamespace('empty')).toThrow(/not found/);
    expect(() => index.prepareDeleteNamespace('empty')).toThrow(/not found/);
  });

  it('queries by id, sparse-only indexes and hybrid dotproduct scores', () => {
    const sparse = new VectorIndex({ dimension: null, metric: 'dotproduct', vectorType: 'sparse' }, EXACT);
    sparse.apply(
      sparse.prepareUpsert(
        parseUpsertRequest({
          vectors: [
            { id: 's1', sparseValues: { indices: [1, 5, 9], values: [0.5, 1, 2] } },
            { id: 's2', sparseValues: { indices: [5, 7], values: [3, 1] } },
          ],
        }),
      ),
    );
    const res = sparse.query(parseQueryRequest({ sparseVector: { indices: [5, 9], values: [1, 1] }, topK: 2, includeValues: true }));
    expect(res.matches.map((m) => [m.id, m.score])).toEqual([
      ['s1', 3],
      ['s2', 3],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)) as never);
    expect(res.matches[0]!.sparseValues).toEqual({ indices: Uint32Array.of(1, 5, 9), values: Float32Array.of(0.5, 1, 2) });
    expect(() => sparse.prepareUpsert(parseUpsertRequest({ vectors: [{ id: 'x', values: [1] }] }))).toThrow(/sparse/);
    expect(sparse.query(parseQueryRequest({ id: 's2', topK: 1 })).matches[0]!.id).toBe('s2');

    const hybrid = new VectorIndex({ dimension: 2, metric: 'dotproduct', vectorType: 'dense' }, EXACT);
    hybrid.apply(
      hybrid.prepareUpsert(
        parseUpsertRequest({
          vectors: [
            { id: 'h1', values: [1, 0], sparseValues: { indices: [3], values: [10] } },
            { id: 'h2', values: [2, 0] },
          ],
        }),
      ),
    );
    const h = hybrid.query(parseQueryRequest({ vector: [1, 0], sparseVector: { indices: [3], values: [1] }, topK: 2 }));
    expect(h.matches).toEqual([
      { id: 'h1', score: 11 },
      { id: 'h2', score: 2 },
    ]);
    expect(hybrid.query(parseQueryRequest({ id: 'missing', topK: 1 })).matches).toEqual([]);
  });
});
