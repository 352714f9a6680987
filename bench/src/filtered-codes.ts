#!/usr/bin/env -S node --experimental-strip-types
// A first pass over 1-bit codes before the int8 sketches (issue 12 part 7; not part of `npm test` or
// `npm run bench`), one process, no engine: can a 96-byte code per 768-d row pick the few hundred matches
// that the int8 sketch then ranks, without losing recall@10, and is it cheaper than gathering every match's
// 768-byte sketch?
//   node --experimental-strip-types bench/src/filtered-codes.ts [n=100000] [dim=768] [queries=30] [hard|easy] [--plain]
// Sketches as the engine makes them (simd-exact.ts sketchRow); codes: one bit per coordinate, the sketch's
// coordinate above that coordinate's mean over all rows; a match's first-pass score is asymmetric (the query
// stays in float: sum of q_d · s_d · ±1, s_d the mean distance of coordinate d from its mean), read from a
// table of 256 partial sums per code byte (96 lookups a row at 768-d). The best `S1` by code are ranked by
// the int8 sketch (gathered, usearch's kernel), the best 40 of those (the planner's breadth at 10k matches)
// re-scored exactly. Recall@10 against the exact top 10 of all matches; times per query, median, against
// today's pass (every match's sketch gathered in 512-row batches and ranked by usearch, 40 kept). `--plain`:
// codes without centre or spreads (the sign of the sketch's coordinate). The dimension must be a multiple of 8.
// Measured in session 9 (bench/RESULTS.md, s9-filtered): recall needs the codes' best ~1/6 of 10k matches, and
// the code pass costs about what gathering every sketch does (a cache miss per scattered row either way).
import { readFileSync } from 'node:fs';
import { TopK } from '@conifer/engine';
import usearch from 'usearch';
import { FILTERED_QUERIES, filteredData, filteredDataset, type FilterMeta } from './filtered-data.ts';
import { commandLine, median } from './util.ts';

const { args, flags } = commandLine();
const N = Number(args[0] ?? 100_000);
const DIM = Number(args[1] ?? 768);
const QUERIES = Number(args[2] ?? 30);
const DATA = filteredDataset(args[3] ?? 'hard');
if (DIM % 8 !== 0) throw new Error(`the dimension must be a multiple of 8, not ${DIM}`);
const K = 10;
const BREADTH = 40;
const BATCH = 512;
const FIRST_PASS = [100, 200, 400, 800, 1600];
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

const { values, meta, queries } = filteredData(DATA, N, DIM, QUERIES);
console.log(`${DATA} ${N} x ${DIM}, ${QUERIES} queries; load ${load()}`);

// The engine's sketches (simd-exact.ts sketchRow: one norm for every row).
const sketches = new Int8Array(N * DIM);
const sketchScale = 127 * Math.max(1, Math.sqrt(DIM) / 8);
for (let j = 0; j < N; j++) {
  let sum = 0;
  for (let d = 0; d < DIM; d++) sum += values[j * DIM + d]! ** 2;
  const scale = sum > 0 ? sketchScale / Math.sqrt(sum) : 0;
  for (let d = 0; d < DIM; d++) {
    const q = Math.round(values[j * DIM + d]! * scale);
    sketches[j * DIM + d] = q > 127 ? 127 : q < -127 ? -127 : q;
  }
}
const norms = new Float32Array(N);
for (let j = 0; j < N; j++) {
  let s = 0;
  for (let d = 0; d < DIM; d++) s += values[j * DIM + d]! ** 2;
  norms[j] = Math.sqrt(s);
}

// Codes: per coordinate, above its mean or not; s_d the mean distance from it.
const BYTES = DIM >> 3;
const mean = new Float64Array(DIM);
const spread = new Float64Array(DIM);
for (let j = 0; j < N; j++) for (let d = 0; d < DIM; d++) mean[d] += sketches[j * DIM + d]!;
for (let d = 0; d < DIM; d++) mean[d] /= N;
for (let j = 0; j < N; j++) for (let d = 0; d < DIM; d++) spread[d] += Math.abs(sketches[j * DIM + d]! - mean[d]!);
for (let d = 0; d < DIM; d++) spread[d] /= N;
// --plain: no centre, no spread (sign of the sketch's coordinate, the query's coordinate as its weight).
if (flags.plain !== undefined) {
  mean.fill(0);
  spread.fill(1);
}
const codes = new Uint8Array(N * BYTES);
for (let j = 0; j < N; j++) {
  for (let b = 0; b < BYTES; b++) {
    let byte = 0;
    for (let i = 0; i < 8; i++) if (sketches[j * DIM + b * 8 + i]! > mean[b * 8 + i]!) byte |= 1 << i;
    codes[j * BYTES + b] = byte;
  }
}

/** The query's table: for each code byte, the partial sum of q_d · s_d · ±1 for each of its 256 values. */
function table(q: Float32Array): Float32Array {
  const lut = new Float32Array(BYTES * 256);
  for (let b = 0; b < BYTES; b++) {
    let base = 0;
    const w = new Float64Array(8);
    for (let i = 0; i < 8; i++) {
      w[i] = q[b * 8 + i]! * spread[b * 8 + i]!;
      base -= w[i]!;
    }
    const at = b * 256;
    lut[at] = base;
    for (let v = 1; v < 256; v++) {
      const low = 31 - Math.clz32(v & -v);
      lut[at + v] = lut[at + (v & (v - 1))]! + 2 * w[low]!;
    }
  }
  return lut;
}

