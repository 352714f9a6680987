// The scan of the slots a graph does not cover yet (or of the whole namespace before it has one), done ahead
// of a query a chunk at a time, so that the store can run it between event-loop turns (a tail of 50k 768-d rows
// takes ~50–100 ms of float32 SIMD scanning: a query's synchronous part must stay far below that). Each chunk
// keeps its candidates, as the synchronous scan (search/exact-scan.ts) does: the best `k` + a margin by
// usearch's float32 SIMD brute force over a values chunk, or, for a long range of a cosine namespace, the
// filtered scan's shortlist by the int8 sketches over a sketch chunk (RangeScan below); the query then scores
// them exactly, with the liveness of that moment.
//
// Why the answer is that of the synchronous scan at the time the query runs: slots are append-only and their
// values never change (an update writes a new slot and kills the old one; renumbering changes the namespace's
// generation, and the prescan is then ignored), so what a yield can change is only (1) slots appended past
// the scanned range, which the query scans itself, (2) slots dying. A chunk's candidates are its best rows by
// SIMD score, every other row of the chunk below them; as long as at least the chunk's need of them (`k` +
// margin, or the sketch shortlist) are still live (or all of the chunk's live rows are among them), the chunk's
// best live rows are among them, as in the synchronous scan. A chunk where deletes left fewer is scanned again
// when the query runs. Over the values the answer is exact; over the sketches it is the sketch scan's (RangeScan).
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { quantizeRow, simdCandidates } from '../simd-exact.js';
import type { TopK } from '../top-k.js';
import type { Metric } from '../types.js';
import { SKETCH_RANGE_MIN, sketchShortlist } from './planner.js';

/** Candidates beyond topK kept per chunk (float32 ties between the SIMD and the exact scorer). */
const SIMD_MARGIN = 16;

/**
 * How one dense query ranks a range of slots for candidates: usearch's float32 brute force over the values
 * (the best `k` + SIMD_MARGIN per values chunk: the exact scan's answer), or, for a range of SKETCH_RANGE_MIN+
 * rows of a cosine namespace (planner.ts), the int8 sketches (`sketch`: the query's; the filtered sketch scan's
 * breadth per sketch chunk, `sketchShortlist`). The sketches cost ~40 ns a 768-d row where the float32 scan, once the values are read back
 * from the values file, costs ~10 times that: a query during a large ingest, whose tail the graph has not caught
 * up with, spent its time reading values (bench/RESULTS.md, session 18). The candidates are scored exactly either
 * way; over the sketches the answer is as exact as the filtered sketch scan's (the true top 10 within the first
 * 20 by sketch in every measured query, planner.ts).
 */
export interface RangeScan {
  vector: Float32Array;
  metric: Metric;
  k: number;
  sketch: Int8Array | undefined;
}

/** The scan of [from, to) for a dense query (`vector` at offset 0 of its buffer: usearch reads it from there). */
export function rangeScan(ns: NamespaceStore, vector: Float32Array, metric: Metric, k: number, from: number, to: number): RangeScan {
  let sketch: Int8Array | undefined;
  if (metric === 'cosine' && to - from >= SKETCH_RANGE_MIN && ns.sketchesCover(from, to)) {
    sketch = new Int8Array(ns.dimension);
    quantizeRow(vector, 0, ns.dimension, sketch, 0);
  }
  return { vector, metric, k, sketch };
}

/** The end of the chunk (of values, or of sketches) holding slot `lo`: a `rangeCandidates` range stays inside it. */
export function rangeUnitEnd(ns: NamespaceStore, scan: RangeScan, lo: number): number {
  return (lo | ((scan.sketch === undefined ? ns.chunkRows : ns.sketchChunkRows) - 1)) + 1;
}

/** The live candidates a range of `rows` rows keeps (all of its live rows when fewer). */
function rangeNeed(scan: RangeScan, rows: number): number {
  return scan.sketch === undefined ? scan.k + SIMD_MARGIN : sketchShortlist(scan.k, rows);
}

