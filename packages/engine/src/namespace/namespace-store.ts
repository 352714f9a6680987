// One namespace of an index: records in slots. Dense values live in fixed-size chunks of CHUNK_SLOTS rows
// (one Float32Array each: growing never copies or reallocates the values, which stalled the event loop for
// up to a second when a single 200 MB array doubled), with norms and a liveness byte per slot; ids in a
// byte arena with its own hash table (id-table.ts), sparse values and metadata in parallel arrays.
// A replaced or deleted record's slot is only marked dead; compaction rewrites the arrays when dead slots
// pile up. Slots below `annUpTo` have been offered to the ANN index.
//
// The arrays are private: readers go through slot accessors and `scorer()`, so that the layout can change
// without touching the planner or the reads.
//
// Values off the heap: the store may attach a `VectorSegment` (a file of rows by slot, read through the page
// cache) covering slots [0, segmentUpTo); those slots' values are read from it and their in-memory chunks are
// dropped, so only the norms (4 bytes per slot) stay resident. Slots written later (the log's tail) live in
// chunks until the next snapshot writes a new segment. The engine itself does no I/O: the segment is an
// interface the store implements.
//
// Sketches (cosine namespaces): an int8 copy of every slot's values, all of one norm (`sketchRow`; a
// quarter of the float32 size, always resident), which a filtered query scans with usearch's SIMD brute
// force to pick a few hundred candidates that it then re-scores exactly (search/sketch-scan.ts). Each
// sketch chunk (SKETCH_SLOTS rows) starts with SKETCH_SCRATCH spare rows: a scan copies the chunk's
// matching rows there (copyWithin, one native call per run of consecutive rows, no allocation) and hands
// that contiguous prefix to usearch, which reads an array from its buffer's start.
// Written with the values; slots restored from a segment without values are sketched later from the
// segment (`buildSketches`, the background builder); compaction copies them.
import type { IndexSchema, ParsedSparseValues, RecordMetadata } from '@conifer/contracts';
import { denseSimilarity, norm, sparseDot } from '../scoring.js';
import type { UsearchAnn } from '../ann/usearch-ann.js';
import type { SlotCandidates } from '../filter/candidates.js';
import { holdsValue, MetadataIndex, type Holds } from '../filter/metadata-index.js';
import { IdTable } from './id-table.js';
import type { FilterNode } from '@conifer/contracts';
import { hugePageAdvice } from '../ann/usearch-binding.js';
import { pushSketchCandidates, sketchBestRows, sketchRow } from '../simd-exact.js';
import { TopK } from '../top-k.js';
import { MIN_BREADTH_SCALE, type BreadthCalibration, type Metric } from '../types.js';

const INITIAL_CAPACITY = 64;
/** Rows per values chunk (a power of two; 12 MB per chunk at 768-d). */
const CHUNK_SHIFT = 12;
const CHUNK_SLOTS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_SLOTS - 1;
let nextUid = 1;
/** Rows a compaction reads from the segment per call. */
const SEGMENT_BLOCK_ROWS = 256;
/** Stands for a chunk whose rows are all served by the segment. */
const EMPTY_CHUNK = new Float32Array(0);
/** Rows per sketch chunk (a power of two; 12 MB per chunk at 768-d, 4 values chunks). */
const SKETCH_SHIFT = 14;
const SKETCH_SLOTS = 1 << SKETCH_SHIFT;
const SKETCH_MASK = SKETCH_SLOTS - 1;
/**
 * Spare rows at the start of every full sketch chunk (half the rows of a smaller first chunk), 3 % of
 * the chunk: a scan copies at most this many rows there before handing them to usearch, in one call. A
 * usearch call costs ~5 µs besides its rows, so fewer, larger calls pay: 512 rows a call instead of 128
 * took 12–15 % less time per 10k-match query at 100k × 768 (interleaved, load 10–13; bench/RESULTS.md),
 * and 384 KB of rows still sit in the core's 2 MB L2 for the SIMD pass.
 */
const SKETCH_SCRATCH = 512;

/** The slots of the rows a sketch scan has gathered into scratch rows (a scan runs to its end: one buffer). */
const SKETCH_ROW_SLOTS = new Int32Array(SKETCH_SCRATCH);

/**
 * Matching rows a sketch scan reads ahead (one byte per 64-byte line, a loop of loads and nothing else) before
 * copying them into scratch rows. A row copy (`copyWithin`, ~80 ns of call even from cache) keeps the core busy
 * enough that the next row's cache misses start only once this row's have been served: one memory latency a
 * scattered row. A loop of independent loads has the misses of many rows in flight at once, and the copies then
 * read from the L2 cache (64 rows of 768 B: 48 KB). Measured (bench/RESULTS.md, session 14 filter): 10k
 * scattered 768-B rows of 100k, cold, 1.6–2.3 ms against 2.2–6.8 ms copied directly.
 */
const SKETCH_TOUCH_ROWS = 64;

/**
 * Values and sketch chunks allocated from this slot on ask the kernel for 2 MB pages (`madvise(MADV_HUGEPAGE)`; the
 * kernel's default mode gives them only where advised). Filled row by row during an ingest, a 4 KB-page chunk took
 * one page fault per 4 KB, each dearer on a VM (a trap to the hypervisor); a huge page takes one per 2 MB. With
 * `transparent_hugepage=always` for the store, ingest CPU fell ~10 % at 100k × 768 (bench/RESULTS.md, session 19). The
 * cost is up to 2 MB resident ahead of the rows written in the chunk being filled, so only namespaces this large
 * (96 MB of values at 768-d, where 4 MB is ~4 %) ask; a 128-d chunk (2 MB) holds no whole huge page anyway.
 */
const HUGE_PAGE_MIN_SLOT = 32768;
const adviseHugePages = hugePageAdvice();
/** Where the read-ahead's loaded bytes go, so that the loads are not optimised away. */
const SKETCH_TOUCHED = new Int32Array(1);

/** Spare rows at the start of a sketch chunk of `total` rows in all. */
function sketchScratchRows(total: number): number {
  return total >= 2 * SKETCH_SCRATCH ? SKETCH_SCRATCH : total >> 1;
}

