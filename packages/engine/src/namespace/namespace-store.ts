// One namespace of an index: records in slots. Dense values live in one contiguous Float32Array (grown by
// doubling), with norms and a liveness byte per slot; ids, sparse values and metadata in parallel arrays.
// A replaced or deleted record's slot is only marked dead; compaction rewrites the arrays when dead slots
// pile up. Slots below `annUpTo` have been offered to the ANN index.
//
// The arrays are private: readers go through slot accessors and `scorer()`, so that the layout (today
// JS-heap arrays) can change without touching the planner or the reads.
import type { ParsedSparseValues, RecordMetadata } from '@conifer/contracts';
import { denseSimilarity, norm, sparseDot } from '../scoring.js';
import type { UsearchAnn } from '../ann/usearch-ann.js';
import { MetadataIndex } from '../filter/metadata-index.js';
import type { FilterNode } from '@conifer/contracts';
import type { Metric } from '../types.js';

const INITIAL_CAPACITY = 64;
let nextUid = 1;

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
  readonly slotCount: number;
  isLive(slot: number): boolean;
  idOf(slot: number): string;
  metadataOf(slot: number): RecordMetadata | undefined;
  sparseOf(slot: number): ParsedSparseValues | undefined;
  /** A view into the values (valid as long as the frozen view is). */
  valuesOf(slot: number): Float32Array;
}

export class NamespaceStore {
  private count = 0;
  private live = 0;
  private capacity = 0;
  private values: Float32Array;
  private norms: Float32Array;
  private alive: Uint8Array;
  private ids: string[] = [];
  private sparse: (ParsedSparseValues | undefined)[] = [];
  private metadata: (RecordMetadata | undefined)[] = [];
  private readonly idToSlot = new Map<string, number>();
  private readonly postings = new MetadataIndex();
  private annIndex: UsearchAnn | undefined;
  private annUpToSlot = 0;
  /** Slots inside the ANN index that have since died. */
  private annDeadSlots = 0;
  /** Bumped on every change (list caches). */
  private version = 0;
  /** Unique per namespace object; `generation` changes whenever slots are renumbered (clear, compact). */
  readonly uid = nextUid++;
  private gen = 0;
  private sortedIdsCache: { version: number; ids: string[] } | undefined;

  constructor(readonly dimension: number) {
    this.values = new Float32Array(0);
    this.norms = new Float32Array(0);
    this.alive = new Uint8Array(0);
    this.grow(INITIAL_CAPACITY);
  }

  private grow(capacity: number): void {
    const values = new Float32Array(capacity * this.dimension);
    values.set(this.values.subarray(0, this.count * this.dimension));
    const norms = new Float32Array(capacity);
    norms.set(this.norms.subarray(0, this.count));
    const alive = new Uint8Array(capacity);
    alive.set(this.alive.subarray(0, this.count));
    this.values = values;
    this.norms = norms;
    this.alive = alive;
    this.capacity = capacity;
  }

  // ---------------------------------------------------------------- reading

  /** Slots used so far (live and dead): valid slot numbers are [0, slotCount). */
  get slotCount(): number {
    return this.count;
  }

  get liveCount(): number {
    return this.live;
  }

  /** Changes whenever slots are renumbered (clear, compaction). */
  get generation(): number {
    return this.gen;
  }

  slotOf(id: string): number | undefined {
    return this.idToSlot.get(id);
  }

  isLive(slot: number): boolean {
    return this.alive[slot] === 1;
  }

  idOf(slot: number): string {
    return this.ids[slot]!;
  }

  metadataOf(slot: number): RecordMetadata | undefined {
    return this.metadata[slot];
  }

  sparseOf(slot: number): ParsedSparseValues | undefined {
    return this.sparse[slot];
  }

  /** Dense values of a slot (a view; copy before keeping). */
  valuesOf(slot: number): Float32Array {
    return this.values.subarray(slot * this.dimension, (slot + 1) * this.dimension);
  }

