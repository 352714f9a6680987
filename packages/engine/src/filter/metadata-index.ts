// Posting lists over metadata: field → value → slots holding it (each element of a string list is
// indexed). They turn the selective parts of a filter ($eq, $in, ranges over few distinct numbers, and
// $and/$or of those) into a small candidate set without touching every record; the full predicate is
// still checked on each candidate, so a superset is always safe. Operators that cannot be answered from
// postings ($ne, $nin, $exists, ranges over many distinct values) make the planner scan instead.
// With a schema that declares metadata fields, only the declared filterable fields get postings; a filter on
// another field cannot be narrowed here, so it is answered by checking every record (correct, but a scan).
//
// Compactly: a value held by one slot maps to that slot number itself; a longer list is a `Posting`, slot
// numbers in a plain array while short and an Int32Array past POSTING_SMALL (4 bytes a slot, where a
// `Set<number>` took ~30 and a one-slot Set ~150 with its table: a field with a distinct value per record,
// such as a timestamp or a document number, doubled the heap of a restored namespace). Removal is lazy: a
// removed slot stays in a list and is counted as stale (readers check every candidate anyway, and skip
// repeats); when half a list is stale it is rewritten from the slots that still hold the value (`holds`).
import type { FilterNode, RecordMetadata, Scalar } from '@conifer/contracts';

/**
 * Slots that may match a filter: a posting list itself, or the concatenation of several (a slot may then
 * appear more than once; `size` counts it each time). Readers sort and skip repeats.
 */
export interface SlotCandidates {
  readonly size: number;
  [Symbol.iterator](): Iterator<number>;
  /** The concatenation itself (a fresh array the reader may sort in place), when it is one. */
  readonly slots?: Int32Array;
}

/** Ranges are answered from postings only when the field has at most this many distinct values. */
const MAX_RANGE_DISTINCT = 2048;
/** Lists up to this long are plain arrays (a typed array's own objects cost ~150 bytes). */
const POSTING_SMALL = 16;

/** Whether a slot still holds `value` in `field` (live, and its metadata has it); decides what a purge keeps. */
export type Holds = (slot: number, field: string, value: Scalar) => boolean;

/** The slots of one value (in the order added, repeats and stale ones included). */
class Posting {
  slots: number[] | Int32Array;
  n: number;
  stale = 0;

  constructor(slots: number[] | Int32Array, n: number) {
    this.slots = slots;
    this.n = n;
  }

  push(slot: number): void {
    let slots = this.slots;
    if (Array.isArray(slots)) {
      if (this.n < POSTING_SMALL) {
        slots.push(slot);
        this.n++;
        return;
      }
      const typed = new Int32Array(POSTING_SMALL * 4);
      for (let i = 0; i < this.n; i++) typed[i] = slots[i]!;
      this.slots = slots = typed;
    } else if (this.n === slots.length) {
      const grown = new Int32Array(slots.length * 2);
      grown.set(slots);
      this.slots = slots = grown;
    }
    slots[this.n++] = slot;
  }

  copyInto(out: Int32Array, at: number): void {
    const slots = this.slots;
    if (Array.isArray(slots)) for (let i = 0; i < this.n; i++) out[at + i] = slots[i]!;
    else out.set(slots.subarray(0, this.n), at);
  }
}

/** A value's entry: the one slot holding it, or a list. */
type Entry = number | Posting;

const entrySize = (e: Entry): number => (typeof e === 'number' ? 1 : e.n);

/** Candidates from entries: their count at once, the concatenated slots (a fresh array) only when asked for. */
class EntryCandidates implements SlotCandidates {
  readonly size: number;
  private concatenated: Int32Array | undefined;

  constructor(private readonly entries: Entry[]) {
    let size = 0;
    for (const e of entries) size += entrySize(e);
    this.size = size;
  }

  get slots(): Int32Array {
    if (this.concatenated !== undefined) return this.concatenated;
    const out = new Int32Array(this.size);
    let at = 0;
    for (const e of this.entries) {
      if (typeof e === 'number') out[at++] = e;
      else {
        e.copyInto(out, at);
        at += e.n;
      }
    }
    this.concatenated = out;
    return out;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.slots[Symbol.iterator]();
  }
}

const NONE: SlotCandidates = new EntryCandidates([]);

export class MetadataIndex {
  private readonly fields = new Map<string, Map<Scalar, Entry>>();

  /** `indexed`: the only fields that get postings (undefined: every field). */
  constructor(private readonly indexed?: ReadonlySet<string>) {}

  /** An empty index over the same fields. */
  empty(): MetadataIndex {
    return new MetadataIndex(this.indexed);
  }

  /** The declared fields that get postings, sorted; undefined when every field does. */
  declaredFields(): string[] | undefined {
    return this.indexed === undefined ? undefined : [...this.indexed].sort();
  }

  add(slot: number, metadata: RecordMetadata | undefined): void {
    if (metadata === undefined) return;
    for (const field of Object.keys(metadata)) {
      if (this.indexed !== undefined && !this.indexed.has(field)) continue;
      const value = metadata[field]!;
      let values = this.fields.get(field);
      if (values === undefined) {
        values = new Map();
        this.fields.set(field, values);
      }
      if (Array.isArray(value)) for (const v of value) addTo(values, v, slot);
      else addTo(values, value, slot);
    }
  }

