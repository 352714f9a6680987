// Random sequences of every write operation applied to the engine and to a plain reference model
// (a Map per namespace); after each step every read operation must agree with the reference. The third
// run gives records a float with a distinct value per record (`price`, a sorted numeric index past 2048
// values) and filters ranges over it.
import { describe, expect, it } from '@jest/globals';
import {
  parseDeleteRequest,
  parseFetchByMetadataRequest,
  parseFilter,
  parseQueryRequest,
  parseUpdateRequest,
  parseUpsertRequest,
} from '@conifer/contracts';
import { FILTERS, randomMetadata, refMatches, refTopK, rng } from '@conifer/test-utils';
import type { StatsResult } from './types.js';
import { VectorIndex } from './vector-index.js';

type Md = Record<string, unknown> | undefined;
interface Rec {
  id: string;
  values: number[];
  metadata?: Md;
}

const DIM = 6;
/** Ranges (and values) of `price`, alone and combined with posting-list filters. */
const PRICE_FILTERS = [
  { price: { $lt: 1000 } },
  { price: { $gte: 5000, $lt: 5100 } },
  { price: { $gt: 9900 } },
  { price: 9.5 },
  { price: { $in: [9.5, 1, 'x'] } },
  { price: { $lte: 9.5 } },
  { $and: [{ color: 'red' }, { price: { $lt: 3000 } }] },
  { $or: [{ price: { $gt: 9000 } }, { n: { $lt: 5 } }] },
  { $or: [{ price: { $lt: 100 } }, { tags: 'a' }] },
];
const NAMESPACES = ['', 'ns-a', 'ns-b'];

