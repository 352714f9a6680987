// The exact scan of the slots a graph does not cover yet (or of the whole namespace before it has one), done
// ahead of a query one values chunk at a time, so that the store can run it between event-loop turns (a tail
// of 50k 768-d rows takes ~50–100 ms of SIMD scanning: a query's synchronous part must stay far below that).
// Each chunk keeps the candidates of usearch's SIMD brute force, with the same margin as the synchronous
// scan (search/exact-scan.ts); the query then scores them exactly, with the liveness of that moment.
//
// Why the answer is that of an exact scan at the time the query runs: slots are append-only and their values
// never change (an update writes a new slot and kills the old one; renumbering changes the namespace's
// generation, and the prescan is then ignored), so what a yield can change is only (1) slots appended past
// the scanned range, which the query scans itself, (2) slots dying. A chunk's candidates are its best rows by
// SIMD score, every other row of the chunk below them; as long as at least `k + margin` of them are still live
// (or all of the chunk's live rows are among them), the chunk's k best live rows are among them, as in the
// synchronous scan. A chunk where deletes left fewer is scanned again when the query runs.
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { simdCandidates } from '../simd-exact.js';
import type { TopK } from '../top-k.js';
import type { Metric } from '../types.js';

/** Candidates beyond topK kept per chunk (float32 ties between the SIMD and the exact scorer). */
const SIMD_MARGIN = 16;

let scratch = new Float32Array(0);

/**
 * One buffer for the chunks read from a values segment, shared by every scan (each uses it synchronously,
 * within one `chunkCandidates`): 12 MB at 768-d, not worth allocating per chunk or holding per query.
 */
function segmentScratch(floats: number): Float32Array {
  if (scratch.length < floats) scratch = new Float32Array(floats);
  return scratch;
}

/** One chunk's part of the range: its candidate slots are `slots[start, end)`. */
interface ChunkCandidates {
  lo: number;
  hi: number;
  start: number;
  end: number;
}

/**
 * The SIMD candidates of the rows [lo, hi) of the values chunk holding `lo` (the range must stay inside that
 * chunk): the best `k + margin` live rows of the range by SIMD score (all of them when fewer). The whole chunk is
 * compared (usearch wants an array from its buffer's start); rows outside the range and dead rows are
 * counted into the breadth asked for, so that `k + margin` of the range's live rows remain. Returns the range's
 * live rows (counted here anyway, so that a caller needs no second pass over the chunk's liveness).
 */
export function chunkCandidates(ns: NamespaceStore, lo: number, hi: number, vector: Float32Array, metric: Metric, k: number, out: number[]): number {
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
  private readonly vector: Float32Array;
  private next: number;
  /** Chunks before this one were found fresh by `refreshStep` (since the last `recheck`). */
  private checked = 0;
  private readonly slots: number[] = [];
  private readonly chunks: ChunkCandidates[] = [];

  /**
   * `from`: the first slot to scan, the graph's end by default; 0 for a query the planner will answer with a
   * scan of the whole namespace (a graph too small to search), which would otherwise scan the slots below
   * the graph synchronously.
   */
  constructor(
    ns: NamespaceStore,
    vector: Float32Array,
    private readonly metric: Metric,
    private readonly k: number,
    from = ns.annUpTo,
  ) {
    this.uid = ns.uid;
    this.generation = ns.generation;
    this.from = Math.max(0, Math.min(from, ns.slotCount));
    this.to = ns.slotCount;
    this.next = this.from;
    // A copy: usearch reads the query from its buffer's start too.
    this.vector = vector.slice();
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
    const hi = Math.min(this.to, (lo | (ns.chunkRows - 1)) + 1);
    const start = this.slots.length;
    chunkCandidates(ns, lo, hi, this.vector, this.metric, this.k, this.slots);
    this.chunks.push({ lo, hi, start, end: this.slots.length });
    this.next = hi;
    return hi - lo;
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
      if (!this.stale(ns, chunk, this.k)) continue;
      const start = this.slots.length;
      chunkCandidates(ns, chunk.lo, chunk.hi, this.vector, this.metric, this.k, this.slots);
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
   * Whether deletes left a scanned chunk fewer live candidates than its k best live rows need (`live`: the chunk's
   * live rows, when the caller has counted them).
   */
  private stale(ns: NamespaceStore, chunk: ChunkCandidates, k: number, live = liveRows(ns, chunk.lo, chunk.hi)): boolean {
    let liveCandidates = 0;
    for (let i = chunk.start; i < chunk.end; i++) if (ns.isLive(this.slots[i]!)) liveCandidates++;
    return liveCandidates < Math.min(live, k + SIMD_MARGIN);
  }

  /**
   * Scores into `into` the range's live candidates (every chunk not scanned yet, or left with too few live
   * candidates by deletes since, is scanned now), adding each slot pushed to `seen`; returns the live rows
   * of the range. `ns` must fit.
   */
  pushInto(ns: NamespaceStore, score: (slot: number) => number, into: TopK, seen?: Set<number>): number {
    while (!this.done) this.step(ns);
    let rows = 0;
    const rescanned: number[] = [];
    for (const chunk of this.chunks) {
      const live = liveRows(ns, chunk.lo, chunk.hi);
      rows += live;
      let candidates = this.slots;
      let start = chunk.start;
      let end = chunk.end;
      if (this.stale(ns, chunk, into.k, live)) {
        rescanned.length = 0;
        chunkCandidates(ns, chunk.lo, chunk.hi, this.vector, this.metric, into.k, rescanned);
        candidates = rescanned;
        start = 0;
        end = rescanned.length;
      }
      for (let i = start; i < end; i++) {
        const slot = candidates[i]!;
        if (!ns.isLive(slot)) continue;
        into.push(score(slot), slot);
        seen?.add(slot);
      }
    }
    return rows;
  }
}
