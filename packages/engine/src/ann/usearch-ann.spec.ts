// The graph wrapper: score estimates from usearch's distances (what the unfiltered re-rank's early end relies
// on), and graphs saved with other parameters staying readable with their own (a change of the defaults
// must not break the graphs already on disk).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { clusteredRecords } from '@conifer/test-utils';
import type { Metric } from '../types.js';
import { UsearchAnn } from './usearch-ann.js';

const dim = 32;
const records = clusteredRecords(3000, dim, 21);
const values = new Float32Array(records.length * dim);
records.forEach((r, i) => values.set(r.values, i * dim));
const slots = Int32Array.from({ length: records.length }, (_, i) => i);
const queries = clusteredRecords(10, dim, 22).map((r) => Float32Array.from(r.values));

function exactScore(metric: Metric, q: Float32Array, slot: number): number {
  let dot = 0;
  let qq = 0;
  let xx = 0;
  let l2 = 0;
  for (let d = 0; d < dim; d++) {
    const x = values[slot * dim + d]!;
    dot += q[d]! * x;
    qq += q[d]! * q[d]!;
    xx += x * x;
    l2 += (q[d]! - x) ** 2;
  }
  return metric === 'cosine' ? dot / Math.sqrt(qq * xx) : metric === 'euclidean' ? -l2 : dot;
}

describe('UsearchAnn', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conifer-ann-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['cosine', 'euclidean'] as const)('estimates each candidate’s exact %s score from the graph’s distance, best first', (metric) => {
    const ann = new UsearchAnn(metric, dim);
    ann.add(slots, values, 1);
    for (const q of queries) {
      const { slots: found, estimates } = ann.searchScored(q, 50);
      expect(found.length).toBe(50);
      expect(estimates).toBeDefined();
      for (let i = 1; i < found.length; i++) expect(estimates![i]!).toBeLessThanOrEqual(estimates![i - 1]!);
      for (let i = 0; i < found.length; i++) {
        const exact = exactScore(metric, q, found[i]!);
        // int8 (cosine) and f16 (euclidean) quantization: close, not equal.
        expect(Math.abs(estimates![i]! - exact)).toBeLessThan(metric === 'cosine' ? 0.02 : 0.01 * Math.abs(exact) + 0.01);
      }
      expect(Array.from(ann.search(q, 50))).toEqual(Array.from(found));
    }
  });

  it('gives no estimates for dotproduct (augmented vectors)', () => {
    const ann = new UsearchAnn('dotproduct', dim, undefined, 4);
    ann.add(slots, values, 1);
    const { slots: found, estimates } = ann.searchScored(queries[0]!, 20);
    expect(found.length).toBe(20);
    expect(estimates).toBeUndefined();
  });

  it('keeps a saved graph’s own connectivity when viewed, loaded and extended with other parameters', () => {
    const file = join(dir, 'm8.usearch');
    const built = new UsearchAnn('cosine', dim, { connectivity: 8, expansionAdd: 64, expansionSearch: 64 });
    built.add(slots.subarray(0, 2000), values.subarray(0, 2000 * dim), 1);
    built.save(file);
    const other = { connectivity: 32, expansionAdd: 128, expansionSearch: 64 };
    const viewed = UsearchAnn.view(file, 'cosine', dim, other, 1);
    expect(viewed.connectivity).toBe(8);
    expect(viewed.size).toBe(2000);
    expect(Array.from(viewed.search(queries[0]!, 10))).toEqual(Array.from(built.search(queries[0]!, 10)));
    const loaded = UsearchAnn.load(file, 'cosine', dim, other, 1);
    loaded.add(slots.subarray(2000), values.subarray(2000 * dim), 1);
    expect(loaded.connectivity).toBe(8);
    loaded.save(join(dir, 'm8-extended.usearch'));
    const extended = UsearchAnn.view(join(dir, 'm8-extended.usearch'), 'cosine', dim, other, 1);
    expect(extended.connectivity).toBe(8);
    expect(extended.size).toBe(3000);
    // A new graph takes the parameters it is given.
    expect(new UsearchAnn('cosine', dim, other).connectivity).toBe(32);
  });
});
