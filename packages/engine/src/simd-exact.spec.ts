// The sketch batch push (pushSketchCandidates): whatever the shortlist held before, the shortlist after a
// batch must be what pushing every row of the batch would leave, whether the batch was first asked for a few
// rows (a full shortlist) or for all; checked against that brute force on random int8 rows, with many equal
// dot products (small coordinates) so that ties at the cut of the first, shorter ask occur.
import { describe, expect, it } from '@jest/globals';
import { rng } from '@conifer/test-utils';
import { pushSketchCandidates, roundHalfUp, sketchRow } from './simd-exact.js';
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

// The sketches' rounding is floor(x + 0.5) with one correction (a faster Math.round): the same integer as
// Math.round for every finite x, ties towards +∞ included, so a sketch is what it was before.
describe('roundHalfUp and sketchRow', () => {
  it('rounds as Math.round on the edge cases and on random values', () => {
    const edges = [0, -0, 0.5, -0.5, 0.49999999999999994, -0.49999999999999994, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5, 127.5, -127.5, 1e-300, -1e-300, 4503599627370495.5, -4503599627370495.5, 2 ** 52, 2 ** 53 + 2];
    for (const x of edges) expect(roundHalfUp(x) + 0).toBe(Math.round(x) + 0);
    const random = rng(5);
    for (let i = 0; i < 200_000; i++) {
      const x = (random() * 2 - 1) * (i % 2 === 0 ? 300 : 2) + (i % 7 === 0 ? 0.5 : 0);
      expect(roundHalfUp(x) + 0).toBe(Math.round(x) + 0);
    }
  });

  it('sketches rows as the Math.round reference did', () => {
    const random = rng(6);
    for (const dim of [8, 100, 768]) {
      const rows = 40;
      const src = new Float32Array(rows * dim).map(() => Math.fround(Math.round((random() * 2 - 1) * 1e4) / 1e4));
      // Outlying coordinates (clipped at ±127) and an all-zero row.
      src[3] = 50;
      src.fill(0, dim, 2 * dim);
      const out = new Int8Array(rows * dim);
      for (let r = 0; r < rows; r++) sketchRow(src, r * dim, dim, out, r * dim);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let i = 0; i < dim; i++) sum += src[r * dim + i]! * src[r * dim + i]!;
        const scale = sum > 0 ? (127 * Math.max(1, Math.sqrt(dim) / 8)) / Math.sqrt(sum) : 0;
        const expected = Array.from(src.subarray(r * dim, (r + 1) * dim), (v) => Math.max(-127, Math.min(127, Math.round(v * scale))) + 0);
        expect(Array.from(out.subarray(r * dim, (r + 1) * dim))).toEqual(expected);
      }
    }
  });
});