  record(slot: number): SlotRecord {
    return {
      id: this.ids[slot]!,
      values: this.dimension > 0 ? this.valuesOf(slot) : undefined,
      sparseValues: this.sparse[slot],
      metadata: this.metadata[slot],
    };
  }

  /** Slots that may match the filter (a superset), or undefined when the postings cannot narrow it. */
  filterCandidates(filter: FilterNode): Set<number> | undefined {
    return this.postings.candidates(filter);
  }

  /**
   * Exact similarity of a slot with the query (higher is better), dense plus sparse; the one scorer every
   * search path uses, so that scores agree whichever plan ran.
   */
  scorer(metric: Metric, vector: Float32Array | undefined, sparse: ParsedSparseValues | undefined): (slot: number) => number {
    const dim = this.dimension;
    const values = this.values;
    const norms = this.norms;
    const queryNorm = vector === undefined ? 0 : Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
    const hasSparse = sparse !== undefined && sparse.indices.length > 0;
    const stored = this.sparse;
    return (slot) => {
      let s = vector === undefined ? 0 : denseSimilarity(metric, values, slot * dim, norms[slot]!, vector, queryNorm, dim);
      if (hasSparse) {
        const sv = stored[slot];
        if (sv !== undefined) s += sparseDot(sparse, sv);
      }
      return s;
    };
  }

  /** The dense matrix, rows [0, slotCount), starting at offset 0 of its buffer (SIMD brute force). */
  denseMatrix(): Float32Array {
    return this.values.subarray(0, this.count * this.dimension);
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
    const values = this.values;
    const ids = this.ids;
    const alive = this.alive.slice(0, slotCount);
    const metadata = this.metadata.slice(0, slotCount);
    const sparse = this.sparse.slice(0, slotCount);
    return {
      dimension,
      slotCount,
      isLive: (slot) => alive[slot] === 1,
      idOf: (slot) => ids[slot]!,
      metadataOf: (slot) => metadata[slot],
      sparseOf: (slot) => sparse[slot],
      valuesOf: (slot) => values.subarray(slot * dimension, (slot + 1) * dimension),
    };
  }

  // ---------------------------------------------------------------- writing

  /** Appends a record, replacing a live record with the same id. */
  put(id: string, values: Float32Array | undefined, sparse: ParsedSparseValues | undefined, metadata: RecordMetadata | undefined): void {
    const previous = this.idToSlot.get(id);
    if (previous !== undefined) this.kill(previous);
    if (this.count === this.capacity) this.grow(this.capacity < 65_536 ? this.capacity * 2 : Math.ceil(this.capacity * 1.25));
    this.store(this.count++, id, values, sparse, metadata);
  }

  /**
   * Restores a record at a given slot (recovery from a snapshot that kept slot numbers, so that a saved
   * graph keyed by slot stays valid). Slots must come in ascending order; the ones skipped stay dead.
   */
  putAt(slot: number, id: string, values: Float32Array | undefined, sparse: ParsedSparseValues | undefined, metadata: RecordMetadata | undefined): void {
    if (slot < this.count) throw new Error(`slot ${slot} restored out of order (next free slot ${this.count})`);
    const previous = this.idToSlot.get(id);
    if (previous !== undefined) this.kill(previous);
    if (slot >= this.capacity) this.grow(Math.max(slot + 1, this.capacity < 65_536 ? this.capacity * 2 : Math.ceil(this.capacity * 1.25)));
    this.count = slot + 1;
    this.store(slot, id, values, sparse, metadata);
  }

  private store(slot: number, id: string, values: Float32Array | undefined, sparse: ParsedSparseValues | undefined, metadata: RecordMetadata | undefined): void {
    if (this.dimension > 0 && values !== undefined) {
      this.values.set(values, slot * this.dimension);
      this.norms[slot] = norm(this.values, slot * this.dimension, this.dimension);
    }
    this.alive[slot] = 1;
    this.ids[slot] = id;
    this.sparse[slot] = sparse;
    this.metadata[slot] = metadata;
    this.postings.add(slot, metadata);
    this.idToSlot.set(id, slot);
    this.live++;
    this.version++;
  }

