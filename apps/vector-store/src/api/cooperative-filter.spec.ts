import { describe, expect, it } from '@jest/globals';
import { compileFilter, parseFilter } from '@conifer/contracts';
import { VectorIndex } from '@conifer/engine';
import { cooperativeFilter, filterClauses } from './cooperative-filter.js';

function indexWith(records: number): VectorIndex {
  const index = new VectorIndex({ dimension: 2, metric: 'cosine', vectorType: 'dense' });
  const vectors = Array.from({ length: records }, (_, n) => ({
    id: `r${n}`,
    values: new Float32Array([1, n % 7]),
    ...(n % 10 === 0 ? {} : { metadata: { n, tag: n % 3 === 0 ? 'three' : 'other' } }),
  }));
  index.apply(index.prepareUpsert({ namespace: '', vectors }));
  return index;
}

const heavy = (extra: Record<string, unknown>) =>
  parseFilter({ $and: [...Array.from({ length: 400 }, (_, i) => ({ tag: { $ne: `z${i}` } })), extra] })!;

describe('cooperativeFilter', () => {
  it('leaves cheap filters to the engine as they are', async () => {
    const index = indexWith(100);
    const filter = parseFilter({ tag: 'three' })!;
    expect(await cooperativeFilter(index, [''], filter)).toBe(filter);
    expect(await cooperativeFilter(index, [''], undefined)).toBeUndefined();
  });

  it('leaves small filters the posting lists narrow to the engine, even on large namespaces', async () => {
    const index = indexWith(1000);
    const options = { sliceMs: 2, budgetMs: 10_000, heavyWork: 10 };
    const selective = parseFilter({ tag: 'three', n: { $lt: 10 } })!;
    expect(await cooperativeFilter(index, [''], selective, options)).toBe(selective);
    const scan = parseFilter({ tag: { $ne: 'three' } })!;
    expect((await cooperativeFilter(index, [''], scan, options))?.op).toBe('precomputed');
  });

  it('precomputes heavy ones with exactly the filter’s answers (records without metadata too)', async () => {
    const index = indexWith(1000);
    for (const extra of [{ n: { $lt: 50 } }, { tag: { $exists: false } }, { tag: { $ne: 'three' } }]) {
      const filter = heavy(extra);
      expect(filterClauses(filter) * 1000).toBeGreaterThan(250_000);
      const pre = await cooperativeFilter(index, [''], filter);
      expect(pre?.op).toBe('precomputed');
      const ns = index.namespaces.get('')!;
      const expected = compileFilter(filter);
      const got = compileFilter(pre);
      for (let slot = 0; slot < ns.slotCount; slot++) expect(got(ns.metadataOf(slot))).toBe(expected(ns.metadataOf(slot)));
      expect(index.countMatching('', pre)).toBe(index.countMatching('', filter));
      // Metadata it never saw (a later write) is evaluated on demand.
      expect(got({ n: 1, tag: 'new' })).toBe(expected({ n: 1, tag: 'new' }));
    }
  });

  it('yields between slices and stops with a 400 past its CPU budget', async () => {
    const index = indexWith(20_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await expect(cooperativeFilter(index, undefined, heavy({ n: { $gte: 0 } }), { sliceMs: 1, budgetMs: 300, heavyWork: 1 })).rejects.toThrow(
      /takes more than 0 s to evaluate/,
    );
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