describe('every operation against a reference model', () => {
  for (const [label, search] of [
    ['exact', { annMinVectors: Number.MAX_SAFE_INTEGER }],
    ['ANN + planner', { annMinVectors: 50, exactFilterMax: 10 }],
    ['exact, many distinct numbers', { annMinVectors: Number.MAX_SAFE_INTEGER }],
  ] as const) {
    // Fewer steps for the many-numbers run: its namespaces hold thousands of records (reads are checked in full).
    const steps = label.includes('many') ? 120 : 300;
    it(`agrees after each of ${steps} random operations (${label})`, () => {
      const random = rng(label.length * 1000 + 3);
      const index = new VectorIndex({ dimension: DIM, metric: 'euclidean', vectorType: 'dense' }, search);
      const ref = new Map<string, Map<string, Rec>>();
      const nsRef = (ns: string) => {
        let m = ref.get(ns);
        if (!m) ref.set(ns, (m = new Map()));
        return m;
      };
      const vec = () => Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1));
      const wide = label.includes('many');
      const price = (): number => (random() < 0.05 ? 9.5 : Math.floor(random() * 1e7) / 1e3);
      const filters = wide ? [...FILTERS, ...PRICE_FILTERS] : FILTERS;
      const pickFilter = () => filters[Math.floor(random() * filters.length)];
      const idOf = () => `id-${Math.floor(random() * (wide ? 5000 : 400))}`;

      for (let step = 0; step < steps; step++) {
        const ns = NAMESPACES[Math.floor(random() * NAMESPACES.length)]!;
        const op = random();
        if (op < 0.45) {
          const vectors = Array.from({ length: 1 + Math.floor(random() * (wide ? 300 : 30)) }, () => {
            const md = randomMetadata(random);
            if (wide && random() < 0.9) return { id: idOf(), values: vec(), metadata: { ...md, price: price() } };
            return md === undefined ? { id: idOf(), values: vec() } : { id: idOf(), values: vec(), metadata: md };
          });
          index.apply(index.prepareUpsert(parseUpsertRequest({ namespace: ns, vectors })));
          for (const v of vectors) nsRef(ns).set(v.id, { ...v });
        } else if (op < 0.55) {
          const id = idOf();
          const values = random() < 0.5 ? vec() : undefined;
          const setMetadata = random() < 0.7 ? { flag: random() < 0.5, n: Math.floor(random() * 100), ...(wide && random() < 0.5 ? { price: price() } : {}) } : undefined;
          if (values === undefined && setMetadata === undefined) continue;
          index.apply(index.prepareUpdate(parseUpdateRequest({ namespace: ns, id, values, setMetadata })));
          const r = ref.get(ns)?.get(id);
          if (r) {
            if (values) r.values = values;
            if (setMetadata) r.metadata = { ...r.metadata, ...setMetadata };
          }
        } else if (op < 0.62) {
          const filter = pickFilter();
          const setMetadata = { tagged: `s${step}` };
          const n = index.apply(index.prepareUpdate(parseUpdateRequest({ namespace: ns, filter, setMetadata })));
          let expected = 0;
          for (const r of ref.get(ns)?.values() ?? []) {
            if (refMatches(filter, r.metadata)) {
              r.metadata = { ...r.metadata, ...setMetadata };
              expected++;
            }
          }
          expect(n).toBe(expected);
        } else if (op < 0.75) {
          const ids = Array.from({ length: 1 + Math.floor(random() * 20) }, idOf);
          index.apply(index.prepareDelete(parseDeleteRequest({ namespace: ns, ids })));
          for (const id of ids) ref.get(ns)?.delete(id);
        } else if (op < 0.82) {
          const filter = pickFilter();
          index.apply(index.prepareDelete(parseDeleteRequest({ namespace: ns, filter })));
          for (const [id, r] of ref.get(ns) ?? []) if (refMatches(filter, r.metadata)) ref.get(ns)!.delete(id);
        } else if (op < 0.84) {
          index.apply(index.prepareDelete(parseDeleteRequest({ namespace: ns, deleteAll: true })));
          ref.get(ns)?.clear();
        } else {
          while (index.buildAnnStep(64) > 0);
        }

        // ---- reads
        const counts = (s: StatsResult) => new Map(s.namespaces.map((n) => [n.name, n.recordCount]));
        const stats = counts(index.describeStats(undefined));
        for (const name of NAMESPACES) expect(stats.get(name) ?? 0).toBe(ref.get(name)?.size ?? 0);
        const filter = pickFilter();
        const filtered = counts(index.describeStats(parseFilter(filter)));
        for (const name of NAMESPACES) {
          const expected = [...(ref.get(name)?.values() ?? [])].filter((r) => refMatches(filter, r.metadata)).length;
          expect(filtered.get(name) ?? 0).toBe(expected);
        }
        const records = [...(ref.get(ns)?.values() ?? [])];
        const listed = index.list({ namespace: ns, prefix: 'id-1', limit: 1000 }).items;
        expect(listed).toEqual(records.map((r) => r.id).filter((id) => id.startsWith('id-1')).sort());
        const byMeta = index.fetchByMetadata(parseFetchByMetadataRequest({ namespace: ns, filter, limit: 10000 })).items.map((r) => r.id);
        expect(byMeta.sort()).toEqual(records.filter((r) => refMatches(filter, r.metadata)).map((r) => r.id).sort());
        if (step % 10 === 0) {
          const someIds = records.slice(0, 5).map((r) => r.id);
          const fetched = Object.fromEntries(index.fetch({ namespace: ns, ids: [...someIds, 'missing'] }).records.map((r) => [r.id, r]));
          expect(Object.keys(fetched).sort()).toEqual([...someIds].sort());
          for (const r of records.slice(0, 5)) {
            expect(Array.from(fetched[r.id]!.values!)).toEqual(r.values);
            expect(fetched[r.id]!.metadata).toEqual(r.metadata);
          }
          const q = vec();
          const expected = refTopK('euclidean', q, records as never, filter, 10);
          const got = index.query(parseQueryRequest({ namespace: ns, vector: q, topK: 10, filter }));
          expect(got.matches.length).toBe(expected.length);
          if (label === 'exact') expect(got.matches.map((m) => m.id)).toEqual(expected.map((m) => m.id));
          for (const m of got.matches) expect(refMatches(filter, ref.get(ns)!.get(m.id)!.metadata)).toBe(true);
        }
      }
    });
  }
});
