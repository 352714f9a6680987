import { describe, expect, it } from '@jest/globals';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { clusteredRecords, refTopK } from '@conifer/test-utils';
import type { SearchOptions } from '../types.js';
import { VectorIndex } from '../vector-index.js';
import { annBreadth, annRerank, breadthExponent, planQuery } from './planner.js';

// The unfiltered graph search's breadth rule (issue 12 part 3): the candidates grow with √(graph size /
// annBreadthBase), and only the first max(annRerank, 4 × topK) of them, at most all, are scored exactly.
describe('unfiltered graph search breadth', () => {
  const dim = 16;
  const records = clusteredRecords(2000, dim, 11);
  const queries = clusteredRecords(100, dim, 12).map((r) => Float32Array.from(r.values));

  function indexWith(search: Partial<SearchOptions>): VectorIndex {
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 100, ...search });
    for (let i = 0; i < records.length; i += 500) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: records.slice(i, i + 500) })));
    while (index.buildAnnStep(1000) > 0);
    return index;
  }

  it('grows the candidates with the square root of the graph size beyond annBreadthBase', () => {
    const options = { annMinVectors: 100, exactFilterMax: 0, annCandidates: 20, annRerank: 16, annBreadthBase: 500 };
    expect(annBreadth(options, 3, 500)).toBe(20);
    expect(annBreadth(options, 3, 250)).toBe(20);
    expect(annBreadth(options, 3, 2000)).toBe(40);
    expect(annBreadth(options, 3, 50_000)).toBe(200);
    // Never fewer than 4 × topK.
    expect(annBreadth(options, 30, 500)).toBe(120);
  });

  it('grows the breadth with the graph size faster at high dimensions (exponent ½ to 128-d, 0.9 from 768-d)', () => {
    expect(breadthExponent(16)).toBe(0.5);
    expect(breadthExponent(128)).toBe(0.5);
    expect(breadthExponent(768)).toBe(0.9);
    expect(breadthExponent(1536)).toBe(0.9);
    // Between, in log(dimension): 384-d is 0.5 + 0.4 × log 3 / log 6.
    expect(breadthExponent(384)).toBeCloseTo(0.5 + (0.4 * Math.log(3)) / Math.log(6), 10);
    expect(breadthExponent(256)).toBeGreaterThan(0.5);
    expect(breadthExponent(256)).toBeLessThan(breadthExponent(384));
    const options = { annMinVectors: 100, exactFilterMax: 0, annCandidates: 128, annRerank: 64, annBreadthBase: 100_000 };
    expect(annBreadth(options, 10, 100_000, 768)).toBe(128);
    expect(annBreadth(options, 10, 1_000_000, 768)).toBe(1017);
    expect(annBreadth(options, 10, 1_000_000, 128)).toBe(405);
    // No dimension: the square root, as before.
    expect(annBreadth(options, 10, 1_000_000)).toBe(405);
    // annBreadthExponent overrides the dimension's.
    expect(annBreadth({ ...options, annBreadthExponent: 0.5 }, 10, 1_000_000, 768)).toBe(405);
    expect(annBreadth({ ...options, annBreadthExponent: 1 }, 10, 1_000_000, 16)).toBe(1280);
  });

  it('plans a wider search on a high-dimensional graph of the same size', () => {
    const dims = 768;
    const index = new VectorIndex({ dimension: dims, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 100, annCandidates: 20, annRerank: 16, annBreadthBase: 250 });
    const rows = clusteredRecords(1000, dims, 13);
    for (let i = 0; i < rows.length; i += 500) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: rows.slice(i, i + 500) })));
    while (index.buildAnnStep(1000) > 0);
    const ns = index.namespaces.get('')!;
    const vector = Float32Array.from(rows[0]!.values);
    // 1000 vectors, base 250: × 4^0.9 at 768-d (70 candidates) where 16-d would get × 2 (40).
    expect(planQuery(ns, { vector, hasSparse: false, filter: undefined, topK: 3 }, index.search)).toMatchObject({ kind: 'ann', candidates: 70, rerank: 16 });
  });

  it('re-ranks max(annRerank, 4 × topK) candidates, at most all of them', () => {
    const options = { annMinVectors: 100, exactFilterMax: 0, annCandidates: 20, annRerank: 16, annBreadthBase: 500 };
    expect(annRerank(options, 3, 40)).toBe(16);
    expect(annRerank(options, 10, 40)).toBe(40);
    expect(annRerank({ ...options, annRerank: 1000 }, 3, 40)).toBe(40);
    // A calibrated multiplier scales the floor both ways (not below 4 × topK, not above the candidates).
    expect(annRerank({ ...options, annRerank: 64 }, 10, 200, 0.75)).toBe(48);
    expect(annRerank({ ...options, annRerank: 64 }, 10, 200, 0.5)).toBe(40);
    expect(annRerank({ ...options, annRerank: 64 }, 10, 400, 1.5)).toBe(96);
    expect(annRerank({ ...options, annRerank: 64 }, 10, 600, 3)).toBe(192);
    expect(annRerank({ ...options, annRerank: 64 }, 10, 150, 3)).toBe(150);
  });

  it('plans the breadth for the namespace graph and scores only the re-ranked candidates', () => {
    const index = indexWith({ annCandidates: 20, annRerank: 16, annBreadthBase: 500 });
    const ns = index.namespaces.get('')!;
    expect(ns.ann?.size).toBe(2000);
    const plan = planQuery(ns, { vector: queries[0], hasSparse: false, filter: undefined, topK: 3 }, index.search);
    expect(plan).toMatchObject({ kind: 'ann', candidates: 40, rerank: 16 });
    expect(planQuery(ns, { vector: queries[0], hasSparse: false, filter: undefined, topK: 10 }, index.search)).toMatchObject({ kind: 'ann', candidates: 40, rerank: 40 });
    let hits = 0;
    for (const q of queries) {
      const result = index.query(parseQueryRequest({ vector: Array.from(q), topK: 3 }));
      expect(result.plan).toEqual({ plan: 'ann', candidates: 16 });
      const expected = new Set(refTopK('cosine', Array.from(q), records, undefined, 3).map((m) => m.id));
      hits += result.matches.filter((m) => expected.has(m.id)).length;
    }
    // The graph's own order puts the true neighbours among its first candidates. The graph is built by several
    // threads, so it differs from run to run: 0.93–1.0 seen over 20 queries, 0.957–0.987 over these 100.
    expect(hits / (queries.length * 3)).toBeGreaterThanOrEqual(0.9);
  });

  it('asks a larger graph for more candidates (same floors, smaller base)', () => {
    const index = indexWith({ annCandidates: 20, annRerank: 16, annBreadthBase: 125 });
    const ns = index.namespaces.get('')!;
    expect(planQuery(ns, { vector: queries[0], hasSparse: false, filter: undefined, topK: 3 }, index.search)).toMatchObject({ kind: 'ann', candidates: 80, rerank: 16 });
  });
});
