// Filtered search on hard data (issue 12): unit vectors from many overlapping clusters, each a low-rank
// subspace plus noise, with filters independent of the vectors and correlated with them. On such data an
// HNSW candidate list is least accurate at its tail, which is where a post-filter finds its matches.
import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseFilter, parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { refMatches, refTopK, rng } from '@conifer/test-utils';
import { compile, matchSet, slotsOf } from './filter/matching.js';
import { executePlan } from './search/execute.js';
import { filteredGraphPlan } from './search/planner.js';
import { VectorIndex } from './vector-index.js';

interface Rec {
  id: string;
  values: number[];
  metadata: Record<string, number>;
}

/** `n` unit vectors from `clusters` clusters, each its centre plus a `rank`-d subspace plus noise. */
function hardDataset(n: number, dim: number, clusters: number, rank: number, seed: number): { records: Rec[]; sample: () => number[] } {
  const random = rng(seed);
  // Its own generator, so that the vectors and the other fields do not depend on it.
  const scores = rng(seed + 1);
  const gauss = (): number => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centers = Array.from({ length: clusters }, () => Array.from({ length: dim }, () => gauss() / Math.sqrt(dim)));
  const bases = Array.from({ length: clusters }, () => Array.from({ length: rank * dim }, () => gauss() / Math.sqrt(dim)));
  const draw = (): { c: number; values: number[] } => {
    const c = Math.floor(random() * clusters);
    const z = Array.from({ length: rank }, () => gauss() * 0.35);
    const v = centers[c]!.map((x, d) => {
      let s = x + gauss() * (0.15 / Math.sqrt(dim));
      for (let r = 0; r < rank; r++) s += z[r]! * bases[c]![r * dim + d]!;
      return s;
    });
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    return { c, values: v.map((x) => Math.fround(x / norm)) };
  };
  const records = Array.from({ length: n }, (_, i) => {
    const { c, values } = draw();
    // bucket: independent of the vector; region: a function of its cluster (correlated); score: a distinct
    // float per record, independent (ranges over it come from the sorted numeric index).
    return { id: `v${i}`, values, metadata: { bucket: Math.floor(random() * 100), region: c % 10, score: scores() } };
  });
  return { records, sample: () => draw().values };
}

const FILTERED = [
  { name: 'independent 10 %', filter: { bucket: { $lt: 10 } } },
  { name: 'correlated 10 %', filter: { region: { $eq: 3 } } },
  { name: 'independent 1 %', filter: { bucket: { $eq: 42 } } },
  { name: 'independent 10 % float range', filter: { score: { $gte: 0.45, $lt: 0.55 } } },
];

describe('filtered search on hard data', () => {
  // Small enough for a unit test, hard enough that the former oversampling (4 × topK matches expected
  // among the graph's candidates) reached only ~0.92 here: 1000 clusters of 10 vectors in 384 dimensions.
  const dim = 384;
  const { records, sample } = hardDataset(10_000, dim, 1000, 16, 11);
  const queries = Array.from({ length: 30 }, sample);
  // The graph is built for the whole namespace; the filtered plan is the planner's choice.
  const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 1000, exactFilterMax: 50 });
  for (let i = 0; i < records.length; i += 1000) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: records.slice(i, i + 1000) })));
  while (index.buildAnnStep(8192) > 0);
  const expected = new Map(FILTERED.map(({ name, filter }) => [name, queries.map((q) => refTopK('cosine', q, records, filter, 10).map((m) => m.id))]));

  const recall = (name: string, got: string[][]): number => {
    let hits = 0;
    let total = 0;
    got.forEach((ids, qi) => {
      const want = expected.get(name)![qi]!;
      for (const id of ids) if (want.includes(id)) hits++;
      total += want.length;
    });
    return hits / total;
  };

  for (const { name, filter } of FILTERED) {
    it(`planned queries reach recall@10 >= 0.95 with a ${name} filter, every match satisfying it`, () => {
      const got = queries.map((q) => {
        const { matches } = index.query(parseQueryRequest({ vector: q, topK: 10, filter }));
        for (const m of matches) expect(refMatches(filter, records[Number(m.id.slice(1))]!.metadata)).toBe(true);
        return matches.map((m) => m.id);
      });
      expect(recall(name, got)).toBeGreaterThanOrEqual(0.95);
    });

    it(`the graph plan itself reaches recall@10 >= 0.95 with a ${name} filter`, () => {
      const ns = index.namespaces.get('')!;
      const parsed = parseQueryRequest({ vector: queries[0], topK: 10, filter });
      const matches = matchSet(ns, compile(parsed.filter)!);
      const plans = new Set<string>();
      const got = queries.map((q) => {
        const vector = Float32Array.from(q);
        const { top, executed } = executePlan(ns, filteredGraphPlan(ns, matches, 10, index.search), ns.scorer('cosine', vector, undefined), vector, 10, 'cosine');
        plans.add(executed.plan);
        return top.sorted().map(({ slot }) => ns.idOf(slot));
      });
      expect(recall(name, got)).toBeGreaterThanOrEqual(0.95);
      // Independent filters are answered from the graph; a correlated one may fall back to the match set.
      if (name.startsWith('independent 10')) expect(plans).toEqual(new Set(['ann-filtered']));
    });
  }
});

// The match set a filtered scan walks: its slot list must be ascending (the sketch scan gathers rows chunk
// by chunk) and hold each match once, whatever order the posting lists keep their slots in.
describe('match sets', () => {
  it('lists every live match once, ascending, from concatenated posting lists that repeat slots', () => {
    const index = new VectorIndex({ dimension: 2, metric: 'cosine', vectorType: 'dense' });
    // 40 groups and tags held by a few records each: every filter below is narrowed by the postings (a
    // union of lists, each ascending, so their concatenation is not; records tagged x and y are in both).
    const tags = (i: number): string[] => (i % 40 === 0 ? ['x', 'y'] : i % 40 === 1 ? ['x'] : i % 40 === 2 ? ['y'] : ['z']);
    // `f`: a distinct float per record (a sorted numeric index; its ranges come in value order, not by slot).
    const vectors = Array.from({ length: 3000 }, (_, i) => ({ id: `r${i}`, values: [1, i], metadata: { tags: tags(i), g: i % 40, f: ((i * 7919) % 3000) / 7 } }));
    for (let i = 0; i < vectors.length; i += 1000) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: vectors.slice(i, i + 1000) })));
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: ['r40', 'r83'] })));
    const ns = index.namespaces.get('')!;
    const filters = [
      { g: { $in: [7, 3] } },
      { tags: { $in: ['y', 'x'] } },
      { g: { $lt: 3 } },
      { $or: [{ g: 9 }, { tags: 'y' }] },
      { g: 5 },
      { g: 11 },
      { f: { $lt: 40 } },
      { f: { $gte: 100, $lte: 120 } },
      { $or: [{ f: { $gt: 420 } }, { g: 2 }] },
      { f: { $in: [0, 1, 10 / 7] } },
    ];
    for (const filter of filters) {
      const set = matchSet(ns, compile(parseFilter(filter))!);
      expect(set.slots).toBeDefined();
      const want = vectors.flatMap((v, i) => (i !== 40 && i !== 83 && refMatches(filter, v.metadata) ? [i] : []));
      const got = Array.from(slotsOf(set), (slot) => Number(ns.idOf(slot).slice(1)));
      expect(got).toEqual(want);
      expect(set.count).toBe(want.length);
      expect(set.bits.reduce((a, b) => a + b, 0)).toBe(want.length);
    }
  });
});
