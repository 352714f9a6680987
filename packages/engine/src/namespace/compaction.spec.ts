// Compaction a slice at a time (what the store does so as not to block its event loop): writes of every
// kind land between the slices, on slots already copied and not yet copied, and the namespace must end
// up exactly as an index that compacted at once, with the same writes.
import { describe, expect, it } from '@jest/globals';
import { parseDeleteRequest, parseQueryRequest, parseUpdateRequest, parseUpsertRequest } from '@conifer/contracts';
import { clusteredRecords, FILTERS, type RefRecord } from '@conifer/test-utils';
import type { IndexSettings, Mutation, SearchOptions } from '../types.js';
import { DEFAULT_SEARCH_OPTIONS, VectorIndex } from '../vector-index.js';
import type { VectorSegment } from './namespace-store.js';

const EXACT: SearchOptions = { ...DEFAULT_SEARCH_OPTIONS, annMinVectors: Number.MAX_SAFE_INTEGER, exactFilterMax: Number.MAX_SAFE_INTEGER };
const dim = 6;
const settings: IndexSettings = { dimension: dim, metric: 'dotproduct', vectorType: 'dense' };

/** The rows of a namespace as they are now, served like a values file (dead rows zero). */
function segmentOf(index: VectorIndex): VectorSegment {
  const frozen = index.namespaces.get('')!.freeze();
  const rows = frozen.slotCount;
  const data = new Float32Array(rows * dim);
  frozen.readRows(0, rows, data);
  for (let slot = 0; slot < rows; slot++) if (!frozen.isLive(slot)) data.fill(0, slot * dim, (slot + 1) * dim);
  return {
    rows,
    read(first, count, out, outOffset) {
      if (first < 0 || first + count > rows) throw new RangeError('outside the segment');
      out.set(data.subarray(first * dim, (first + count) * dim), outOffset);
    },
  };
}

function upsert(index: VectorIndex, records: RefRecord[]): Mutation {
  const mutations = [];
  for (let i = 0; i < records.length; i += 1000) mutations.push(index.prepareUpsert(parseUpsertRequest({ vectors: records.slice(i, i + 1000) })));
  return { type: 'upsert', namespace: '', records: mutations.flatMap((m) => (m.type === 'upsert' ? m.records : [])) };
}

/** A delete by id of any number of ids (the API takes ≤ 1000 per request; the log record has no limit). */
function deleteIds(ids: string[]): Mutation {
  return { type: 'deleteIds', namespace: '', ids };
}

/** Everything a reader can see of the namespace, in a comparable form. */
function contents(index: VectorIndex, ids: string[]): unknown {
  const fetched = index.fetch({ namespace: '', ids }).records.map((r) => ({ ...r, values: Array.from(r.values ?? []) }));
  const vector = (k: number): number[] => Array.from({ length: dim }, (_, d) => Math.sin(k + d));
  // Every match of each filter (as a set: ties may come out in slot order).
  const filters = FILTERS.map((filter) => index.query(parseQueryRequest({ vector: vector(0), topK: 10000, filter })).matches.map((m) => m.id).sort());
  const queries = [0, 1, 2].map((k) => index.query(parseQueryRequest({ vector: vector(k), topK: 20, includeMetadata: true, includeValues: true })).matches);
  return { total: index.totalVectorCount, fetched, filters, queries };
}