/**
 * A compaction in progress: the live slots of [0, cursor) have been copied, renumbered, into the new
 * arrays below. Writes meanwhile go to the namespace as usual (queries read it unchanged) and are
 * mirrored here for the slots already copied (a death, new metadata or sparse values); slots appended
 * meanwhile lie past the cursor and are copied when it gets there. When the cursor reaches the end the
 * arrays are swapped in at once.
 */
interface Compaction {
  cursor: number;
  /** Old slot → new slot (-1: was dead when copied), for slots below the cursor. */
  remap: Int32Array;
  next: number;
  live: number;
  capacity: number;
  chunks: Float32Array[];
  /** Int8 sketches of the copied slots (a sketched namespace). */
  sketchChunks: Int8Array[];
  norms: Float32Array;
  alive: Uint8Array;
  ids: IdTable;
  sparse: (ParsedSparseValues | undefined)[];
  metadata: (RecordMetadata | undefined)[];
  postings: MetadataIndex;
  holds: Holds;
  /** Rows read from the segment (SEGMENT_BLOCK_ROWS at a time). */
  scratch: Float32Array | undefined;
}

/**
 * Dense values of slots [0, rows) kept outside the engine (the store implements it over a file). Reads are
 * synchronous (pread from the page cache). A dead slot's row holds any finite values (the SIMD scan reads it).
 */
export interface VectorSegment {
  readonly rows: number;
  /** Copies the values of slots [first, first + count) into `out` from element `outOffset`, row-major. */
  read(first: number, count: number, out: Float32Array, outOffset: number): void;
}

/** A stored record as the reads see it (values are a view into the store: copy before keeping). */
export interface SlotRecord {
  id: string;
  values: Float32Array | undefined;
  sparseValues: ParsedSparseValues | undefined;
  metadata: RecordMetadata | undefined;
}

/** A read-only view of a namespace as it was when frozen (snapshots encode it while writes go on). */
export interface FrozenNamespace {
  readonly dimension: number;
  readonly schema: IndexSchema | undefined;
  readonly slotCount: number;
  isLive(slot: number): boolean;
  idOf(slot: number): string;
  metadataOf(slot: number): RecordMetadata | undefined;
  sparseOf(slot: number): ParsedSparseValues | undefined;
  /** A view into the values, or a copy read from the segment (valid as long as the frozen view is). */
  valuesOf(slot: number): Float32Array;
  /** Copies the values of slots [first, first + count) (dead ones included) into `out` from element 0. */
  readRows(first: number, count: number, out: Float32Array): void;
  normOf(slot: number): number;
}

export class NamespaceStore {
  private count = 0;
  private live = 0;
  private capacity = 0;
  private chunks: Float32Array[] = [];
  /** Values of slots [0, segmentUpTo) come from here (their chunks are dropped). */
  private segment: VectorSegment | undefined;
  private segmentUpTo = 0;
  private norms: Float32Array;
  private alive: Uint8Array;
  /** Ids by slot, and the live slot of each id (see id-table.ts). */
  private ids = new IdTable();
  private sparse: (ParsedSparseValues | undefined)[] = [];
  private metadata: (RecordMetadata | undefined)[] = [];
  private postings: MetadataIndex;
  /** Whether a slot still holds a metadata value (what a posting list's rewrite keeps). */
  private readonly holds: Holds = (slot, field, value) => this.alive[slot] === 1 && holdsValue(this.metadata[slot], field, value);
  private compaction: Compaction | undefined;
  private annIndex: UsearchAnn | undefined;
  private annUpToSlot = 0;
  /** Slots inside the ANN index that have since died. */
  private annDeadSlots = 0;
  /** The graph's search-breadth calibration (search/calibrate.ts), if any. */
  private annCalib: BreadthCalibration | undefined;
  /** Bumped on every change (list caches). */
  private version = 0;
  /** Unique per namespace object; `generation` changes whenever slots are renumbered (clear, compact). */
  readonly uid = nextUid++;
  private gen = 0;
  private sortedIdsCache: { version: number; ids: string[] } | undefined;
  /** Int8 sketches by chunk (scratch rows first), when `sketched`. */
  private sketchChunks: Int8Array[] = [];
  /** Slots [sketchPendingFrom, sketchPendingTo) were restored without values: their sketches are not built yet. */
  private sketchPendingFrom = 0;
  private sketchPendingTo = 0;

  /**
   * `indexed`: the metadata fields that get posting lists (undefined: all); `schema`: the namespace's own
   * metadata schema from `POST /namespaces`, kept to be echoed and snapshotted; `sketched`: keep int8
   * sketches of the values (cosine indexes: the filtered scan ranks by cosine).
   */
  constructor(
    readonly dimension: number,
    indexed?: ReadonlySet<string>,
    readonly schema?: IndexSchema,
    readonly sketched = false,
  ) {
    this.postings = new MetadataIndex(indexed);
    this.norms = new Float32Array(0);
    this.alive = new Uint8Array(0);
    this.grow(INITIAL_CAPACITY);
  }

  /** Grows the per-slot arrays (norms, liveness: 5 bytes per slot); values get chunks as slots are used. */
  private grow(capacity: number): void {
    const norms = new Float32Array(capacity);
    norms.set(this.norms.subarray(0, this.count));
    const alive = new Uint8Array(capacity);
    alive.set(this.alive.subarray(0, this.count));
    this.norms = norms;
    this.alive = alive;
    this.capacity = capacity;
  }

  /** The chunk holding a slot's values, created when first needed (only a small first chunk for tiny namespaces). */
  private chunkFor(slot: number, chunks = this.chunks): Float32Array {
    const c = slot >> CHUNK_SHIFT;
    while (chunks.length <= c) chunks.push(new Float32Array(0));
    let chunk = chunks[c]!;
    const needed = ((slot & CHUNK_MASK) + 1) * this.dimension;
    if (chunk.length < needed) {
      // The first chunk starts small and doubles up to CHUNK_SLOTS rows; later chunks are allocated whole.
      const rows = c === 0 ? Math.min(CHUNK_SLOTS, Math.max(INITIAL_CAPACITY, (slot & CHUNK_MASK) + 1, (chunk.length / Math.max(1, this.dimension)) * 2)) : CHUNK_SLOTS;
      const grown = new Float32Array(rows * this.dimension);
      if (slot >= HUGE_PAGE_MIN_SLOT) adviseHugePages?.(grown.buffer);
      grown.set(chunk);
      chunks[c] = chunk = grown;
    }
    return chunk;
  }

