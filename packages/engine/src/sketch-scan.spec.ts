// The filtered scan over int8 sketches (issue 12 part 7): a filter's matches ranked by their int8 sketches
// with SIMD, the best re-scored exactly. Checked against the brute-force reference on hard data (recall and
// the exact float32 scores), and kept in step with upserts, updates, deletes, compaction and a restore from
// a segment (sketches built afterwards by the background builder).
import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseQueryRequest, parseUpdateRequest, parseUpsertRequest } from '@conifer/contracts';
import { refMatches, refScore, refTopK, rng, vectorDistribution, type Metric } from '@conifer/test-utils';
import type { NamespaceStore, VectorSegment } from './namespace/namespace-store.js';
import { quantizeRow, sketchRow } from './simd-exact.js';
import { TopK } from './top-k.js';
import type { SearchOptions } from './types.js';
import { VectorIndex } from './vector-index.js';

interface Rec {
  id: string;
  values: number[];
  metadata: Record<string, number>;
}

/** `n` records of the bench's hard distribution; bucket independent of the vector, region = cluster mod 10. */
function hardRecords(n: number, dim: number, seed: number, prefix = 'v'): { records: Rec[]; sample: () => number[] } {
  const gen = vectorDistribution('hard', dim, seed);
  const random = rng(seed + 1);
  const row = new Float32Array(dim);
  const records = Array.from({ length: n }, (_, i) => {
    const c = gen.sample(row, 0);
    return { id: `${prefix}${i}`, values: Array.from(row), metadata: { bucket: Math.floor(random() * 100), region: c % 10 } };
  });
  return {
    records,
    sample: () => {
      gen.sample(row, 0);
      return Array.from(row);
    },
  };
}

function load(index: VectorIndex, records: Rec[]): void {
  for (let i = 0; i < records.length; i += 1000) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: records.slice(i, i + 1000) })));
}

/**
 * No graph (every query plans a scan); the sketch scan's modelled cost scaled down so that the planner
 * chooses it for a few hundred matches (at 100k it does for ~1000 and more: search/planner.ts).
 */
const SCANS: Partial<SearchOptions> = { annMinVectors: Number.MAX_SAFE_INTEGER, exactFilterMax: 100, sketchCostScale: 0.1 };