/** Appends the candidates of [lo, hi) (inside one `rangeUnitEnd` chunk) to `out`; returns the range's live rows. */
export function rangeCandidates(ns: NamespaceStore, lo: number, hi: number, scan: RangeScan, out: number[]): number {
  if (scan.sketch !== undefined) return ns.sketchRangeCandidates(lo, hi, scan.sketch, rangeNeed(scan, hi - lo), out);
  return chunkCandidates(ns, lo, hi, scan.vector, scan.metric, scan.k, out);
}

let scratch = new Float32Array(0);

/**
 * One buffer for the chunks read from a values segment, shared by every scan (each uses it synchronously,
 * within one `chunkCandidates`): 12 MB at 768-d, not worth allocating per chunk or holding per query.
 */
function segmentScratch(floats: number): Float32Array {
  if (scratch.length < floats) scratch = new Float32Array(floats);
  return scratch;
}

/** One chunk's part of the range: its candidate slots are `slots[start, end)`, `live` its live rows when scanned. */
interface ChunkCandidates {
  lo: number;
  hi: number;
  start: number;
  end: number;
  live: number;
}

/**
 * The SIMD candidates of the rows [lo, hi) of the values chunk holding `lo` (the range must stay inside that
 * chunk): the best `k + margin` live rows of the range by SIMD score (all of them when fewer). The whole chunk is
 * compared (usearch wants an array from its buffer's start); rows outside the range and dead rows are
 * counted into the breadth asked for, so that `k + margin` of the range's live rows remain. Returns the range's
 * live rows (counted here anyway, so that a caller needs no second pass over the chunk's liveness).
 */
function chunkCandidates(ns: NamespaceStore, lo: number, hi: number, vector: Float32Array, metric: Metric, k: number, out: number[]): number {
  for (const block of ns.denseBlocks(lo, segmentScratch(ns.chunkRows * ns.dimension))) {
    // A chunk without values (denseBlocks skips it) has no rows to offer.
    if (block.first > lo) break;
    const rangeEnd = Math.min(hi, block.first + block.rows);
    const live = liveRows(ns, lo, rangeEnd);
    // The rows outside the range plus the range's dead rows.
    const excluded = block.rows - live;
    const want = Math.min(block.rows, k + SIMD_MARGIN + excluded);
    for (const row of simdCandidates(block.values, block.rows, ns.dimension, vector, want, metric)) {
      const slot = block.first + row;
      if (slot >= lo && slot < hi) out.push(slot);
    }
    return live + liveRows(ns, rangeEnd, hi);
  }
  return liveRows(ns, lo, hi);
}

function liveRows(ns: NamespaceStore, from: number, to: number): number {
  let live = 0;
  for (let slot = from; slot < to; slot++) if (ns.isLive(slot)) live++;
  return live;
}

/** The prescan of one dense query's unindexed range [from, to) of a namespace, advanced chunk by chunk. */
export class TailPrescan {
  readonly from: number;
  readonly to: number;
  private readonly uid: number;
  private readonly generation: number;
  private readonly scan: RangeScan;
  private next: number;
  /** Chunks before this one were found fresh by `refreshStep` (since the last `recheck`). */
  private checked = 0;
  private readonly slots: number[] = [];
  /**
   * Each candidate's exact score, computed when its chunk is scanned (between event-loop turns): a slot's values
   * and norm never change, so it is the score the query would compute. Scoring them in the query's synchronous
   * part (a `pread` of each row from the values file, then the product) held the event loop 100–600 ms at
   * 1M × 768 with ~4000 candidates (bench/RESULTS.md, session 18).
   */
  private readonly scores: number[] = [];
  private readonly chunks: ChunkCandidates[] = [];

  /**
   * `from`: the first slot to scan, the graph's end by default; 0 for a query the planner will answer with a
   * scan of the whole namespace (a graph too small to search), which would otherwise scan the slots below
   * the graph synchronously.
   */
  constructor(
    ns: NamespaceStore,
    vector: Float32Array,
    metric: Metric,
    k: number,
    from = ns.annUpTo,
  ) {
    this.uid = ns.uid;
    this.generation = ns.generation;
    this.from = Math.max(0, Math.min(from, ns.slotCount));
    this.to = ns.slotCount;
    this.next = this.from;
    // A copy: usearch reads the query from its buffer's start too.
    this.scan = rangeScan(ns, vector.slice(), metric, k, this.from, this.to);
  }