  /** The sketch chunk holding a slot, created or grown when first needed (like the values' chunks). */
  private sketchChunkFor(slot: number, chunks = this.sketchChunks): Int8Array {
    const c = slot >> SKETCH_SHIFT;
    const dim = this.dimension;
    while (chunks.length <= c) chunks.push(new Int8Array(0));
    let chunk = chunks[c]!;
    const total = chunk.length / dim;
    const rows = total - sketchScratchRows(total);
    if (rows <= (slot & SKETCH_MASK)) {
      const wantRows = c === 0 ? Math.min(SKETCH_SLOTS, Math.max(INITIAL_CAPACITY, (slot & SKETCH_MASK) + 1, rows * 2)) : SKETCH_SLOTS;
      const wantTotal = wantRows + Math.min(SKETCH_SCRATCH, wantRows);
      const grown = new Int8Array(wantTotal * dim);
      if (slot >= HUGE_PAGE_MIN_SLOT) adviseHugePages?.(grown.buffer);
      if (rows > 0) grown.set(chunk.subarray(sketchScratchRows(total) * dim), sketchScratchRows(wantTotal) * dim);
      chunks[c] = chunk = grown;
    }
    return chunk;
  }

  /** Writes a slot's sketch from its values (`src` from element `offset`). */
  private sketch(slot: number, src: Float32Array, offset: number, chunks = this.sketchChunks): void {
    const chunk = this.sketchChunkFor(slot, chunks);
    const total = chunk.length / this.dimension;
    sketchRow(src, offset, this.dimension, chunk, (sketchScratchRows(total) + (slot & SKETCH_MASK)) * this.dimension);
  }

  // ---------------------------------------------------------------- reading

  /** Slots used so far (live and dead): valid slot numbers are [0, slotCount). */
  get slotCount(): number {
    return this.count;
  }

  get liveCount(): number {
    return this.live;
  }

  /** Rows per dense values chunk (what `denseBlocks` yields at most; chunks start at multiples of it). */
  get chunkRows(): number {
    return CHUNK_SLOTS;
  }

  /** Changes whenever slots are renumbered (clear, compaction). */
  get generation(): number {
    return this.gen;
  }

  slotOf(id: string): number | undefined {
    return this.ids.get(id);
  }

  isLive(slot: number): boolean {
    return this.alive[slot] === 1;
  }

  idOf(slot: number): string {
    return this.ids.idOf(slot);
  }

  metadataOf(slot: number): RecordMetadata | undefined {
    return this.metadata[slot];
  }

  sparseOf(slot: number): ParsedSparseValues | undefined {
    return this.sparse[slot];
  }

  /** Dense values of a slot (a view, or a copy read from the segment; copy before keeping). */
  valuesOf(slot: number): Float32Array {
    if (slot < this.segmentUpTo) {
      const out = new Float32Array(this.dimension);
      this.segment!.read(slot, 1, out, 0);
      return out;
    }
    const offset = (slot & CHUNK_MASK) * this.dimension;
    return this.chunks[slot >> CHUNK_SHIFT]!.subarray(offset, offset + this.dimension);
  }

  /** The segment values are read from, and the slots it serves (0 when none). */
  get valueSegment(): { segment: VectorSegment; upTo: number } | undefined {
    return this.segment === undefined ? undefined : { segment: this.segment, upTo: this.segmentUpTo };
  }

  /** Slots whose values are held in memory (not served by the segment). */
  get residentSlots(): number {
    return this.count - Math.min(this.count, this.segmentUpTo);
  }

  record(slot: number): SlotRecord {
    return {
      id: this.ids.idOf(slot),
      values: this.dimension > 0 ? this.valuesOf(slot) : undefined,
      sparseValues: this.sparse[slot],
      metadata: this.metadata[slot],
    };
  }

  /** Whether every slot has its int8 sketch (a sketched namespace with no restored slot still waiting for one). */
  get sketchReady(): boolean {
    return this.sketched && this.dimension > 0 && this.sketchPendingTo <= this.sketchPendingFrom;
  }

  /** Slots whose sketch is still to be built from the values (`buildSketches`). */
  get pendingSketches(): number {
    return Math.max(0, this.sketchPendingTo - this.sketchPendingFrom);
  }

  /** Whether slots [from, to) all have their int8 sketch (restored slots get theirs later, `buildSketches`). */
  sketchesCover(from: number, to: number): boolean {
    if (!this.sketched || this.dimension === 0) return false;
    return this.sketchPendingTo <= this.sketchPendingFrom || to <= this.sketchPendingFrom || from >= this.sketchPendingTo;
  }

  /** Rows per sketch chunk (chunks start at multiples of it): a `sketchRangeCandidates` range lies within one. */
  get sketchChunkRows(): number {
    return SKETCH_SLOTS;
  }