describe('filtered scan over int8 sketches', () => {
  const dim = 128;
  const { records, sample } = hardRecords(5000, dim, 5);
  const queries = Array.from({ length: 20 }, sample);
  const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, SCANS);
  load(index, records);

  for (const [name, filter] of [
    ['independent 10 %', { bucket: { $lt: 10 } }],
    ['correlated 10 %', { region: { $eq: 3 } }],
    ['independent 50 %', { bucket: { $gte: 50 } }],
  ] as const) {
    it(`reaches recall@10 >= 0.95 against brute force with a ${name} filter, with exact scores`, () => {
      let hits = 0;
      for (const q of queries) {
        const result = index.query(parseQueryRequest({ vector: q, topK: 10, filter }));
        expect(result.plan.plan).toBe('sketch-filtered');
        // Only the re-ranked candidates are scored exactly (the planner's floor of 40 here), not every match.
        expect(result.plan.candidates).toBe(40);
        const want = refTopK('cosine', q, records, filter, 10).map((m) => m.id);
        for (const m of result.matches) {
          const rec = records[Number(m.id.slice(1))]!;
          expect(refMatches(filter, rec.metadata)).toBe(true);
          // The answer's score is the exact float32 cosine, not the sketch's.
          expect(m.score).toBeCloseTo(refScore('cosine', q, rec.values), 5);
          if (want.includes(m.id)) hits++;
        }
      }
      expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('leaves small match sets and the other metrics (whose sparse and hybrid queries it could not serve) to the exact scan', () => {
    const q = queries[0]!;
    expect(index.query(parseQueryRequest({ vector: q, topK: 10, filter: { bucket: { $eq: 42 }, region: { $eq: 3 } } })).plan.plan).toBe('exact-filtered');
    for (const metric of ['euclidean', 'dotproduct'] as Metric[]) {
      const other = new VectorIndex({ dimension: dim, metric, vectorType: 'dense' }, SCANS);
      load(other, records.slice(0, 3000));
      expect(other.namespaces.get('')!.sketchReady).toBe(false);
      const got = other.query(parseQueryRequest({ vector: q, topK: 5, filter: { bucket: { $lt: 50 } } }));
      expect(got.plan.plan).toBe('exact-filtered');
      expect(got.matches.map((m) => m.id)).toEqual(refTopK(metric, q, records.slice(0, 3000), { bucket: { $lt: 50 } }, 5).map((m) => m.id));
    }
  });
});

describe('sketches rank rows of any scale and shape as the cosine does', () => {
  // The sketches all share one norm so that usearch's inner product ranks them as the cosine: the 40
  // candidates re-scored (2 % of the 2000 matches: the planner's floor) must hold the true neighbours. Scores must stay the
  // exact float32 cosine whatever the sketch made of the row.
  const dim = 128;
  const base = hardRecords(4000, dim, 61);
  const queries = Array.from({ length: 20 }, base.sample);
  const filter = { bucket: { $lt: 50 } };

  function recall(records: Rec[]): number {
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, SCANS);
    load(index, records);
    let hits = 0;
    for (const q of queries) {
      const result = index.query(parseQueryRequest({ vector: q, topK: 10, filter }));
      expect(result.plan).toEqual({ plan: 'sketch-filtered', candidates: 40 });
      const want = refTopK('cosine', q, records, filter, 10).map((m) => m.id);
      for (const m of result.matches) {
        expect(m.score).toBeCloseTo(refScore('cosine', q, records[Number(m.id.slice(1))]!.values), 5);
        if (want.includes(m.id)) hits++;
      }
    }
    return hits / (queries.length * 10);
  }

  it('ranks rows whose norms differ by 10⁶ by their direction alone', () => {
    const random = rng(62);
    // Cosine ignores a row's norm; a sketch scaled by it would rank the longest rows first.
    const scaled = base.records.map((r) => {
      const scale = 10 ** (random() * 6 - 3);
      return { ...r, values: r.values.map((v) => v * scale) };
    });
    expect(recall(scaled)).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps recall when every row has an outlying coordinate (clipped in the sketch)', () => {
    // Coordinate 0 at 20 times the others' root mean square (some embedding models have such a
    // dimension): the sketches clip it, the ranking by the other coordinates must survive.
    const rms = 1 / Math.sqrt(dim);
    const outlying = base.records.map((r, i) => ({ ...r, values: r.values.map((v, d) => (d === 0 ? rms * (20 + (i % 5)) : v)) }));
    expect(recall(outlying)).toBeGreaterThanOrEqual(0.95);
  });
});

describe('sketch chunks', () => {
  it('finds records on both sides of a sketch chunk boundary (16384 rows), before and after a compaction moves them', () => {
    const dim = 64;
    const { records } = hardRecords(17_000, dim, 71);
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { ...SCANS, sketchCandidates: 1 });
    load(index, records);
    const ns = index.namespaces.get('')!;
    const all = { bucket: { $gte: 0 } };
    const live = new Map(records.map((r) => [r.id, r.values]));
    const findsItself = (ids: string[]): void => {
      for (const id of ids) {
        const got = index.query(parseQueryRequest({ vector: live.get(id)!, topK: 1, filter: all }));
        expect([got.plan.plan, got.matches[0]?.id]).toEqual(['sketch-filtered', id]);
      }
    };
    findsItself(['v0', 'v16383', 'v16384', 'v16999']);
    // Deleting the first 6000 (over 30 %: a compaction) moves every later record 6000 slots down, across the boundary.
    const deleted = records.slice(0, 6000).map((r) => r.id);
    const generation = ns.generation;
    for (let i = 0; i < deleted.length; i += 1000) index.apply(index.prepareDelete(parseDeleteRequest({ ids: deleted.slice(i, i + 1000) })));
    for (const id of deleted) live.delete(id);
    expect(ns.generation).not.toBe(generation);
    findsItself(['v6000', 'v12000', 'v16383', 'v16384', 'v16999']);
  });
});

