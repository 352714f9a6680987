// Posting lists over metadata: field → value → slots holding it (each element of a string list is
// indexed). They turn the selective parts of a filter ($eq, $in, ranges, and $and/$or of those) into a
// candidate set without touching every record. A candidate set is a superset of the matches: readers check
// the full predicate on each candidate, unless the set is `exact` (nothing stale in the lists it came from,
// and a single operator or an $or of such: then it is exactly the live matches). Operators that cannot be
// answered from postings ($ne, $nin, $exists) make the planner scan instead.
// A field's numbers stay in posting lists while they have at most MAX_RANGE_DISTINCT distinct values (a range
// is then the union of a few lists); past that they move to a sorted index of (value, slot) pairs
// (sorted-numbers.ts) that answers ranges, $eq and $in on numbers by binary search; its strings and booleans
// stay in posting lists. The move is one way until the index is rebuilt (compaction, restore).
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
import type { SlotCandidates } from './candidates.js';
import { SortedNumbers } from './sorted-numbers.js';

/** A field's numbers move from posting lists to a sorted index past this many distinct values. */
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
  readonly exact: boolean;
  private concatenated: Int32Array | undefined;

  constructor(private readonly entries: Entry[]) {
    let size = 0;
    let exact = true;
    for (const e of entries) {
      size += entrySize(e);
      if (typeof e !== 'number' && e.stale > 0) exact = false;
    }
    this.size = size;
    this.exact = exact;
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

/** One field's postings: a list per value, and its numbers in a sorted index once they are many. */
class FieldIndex {
  readonly values = new Map<Scalar, Entry>();
  /** Numbers among the keys of `values` (none once `sorted` holds the field's numbers). */
  numericKeys = 0;
  sorted: SortedNumbers | undefined;

  get empty(): boolean {
    return this.values.size === 0 && (this.sorted === undefined || this.sorted.size === 0);
  }

  add(value: Scalar, slot: number): void {
    if (typeof value === 'number' && this.sorted !== undefined) {
      this.sorted.add(value, slot);
      return;
    }
    const e = this.values.get(value);
    if (e === undefined) {
      this.values.set(value, slot);
      if (typeof value === 'number' && ++this.numericKeys > MAX_RANGE_DISTINCT) this.sortNumbers();
    } else if (typeof e === 'number') this.values.set(value, new Posting([e, slot], 2));
    else e.push(slot);
  }

  remove(field: string, value: Scalar, slot: number, holds: Holds): void {
    if (typeof value === 'number' && this.sorted !== undefined) {
      this.sorted.remove((s, v) => holds(s, field, v));
      return;
    }
    const before = this.values.size;
    removeFrom(this.values, field, value, slot, holds);
    if (typeof value === 'number' && this.values.size < before) this.numericKeys--;
  }

  /** Moves the numbers' postings (stale slots and counts included) into a sorted index. */
  private sortNumbers(): void {
    const sorted = new SortedNumbers();
    for (const [value, e] of this.values) {
      if (typeof value !== 'number') continue;
      if (typeof e === 'number') sorted.add(value, e);
      else {
        for (let i = 0; i < e.n; i++) sorted.add(value, e.slots[i]!);
        sorted.stale += e.stale;
      }
      this.values.delete(value);
    }
    this.numericKeys = 0;
    this.sorted = sorted;
  }

  /** The slots holding a number in the range (see SortedNumbers.range), from whichever structure holds them. */
  range(low: number, lowIncluded: boolean, high: number, highIncluded: boolean): SlotCandidates {
    if (this.sorted !== undefined) return this.sorted.range(low, lowIncluded, high, highIncluded);
    const entries: Entry[] = [];
    for (const [value, e] of this.values) {
      if (typeof value === 'number' && (lowIncluded ? value >= low : value > low) && (highIncluded ? value <= high : value < high)) entries.push(e);
    }
    return new EntryCandidates(entries);
  }

  /** The slots holding any of `values` (an element of a list included). */
  anyOf(values: readonly Scalar[]): SlotCandidates {
    const entries: Entry[] = [];
    const numbers: number[] = [];
    // Each value once (a repeat in the list would only repeat its slots).
    for (const v of new Set(values)) {
      if (typeof v === 'number' && this.sorted !== undefined) numbers.push(v);
      else {
        const e = this.values.get(v);
        if (e !== undefined) entries.push(e);
      }
    }
    const listed = new EntryCandidates(entries);
    return numbers.length === 0 ? listed : concat([listed, this.sorted!.anyOf(numbers)]);
  }

  /** The slots holding `value` (an element of a list included). */
  equal(value: Scalar): SlotCandidates {
    if (typeof value === 'number' && this.sorted !== undefined) return this.sorted.range(value, true, value, true);
    const e = this.values.get(value);
    return e === undefined ? NONE : new EntryCandidates([e]);
  }
}

export class MetadataIndex {
  private readonly fields = new Map<string, FieldIndex>();

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
      let index = this.fields.get(field);
      if (index === undefined) {
        index = new FieldIndex();
        this.fields.set(field, index);
      }
      if (Array.isArray(value)) for (const v of value) index.add(v, slot);
      else index.add(value, slot);
    }
  }

  /**
   * Forgets that `slot` holds `metadata` (its old metadata, or the metadata it died with). `holds` answers
   * for the other slots of a list being rewritten.
   */
  remove(slot: number, metadata: RecordMetadata | undefined, holds: Holds): void {
    if (metadata === undefined) return;
    for (const field of Object.keys(metadata)) {
      const index = this.fields.get(field);
      if (index === undefined) continue;
      const value = metadata[field]!;
      if (Array.isArray(value)) for (const v of value) index.remove(field, v, slot, holds);
      else index.remove(field, value, slot, holds);
      if (index.empty) this.fields.delete(field);
    }
  }

  clear(): void {
    this.fields.clear();
  }

  /**
   * Posting entries held (distinct values), slot numbers stored (the sorted indexes' pairs included), stale
   * ones among them, and the pairs and bytes of the sorted indexes alone, for tests and diagnostics.
   */
  stats(): { values: number; slots: number; stale: number; sorted: number; sortedBytes: number } {
    let values = 0;
    let slots = 0;
    let stale = 0;
    let sorted = 0;
    let sortedBytes = 0;
    for (const field of this.fields.values()) {
      for (const e of field.values.values()) {
        values++;
        slots += entrySize(e);
        if (typeof e !== 'number') stale += e.stale;
      }
      if (field.sorted !== undefined) {
        sorted += field.sorted.size;
        slots += field.sorted.size;
        stale += field.sorted.stale;
        sortedBytes += field.sorted.bytes;
      }
    }
    return { values, slots, stale, sorted, sortedBytes };
  }

  /**
   * Slots that may match (a superset of the matches), or undefined when the filter cannot be narrowed
   * from postings and every record must be checked.
   */
  candidates(node: FilterNode): SlotCandidates | undefined {
    if ('field' in node && this.indexed !== undefined && !this.indexed.has(node.field)) return undefined;
    switch (node.op) {
      case 'eq':
        return this.fields.get(node.field)?.equal(node.value) ?? NONE;
      case 'in':
        return this.fields.get(node.field)?.anyOf(node.values) ?? NONE;
      case 'gt':
        return this.fields.get(node.field)?.range(node.value, false, Infinity, true) ?? NONE;
      case 'gte':
        return this.fields.get(node.field)?.range(node.value, true, Infinity, true) ?? NONE;
      case 'lt':
        return this.fields.get(node.field)?.range(-Infinity, true, node.value, false) ?? NONE;
      case 'lte':
        return this.fields.get(node.field)?.range(-Infinity, true, node.value, true) ?? NONE;
      case 'and': {
        // Bounds on one field are one range (`{p: {$gte: 1, $lt: 2}}` is an $and of two: each alone may be
        // most of the namespace). Then the smallest part's set; the other parts are left to the predicate
        // (so never exact, unless there is only one part).
        const ranges = new Map<string, Bounds>();
        const others: FilterNode[] = [];
        for (const child of node.children) {
          if (child.op === 'gt' || child.op === 'gte' || child.op === 'lt' || child.op === 'lte') {
            const bounds = ranges.get(child.field) ?? { low: -Infinity, lowIncluded: true, high: Infinity, highIncluded: true };
            tighten(bounds, child.op, child.value);
            ranges.set(child.field, bounds);
          } else others.push(child);
        }
        const parts: SlotCandidates[] = [];
        for (const [field, b] of ranges) {
          if (this.indexed !== undefined && !this.indexed.has(field)) continue;
          parts.push(this.fields.get(field)?.range(b.low, b.lowIncluded, b.high, b.highIncluded) ?? NONE);
        }
        for (const child of others) {
          const c = this.candidates(child);
          if (c !== undefined) parts.push(c);
        }
        if (parts.length === 0) return undefined;
        if (ranges.size + others.length === 1) return parts[0];
        return intersect(parts, ranges.size + others.length);
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
  if (sets.length === 0) return NONE;
  if (sets.length === 1) return sets[0]!;
  let size = 0;
  let exact = true;
  for (const set of sets) {
    size += set.size;
    if (!set.exact) exact = false;
  }
  const slots = new Int32Array(size);
  let i = 0;
  for (const set of sets) {
    if (set.slots !== undefined) {
      slots.set(set.slots, i);
      i += set.slots.length;
    } else for (const slot of set) slots[i++] = slot;
  }
  return { size, slots, exact, [Symbol.iterator]: () => slots[Symbol.iterator]() };
}

/** A range's bounds (each included or not; ±Infinity for none). */
interface Bounds {
  low: number;
  lowIncluded: boolean;
  high: number;
  highIncluded: boolean;
}

/** Narrows `bounds` by one more comparison (both must hold). */
function tighten(bounds: Bounds, op: 'gt' | 'gte' | 'lt' | 'lte', value: number): void {
  if (op === 'gt' || op === 'gte') {
    const included = op === 'gte';
    if (value > bounds.low) {
      bounds.low = value;
      bounds.lowIncluded = included;
    } else if (value === bounds.low) bounds.lowIncluded &&= included;
  } else {
    const included = op === 'lte';
    if (value < bounds.high) {
      bounds.high = value;
      bounds.highIncluded = included;
    } else if (value === bounds.high) bounds.highIncluded &&= included;
  }
}

/**
 * Parts of an $and at most this many times the smallest are intersected with it (each slot of theirs is a
 * bitmap test, a few ns); larger ones are left to the predicate, which costs ~50–100 ns per slot of the
 * smallest (a metadata object read): two broad parts, e.g. 30 % and 30 %, were checked slot by slot over
 * the first one's set.
 */
const INTERSECT_MAX_RATIO = 8;
/** Below this many slots in the smallest part the predicate is cheaper than a bitmap over the slot range. */
const INTERSECT_MIN_SIZE = 256;

/**
 * An $and of `terms` parts, `parts` the ones the postings answered: the smallest part's slots also in the
 * others of comparable size; exact when every term was answered, exactly, and intersected.
 */
function intersect(parts: SlotCandidates[], terms: number): SlotCandidates {
  parts.sort((a, b) => a.size - b.size);
  const smallest = parts[0]!;
  const others = parts.slice(1, 255).filter((p) => p.size <= smallest.size * INTERSECT_MAX_RATIO);
  const exact = parts.length === terms && others.length === parts.length - 1 && parts.every((p) => p.exact);
  // Not intersected: the predicate checks the other terms (an empty part needs no check).
  if (others.length === 0 || smallest.size < INTERSECT_MIN_SIZE) return smallest.size === 0 ? smallest : inexact(smallest);
  const first = smallest.slots ?? Int32Array.from(smallest);
  let max = 0;
  for (const slot of first) if (slot > max) max = slot;
  // round[slot] = how many parts it has been found in so far (repeats within a part counted once).
  const round = new Uint8Array(max + 1);
  for (const slot of first) round[slot] = 1;
  for (let r = 0; r < others.length; r++) {
    const other = others[r]!;
    const slots = other.slots ?? Int32Array.from(other);
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot <= max && round[slot] === r + 1) round[slot] = r + 2;
    }
  }
  const found: number[] = [];
  for (const slot of first) if (round[slot] === others.length + 1) found.push(slot);
  const out = Int32Array.from(found);
  return { size: out.length, slots: out, exact, [Symbol.iterator]: () => out[Symbol.iterator]() };
}

/** The same candidates, as a superset (the predicate must be checked). */
function inexact(set: SlotCandidates): SlotCandidates {
  if (!set.exact) return set;
  const slots = set.slots ?? Int32Array.from(set);
  return { size: set.size, slots, exact: false, [Symbol.iterator]: () => slots[Symbol.iterator]() };
}

/** Whether metadata holds `value` in `field` (equal, or an element of a list). */
export function holdsValue(metadata: RecordMetadata | undefined, field: string, value: Scalar): boolean {
  const v = metadata?.[field];
  if (v === undefined) return false;
  return Array.isArray(v) ? (v as Scalar[]).includes(value) : v === value;
}