  /**
   * Appends to `out` the `want` live slots of [lo, hi) (inside one sketch chunk, `sketchesCover`) whose sketches
   * have the largest dot product with an int8 query (`quantizeRow`), or every live slot when there are no more;
   * returns the range's live rows. The chunk's rows are compared where they lie (usearch reads an array from
   * its start, so the spare rows, zeroed, and the rows before `lo` are compared too, the latter asked for on top
   * of `want`): ~40 ns a 768-d row, where the values' float32 scan costs ~10 times that once they are read back from the
   * values file. A range that is a small part of its chunk's rows up to `hi` is gathered instead (`sketchCandidates`).
   */
  sketchRangeCandidates(lo: number, hi: number, query: Int8Array, want: number, out: number[]): number {
    const alive = this.alive;
    let live = 0;
    for (let slot = lo; slot < hi; slot++) live += alive[slot]!;
    const chunk = this.sketchChunks[lo >> SKETCH_SHIFT];
    if (live <= want || chunk === undefined) {
      for (let slot = lo; slot < hi; slot++) if (alive[slot] === 1) out.push(slot);
      return live;
    }
    const dim = this.dimension;
    const base = lo - (lo & SKETCH_MASK);
    const total = chunk.length / dim;
    const scratch = sketchScratchRows(total);
    const count = Math.min(total, scratch + (hi - base));
    if (scratch + (lo - base) > 2 * (hi - lo)) return this.gatheredSketchCandidates(lo, hi, live, query, want, out);
    // The spare rows hold stale copies of a gather's rows: zeroed, their dot product is 0, below the rows a query
    // resembles, so they are not asked for. Every other compared row that is not a live row of the range is (those
    // before `lo`, the range's dead ones). Asking for the spare rows too cost usearch's selection as much as its
    // dot products (a heap of ~580 rows a chunk instead of ~70; perf at 1M × 768).
    chunk.fill(0, 0, scratch * dim);
    const { keys } = sketchBestRows(chunk.subarray(0, count * dim), dim, query, Math.min(count, want + count - scratch - live));
    // Best first: the first `want` live rows of the range.
    const first = out.length;
    let kept = 0;
    for (let i = 0; i < keys.length && kept < want; i++) {
      const slot = base + Number(keys[i]) - scratch;
      if (slot >= lo && slot < hi && alive[slot] === 1) {
        out.push(slot);
        kept++;
      }
    }
    if (kept < want) {
      // Zeroed spare rows outranked rows of the range (a query with no positive dot product there): gathered instead.
      out.length = first;
      return this.gatheredSketchCandidates(lo, hi, live, query, want, out);
    }
    return live;
  }

  /**
   * Builds up to `max` pending sketches from the values (the segment, after a restore); returns how many.
   * Reads the segment in runs of rows, like the graph builder.
   */
  buildSketches(max: number): number {
    const from = this.sketchPendingFrom;
    const to = Math.min(this.sketchPendingTo, from + max);
    if (to <= from) return 0;
    const dim = this.dimension;
    const rows = new Float32Array(Math.min(CHUNK_SLOTS, to - from) * dim);
    for (let first = from; first < to; ) {
      const n = Math.min(to - first, CHUNK_SLOTS - (first & CHUNK_MASK));
      this.readInto(first, n, rows);
      for (let i = 0; i < n; i++) this.sketch(first + i, rows, i * dim);
      first += n;
    }
    this.sketchPendingFrom = to;
    return to - from;
  }

  /** Copies the values of slots [first, first + count) (dead ones included) into `out` from element 0. */
  private readInto(first: number, count: number, out: Float32Array): void {
    const dim = this.dimension;
    let done = 0;
    if (first < this.segmentUpTo) {
      done = Math.min(count, this.segmentUpTo - first);
      this.segment!.read(first, done, out, 0);
    }
    for (; done < count; done++) {
      const slot = first + done;
      const chunk = this.chunks[slot >> CHUNK_SHIFT];
      const offset = (slot & CHUNK_MASK) * dim;
      // A dead slot past the segment may have no chunk row (skipped during a restore): its sketch is unused.
      if (chunk !== undefined && chunk.length >= offset + dim) out.set(chunk.subarray(offset, offset + dim), done * dim);
      else out.fill(0, done * dim, (done + 1) * dim);
    }
  }

  /**
   * The `k` slots among `slots` (ascending, live) nearest an int8 query (`quantizeRow`) by their sketches,
   * into `into` (score: the sketch's dot product with the query, which ranks as the cosine). Requires
   * `sketchReady`. Returns the number of slots compared.
   */
  sketchCandidates(slots: Int32Array, query: Int8Array, k: number, into: TopK): number {
    const dim = this.dimension;
    const rowSlots = SKETCH_ROW_SLOTS;
    let chunk: Int8Array | undefined;
    let chunkIndex = -1;
    let base = 0;
    let scratch = 0;
    let gathered = 0;
    let n = 0;
    // Consecutive matching slots are copied as one run (one call for the lot: long runs where records were
    // written together, e.g. by tenant or source, and in broad filters).
    let runFrom = 0;
    let runAt = 0;
    let runRows = 0;
    const copyRun = (): void => {
      if (runRows === 0) return;
      chunk!.copyWithin(runAt * dim, runFrom, runFrom + runRows * dim);
      runRows = 0;
    };
    const flush = (): void => {
      copyRun();
      if (gathered === 0) return;
      pushSketchCandidates(chunk!, gathered, dim, query, k, rowSlots, into);
      gathered = 0;
    };
    let touchedTo = 0;
    for (let i = 0; i < slots.length; i++) {
      if (i === touchedTo) touchedTo = this.touchSketchRows(slots, i, Math.min(slots.length, i + SKETCH_TOUCH_ROWS));
      const slot = slots[i]!;
      const c = slot >> SKETCH_SHIFT;
      if (c !== chunkIndex || gathered === scratch) {
        flush();
        if (c !== chunkIndex) {
          chunkIndex = c;
          chunk = this.sketchChunks[c]!;
          scratch = sketchScratchRows(chunk.length / dim);
          base = scratch * dim;
        }
      }
      const from = base + (slot & SKETCH_MASK) * dim;
      if (runRows > 0 && from === runFrom + runRows * dim) runRows++;
      else {
        copyRun();
        runFrom = from;
        runAt = gathered;
        runRows = 1;
      }
      rowSlots[gathered++] = slot;
      n++;
    }
    flush();
    return n;
  }

  /** sketchRangeCandidates' rows gathered into the spare rows (`sketchCandidates`) rather than compared in place. */
  private gatheredSketchCandidates(lo: number, hi: number, live: number, query: Int8Array, want: number, out: number[]): number {
    const alive = this.alive;
    const slots = new Int32Array(live);
    for (let slot = lo, i = 0; slot < hi; slot++) if (alive[slot] === 1) slots[i++] = slot;
    const top = new TopK(want);
    this.sketchCandidates(slots, query, want, top);
    for (const slot of top.slotArray()) out.push(slot);
    return live;
  }