describe('the sketch pass against brute force over the same sketches', () => {
  it('keeps the k best rows by sketch for match lists that cross a chunk boundary, in runs and scattered, at a row size off the cache line', () => {
    // 100-d rows (not a multiple of 64 bytes: rows straddle cache lines) over two sketch chunks; the matches
    // mix contiguous runs, scattered rows and a run across the chunk boundary, so that the read-ahead's
    // batches of 64 span both chunks and the scratch fills several times.
    const dim = 100;
    const { records, sample } = hardRecords(17_500, dim, 83);
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, SCANS);
    load(index, records);
    const ns = index.namespaces.get('')!;
    const sketches = records.map((r) => {
      const out = new Int8Array(dim);
      sketchRow(Float32Array.from(r.values), 0, dim, out, 0);
      return out;
    });
    const random = rng(84);
    const picked = new Set<number>();
    for (let slot = 0; slot < records.length; slot++) if (random() < 0.1) picked.add(slot);
    for (let slot = 16_384 - 700; slot < 16_384 + 700; slot++) picked.add(slot);
    for (let slot = 0; slot < 600; slot++) picked.add(slot);
    const slots = Int32Array.from([...picked].sort((a, b) => a - b));
    for (let q = 0; q < 5; q++) {
      const query = new Int8Array(dim);
      quantizeRow(Float32Array.from(sample()), 0, dim, query, 0);
      const k = 50;
      const into = new TopK(k);
      expect(ns.sketchCandidates(slots, query, k, into)).toBe(slots.length);
      const dot = (slot: number): number => sketches[slot]!.reduce((sum, v, d) => sum + v * query[d]!, 0);
      const want = Array.from(slots, dot).sort((a, b) => b - a).slice(0, k);
      const got = into.sorted();
      expect(got.map((m) => m.score)).toEqual(want);
      for (const m of got) {
        expect(picked.has(m.slot)).toBe(true);
        expect(m.score).toBe(dot(m.slot));
      }
    }
  });
});

describe('the planner weighs the sketch scan by the dimension', () => {
  // 768-d: 2000 matches over the sketches, 400 exactly (the modelled crossover is ~480 matches with the
  // 40 exact re-scores of so few matches; it was ~560 with 100).
  it('scans 2000 matches over the sketches at 768-d, 400 exactly, and 3000 exactly at 64-d', () => {
    const random = rng(3);
    for (const [dim, n] of [
      [768, 2500],
      [64, 3500],
    ] as const) {
      const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: Number.MAX_SAFE_INTEGER });
      const records = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, values: Array.from({ length: dim }, () => random() - 0.5), metadata: { i } }));
      load(index, records as unknown as Rec[]);
      const q = records[1]!.values;
      const plan = (count: number): string => index.query(parseQueryRequest({ vector: q, topK: 10, filter: { i: { $lt: count } } })).plan.plan;
      if (dim === 768) expect([plan(2000), plan(400)]).toEqual(['sketch-filtered', 'exact-filtered']);
      else expect(plan(3000)).toBe('exact-filtered');
    }
  });
});

/** A segment over its own copy of the rows (the store's is a file). */
class CopiedSegment implements VectorSegment {
  private readonly data: Float32Array;

  constructor(
    ns: NamespaceStore,
    readonly rows: number,
  ) {
    this.data = new Float32Array(rows * ns.dimension);
    ns.freeze().readRows(0, rows, this.data);
  }

  read(first: number, count: number, out: Float32Array, outOffset: number): void {
    const dim = this.data.length / Math.max(1, this.rows);
    out.set(this.data.subarray(first * dim, (first + count) * dim), outOffset);
  }
}

