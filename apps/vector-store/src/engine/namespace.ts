// One namespace of an index: records in slots. Dense values live in one contiguous Float32Array (grown by
// doubling), with norms and a liveness byte per slot; ids, sparse values and metadata in parallel arrays.
// A replaced or deleted record's slot is only marked dead; compaction rewrites the arrays when dead slots
// pile up. Slots below `annUpTo` have been offered to the ANN index.
import type { IndexSchema, ParsedSparseValues, RecordMetadata } from '@conifer/contracts';
import { norm } from './scoring.js';
import type { UsearchAnn } from './ann/usearch-ann.js';
import { MetadataIndex } from './filter/metadata-index.js';

const INITIAL_CAPACITY = 64;
let nextUid = 1;

export class NamespaceData {
  count = 0;
  liveCount = 0;
  capacity = 0;
  values: Float32Array;
  norms: Float32Array;
  live: Uint8Array;
  ids: string[] = [];
  sparse: (ParsedSparseValues | undefined)[] = [];
  metadata: (RecordMetadata | undefined)[] = [];
  readonly idToSlot = new Map<string, number>();
  readonly postings: MetadataIndex;
  ann: UsearchAnn | undefined;
  annUpTo = 0;
  /** Slots inside the ANN index that have since died. */
  annDead = 0;
  /** Bumped on every change (list caches). */
  version = 0;
  /** Unique per namespace object; `generation` changes whenever slots are renumbered (clear, compact). */
  readonly uid = nextUid++;
  generation = 0;
  private sortedIdsCache: { version: number; ids: string[] } | undefined;

  /**
   * `indexed`: the metadata fields that get posting lists (undefined: all); `schema`: the namespace's own
   * metadata schema from `POST /namespaces`, kept to be echoed and snapshotted.
   */
  constructor(
    readonly dimension: number,
    indexed?: ReadonlySet<string>,
    readonly schema?: IndexSchema,
  ) {
    this.postings = new MetadataIndex(indexed);
    this.values = new Float32Array(0);
    this.norms = new Float32Array(0);
    this.live = new Uint8Array(0);
    this.grow(INITIAL_CAPACITY);
  }

  private grow(capacity: number): void {
    const values = new Float32Array(capacity * this.dimension);
    values.set(this.values.subarray(0, this.count * this.dimension));
    const norms = new Float32Array(capacity);
    norms.set(this.norms.subarray(0, this.count));
    const live = new Uint8Array(capacity);
    live.set(this.live.subarray(0, this.count));
    this.values = values;
    this.norms = norms;
    this.live = live;
    this.capacity = capacity;
  }

  slotOf(id: string): number | undefined {
    return this.idToSlot.get(id);
  }

  /** Dense values of a slot (a view; copy before keeping). */
  valuesOf(slot: number): Float32Array {
    return this.values.subarray(slot * this.dimension, (slot + 1) * this.dimension);
  }

  /** Appends a record, replacing a live record with the same id. */
  put(id: string, values: Float32Array | undefined, sparse: ParsedSparseValues | undefined, metadata: RecordMetadata | undefined): void {
    const previous = this.idToSlot.get(id);
    if (previous !== undefined) this.kill(previous);
    if (this.count === this.capacity) this.grow(this.capacity < 65_536 ? this.capacity * 2 : Math.ceil(this.capacity * 1.25));
    const slot = this.count++;
    if (this.dimension > 0 && values !== undefined) {
      this.values.set(values, slot * this.dimension);
      this.norms[slot] = norm(this.values, slot * this.dimension, this.dimension);
    }
    this.live[slot] = 1;
    this.ids[slot] = id;
    this.sparse[slot] = sparse;
    this.metadata[slot] = metadata;
    this.postings.add(slot, metadata);
    this.idToSlot.set(id, slot);
    this.liveCount++;
    this.version++;
  }