  /** Reads one byte of every cache line of the sketches of `slots[from, to)` (`SKETCH_TOUCH_ROWS`); returns `to`. */
  private touchSketchRows(slots: Int32Array, from: number, to: number): number {
    const dim = this.dimension;
    let chunkIndex = -1;
    let chunk: Int8Array | undefined;
    let base = 0;
    let sum = 0;
    for (let i = from; i < to; i++) {
      const slot = slots[i]!;
      const c = slot >> SKETCH_SHIFT;
      if (c !== chunkIndex) {
        chunkIndex = c;
        chunk = this.sketchChunks[c]!;
        base = sketchScratchRows(chunk.length / dim) * dim;
      }
      const at = base + (slot & SKETCH_MASK) * dim;
      for (let o = 0; o < dim; o += 64) sum += chunk![at + o]!;
      // The row's last byte: its last line when the row does not start on a line boundary.
      sum += chunk![at + dim - 1]!;
    }
    SKETCH_TOUCHED[0] = sum;
    return to;
  }

  /** Slots that may match the filter (a superset), or undefined when the postings cannot narrow it. */
  filterCandidates(filter: FilterNode): SlotCandidates | undefined {
    return this.postings.candidates(filter);
  }

  /**
   * Exact similarity of a slot with the query (higher is better), dense plus sparse; the one scorer every
   * search path uses, so that scores agree whichever plan ran.
   */
  scorer(metric: Metric, vector: Float32Array | undefined, sparse: ParsedSparseValues | undefined): (slot: number) => number {
    const dim = this.dimension;
    const chunks = this.chunks;
    const norms = this.norms;
    const segment = this.segment;
    const segmentUpTo = this.segmentUpTo;
    const row = segmentUpTo > 0 ? new Float32Array(dim) : undefined;
    const queryNorm = vector === undefined ? 0 : Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
    const hasSparse = sparse !== undefined && sparse.indices.length > 0;
    const stored = this.sparse;
    const dense = (slot: number): number => {
      if (slot < segmentUpTo) {
        segment!.read(slot, 1, row!, 0);
        return denseSimilarity(metric, row!, 0, norms[slot]!, vector!, queryNorm, dim);
      }
      return denseSimilarity(metric, chunks[slot >> CHUNK_SHIFT]!, (slot & CHUNK_MASK) * dim, norms[slot]!, vector!, queryNorm, dim);
    };
    return (slot) => {
      let s = vector === undefined ? 0 : dense(slot);
      if (hasSparse) {
        const sv = stored[slot];
        if (sv !== undefined) s += sparseDot(sparse, sv);
      }
      return s;
    };
  }

  /**
   * The dense values as row-major blocks covering slots [0, slotCount) (from the block holding `fromSlot`), one at a time: each block's array
   * starts at offset 0 of its own buffer (what usearch's SIMD brute force needs), `first` is its first slot.
   * Blocks read from the segment share one buffer (`scratch` when given, at least `chunkRows` rows long):
   * use each before asking for the next.
   */
  *denseBlocks(fromSlot = 0, scratch?: Float32Array): Generator<{ first: number; rows: number; values: Float32Array }> {
    const dim = this.dimension;
    if (dim === 0) return;
    for (let first = fromSlot - (fromSlot & CHUNK_MASK); first < this.count; first += CHUNK_SLOTS) {
      const c = first >> CHUNK_SHIFT;
      const chunk = this.chunks[c];
      if (first < this.segmentUpTo || chunk === undefined) {
        // From the segment (the memory part of a block straddling its end copied after it).
        const rows = Math.min(CHUNK_SLOTS, this.count - first);
        scratch ??= new Float32Array(CHUNK_SLOTS * dim);
        const fromSegment = Math.min(rows, this.segmentUpTo - first);
        if (fromSegment > 0) this.segment!.read(first, fromSegment, scratch, 0);
        if (fromSegment < rows) {
          if (chunk === undefined) continue;
          scratch.set(chunk.subarray(fromSegment * dim, rows * dim), fromSegment * dim);
        }
        yield { first, rows, values: scratch };
        continue;
      }
      const rows = Math.min(CHUNK_SLOTS, this.count - first, chunk.length / dim);
      if (rows > 0) yield { first, rows, values: chunk };
    }
  }

  /**
   * The namespace as it is now, in O(slots) pointer copies (no record is encoded or copied): later writes
   * only append slots past `slotCount`, replace metadata and sparse objects (never mutate them), flip
   * liveness bytes (copied here) or swap in new arrays (compaction, clear, growth), so the values and ids
   * below `slotCount` referenced here never change.
   */
  freeze(): FrozenNamespace {
    const dimension = this.dimension;
    const slotCount = this.count;
    const chunks = this.chunks.slice();
    const norms = this.norms;
    const segment = this.segment;
    const segmentUpTo = this.segmentUpTo;
    const ids = this.ids.view();
    const alive = this.alive.slice(0, slotCount);
    const metadata = this.metadata.slice(0, slotCount);
    const sparse = this.sparse.slice(0, slotCount);
    return {
      dimension,
      schema: this.schema,
      slotCount,
      isLive: (slot) => alive[slot] === 1,
      idOf: (slot) => ids.idOf(slot),
      metadataOf: (slot) => metadata[slot],
      sparseOf: (slot) => sparse[slot],
      valuesOf: (slot) => {
        if (slot < segmentUpTo) {
          const out = new Float32Array(dimension);
          segment!.read(slot, 1, out, 0);
          return out;
        }
        const offset = (slot & CHUNK_MASK) * dimension;
        return chunks[slot >> CHUNK_SHIFT]!.subarray(offset, offset + dimension);
      },
      readRows: (first, count, out) => {
        let done = 0;
        if (first < segmentUpTo) {
          done = Math.min(count, segmentUpTo - first);
          segment!.read(first, done, out, 0);
        }
        while (done < count) {
          const slot = first + done;
          const inChunk = Math.min(count - done, CHUNK_SLOTS - (slot & CHUNK_MASK));
          const offset = (slot & CHUNK_MASK) * dimension;
          out.set(chunks[slot >> CHUNK_SHIFT]!.subarray(offset, offset + inChunk * dimension), done * dimension);
          done += inChunk;
        }
      },
      normOf: (slot) => norms[slot]!,
    };
  }

