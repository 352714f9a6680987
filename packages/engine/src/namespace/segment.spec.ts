// Values served by a segment (what the store does with a snapshot's values file): every read and search
// path must give the same answers as with the values in memory, and writes after the segment (the log's
// tail) must be visible at once.
import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseQueryRequest, parseUpsertRequest } from '@conifer/contracts';
import { FILTERS, refTopK, type Metric, clusteredRecords, type RefRecord } from '@conifer/test-utils';
import type { SearchOptions } from '../types.js';
import { DEFAULT_SEARCH_OPTIONS, VectorIndex } from '../vector-index.js';
import type { NamespaceStore, VectorSegment } from './namespace-store.js';


/** A segment over its own copy of the rows (the store's is a file); counts reads to prove it is used. */
class CopiedSegment implements VectorSegment {
  reads = 0;
  private readonly data: Float32Array;

  constructor(
    ns: NamespaceStore,
    readonly rows: number,
  ) {
    const frozen = ns.freeze();
    this.data = new Float32Array(rows * ns.dimension);
    frozen.readRows(0, rows, this.data);
    for (let slot = 0; slot < rows; slot++) if (!frozen.isLive(slot)) this.data.fill(0, slot * ns.dimension, (slot + 1) * ns.dimension);
  }

  read(first: number, count: number, out: Float32Array, outOffset: number): void {
    if (first < 0 || first + count > this.rows) throw new RangeError('outside the segment');
    this.reads++;
    const dim = this.data.length / Math.max(1, this.rows);
    out.set(this.data.subarray(first * dim, (first + count) * dim), outOffset);
  }
}


function load(index: VectorIndex, records: RefRecord[]): void {
  for (let i = 0; i < records.length; i += 1000) index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: records.slice(i, i + 1000) })));
}

const EXACT: SearchOptions = { ...DEFAULT_SEARCH_OPTIONS, annMinVectors: Number.MAX_SAFE_INTEGER, exactFilterMax: Number.MAX_SAFE_INTEGER };

