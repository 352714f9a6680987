// The graph wrapper: usearch's u64 keys back to slots, and graphs saved with other parameters staying readable
// with their own (a change of the defaults must not break the graphs already on disk).
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

  it.each(['cosine', 'euclidean', 'dotproduct'] as const)('maps %s keys back to slots, large slot numbers too, nearest first', (metric) => {
    // Slots past 2¹⁶ and near 2³¹ (keys are u64: the slot is the low word).
    const far = Int32Array.from(slots, (s) => (s % 2 === 0 ? 70_000 + s : 2 ** 31 - 1 - s));
    const ann = new UsearchAnn(metric, dim, undefined, 4);
    ann.add(far, values, 1);
    const known = new Set(far);
    for (const q of queries) {
      const found = ann.search(q, 20);
      expect(found.length).toBe(20);
      for (const slot of found) expect(known.has(slot)).toBe(true);
      // Nearest first: the exact scores of the first and last found.
      const row = (slot: number): number => (slot >= 70_000 && slot < 70_000 + records.length ? slot - 70_000 : 2 ** 31 - 1 - slot);
      expect(exactScore(metric, q, row(found[0]!))).toBeGreaterThanOrEqual(exactScore(metric, q, row(found[19]!)));
    }
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