  /** The metadata fields with posting lists, sorted; undefined when every field has them. */
  declaredFields(): string[] | undefined {
    return this.postings.declaredFields();
  }

  // ---------------------------------------------------------------- writing

  /** Appends a record, replacing a live record with the same id. */
  put(id: string, values: Float32Array | undefined, sparse: ParsedSparseValues | undefined, metadata: RecordMetadata | undefined): void {
    const previous = this.ids.get(id);
    if (previous !== undefined) this.kill(previous);
    // Slots the segment serves are never written: after a restore whose last slots were dead, skip them.
    if (this.count < this.segmentUpTo) {
      if (this.segmentUpTo >= this.capacity) this.grow(this.segmentUpTo + 1);
      this.count = this.segmentUpTo;
    }
    if (this.count === this.capacity) this.grow(this.capacity < 65_536 ? this.capacity * 2 : Math.ceil(this.capacity * 1.25));
    this.store(this.count++, id, values, sparse, metadata);
  }

  /**
   * Restores a record at a given slot (recovery from a snapshot that kept slot numbers, so that a saved
   * graph keyed by slot stays valid). Slots must come in ascending order; the ones skipped stay dead.
   * Without `values`, a dense record's values are the attached segment's row and `norm` is their norm.
   */
  putAt(
    slot: number,
    id: string,
    values: Float32Array | undefined,
    sparse: ParsedSparseValues | undefined,
    metadata: RecordMetadata | undefined,
    norm?: number,
  ): void {
    if (this.dimension > 0 && slot < this.segmentUpTo && (values !== undefined || norm === undefined)) {
      throw new Error(`slot ${slot} is served by the attached segment: restore it with its norm and without values`);
    }
    if (slot < this.count) throw new Error(`slot ${slot} restored out of order (next free slot ${this.count})`);
    const previous = this.ids.get(id);
    if (previous !== undefined) this.kill(previous);
    if (slot >= this.capacity) this.grow(Math.max(slot + 1, this.capacity < 65_536 ? this.capacity * 2 : Math.ceil(this.capacity * 1.25)));
    this.count = slot + 1;
    this.store(slot, id, values, sparse, metadata, norm);
  }

  private store(
    slot: number,
    id: string,
    values: Float32Array | undefined,
    sparse: ParsedSparseValues | undefined,
    metadata: RecordMetadata | undefined,
    knownNorm?: number,
  ): void {
    if (this.dimension > 0 && values !== undefined) {
      const chunk = this.chunkFor(slot);
      const offset = (slot & CHUNK_MASK) * this.dimension;
      chunk.set(values, offset);
      this.norms[slot] = norm(chunk, offset, this.dimension);
      if (this.sketched) this.sketch(slot, chunk, offset);
    } else if (knownNorm !== undefined) {
      this.norms[slot] = knownNorm;
      if (this.sketched && this.dimension > 0) {
        // Restored from the segment: sketched later (slots are restored in ascending order).
        if (this.sketchPendingTo <= this.sketchPendingFrom) this.sketchPendingFrom = slot;
        this.sketchPendingTo = slot + 1;
      }
    }
    this.alive[slot] = 1;
    this.ids.set(slot, id);
    this.sparse[slot] = sparse;
    this.metadata[slot] = metadata;
    this.postings.add(slot, metadata);
    this.live++;
    this.version++;
  }

  /**
   * Replaces a live record's metadata (keeps the postings in step). The new metadata is in place before the old
   * values' postings are removed: a removal may purge a list, keeping what `holds` says its slot still holds,
   * and then call the list exact (no predicate checked), so the slot must no longer hold an old value then.
   */
  setMetadata(slot: number, metadata: RecordMetadata | undefined): void {
    const copied = this.copiedSlot(slot);
    if (copied >= 0) {
      const c = this.compaction!;
      const before = c.metadata[copied];
      c.metadata[copied] = metadata;
      c.postings.remove(copied, before, c.holds);
      c.postings.add(copied, metadata);
    }
    const before = this.metadata[slot];
    this.metadata[slot] = metadata;
    this.postings.remove(slot, before, this.holds);
    this.postings.add(slot, metadata);
    this.version++;
  }

  setSparse(slot: number, sparse: ParsedSparseValues | undefined): void {
    const copied = this.copiedSlot(slot);
    if (copied >= 0) this.compaction!.sparse[copied] = sparse;
    this.sparse[slot] = sparse;
    this.version++;
  }

  kill(slot: number): void {
    if (this.alive[slot] !== 1) return;
    const copied = this.copiedSlot(slot);
    if (copied >= 0) {
      const c = this.compaction!;
      c.alive[copied] = 0;
      c.live--;
      c.ids.delete(copied);
      c.postings.remove(copied, c.metadata[copied], c.holds);
      c.sparse[copied] = undefined;
      c.metadata[copied] = undefined;
      c.remap[slot] = -1;
    }
    this.alive[slot] = 0;
    this.live--;
    this.ids.delete(slot);
    this.postings.remove(slot, this.metadata[slot], this.holds);
    this.sparse[slot] = undefined;
    this.metadata[slot] = undefined;
    if (slot < this.annUpToSlot) this.annDeadSlots++;
    this.version++;
  }

  clear(): void {
    this.compaction = undefined;
    this.count = 0;
    this.live = 0;
    this.ids = new IdTable();
    this.sparse = [];
    this.metadata = [];
    this.postings.clear();
    this.annIndex = undefined;
    this.annUpToSlot = 0;
    this.annDeadSlots = 0;
    this.forgetAnnCalibration();
    this.chunks = [];
    this.sketchChunks = [];
    this.sketchPendingFrom = 0;
    this.sketchPendingTo = 0;
    this.segment = undefined;
    this.segmentUpTo = 0;
    this.norms = new Float32Array(0);
    this.alive = new Uint8Array(0);
    this.capacity = 0;
    this.grow(INITIAL_CAPACITY);
    this.version++;
    this.gen++;
  }

