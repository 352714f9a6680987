// What the metadata index answers a filter with (metadata-index.ts, sorted-numbers.ts); read by matching.ts.

/**
 * Slots that may match a filter: a posting list itself, a sorted index's range, or the concatenation of several (a slot may then
 * appear more than once; `size` counts it each time). Readers sort and skip repeats.
 */
export interface SlotCandidates {
  readonly size: number;
  [Symbol.iterator](): Iterator<number>;
  /** The concatenation itself (a fresh array the reader may sort in place), when it is one. */
  readonly slots?: Int32Array;
  /**
   * Whether every candidate is a live slot that matches and every live match is a candidate (repeats
   * allowed): readers may then skip the predicate.
   */
  readonly exact: boolean;
}