describe('compaction in slices', () => {
  it('ends exactly where compacting at once ends, with writes of every kind between the slices', () => {
    const records = clusteredRecords(3000, dim, 4);
    const stepped = new VectorIndex(settings, EXACT);
    const atOnce = new VectorIndex(settings, EXACT);
    stepped.deferCompaction = true;
    const both = (make: (index: VectorIndex) => Mutation): void => {
      stepped.apply(make(stepped));
      atOnce.apply(make(atOnce));
    };
    for (let i = 0; i < records.length; i += 500) both((index) => upsert(index, records.slice(i, i + 500)));
    const ns = stepped.namespaces.get('')!;
    // The values below slot 3000 come from a segment (a snapshot's values file): the compaction reads them from it.
    ns.attachSegment(segmentOf(stepped), ns.slotCount);
    // Deleting 40 % begins a compaction (dead slots past 30 %); the index compacting at once has done it.
    both(() => deleteIds(records.slice(0, 1200).map((r) => r.id)));
    expect(ns.compacting).toBe(true);
    expect(stepped.compactionPending).toBe(true);
    const generation = ns.generation;
    expect(atOnce.namespaces.get('')!.slotCount).toBe(1800);

    const negated = (r: RefRecord): RefRecord => ({ ...r, values: r.values.map((v) => -v) });
    const writes: ((index: VectorIndex) => Mutation)[] = [
      // Slots not copied yet (high) and already copied (low).
      (index) => upsert(index, records.slice(2900, 2950).map(negated)),
      (index) => upsert(index, records.slice(1200, 1250).map(negated)),
      (index) => index.prepareDelete(parseDeleteRequest({ ids: ['v1300', 'v2990', 'v5'] })),
      (index) => index.prepareUpdate(parseUpdateRequest({ id: 'v1350', setMetadata: { color: 'teal' } })),
      (index) => index.prepareUpdate(parseUpdateRequest({ id: 'v1400', setMetadata: { color: 'violet', extra: 1 } })),
      (index) => index.prepareUpdate(parseUpdateRequest({ id: 'v2980', setMetadata: { color: 'violet' } })),
      (index) => index.prepareUpdate(parseUpdateRequest({ id: 'v1450', sparseValues: { indices: [1, 7], values: [0.5, 0.25] } })),
      (index) => index.prepareUpdate(parseUpdateRequest({ id: 'v1460', values: Array.from({ length: dim }, () => 0.5) })),
      (index) => upsert(index, clusteredRecords(200, dim, 9).map((r, i) => ({ ...r, id: `new${i}` }))),
      (index) => index.prepareDelete(parseDeleteRequest({ filter: { color: { $eq: 'violet' } } })),
      (index) => upsert(index, records.slice(1250, 1260)),
    ];
    // Slots [0, 1500) copied first (the first 1200 are dead), so that the writes below hit copied slots
    // (v1200–v1499) as well as slots the cursor has not reached.
    expect(stepped.compactionStep(1500)).toBe(true);
    let steps = 1;
    for (const write of writes) {
      stepped.compactionStep(97);
      steps++;
      expect(ns.generation).toBe(generation); // not swapped in yet: the slots are unchanged for readers
      both(write);
    }
    while (stepped.compactionStep(97)) steps++;
    expect(steps).toBeGreaterThan(writes.length);
    expect(ns.compacting).toBe(false);
    expect(ns.generation).toBe(generation + 1);
    expect(ns.valueSegment).toBeUndefined();
    expect(ns.slotCount).toBeLessThan(3000 + 50 + 50 + 1 + 1 + 200 + 10);

    const ids = [...records.map((r) => r.id), ...Array.from({ length: 200 }, (_, i) => `new${i}`)];
    expect(contents(stepped, ids)).toEqual(contents(atOnce, ids));
    // Still a working namespace: later writes and a later compaction.
    both(() => deleteIds(records.slice(1200, 2600).map((r) => r.id)));
    while (stepped.compactionStep(1000));
    expect(contents(stepped, ids)).toEqual(contents(atOnce, ids));
  });

  it('is dropped when the namespace is cleared or deleted meanwhile', () => {
    const records = clusteredRecords(2000, dim, 3);
    for (const end of ['deleteAll', 'deleteNamespace'] as const) {
      const index = new VectorIndex(settings, EXACT);
      index.deferCompaction = true;
      index.apply(upsert(index, records));
      index.apply(deleteIds(records.slice(0, 1500).map((r) => r.id)));
      const ns = index.namespaces.get('')!;
      expect(ns.compacting).toBe(true);
      index.compactionStep(100);
      if (end === 'deleteAll') index.apply(index.prepareDelete(parseDeleteRequest({ deleteAll: true })));
      else index.apply(index.prepareDeleteNamespace(''));
      expect(index.compactionStep(100)).toBe(false);
      expect(index.compactionPending).toBe(false);
      index.apply(upsert(index, records.slice(0, 10)));
      expect(index.totalVectorCount).toBe(10);
    }
  });
});