  /** Whether dead slots are worth a compaction. */
  needsCompaction(): boolean {
    const dead = this.count - this.live;
    return dead > 1024 && dead > this.count * 0.3;
  }

  /** Rewrites the arrays with live slots only, at once; the ANN index is dropped (rebuilt in the background). */
  compact(): void {
    this.beginCompaction();
    this.compactStep(Infinity);
  }

  /** Whether a compaction is in progress (begun, not yet swapped in). */
  get compacting(): boolean {
    return this.compaction !== undefined;
  }

  /**
   * Starts a compaction that `compactStep` carries out a slice at a time (the namespace stays fully
   * usable meanwhile: reads see the current arrays, writes are mirrored into the new ones).
   */
  beginCompaction(): void {
    if (this.compaction !== undefined) return;
    const capacity = Math.max(INITIAL_CAPACITY, this.live * 2);
    const sparse: (ParsedSparseValues | undefined)[] = [];
    const metadata: (RecordMetadata | undefined)[] = [];
    this.compaction = {
      cursor: 0,
      remap: new Int32Array(Math.max(INITIAL_CAPACITY, this.count)),
      next: 0,
      live: 0,
      capacity,
      chunks: [],
      sketchChunks: [],
      norms: new Float32Array(capacity),
      alive: new Uint8Array(capacity),
      ids: new IdTable(),
      sparse,
      metadata,
      postings: this.postings.empty(),
      holds: (slot, field, value) => this.compaction!.alive[slot] === 1 && holdsValue(metadata[slot], field, value),
      scratch: undefined,
    };
  }

  /** The new slot of an old slot the running compaction has copied, else -1. */
  private copiedSlot(slot: number): number {
    const c = this.compaction;
    return c === undefined || slot >= c.cursor ? -1 : c.remap[slot]!;
  }

  /**
   * Copies up to `rows` more old slots (live or dead) into the new arrays; when the last slot is copied the
   * new arrays replace the old ones (slots renumbered: the generation changes, the ANN index and the
   * segment are let go). Returns true while the compaction is unfinished.
   */
  compactStep(rows: number): boolean {
    const c = this.compaction;
    if (c === undefined) return false;
    const dim = this.dimension;
    const end = Math.min(this.count, c.cursor + rows);
    if (end > c.remap.length) {
      const remap = new Int32Array(Math.max(end, c.remap.length * 2));
      remap.set(c.remap);
      c.remap = remap;
    }
    // Values below the segment's end are read a block of rows at a time (one pread, dead rows included),
    // not one row per call; they go to new chunks, never the old ones (a frozen view, a snapshot being
    // written, may still read those).
    let blockFirst = 0;
    let blockRows = 0;
    for (let slot = c.cursor; slot < end; slot++) {
      if (this.alive[slot] !== 1) {
        c.remap[slot] = -1;
        continue;
      }
      const next = c.next++;
      if (next >= c.capacity) {
        const capacity = c.capacity * 2;
        const norms = new Float32Array(capacity);
        norms.set(c.norms);
        const alive = new Uint8Array(capacity);
        alive.set(c.alive);
        c.norms = norms;
        c.alive = alive;
        c.capacity = capacity;
      }
      if (dim > 0) {
        const target = this.chunkFor(next, c.chunks);
        if (slot < this.segmentUpTo) {
          if (slot >= blockFirst + blockRows) {
            blockFirst = slot;
            blockRows = Math.min(SEGMENT_BLOCK_ROWS, Math.min(end, this.segmentUpTo) - slot);
            c.scratch ??= new Float32Array(SEGMENT_BLOCK_ROWS * dim);
            this.segment!.read(blockFirst, blockRows, c.scratch, 0);
          }
          const offset = (slot - blockFirst) * dim;
          target.set(c.scratch!.subarray(offset, offset + dim), (next & CHUNK_MASK) * dim);
        } else {
          const offset = (slot & CHUNK_MASK) * dim;
          target.set(this.chunks[slot >> CHUNK_SHIFT]!.subarray(offset, offset + dim), (next & CHUNK_MASK) * dim);
        }
        if (this.sketched) {
          // The old sketch row when it was built (a copy), else one made from the values just copied.
          const old = this.sketchChunks[slot >> SKETCH_SHIFT];
          const pending = slot >= this.sketchPendingFrom && slot < this.sketchPendingTo;
          if (pending || old === undefined) this.sketch(next, target, (next & CHUNK_MASK) * dim, c.sketchChunks);
          else {
            const sketchChunk = this.sketchChunkFor(next, c.sketchChunks);
            const from = (sketchScratchRows(old.length / dim) + (slot & SKETCH_MASK)) * dim;
            sketchChunk.set(old.subarray(from, from + dim), (sketchScratchRows(sketchChunk.length / dim) + (next & SKETCH_MASK)) * dim);
          }
        }
      }
      c.norms[next] = this.norms[slot]!;
      c.alive[next] = 1;
      c.ids.set(next, this.ids.idOf(slot));
      c.sparse.push(this.sparse[slot]);
      c.metadata.push(this.metadata[slot]);
      c.postings.add(next, this.metadata[slot]);
      c.live++;
      c.remap[slot] = next;
    }
    c.cursor = end;
    if (end < this.count) return true;
    this.compaction = undefined;
    this.chunks = c.chunks;
    this.sketchChunks = c.sketchChunks;
    this.norms = c.norms;
    this.alive = c.alive;
    this.ids = c.ids;
    this.sparse = c.sparse;
    this.metadata = c.metadata;
    this.postings = c.postings;
    this.capacity = c.capacity;
    this.count = c.next;
    this.live = c.live;
    // Everything is in the new chunks now (until the next snapshot writes a segment again).
    this.segment = undefined;
    this.segmentUpTo = 0;
    this.sketchPendingFrom = 0;
    this.sketchPendingTo = 0;
    this.annIndex = undefined;
    this.annUpToSlot = 0;
    this.annDeadSlots = 0;
    this.forgetAnnCalibration();
    this.version++;
    this.gen++;
    return false;
  }

  // ---------------------------------------------------------------- ANN