  /**
   * Forgets that `slot` holds `metadata` (its old metadata, or the metadata it died with). `holds` answers
   * for the other slots of a list being rewritten.
   */
  remove(slot: number, metadata: RecordMetadata | undefined, holds: Holds): void {
    if (metadata === undefined) return;
    for (const field of Object.keys(metadata)) {
      const values = this.fields.get(field);
      if (values === undefined) continue;
      const value = metadata[field]!;
      if (Array.isArray(value)) for (const v of value) removeFrom(values, field, v, slot, holds);
      else removeFrom(values, field, value, slot, holds);
      if (values.size === 0) this.fields.delete(field);
    }
  }

  clear(): void {
    this.fields.clear();
  }

  /** Entries held (distinct values) and slot numbers stored, for tests and diagnostics. */
  stats(): { values: number; slots: number; stale: number } {
    let values = 0;
    let slots = 0;
    let stale = 0;
    for (const field of this.fields.values()) {
      for (const e of field.values()) {
        values++;
        slots += entrySize(e);
        if (typeof e !== 'number') stale += e.stale;
      }
    }
    return { values, slots, stale };
  }

  /**
   * Slots that may match (a superset of the matches), or undefined when the filter cannot be narrowed
   * from postings and every record must be checked.
   */
  candidates(node: FilterNode): SlotCandidates | undefined {
    if ('field' in node && this.indexed !== undefined && !this.indexed.has(node.field)) return undefined;
    switch (node.op) {
      case 'eq': {
        const e = this.fields.get(node.field)?.get(node.value);
        return e === undefined ? NONE : new EntryCandidates([e]);
      }
      case 'in': {
        const values = this.fields.get(node.field);
        if (values === undefined) return NONE;
        const entries: Entry[] = [];
        for (const v of node.values) {
          const e = values.get(v);
          if (e !== undefined) entries.push(e);
        }
        return new EntryCandidates(entries);
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        const values = this.fields.get(node.field);
        if (values === undefined) return NONE;
        if (values.size > MAX_RANGE_DISTINCT) return undefined;
        const x = node.value;
        const test =
          node.op === 'gt' ? (v: number) => v > x : node.op === 'gte' ? (v: number) => v >= x : node.op === 'lt' ? (v: number) => v < x : (v: number) => v <= x;
        const entries: Entry[] = [];
        for (const [value, e] of values) if (typeof value === 'number' && test(value)) entries.push(e);
        return new EntryCandidates(entries);
      }
      case 'and': {
        let best: SlotCandidates | undefined;
        for (const child of node.children) {
          const c = this.candidates(child);
          if (c !== undefined && (best === undefined || c.size < best.size)) best = c;
        }
        return best;
      }
      case 'or': {
        const sets: SlotCandidates[] = [];
        for (const child of node.children) {
          const c = this.candidates(child);
          if (c === undefined) return undefined;
          sets.push(c);
        }
        return concat(sets);
      }
      default:
        return undefined;
    }
  }
}

function addTo(values: Map<Scalar, Entry>, value: Scalar, slot: number): void {
  const e = values.get(value);
  if (e === undefined) values.set(value, slot);
  else if (typeof e === 'number') values.set(value, new Posting([e, slot], 2));
  else e.push(slot);
}

function removeFrom(values: Map<Scalar, Entry>, field: string, value: Scalar, slot: number, holds: Holds): void {
  const e = values.get(value);
  if (e === undefined) return;
  if (typeof e === 'number') {
    if (e === slot) values.delete(value);
    return;
  }
  e.stale++;
  if (e.stale * 2 < e.n) return;
  // Half stale: keep the slots (other than this one) that still hold the value, each once.
  const kept: number[] = [];
  const slots = e.slots;
  for (let i = 0; i < e.n; i++) {
    const s = slots[i]!;
    if (s !== slot && holds(s, field, value)) kept.push(s);
  }
  kept.sort((a, b) => a - b);
  let n = 0;
  for (let i = 0; i < kept.length; i++) if (i === 0 || kept[i] !== kept[i - 1]) kept[n++] = kept[i]!;
  kept.length = n;
  if (n === 0) values.delete(value);
  else if (n === 1) values.set(value, kept[0]!);
  else if (n <= POSTING_SMALL) values.set(value, new Posting(kept, n));
  else values.set(value, new Posting(Int32Array.from(kept), n));
}

/**
 * The candidates of several lists, concatenated into one typed array (repeats kept): building a Set of
 * them cost ~10× more than everything else in planning a 10 % range filter on 100k records (union of 10 lists).
 */
function concat(sets: SlotCandidates[]): SlotCandidates {
  if (sets.length === 1) return sets[0]!;
  let size = 0;
  for (const set of sets) size += set.size;
  const slots = new Int32Array(size);
  let i = 0;
  for (const set of sets) {
    if (set.slots !== undefined) {
      slots.set(set.slots, i);
      i += set.slots.length;
    } else for (const slot of set) slots[i++] = slot;
  }
  return { size, slots, [Symbol.iterator]: () => slots[Symbol.iterator]() };
}

/** Whether metadata holds `value` in `field` (equal, or an element of a list). */
export function holdsValue(metadata: RecordMetadata | undefined, field: string, value: Scalar): boolean {
  const v = metadata?.[field];
  if (v === undefined) return false;
  return Array.isArray(v) ? (v as Scalar[]).includes(value) : v === value;
}