  /** Replaces a live record's metadata (keeps the postings in step). */
  setMetadata(slot: number, metadata: RecordMetadata | undefined): void {
    this.postings.remove(slot, this.metadata[slot]);
    this.metadata[slot] = metadata;
    this.postings.add(slot, metadata);
    this.version++;
  }

  kill(slot: number): void {
    if (this.live[slot] !== 1) return;
    this.live[slot] = 0;
    this.liveCount--;
    this.idToSlot.delete(this.ids[slot]!);
    this.postings.remove(slot, this.metadata[slot]);
    this.sparse[slot] = undefined;
    this.metadata[slot] = undefined;
    if (slot < this.annUpTo) this.annDead++;
    this.version++;
  }

  clear(): void {
    this.count = 0;
    this.liveCount = 0;
    this.ids = [];
    this.sparse = [];
    this.metadata = [];
    this.idToSlot.clear();
    this.postings.clear();
    this.ann = undefined;
    this.annUpTo = 0;
    this.annDead = 0;
    this.values = new Float32Array(0);
    this.norms = new Float32Array(0);
    this.live = new Uint8Array(0);
    this.capacity = 0;
    this.grow(INITIAL_CAPACITY);
    this.version++;
    this.generation++;
  }

  /** Whether dead slots are worth a compaction. */
  needsCompaction(): boolean {
    const dead = this.count - this.liveCount;
    return dead > 1024 && dead > this.count * 0.3;
  }

  /** Rewrites the arrays with live slots only; the ANN index is dropped (rebuilt in the background). */
  compact(): void {
    const dim = this.dimension;
    const capacity = Math.max(INITIAL_CAPACITY, this.liveCount * 2);
    const values = new Float32Array(capacity * dim);
    const norms = new Float32Array(capacity);
    const live = new Uint8Array(capacity);
    const ids: string[] = [];
    const sparse: (ParsedSparseValues | undefined)[] = [];
    const metadata: (RecordMetadata | undefined)[] = [];
    this.idToSlot.clear();
    this.postings.clear();
    let next = 0;
    for (let slot = 0; slot < this.count; slot++) {
      if (this.live[slot] !== 1) continue;
      if (dim > 0) values.set(this.values.subarray(slot * dim, (slot + 1) * dim), next * dim);
      norms[next] = this.norms[slot]!;
      live[next] = 1;
      ids.push(this.ids[slot]!);
      sparse.push(this.sparse[slot]);
      metadata.push(this.metadata[slot]);
      this.idToSlot.set(this.ids[slot]!, next);
      this.postings.add(next, this.metadata[slot]);
      next++;
    }
    this.values = values;
    this.norms = norms;
    this.live = live;
    this.ids = ids;
    this.sparse = sparse;
    this.metadata = metadata;
    this.capacity = capacity;
    this.count = next;
    this.liveCount = next;
    this.ann = undefined;
    this.annUpTo = 0;
    this.annDead = 0;
    this.version++;
    this.generation++;
  }

  /** Installs an ANN index covering slots [0, upTo) (built elsewhere). */
  installAnn(ann: UsearchAnn, upTo: number): void {
    let dead = 0;
    for (let slot = 0; slot < upTo; slot++) if (this.live[slot] !== 1) dead++;
    this.ann = ann;
    this.annUpTo = upTo;
    this.annDead = dead;
  }

  /** Largest norm among live vectors (dotproduct's MIPS reduction). */
  maxNorm(): number {
    let max = 0;
    for (let slot = 0; slot < this.count; slot++) if (this.live[slot] === 1) max = Math.max(max, this.norms[slot]!);
    return max > 0 ? max * 1.05 : 1;
  }

  /** Live slots in [from, to) and a copy of their dense values, row-major. */
  gather(from: number, to: number): { slots: Int32Array; vectors: Float32Array } {
    const slots: number[] = [];
    for (let slot = from; slot < to; slot++) if (this.live[slot] === 1) slots.push(slot);
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
    return this.values.byteLength + this.norms.byteLength + this.live.byteLength;
  }
}