describe('sketch upkeep', () => {
  const dim = 64;
  // topK 1 with 10 candidates: a record is found by its own vector only if its sketch is its current values.
  const options: Partial<SearchOptions> = { ...SCANS, sketchCandidates: 1 };
  const all = { bucket: { $gte: 0 } };

  /** Every record found first by its own vector through the sketch scan, with the exact score 1. */
  function expectFindsItself(index: VectorIndex, live: Map<string, number[]>, ids: string[]): void {
    for (const id of ids) {
      const got = index.query(parseQueryRequest({ vector: live.get(id)!, topK: 1, filter: all }));
      expect([got.plan.plan, got.matches[0]?.id]).toEqual(['sketch-filtered', id]);
      expect(got.matches[0]!.score).toBeCloseTo(1, 5);
    }
  }

  it('follows upserts, updates, deletes and compaction', () => {
    const { records } = hardRecords(6000, dim, 21);
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, options);
    load(index, records);
    const ns = index.namespaces.get('')!;
    const live = new Map(records.map((r) => [r.id, r.values]));
    expect(ns.sketchReady).toBe(true);
    expectFindsItself(index, live, ['v0', 'v4095', 'v4096', 'v5999']);

    // New values for existing ids, by upsert and by update: each is found by its new vector.
    const fresh = hardRecords(40, dim, 22).records;
    const moved = fresh.map((r, i) => ({ ...r, id: `v${i * 150}` }));
    load(index, moved.slice(0, 20));
    for (const r of moved.slice(20)) index.apply(index.prepareUpdate(parseUpdateRequest({ id: r.id, values: r.values })));
    for (const r of moved) live.set(r.id, r.values);
    expectFindsItself(index, live, moved.map((r) => r.id));

    // Deleted records are never returned, even for their own vector.
    const deleted = records.filter((_, i) => i % 7 === 3).map((r) => r.id);
    for (let i = 0; i < deleted.length; i += 1000) index.apply(index.prepareDelete(parseDeleteRequest({ ids: deleted.slice(i, i + 1000) })));
    for (const id of deleted.slice(0, 20)) {
      const got = index.query(parseQueryRequest({ vector: records[Number(id.slice(1))]!.values, topK: 3, filter: all }));
      expect(got.plan.plan).toBe('sketch-filtered');
      expect(got.matches.map((m) => m.id)).not.toContain(id);
      live.delete(id);
    }
    for (const id of deleted) live.delete(id);

    // Enough deletes compact the namespace (slots renumbered): the sketches move with the records.
    const generation = ns.generation;
    const more = [...live.keys()].filter((id) => !moved.some((r) => r.id === id)).slice(0, 2000);
    for (let i = 0; i < more.length; i += 1000) index.apply(index.prepareDelete(parseDeleteRequest({ ids: more.slice(i, i + 1000) })));
    for (const id of more) live.delete(id);
    expect(ns.generation).not.toBe(generation);
    expect(ns.slotCount).toBeLessThan(records.length);
    expectFindsItself(index, live, [...moved.map((r) => r.id).filter((id) => live.has(id)), ...[...live.keys()].filter((_, i) => i % 97 === 0)]);
    // And the answers still agree with the reference over the records left.
    const left = [...live].map(([id, values]) => ({ id, values }));
    for (const q of hardRecords(5, dim, 23).records) {
      const got = index.query(parseQueryRequest({ vector: q.values, topK: 1, filter: all }));
      expect(got.matches[0]!.id).toBe(refTopK('cosine', q.values, left, undefined, 1)[0]!.id);
    }

    // deleteAll empties the sketches with the namespace: records written afterwards are found by theirs.
    index.apply(index.prepareDelete(parseDeleteRequest({ deleteAll: true })));
    const after = hardRecords(3000, dim, 24, 'n').records;
    load(index, after);
    expectFindsItself(index, new Map(after.map((r) => [r.id, r.values])), ['n0', 'n1500', 'n2999']);
  });

  it('moves the sketches with a compaction carried out in slices, with writes and sketch building between the slices', () => {
    const { records } = hardRecords(6000, dim, 41);
    const source = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, options);
    load(source, records);
    // Restored from a segment, so the first 6000 slots are still waiting for their sketches when it compacts.
    const from = source.namespaces.get('')!;
    const segment = new CopiedSegment(from, from.slotCount);
    const frozen = from.freeze();
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, options);
    index.deferCompaction = true;
    const ns = index.namespaces.obtain('');
    ns.attachSegment(segment, segment.rows);
    const placed = [];
    for (let slot = 0; slot < frozen.slotCount; slot++) placed.push({ slot, id: frozen.idOf(slot), norm: frozen.normOf(slot), metadata: frozen.metadataOf(slot) });
    index.restore('', placed);
    index.buildSketchStep(1500);
    expect(ns.pendingSketches).toBe(4500);
    const live = new Map(records.map((r) => [r.id, r.values]));

    const deleted = records.filter((_, i) => i % 3 !== 0).map((r) => r.id);
    for (let i = 0; i < deleted.length; i += 1000) index.apply(index.prepareDelete(parseDeleteRequest({ ids: deleted.slice(i, i + 1000) })));
    for (const id of deleted) live.delete(id);
    expect(index.compactionPending).toBe(true);
    const generation = ns.generation;
    // Slices, with new records (appended past the cursor), replacements of copied and uncopied records and
    // more sketches built from the segment in between.
    const fresh = hardRecords(60, dim, 42, 'n').records;
    const replaced = hardRecords(20, dim, 43).records.map((r, i) => ({ ...r, id: `v${i * 300}` }));
    let slice = 0;
    while (index.compactionStep(700)) {
      load(index, fresh.slice(slice * 6, slice * 6 + 6));
      load(index, replaced.slice(slice * 2, slice * 2 + 2));
      index.buildSketchStep(300);
      slice++;
    }
    load(index, fresh.slice(slice * 6));
    load(index, replaced.slice(slice * 2));
    for (const r of [...fresh, ...replaced]) live.set(r.id, r.values);
    expect(ns.generation).not.toBe(generation);
    expect(ns.sketchReady).toBe(true);
    expectFindsItself(index, live, [...fresh.map((r) => r.id), ...replaced.map((r) => r.id), ...[...live.keys()].filter((_, i) => i % 53 === 0)]);
  });

  it('after a restore from a segment, sketches the restored slots in the background builder', () => {
    const { records } = hardRecords(5000, dim, 31);
    const source = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, options);
    load(source, records);
    source.apply(source.prepareDelete(parseDeleteRequest({ ids: ['v10', 'v4999'] })));
    const from = source.namespaces.get('')!;
    const segment = new CopiedSegment(from, from.slotCount);
    const frozen = from.freeze();

    const restored = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, options);
    const ns = restored.namespaces.obtain('');
    ns.attachSegment(segment, segment.rows);
    const placed = [];
    for (let slot = 0; slot < frozen.slotCount; slot++) {
      if (frozen.isLive(slot)) placed.push({ slot, id: frozen.idOf(slot), norm: frozen.normOf(slot), metadata: frozen.metadataOf(slot) });
    }
    restored.restore('', placed);
    // A tail write (the log replayed after the snapshot) is sketched at once; the restored slots are not yet.
    const tail = hardRecords(1, dim, 32, 't').records;
    load(restored, tail);
    expect(ns.sketchReady).toBe(false);
    expect(ns.pendingSketches).toBe(4999);
    const live = new Map([...records.filter((r) => r.id !== 'v10' && r.id !== 'v4999'), ...tail].map((r) => [r.id, r.values]));
    const before = restored.query(parseQueryRequest({ vector: live.get('v7')!, topK: 1, filter: all }));
    expect([before.plan.plan, before.matches[0]!.id]).toEqual(['exact-filtered', 'v7']);

    // One step of the store's builder, then the rest through buildAnnStep (sketches before any graph work).
    expect(restored.buildSketchStep(1000)).toBe(1000);
    expect(ns.pendingSketches).toBe(3999);
    let steps = 0;
    while (restored.buildAnnStep(512) > 0) steps++;
    expect(steps).toBeGreaterThan(1);
    expect(ns.sketchReady).toBe(true);
    expect(ns.pendingSketches).toBe(0);
    expectFindsItself(restored, live, ['v0', 'v7', 'v4095', 'v4096', 'v4998', 't0']);
  });
});