  /** The ANN index over slots [0, annUpTo), if any. */
  get ann(): UsearchAnn | undefined {
    return this.annIndex;
  }

  get annUpTo(): number {
    return this.annUpToSlot;
  }

  /** Slots inside the ANN index that have since died. */
  get annDead(): number {
    return this.annDeadSlots;
  }

  /** The graph's breadth calibration (undefined: none yet). */
  get annCalibration(): BreadthCalibration | undefined {
    return this.annCalib;
  }

  /** The multiplier of the planner's graph-search breadth for this namespace (1 until calibrated; at least MIN_BREADTH_SCALE). */
  get annScale(): number {
    return this.annCalib?.scale ?? 1;
  }

  /** Records a calibration of the graph (search/calibrate.ts); the multiplier is clamped to at least MIN_BREADTH_SCALE. */
  setAnnCalibration(calibration: BreadthCalibration): void {
    const scale = Number.isFinite(calibration.scale) ? Math.max(MIN_BREADTH_SCALE, calibration.scale) : 1;
    this.annCalib = { scale, recall: calibration.recall, size: calibration.size };
  }

  /**
   * The graph is gone (slots renumbered): its multiplier stays as the best guess for the rebuilt graph,
   * which is calibrated again (size 0 makes it due).
   */
  private forgetAnnCalibration(): void {
    if (this.annCalib !== undefined) this.annCalib = { ...this.annCalib, size: 0 };
  }

  /** Installs an ANN index covering slots [0, upTo) (built elsewhere). */
  installAnn(ann: UsearchAnn, upTo: number): void {
    let dead = 0;
    for (let slot = 0; slot < upTo; slot++) if (this.alive[slot] !== 1) dead++;
    this.annIndex = ann;
    this.annUpToSlot = upTo;
    this.annDeadSlots = dead;
  }

  /** Adds slots [annUpTo, to) to the namespace's own ANN index (created by `create` when missing). */
  extendAnn(to: number, create: () => UsearchAnn): number {
    const from = this.annUpToSlot;
    if (to <= from) return 0;
    if (this.annIndex === undefined) this.annIndex = create();
    const { slots, vectors } = this.gather(from, to);
    this.annIndex.add(slots, vectors);
    this.annUpToSlot = to;
    return to - from;
  }

  /** Largest norm among live vectors (dotproduct's MIPS reduction). */
  maxNorm(): number {
    let max = 0;
    for (let slot = 0; slot < this.count; slot++) if (this.alive[slot] === 1) max = Math.max(max, this.norms[slot]!);
    return max > 0 ? max * 1.05 : 1;
  }

  /**
   * Live slots in [from, to) and a copy of their dense values, row-major. `into`: buffers to write them into
   * (views from their start) when they are large enough, else new arrays are allocated: a caller that sends
   * batches over and over (the store's graph builder) reuses its buffers instead of a fresh ~6 MB allocation
   * per batch, which V8 counts towards its next full collection.
   */
  gather(from: number, to: number, into?: { slots: ArrayBuffer; vectors: ArrayBuffer }): { slots: Int32Array; vectors: Float32Array } {
    let live = 0;
    for (let slot = from; slot < to; slot++) if (this.alive[slot] === 1) live++;
    const dim = this.dimension;
    const slots = into !== undefined && into.slots.byteLength >= live * 4 ? new Int32Array(into.slots, 0, live) : new Int32Array(live);
    const vectors = into !== undefined && into.vectors.byteLength >= live * dim * 4 ? new Float32Array(into.vectors, 0, live * dim) : new Float32Array(live * dim);
    for (let slot = from, i = 0; slot < to; slot++) if (this.alive[slot] === 1) slots[i++] = slot;
    for (let i = 0; i < live; ) {
      const slot = slots[i]!;
      if (slot < this.segmentUpTo) {
        // Runs of consecutive slots are read from the segment in one call.
        let run = 1;
        while (i + run < live && slots[i + run] === slot + run && slot + run < this.segmentUpTo) run++;
        this.segment!.read(slot, run, vectors, i * dim);
        i += run;
      } else {
        vectors.set(this.valuesOf(slot), i * dim);
        i++;
      }
    }
    return { slots, vectors };
  }

  /**
   * Serves the values of slots [0, upTo) from `segment` from now on and drops the in-memory chunks it
   * covers whole. The caller guarantees the segment holds exactly the values stored in those slots (a
   * snapshot's values file of this namespace and generation), or attaches it before restoring them.
   * Returns the dropped chunks: frozen views taken earlier may still read them, so only a caller that
   * knows none is left may free them at once (else they go with the garbage collector).
   */
  attachSegment(segment: VectorSegment, upTo: number): Float32Array[] {
    if (segment.rows < upTo) throw new Error(`segment of ${segment.rows} rows cannot serve ${upTo} slots`);
    this.segment = segment;
    this.segmentUpTo = upTo;
    // A chunk goes when the segment covers every slot written to it so far (the last one too: a later
    // write past the segment allocates it again, and its rows below the segment are never read from it).
    const dropped: Float32Array[] = [];
    for (let c = 0; c < this.chunks.length; c++) {
      const first = c << CHUNK_SHIFT;
      if (Math.min(first + CHUNK_SLOTS, this.count) > upTo) break;
      if (this.chunks[c] !== EMPTY_CHUNK) dropped.push(this.chunks[c]!);
      this.chunks[c] = EMPTY_CHUNK;
    }
    return dropped;
  }

  /** Live ids in code-unit order (cached until the next change). */
  sortedIds(): string[] {
    if (this.sortedIdsCache?.version === this.version) return this.sortedIdsCache.ids;
    const ids: string[] = [];
    for (let slot = 0; slot < this.count; slot++) if (this.alive[slot] === 1) ids.push(this.ids.idOf(slot));
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.sortedIdsCache = { version: this.version, ids };
    return ids;
  }

  /** Bytes held by the dense arrays (capacity included). */
  denseBytes(): number {
    let values = 0;
    for (const chunk of this.chunks) values += chunk.byteLength;
    for (const chunk of this.sketchChunks) values += chunk.byteLength;
    return values + this.norms.byteLength + this.alive.byteLength;
  }
}
