// A sorted index of one metadata field's numbers: (value, slot) pairs in a sorted run, plus a small unsorted
// tail that new pairs go to and that is merged into the run when it grows past a sixteenth of it. A range
// ($gt/$gte/$lt/$lte, and $eq/$in on a number as the range [x, x]) is two binary searches in the run and a
// pass over the tail: the slots come out without reading any record's metadata, and their count is known
// before. The metadata index (metadata-index.ts) moves a field's numbers here once they have more distinct
// values than posting lists answer ranges from (timestamps, prices, scores, document numbers: there a range
// used to test every record's metadata).
//
// 12 bytes per number held (a Float64Array of values, an Int32Array of slots), where a posting per distinct
// value costs a Map entry and often a heap number. Removal is lazy, as in the posting lists: a removed pair
// stays and is counted as stale; when half the pairs are stale the run is rewritten from the pairs whose slot
// still holds its value (`holds`), each once. While nothing is stale, an answer is exactly the live slots
// whose number is in the range (each once), which lets readers skip the predicate.
import { lowerBound, upperBound } from '../sorted-bounds.js';
import type { SlotCandidates } from './candidates.js';

/** The tail is merged into the run past max(TAIL_MIN, run / 2^TAIL_SHIFT) pairs. */
const TAIL_MIN = 1024;
const TAIL_SHIFT = 4;

const NO_VALUES = new Float64Array(0);
const NO_SLOTS = new Int32Array(0);

/** Whether `slot` still holds `value` in this field (live, and its metadata has it). */
export type HoldsNumber = (slot: number, value: number) => boolean;

/** The slots of a range: fresh arrays a reader may sort in place. */
class RangeCandidates implements SlotCandidates {
  constructor(
    readonly slots: Int32Array,
    readonly exact: boolean,
  ) {}

  get size(): number {
    return this.slots.length;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.slots[Symbol.iterator]();
  }
}

export class SortedNumbers {
  private runValues: Float64Array = NO_VALUES;
  private runSlots: Int32Array = NO_SLOTS;
  private tailValues: Float64Array = NO_VALUES;
  private tailSlots: Int32Array = NO_SLOTS;
  private tailLength = 0;
  /** Pairs held whose slot no longer holds the value (removed, not yet purged). */
  stale = 0;

  /** Pairs held (stale ones included). */
  get size(): number {
    return this.runSlots.length + this.tailLength;
  }

  /** Bytes held by the arrays (the tail's spare capacity included). */
  get bytes(): number {
    return this.runValues.byteLength + this.runSlots.byteLength + this.tailValues.byteLength + this.tailSlots.byteLength;
  }

  add(value: number, slot: number): void {
    if (this.tailLength === this.tailSlots.length) {
      const capacity = Math.max(64, this.tailLength * 2);
      const values = new Float64Array(capacity);
      values.set(this.tailValues.subarray(0, this.tailLength));
      const slots = new Int32Array(capacity);
      slots.set(this.tailSlots.subarray(0, this.tailLength));
      this.tailValues = values;
      this.tailSlots = slots;
    }
    this.tailValues[this.tailLength] = value;
    this.tailSlots[this.tailLength++] = slot;
    if (this.tailLength > Math.max(TAIL_MIN, this.runSlots.length >> TAIL_SHIFT)) this.merge(undefined);
  }

  /**
   * Forgets one pair (a slot's value removed or changed): it is only counted as stale; `holds` answers for
   * every pair when half of them are stale and the run is rewritten.
   */
  remove(holds: HoldsNumber): void {
    this.stale++;
    if (this.stale * 2 >= this.size) this.merge(holds);
  }