function codePass(slots: Int32Array, lut: Float32Array, keep: number): Int32Array {
  const top = new TopK(keep);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    let at = slot * BYTES;
    let s = 0;
    for (let b = 0; b < BYTES; b++) s += lut[(b << 8) + codes[at++]!]!;
    if (top.size < keep || s > top.threshold) top.push(s, slot);
  }
  return top.slotArray();
}

const scratch = new Int8Array(BATCH * DIM);
function sketchPass(slots: Int32Array, q8: Int8Array, keep: number): Int32Array {
  const top = new TopK(keep);
  for (let from = 0; from < slots.length; from += BATCH) {
    const n = Math.min(BATCH, slots.length - from);
    for (let i = 0; i < n; i++) {
      const at = slots[from + i]! * DIM;
      scratch.set(sketches.subarray(at, at + DIM), i * DIM);
    }
    const r = usearch.exactSearch(scratch.subarray(0, n * DIM), q8, DIM, Math.min(keep, n), 'ip' as never, 1) as unknown as { keys: BigUint64Array; distances: Float32Array };
    for (let i = 0; i < r.keys.length; i++) top.push(-r.distances[i]!, slots[from + Number(r.keys[i])]!);
  }
  return top.slotArray();
}

function exact(slots: Int32Array, q: Float32Array, keep: number): Int32Array {
  const top = new TopK(keep);
  for (const slot of slots) {
    let dot = 0;
    for (let d = 0; d < DIM; d++) dot += values[slot * DIM + d]! * q[d]!;
    top.push(dot / norms[slot]!, slot);
  }
  return top.slotArray();
}

const predicates: Record<string, (m: FilterMeta) => boolean> = {
  'indep 10%': (m) => m.bucket < 10,
  'indep 1%': (m) => m.bucket === 42,
  'corr 10%': (m) => m.region === 3,
  'corr 1%': (m) => m.zone === 7,
  'float indep 10%': (m) => m.score < 0.1,
  'float indep 1%': (m) => m.score >= 0.99,
  'float corr 10%': (m) => m.pos < 0.1,
  'float corr 1%': (m) => m.pos < 0.01,
};
const rows: Record<string, string>[] = [];
for (const name of Object.keys(FILTERED_QUERIES)) {
  const slots = Int32Array.from(meta.flatMap((m, j) => (predicates[name]!(m) ? [j] : [])));
  const recall = new Map<number, number>();
  const t = { today: [] as number[], code: [] as number[], lut: [] as number[], second: new Map<number, number[]>() };
  let todayRecall = 0;
  for (const q of queries) {
    const truth = new Set(exact(slots, q, K));
    let max = 0;
    for (let d = 0; d < DIM; d++) max = Math.max(max, Math.abs(q[d]!));
    const q8 = Int8Array.from(q, (x) => Math.round((x * 127) / max));
    const t0 = performance.now();
    const today = sketchPass(slots, q8, BREADTH);
    const t1 = performance.now();
    todayRecall += exact(today, q, K).filter((s) => truth.has(s)).length / K;
    const lut = table(q);
    const t2 = performance.now();
    const best = codePass(slots, lut, FIRST_PASS.at(-1)!);
    const t3 = performance.now();
    t.today.push(t1 - t0);
    t.lut.push(t2 - t1);
    t.code.push(t3 - t2);
    // The code pass's best S1 (its shortlist, best first), ranked by sketch, the best 40 exactly.
    const ranked = new TopK(best.length);
    for (const slot of best) {
      let at = slot * BYTES;
      let s = 0;
      for (let b = 0; b < BYTES; b++) s += lut[(b << 8) + codes[at++]!]!;
      ranked.push(s, slot);
    }
    const order = ranked.slotArray();
    const scores = order.map((slot) => {
      let at = slot * BYTES;
      let s = 0;
      for (let b = 0; b < BYTES; b++) s += lut[(b << 8) + codes[at++]!]!;
      return s;
    });
    const byScore = Array.from(order).map((slot, i) => [scores[i]!, slot] as const).sort((a, b) => b[0] - a[0]);
    for (const s1 of FIRST_PASS) {
      const shortlist = Int32Array.from(byScore.slice(0, s1).map(([, slot]) => slot)).sort();
      const t4 = performance.now();
      const second = sketchPass(shortlist, q8, BREADTH);
      const t5 = performance.now();
      (t.second.get(s1) ?? t.second.set(s1, []).get(s1)!).push(t5 - t4);
      recall.set(s1, (recall.get(s1) ?? 0) + exact(second, q, K).filter((s) => truth.has(s)).length / K);
    }
  }
  const row: Record<string, string> = { filter: name, matches: String(slots.length), 'today ms': median(t.today).toFixed(2), 'today recall': (todayRecall / QUERIES).toFixed(3), 'table ms': median(t.lut).toFixed(2), 'code pass ms': median(t.code).toFixed(2) };
  for (const s1 of FIRST_PASS) row[`S1=${s1} recall / 2nd ms`] = `${(recall.get(s1)! / QUERIES).toFixed(3)} / ${median(t.second.get(s1)!).toFixed(2)}`;
  rows.push(row);
}
console.table(rows);
console.log(`load ${load()}`);