  /** Replaces a live record's metadata (keeps the postings in step). */
  setMetadata(slot: number, metadata: RecordMetadata | undefined): void {
    this.postings.remove(slot, this.metadata[slot]);
    this.metadata[slot] = metadata;
    this.postings.add(slot, metadata);
    this.version++;
  }

  setSparse(slot: number, sparse: ParsedSparseValues | undefined): void {
    this.sparse[slot] = sparse;
    this.version++;
  }

  kill(slot: number): void {
    if (this.alive[slot] !== 1) return;
    this.alive[slot] = 0;
    this.live--;
    this.idToSlot.delete(this.ids[slot]!);
    this.postings.remove(slot, this.metadata[slot]);
    this.sparse[slot] = undefined;
    this.metadata[slot] = undefined;
    if (slot < this.annUpToSlot) this.annDeadSlots++;
    this.version++;
  }

  clear(): void {
    this.count = 0;
    this.live = 0;
    this.ids = [];
    this.sparse = [];
    this.metadata = [];
    this.idToSlot.clear();
    this.postings.clear();
    this.annIndex = undefined;
    this.annUpToSlot = 0;
    this.annDeadSlots = 0;
    this.values = new Float32Array(0);
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

  /** Rewrites the arrays with live slots only; the ANN index is dropped (rebuilt in the background). */
  compact(): void {
    const dim = this.dimension;
    const capacity = Math.max(INITIAL_CAPACITY, this.live * 2);
    const values = new Float32Array(capacity * dim);
    const norms = new Float32Array(capacity);
    const alive = new Uint8Array(capacity);
    const ids: string[] = [];
    const sparse: (ParsedSparseValues | undefined)[] = [];
    const metadata: (RecordMetadata | undefined)[] = [];
    this.idToSlot.clear();
    this.postings.clear();
    let next = 0;
    for (let slot = 0; slot < this.count; slot++) {
      if (this.alive[slot] !== 1) continue;
      if (dim > 0) values.set(this.values.subarray(slot * dim, (slot + 1) * dim), next * dim);
      norms[next] = this.norms[slot]!;
      alive[next] = 1;
      ids.push(this.ids[slot]!);
      sparse.push(this.sparse[slot]);
      metadata.push(this.metadata[slot]);
      this.idToSlot.set(this.ids[slot]!, next);
      this.postings.add(next, this.metadata[slot]);
      next++;
    }
    this.values = values;
    this.norms = norms;
    this.alive = alive;
    this.ids = ids;
    this.sparse = sparse;
    this.metadata = metadata;
    this.capacity = capacity;
    this.count = next;
    this.live = next;
    this.annIndex = undefined;
    this.annUpToSlot = 0;
    this.annDeadSlots = 0;
    this.version++;
    this.gen++;
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

  /** Live slots in [from, to) and a copy of their dense values, row-major. */
  gather(from: number, to: number): { slots: Int32Array; vectors: Float32Array } {
    const slots: number[] = [];
    for (let slot = from; slot < to; slot++) if (this.alive[slot] === 1) slots.push(slot);
    const dim = this.dimension;
    const vectors = new Float32Array(slots.length * dim);
    slots.forEach((slot, i) => vectors.set(this.values.subarray(slot * dim, (slot + 1) * dim), i * dim));
    return { slots: Int32Array.from(slots), vectors };
  }

  /** Live ids in code-unit order (cached until the next change). */
  sortedIds(): string[] {
    if (this.sortedIdsCache?.version === this.version) return this.sortedIdsCache.ids;
    const ids = [...this.idToSlot.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.sortedIdsCache = { version: this.version, ids };
    return ids;
  }

  /** Bytes held by the dense arrays (capacity included). */
  denseBytes(): number {
    return this.values.byteLength + this.norms.byteLength + this.alive.byteLength;
  }
}