  /**
   * Slots whose number lies between `low` and `high` (each bound included or not; ±Infinity for none):
   * exact (`exact`) while no pair is stale, else a superset holding dead and changed slots too.
   */
  range(low: number, lowIncluded: boolean, high: number, highIncluded: boolean): SlotCandidates {
    const values = this.runValues;
    const from = lowIncluded ? lowerBound(values, low) : upperBound(values, low);
    const to = highIncluded ? upperBound(values, high) : lowerBound(values, high);
    const tailValues = this.tailValues;
    let inTail = 0;
    for (let i = 0; i < this.tailLength; i++) {
      const v = tailValues[i]!;
      if ((lowIncluded ? v >= low : v > low) && (highIncluded ? v <= high : v < high)) inTail++;
    }
    const runCount = Math.max(0, to - from);
    const out = new Int32Array(runCount + inTail);
    if (runCount > 0) out.set(this.runSlots.subarray(from, to));
    if (inTail > 0) {
      let at = runCount;
      const tailSlots = this.tailSlots;
      for (let i = 0; i < this.tailLength; i++) {
        const v = tailValues[i]!;
        if ((lowIncluded ? v >= low : v > low) && (highIncluded ? v <= high : v < high)) out[at++] = tailSlots[i]!;
      }
    }
    return new RangeCandidates(out, this.stale === 0);
  }

  /** Slots whose number is one of `values` (distinct): a binary search each in the run, one pass over the tail. */
  anyOf(values: readonly number[]): SlotCandidates {
    const run = this.runValues;
    const ranges: number[] = [];
    let count = 0;
    for (const x of values) {
      const from = lowerBound(run, x);
      const to = upperBound(run, x);
      if (to > from) {
        ranges.push(from, to);
        count += to - from;
      }
    }
    const wanted = new Set(values);
    const tailValues = this.tailValues;
    let inTail = 0;
    for (let i = 0; i < this.tailLength; i++) if (wanted.has(tailValues[i]!)) inTail++;
    const out = new Int32Array(count + inTail);
    let at = 0;
    for (let r = 0; r < ranges.length; r += 2) {
      out.set(this.runSlots.subarray(ranges[r]!, ranges[r + 1]!), at);
      at += ranges[r + 1]! - ranges[r]!;
    }
    if (inTail > 0) for (let i = 0; i < this.tailLength; i++) if (wanted.has(tailValues[i]!)) out[at++] = this.tailSlots[i]!;
    return new RangeCandidates(out, this.stale === 0);
  }

  /**
   * Sorts the tail into the run. With `holds` (a purge), keeps only the pairs whose slot still holds the
   * value, each once, and nothing is stale after.
   */
  private merge(holds: HoldsNumber | undefined): void {
    const n = this.tailLength;
    const tailValues = this.tailValues;
    const tailSlots = this.tailSlots;
    // The tail's order by (value, slot): the slots of one value come out ascending.
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => tailValues[a]! - tailValues[b]! || tailSlots[a]! - tailSlots[b]!);
    const runValues = this.runValues;
    const runSlots = this.runSlots;
    const total = runSlots.length + n;
    let values = new Float64Array(total);
    let slots = new Int32Array(total);
    let out = 0;
    let i = 0;
    let j = 0;
    while (i < runSlots.length || j < n) {
      let value: number;
      let slot: number;
      if (j === n || (i < runSlots.length && (runValues[i]! < tailValues[order[j]!]! || (runValues[i] === tailValues[order[j]!] && runSlots[i]! <= tailSlots[order[j]!]!)))) {
        value = runValues[i]!;
        slot = runSlots[i++]!;
      } else {
        value = tailValues[order[j]!]!;
        slot = tailSlots[order[j++]!]!;
      }
      if (holds !== undefined) {
        // Repeats are adjacent (same value, same slot): a slot whose value was removed and added again.
        if (out > 0 && slots[out - 1] === slot && values[out - 1] === value) continue;
        if (!holds(slot, value)) continue;
      }
      values[out] = value;
      slots[out++] = slot;
    }
    if (out < total) {
      values = values.slice(0, out);
      slots = slots.slice(0, out);
    }
    this.runValues = values;
    this.runSlots = slots;
    this.tailLength = 0;
    // A purge leaves a small tail array (the next adds grow it again); a merge keeps the tail's capacity.
    if (holds !== undefined) {
      this.stale = 0;
      this.tailValues = NO_VALUES;
      this.tailSlots = NO_SLOTS;
    }
  }
}