  get done(): boolean {
    return this.next >= this.to;
  }

  /** Whether its slots still mean the same records in `ns` (the same namespace, not renumbered since). */
  fits(ns: NamespaceStore): boolean {
    return ns.uid === this.uid && ns.generation === this.generation;
  }

  /** Scans the next chunk of the range; returns the rows it covered. `ns` must fit. */
  step(ns: NamespaceStore): number {
    const lo = this.next;
    const hi = Math.min(this.to, rangeUnitEnd(ns, this.scan, lo));
    const start = this.slots.length;
    const live = rangeCandidates(ns, lo, hi, this.scan, this.slots);
    this.scoreFrom(ns, start);
    this.chunks.push({ lo, hi, start, end: this.slots.length, live });
    this.next = hi;
    return hi - lo;
  }

  /** Scores the candidates from `slots[start]` on (a scorer of this moment: a snapshot may move the values between steps). */
  private scoreFrom(ns: NamespaceStore, start: number): void {
    const score = ns.scorer(this.scan.metric, this.scan.vector, undefined);
    for (let i = start; i < this.slots.length; i++) this.scores[i] = score(this.slots[i]!);
  }

  /**
   * Rescans the next chunk (in order, from the last `recheck`) that deletes since its scan left with too few live
   * candidates, which `pushInto` would otherwise rescan synchronously: a run of deletes (a compaction's) can
   * leave most chunks so. Returns false when no chunk from there on needs it. `ns` must fit; the range must
   * be scanned (`done`).
   */
  refreshStep(ns: NamespaceStore): boolean {
    for (; this.checked < this.chunks.length; this.checked++) {
      const chunk = this.chunks[this.checked]!;
      if (!this.stale(ns, chunk)) continue;
      const start = this.slots.length;
      chunk.live = rangeCandidates(ns, chunk.lo, chunk.hi, this.scan, this.slots);
      this.scoreFrom(ns, start);
      chunk.start = start;
      chunk.end = this.slots.length;
      this.checked++;
      return true;
    }
    return false;
  }

  /** Makes `refreshStep` look at every chunk again (deletes may have come in since it passed them). */
  recheck(): void {
    this.checked = 0;
  }

  /**
   * Whether deletes left a scanned chunk fewer live candidates than its k best live rows need. Its live rows are
   * counted only when its live candidates fall short (a 16k-row count per chunk in the query's synchronous part
   * was ~30 ms a query over a 1M tail).
   */
  private stale(ns: NamespaceStore, chunk: ChunkCandidates): boolean {
    const need = rangeNeed(this.scan, chunk.hi - chunk.lo);
    let liveCandidates = 0;
    for (let i = chunk.start; i < chunk.end; i++) if (ns.isLive(this.slots[i]!)) liveCandidates++;
    return liveCandidates < need && liveCandidates < liveRows(ns, chunk.lo, chunk.hi);
  }

  /**
   * Pushes into `into` the range's live candidates with their scores (every chunk not scanned yet, or left with
   * too few live candidates by deletes since, is scanned now and its candidates scored with `score`), adding each
   * slot pushed to `seen`; returns the range's live rows when its chunks were scanned. `ns` must fit.
   */
  pushInto(ns: NamespaceStore, score: (slot: number) => number, into: TopK, seen?: Set<number>): number {
    while (!this.done) this.step(ns);
    let rows = 0;
    const rescanned: number[] = [];
    for (const chunk of this.chunks) {
      rows += chunk.live;
      if (this.stale(ns, chunk)) {
        rescanned.length = 0;
        rangeCandidates(ns, chunk.lo, chunk.hi, this.scan, rescanned);
        for (const slot of rescanned) {
          if (!ns.isLive(slot)) continue;
          into.push(score(slot), slot);
          seen?.add(slot);
        }
        continue;
      }
      for (let i = chunk.start; i < chunk.end; i++) {
        const slot = this.slots[i]!;
        if (!ns.isLive(slot)) continue;
        into.push(this.scores[i]!, slot);
        seen?.add(slot);
      }
    }
    return rows;
  }
}
