// The sketch batch push (pushSketchCandidates): whatever the shortlist held before, the shortlist after a
// batch must be what pushing every row of the batch would leave, whether the batch was first asked for a few
// rows (a full shortlist) or for all; checked against that brute force on random int8 rows, with many equal
// dot products (small coordinates) so that ties at the cut of the first, shorter ask occur.
import { describe, expect, it } from '@jest/globals';
import { rng } from '@conifer/test-utils';
import { pushSketchCandidates } from './simd-exact.js';
import { TopK } from './top-k.js';

function dot(rows: Int8Array, row: number, query: Int8Array): number {
  let s = 0;
  for (let d = 0; d < query.length; d++) s += rows[row * query.length + d]! * query[d]!;
  return s;
}

describe('pushSketchCandidates', () => {
  it('leaves the shortlist that pushing every row would, full or not, ties included', () => {
    const random = rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const dim = 1 + Math.floor(random() * 24);
      const count = 1 + Math.floor(random() * 300);
      const k = 1 + Math.floor(random() * 120);
      const spread = trial % 2 === 0 ? 3 : 60;
      const rows = new Int8Array(count * dim).map(() => Math.round((random() * 2 - 1) * spread));
      const query = new Int8Array(dim).map(() => Math.round((random() * 2 - 1) * spread));
      const rowSlots = Int32Array.from({ length: count }, (_, i) => 1000 + i * 3);
      // Earlier batches' entries (slots below 1000): none, a few, or a full shortlist.
      const earlier = Array.from({ length: Math.floor(random() * (k + 5)) }, (_, i) => ({ score: Math.round((random() * 2 - 1) * spread * spread * dim * 0.3), slot: i }));
      const got = new TopK(k);
      const want = new TopK(k);
      for (const e of earlier) {
        got.push(e.score, e.slot);
        want.push(e.score, e.slot);
      }
      // usearch's inner product is computed in float32 as 1 − dot: exact for these integers.
      pushSketchCandidates(rows, count, dim, query, k, rowSlots, got);
      for (let r = 0; r < count; r++) want.push(dot(rows, r, query), rowSlots[r]!);
      // + 0: usearch may answer a dot of 0 as -0.
      const scores = (t: TopK): number[] => t.sorted().map((m) => m.score + 0);
      expect(scores(got)).toEqual(scores(want));
      // Each slot at most once, and each with its own dot product.
      const slots = got.sorted().map((m) => m.slot);
      expect(new Set(slots).size).toBe(slots.length);
      for (const m of got.sorted()) if (m.slot >= 1000) expect(m.score + 0).toBe(dot(rows, (m.slot - 1000) / 3, query));
    }
  });
});