describe('values served by a segment', () => {
  const dim = 12;
  for (const metric of ['cosine', 'euclidean', 'dotproduct'] as Metric[]) {
    it(`exact scans (SIMD and filtered) and fetch match the reference, with a tail in memory (${metric})`, () => {
      const records = clusteredRecords(9000, dim, 3); // three values chunks, the last partly covered
      const index = new VectorIndex({ dimension: dim, metric, vectorType: 'dense' }, EXACT);
      load(index, records);
      index.apply(index.prepareDelete(parseDeleteRequest({ ids: records.filter((_, i) => i % 11 === 0).map((r) => r.id) })));
      const ns = index.namespaces.get('')!;
      const before = ns.denseBytes();
      const segment = new CopiedSegment(ns, ns.slotCount);
      ns.attachSegment(segment, ns.slotCount);
      expect(ns.residentSlots).toBe(0);
      // Every chunk dropped, the partly used last one too (norms and liveness bytes stay).
      expect(before - ns.denseBytes()).toBe(3 * 4096 * dim * 4);
      // The log's tail: written after the segment, kept in memory, visible at once.
      const tail = clusteredRecords(700, dim, 4, 't');
      load(index, tail);
      expect(ns.residentSlots).toBe(700);
      const live = [...records.filter((_, i) => i % 11 !== 0), ...tail];
      for (const filter of [undefined, ...FILTERS]) {
        for (const q of clusteredRecords(3, dim, 77).map((r) => r.values)) {
          const expected = refTopK(metric, q, live, filter, 10);
          const got = index.query(parseQueryRequest({ vector: q, topK: 10, filter }));
          expect(got.matches.map((m) => m.id)).toEqual(expected.map((m) => m.id));
          got.matches.forEach((m, i) => expect(m.score).toBeCloseTo(expected[i]!.score, 4));
        }
      }
      expect(segment.reads).toBeGreaterThan(0);
      const ids = ['v1', 'v4099', 'v8999', 't5', 'v11'];
      const fetched = index.fetch({ namespace: '', ids }).records;
      expect(fetched.map((r) => r.id)).toEqual(['v1', 'v4099', 'v8999', 't5']);
      for (const r of fetched) expect(Array.from(r.values!)).toEqual([...records, ...tail].find((x) => x.id === r.id)!.values);
    });
  }

  it('builds the graph from the segment, finds tail writes and compacts back into memory', () => {
    const records = clusteredRecords(6000, dim, 5);
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, { annMinVectors: 500, exactFilterMax: 0 });
    load(index, records);
    const ns = index.namespaces.get('')!;
    ns.attachSegment(new CopiedSegment(ns, ns.slotCount), ns.slotCount);
    while (index.buildAnnStep(1024) > 0);
    expect(ns.annUpTo).toBe(6000);
    let hits = 0;
    const queries = clusteredRecords(20, dim, 8).map((r) => r.values);
    for (const q of queries) {
      const expected = refTopK('cosine', q, records, undefined, 10).map((m) => m.id);
      const got = index.query(parseQueryRequest({ vector: q, topK: 10 }));
      expect(got.plan.plan).toBe('ann');
      hits += got.matches.filter((m) => expected.includes(m.id)).length;
    }
    expect(hits / (queries.length * 10)).toBeGreaterThanOrEqual(0.85);
    // The graph was built from the segment's rows: each stored vector finds itself first.
    for (let i = 0; i < 6000; i += 499) {
      const got = index.query(parseQueryRequest({ vector: records[i]!.values, topK: 1 }));
      expect([got.plan.plan, got.matches[0]!.id]).toEqual(['ann', records[i]!.id]);
    }
    // Read-your-writes past the segment.
    index.apply(index.prepareUpsert(parseUpsertRequest({ vectors: [{ id: 'fresh', values: queries[0]! }] })));
    expect(index.query(parseQueryRequest({ vector: queries[0], topK: 1 })).matches[0]!.id).toBe('fresh');
    // Deleting most records compacts: the values move back into memory, the segment is let go.
    const gone = records.slice(0, 4500).map((r) => r.id);
    for (let i = 0; i < gone.length; i += 1000) index.apply(index.prepareDelete(parseDeleteRequest({ ids: gone.slice(i, i + 1000) })));
    expect(ns.valueSegment).toBeUndefined();
    expect(ns.residentSlots).toBe(ns.slotCount);
    const remaining = [...records.slice(4500), { id: 'fresh', values: queries[0]! }];
    const got = index.fetch({ namespace: '', ids: ['v4500', 'v5999', 'fresh'] }).records;
    for (const r of got) expect(Array.from(r.values!)).toEqual(remaining.find((x) => x.id === r.id)!.values);
    const exact = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, EXACT);
    load(exact, remaining);
    for (const q of queries.slice(1, 5)) {
      expect(refTopK('cosine', q, remaining, undefined, 5).map((m) => m.id)).toEqual(
        exact.query(parseQueryRequest({ vector: q, topK: 5 })).matches.map((m) => m.id),
      );
    }
  });

  it('gathers live slots and their values into given buffers (views from their start) or, when too small, new arrays', () => {
    const records = clusteredRecords(1200, dim, 6);
    const index = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, EXACT);
    load(index, records);
    const ns = index.namespaces.get('')!;
    // Slots [0, 700) from the segment, the rest from memory; a few deleted on both sides.
    ns.attachSegment(new CopiedSegment(ns, 700), 700);
    index.apply(index.prepareDelete(parseDeleteRequest({ ids: ['v3', 'v4', 'v650', 'v701', 'v1100'] })));
    const fresh = ns.gather(600, 1150);
    expect(fresh.slots.length).toBe(550 - 3);
    expect(Array.from(fresh.slots.subarray(0, 3))).toEqual([600, 601, 602]);
    const into = { slots: new ArrayBuffer(1024 * 4), vectors: new ArrayBuffer(1024 * dim * 4) };
    new Float32Array(into.vectors).fill(7);
    const reused = ns.gather(600, 1150, into);
    expect(reused.slots.buffer).toBe(into.slots);
    expect(reused.vectors.buffer).toBe(into.vectors);
    expect([reused.slots.byteOffset, reused.vectors.byteOffset]).toEqual([0, 0]);
    expect(Array.from(reused.slots)).toEqual(Array.from(fresh.slots));
    expect(Array.from(reused.vectors)).toEqual(Array.from(fresh.vectors));
    for (let i = 0; i < reused.slots.length; i += 97) {
      const slot = reused.slots[i]!;
      expect(Array.from(reused.vectors.subarray(i * dim, (i + 1) * dim))).toEqual(records[slot]!.values.map(Math.fround));
    }
    // Buffers too small for the range: new arrays, the given ones untouched.
    const small = { slots: new ArrayBuffer(16), vectors: new ArrayBuffer(16 * dim) };
    const grown = ns.gather(0, 1200, small);
    expect(grown.slots.buffer).not.toBe(small.slots);
    expect(grown.vectors.buffer).not.toBe(small.vectors);
    expect(grown.slots.length).toBe(1200 - 5);
    expect(new Float32Array(small.vectors).every((x) => x === 0)).toBe(true);
  });

  it('restores slots from a segment with their norms and skips them for later writes', () => {
    const records = clusteredRecords(50, dim, 9);
    const source = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, EXACT);
    load(source, records);
    source.apply(source.prepareDelete(parseDeleteRequest({ ids: ['v48', 'v49'] })));
    const from = source.namespaces.get('')!;
    const segment = new CopiedSegment(from, from.slotCount);
    const frozen = from.freeze();

    const restored = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, EXACT);
    const ns = restored.namespaces.obtain('');
    ns.attachSegment(segment, segment.rows);
    const placed = [];
    for (let slot = 0; slot < frozen.slotCount; slot++) if (frozen.isLive(slot)) placed.push({ slot, id: frozen.idOf(slot), norm: frozen.normOf(slot) });
    restored.restore('', placed);
    expect(() => ns.putAt(60, 'x', Float32Array.from(records[0]!.values), undefined, undefined)).not.toThrow();
    expect(ns.slotCount).toBe(61);
    // A later write never lands in a slot the segment serves (49 was dead at the end of the segment).
    const fresh = new VectorIndex({ dimension: dim, metric: 'cosine', vectorType: 'dense' }, EXACT);
    const ns2 = fresh.namespaces.obtain('');
    ns2.attachSegment(segment, segment.rows);
    fresh.restore('', placed);
    fresh.apply(fresh.prepareUpsert(parseUpsertRequest({ vectors: [{ id: 'new', values: records[3]!.values }] })));
    expect(ns2.slotOf('new')).toBe(50);
    const byId = new Map(fresh.fetch({ namespace: '', ids: ['new', 'v47'] }).records.map((r) => [r.id, Array.from(r.values!)]));
    expect(byId).toEqual(new Map([['new', records[3]!.values], ['v47', records[47]!.values]]));
    const q = records[10]!.values;
    expect(fresh.query(parseQueryRequest({ vector: q, topK: 3 })).matches.map((m) => m.id)).toEqual(
      refTopK('cosine', q, [...records.slice(0, 48), { id: 'new', values: records[3]!.values }], undefined, 3).map((m) => m.id),
    );
  });
});
