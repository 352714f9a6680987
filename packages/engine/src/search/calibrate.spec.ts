import { describe, expect, it } from '@jest/globals';
import { parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { refTopK, vectorDistribution } from '@conifer/test-utils';
import type { AnnParams } from '../ann/usearch-ann.js';
import type { SearchOptions } from '../types.js';
import { VectorIndex } from '../vector-index.js';
import { BREADTH_LADDER, calibrateBreadth, calibrationDue } from './calibrate.js';
import { annBreadth, filteredGraphPlan, plannedCandidates, planQuery } from './planner.js';

// Search breadth calibrated per namespace graph (issue 12 part 3): the multiplier of the planner's breadth
// rule is the smallest of the ladder whose recall@10, estimated on the graph's own vectors, reaches the target.
describe('breadth calibration', () => {
  const dim = 64;
  const n = 4000;

  function records(count: number, seed: number): { id: string; values: number[] }[] {
    const dist = vectorDistribution('hard', dim, seed);
    const out = new Float32Array(dim);
    return Array.from({ length: count }, (_, i) => {
      dist.sample(out, 0);
      return { id: `v${i}`, values: Array.from(out) };
    });
  }

  const data = records(n, 5);
  // Same distribution (same seed: same clusters), drawn after the records: out-of-sample queries.
  const queries = records(n + 100, 5)
    .slice(n)
    .map((r) => r.values);

  function indexWith(search: Partial<SearchOptions>, params?: AnnParams): VectorIndex {
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 100, ...search }, params);
    for (let i = 0; i < data.length; i += 1000) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: data.slice(i, i + 1000) })));
    while (index.buildAnnStep(4000) > 0);
    return index;
  }

  function recall(index: VectorIndex): number {
    let hits = 0;
    for (const q of queries) {
      const result = index.query(parseQueryRequest({ vector: q, topK: 10 }));
      const expected = new Set(refTopK('cosine', q, data, undefined, 10).map((m) => m.id));
      hits += result.matches.filter((m) => expected.has(m.id)).length;
    }
    return hits / (queries.length * 10);
  }

  // A sparse graph (M = 8, built with ef 64) searched with the rule's floor only (44 candidates): recall@10 well
  // below 0.98 (0.75 seen).
  const weak: AnnParams = { connectivity: 8, expansionAdd: 64, expansionSearch: 8 };
  const narrow: Partial<SearchOptions> = { annCandidates: 8, annRerank: 8, annBreadthBase: 1e9 };

  it('widens a namespace whose rule-breadth recall is below the target until it meets it', () => {
    const index = indexWith(narrow, weak);
    const ns = index.namespaces.get('')!;
    expect(calibrationDue(ns)).toBe(true);
    const before = recall(index);
    const rule = planQuery(ns, { vector: Float32Array.from(queries[0]!), hasSparse: false, filter: undefined, topK: 10 }, index.search);
    const result = calibrateBreadth(ns, 'cosine', index.search, 0.98)!;
    // The ladder was climbed from 1 (the rule) and stopped at the first multiplier that reached the target.
    expect(result.tried[0]!.scale).toBe(1);
    expect(result.tried[0]!.recall).toBeLessThan(0.985);
    expect(result.scale).toBeGreaterThan(1);
    // The chosen one reached the goal, unless the ladder ran out (then its widest).
    if (result.scale < BREADTH_LADDER[BREADTH_LADDER.length - 1]!) expect(result.recall).toBeGreaterThanOrEqual(0.985);
    for (const t of result.tried.slice(0, -1)) expect(t.recall).toBeLessThan(0.985);
    expect(ns.annScale).toBe(result.scale);
    expect(calibrationDue(ns)).toBe(false);
    // The planner now asks for the multiplied breadth.
    const plan = planQuery(ns, { vector: Float32Array.from(queries[0]!), hasSparse: false, filter: undefined, topK: 10 }, index.search);
    expect(rule).toMatchObject({ kind: 'ann', candidates: annBreadth(index.search, 10, n, ns.dimension) });
    expect(plan).toMatchObject({ kind: 'ann', candidates: plannedCandidates(index.search, 10, n, n, ns.dimension, result.scale) });
    // And real (out-of-sample) queries get much closer to the target. Not all the way, reliably: on this data (4000
    // records from 1000 clusters: 4 a cluster) in-sample queries are far easier than real ones (estimate 0.995
    // where real queries got 0.983 at multiplier 6; 0.912 vs 0.753 at 1), a bias the estimate's margin (sized on
    // GloVe, where the two agree within 0.003) does not cover in every build of the graph.
    const after = recall(index);
    expect(before).toBeLessThan(0.9);
    expect(after).toBeGreaterThanOrEqual(0.97);
    expect(after).toBeGreaterThan(before + 0.1);
  });

  it('keeps the rule (multiplier 1) where it already meets the target, and never goes below 1', () => {
    const index = indexWith({});
    const ns = index.namespaces.get('')!;
    const result = calibrateBreadth(ns, 'cosine', index.search, 0.98)!;
    expect(result.scale).toBe(1);
    expect(result.tried).toHaveLength(1);
    expect(ns.annScale).toBe(1);
    // The filtered graph plan's wanted breadth is multiplied too (a tenth of the slots match: 10× oversampled).
    const bits = new Uint8Array(ns.slotCount);
    for (let slot = 0; slot < ns.slotCount; slot += 10) bits[slot] = 1;
    const matches = { bits, count: ns.slotCount / 10, slots: undefined };
    const ruleWanted = filteredGraphPlan(ns, matches, 10, index.search).wanted;
    expect(ruleWanted).toBe(annBreadth(index.search, 10, n, ns.dimension));
    ns.setAnnCalibration({ scale: 3, recall: 0.99, size: n });
    expect(filteredGraphPlan(ns, matches, 10, index.search)).toMatchObject({ wanted: ruleWanted * 3, candidates: ruleWanted * 30 });
    ns.setAnnCalibration({ scale: 0.25, recall: 1, size: n });
    expect(ns.annScale).toBe(1);
    expect(filteredGraphPlan(ns, matches, 10, index.search).wanted).toBe(ruleWanted);
    ns.setAnnCalibration({ scale: Number.NaN, recall: 1, size: n });
    expect(ns.annScale).toBe(1);
  });

  it('settles for the widest multiplier when no multiplier reaches the target, and recalibrates a grown or rebuilt graph', () => {
    const index = indexWith(narrow, weak);
    const ns = index.namespaces.get('')!;
    const result = calibrateBreadth(ns, 'cosine', index.search, 1)!;
    // A target of 1 (+ margin, capped at 1) is only reached by the exact scan; the ladder ends at its widest.
    expect(result.tried.length).toBeGreaterThan(1);
    if (result.recall < 1) expect(result.scale).toBe(BREADTH_LADDER[BREADTH_LADDER.length - 1]);
    expect(calibrationDue(ns)).toBe(false);
    // Grown 2×: due again.
    const more = records(n, 6).map((r) => ({ ...r, id: `w${r.id}` }));
    for (let i = 0; i < more.length; i += 1000) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: more.slice(i, i + 1000) })));
    while (index.buildAnnStep(4000) > 0);
    expect(ns.ann!.size).toBe(2 * n);
    expect(calibrationDue(ns)).toBe(true);
    // Renumbered slots (deleteAll): the multiplier stays as a guess, the rebuilt graph is calibrated again.
    const scale = ns.annScale;
    ns.clear();
    expect(ns.annScale).toBe(scale);
    expect(ns.annCalibration?.size).toBe(0);
  });

  it('is off at target 0', () => {
    const index = indexWith(narrow, weak);
    expect(calibrateBreadth(index.namespaces.get('')!, 'cosine', index.search, 0)).toBeUndefined();
    expect(index.namespaces.get('')!.annScale).toBe(1);
  });
});
