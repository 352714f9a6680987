// The sorted numeric index (sorted-numbers.ts) and the metadata index's use of it for fields with many
// distinct numbers (metadata-index.ts), against plain references through random adds, replacements and
// removals: every answer is a superset of the live matches, and exactly them when it says it is exact.
import { describe, expect, it } from '@jest/globals';
import { compileFilter, type FilterNode, type RecordMetadata, type Scalar } from '@conifer/contracts';
import type { SlotCandidates } from './candidates.js';
import { holdsValue, MetadataIndex } from './metadata-index.js';
import { SortedNumbers } from './sorted-numbers.js';

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

/** Checks candidates against the live matches: a superset, and the same set (repeats aside) when exact. */
function expectAnswers(candidates: SlotCandidates, matches: number[]): void {
  const got = [...candidates];
  expect(got.length).toBe(candidates.size);
  const set = new Set(got);
  expect(matches.filter((slot) => !set.has(slot))).toEqual([]);
  // Compared as strings: Jest's deep equality of arrays of thousands of numbers took most of the test's time.
  if (candidates.exact) expect([...set].sort((a, b) => a - b).join()).toBe([...matches].sort((a, b) => a - b).join());
}

describe('SortedNumbers', () => {
  it('answers ranges and value lists through adds and removals, exactly while nothing is stale, and stays compact', () => {
    const random = rng(5);
    const index = new SortedNumbers();
    const value = new Map<number, number>(); // live slot → its number
    const live: number[] = [];
    let next = 0;
    // Few distinct values among many (repeats of a value, -0 and 0) and many distinct ones.
    const draw = (): number => (random() < 0.3 ? [0, -0, 1, 2.5, -3][Math.floor(random() * 5)]! : Math.round((random() * 2000 - 1000) * 1e6) / 1e6);
    const holds = (slot: number, v: number): boolean => value.get(slot) === v;
    const ranges: [number, boolean, number, boolean][] = [
      [-Infinity, true, 0, false],
      [-Infinity, true, 0, true],
      [0, false, Infinity, true],
      [0, true, 0, true],
      [2.5, true, 2.5, true],
      [-100, true, 100.5, false],
      [999, false, Infinity, true],
      [5, true, 4, true],
    ];
    let exactSeen = 0;
    for (let step = 0; step < 40_000; step++) {
      const r = random();
      if (r < 0.55 || live.length === 0) {
        const v = draw();
        value.set(next, v);
        live.push(next);
        index.add(v, next++);
      } else {
        const at = Math.floor(random() * live.length);
        const slot = live[at]!;
        const old = value.get(slot)!;
        value.delete(slot);
        index.remove(holds);
        if (r < 0.8) {
          // A replacement keeps the slot: sometimes with the same number (removed and added again).
          const v = random() < 0.3 ? old : draw();
          value.set(slot, v);
          index.add(v, slot);
        } else {
          live[at] = live[live.length - 1]!;
          live.pop();
        }
      }
      if (step % 3989 === 0 || step === 39_999) {
        for (const [low, lowIn, high, highIn] of ranges) {
          const matches = [...value].filter(([, v]) => (lowIn ? v >= low : v > low) && (highIn ? v <= high : v < high)).map(([s]) => s);
          const answer = index.range(low, lowIn, high, highIn);
          expectAnswers(answer, matches);
          if (answer.exact) exactSeen++;
        }
        const wanted = [0, 2.5, ...[...value.values()].slice(0, 3)];
        const distinct = [...new Set(wanted)];
        expectAnswers(
          index.anyOf(distinct),
          [...value].filter(([, v]) => distinct.includes(v)).map(([s]) => s),
        );
        // Lazy removal keeps fewer stale pairs than valid ones (plus the removal that triggers the rewrite).
        expect(index.stale).toBeLessThanOrEqual(index.size - index.stale + 1);
        expect(index.size - index.stale).toBe(value.size);
      }
    }
    expect(exactSeen).toBeGreaterThan(0);
  });
});

/** Whether a filter's candidates are one set (no $and of several parts, where the others are left to the predicate). */
function onePart(filter: FilterNode): boolean {
  if (filter.op === 'or') return filter.children.every(onePart);
  if (filter.op !== 'and') return true;
  const fields = new Set(filter.children.map((c) => (c.op === 'gt' || c.op === 'gte' || c.op === 'lt' || c.op === 'lte' ? c.field : '')));
  return fields.size === 1 && !fields.has('');
}

describe('MetadataIndex on fields with many distinct numbers', () => {
  // `p`: mostly distinct floats (sorted once past the threshold), sometimes a string, a boolean or a list of
  // strings; `q`: few distinct integers (posting lists); `s`: a string.
  const metadataOf = (random: () => number): RecordMetadata | undefined => {
    if (random() < 0.05) return undefined;
    const m: RecordMetadata = {};
    const r = random();
    if (r < 0.7) m.p = Math.floor(random() * 1e6) / 1e3;
    else if (r < 0.75) m.p = [0, 500, 999.999][Math.floor(random() * 3)]!;
    else if (r < 0.8) m.p = 'text';
    else if (r < 0.85) m.p = random() < 0.5;
    else if (r < 0.9) m.p = ['a', 'b'];
    if (random() < 0.8) m.q = Math.floor(random() * 50);
    if (random() < 0.8) m.s = ['red', 'green'][Math.floor(random() * 2)]!;
    return m;
  };
  const FILTERS: FilterNode[] = [
    { op: 'lt', field: 'p', value: 100 },
    { op: 'lte', field: 'p', value: 500 },
    { op: 'gt', field: 'p', value: 990.5 },
    { op: 'gte', field: 'p', value: 999.999 },
    { op: 'eq', field: 'p', value: 500 },
    { op: 'eq', field: 'p', value: 'text' },
    { op: 'eq', field: 'p', value: true },
    { op: 'eq', field: 'p', value: 'a' },
    { op: 'in', field: 'p', values: [0, 500, 'text', 'b', 0, 12.345] },
    { op: 'lt', field: 'q', value: 5 },
    { op: 'in', field: 'q', values: [1, 7] },
    { op: 'and', children: [{ op: 'lt', field: 'p', value: 300 }, { op: 'eq', field: 's', value: 'red' }] },
    { op: 'and', children: [{ op: 'gte', field: 'p', value: 200 }] },
    // Bounds on one field, merged into one range (with repeated and equal bounds, an empty range, a list).
    { op: 'and', children: [{ op: 'gte', field: 'p', value: 200 }, { op: 'lt', field: 'p', value: 210 }] },
    { op: 'and', children: [{ op: 'gt', field: 'p', value: 500 }, { op: 'gte', field: 'p', value: 500 }, { op: 'lte', field: 'p', value: 600 }, { op: 'lt', field: 'p', value: 700 }] },
    { op: 'and', children: [{ op: 'gte', field: 'p', value: 500 }, { op: 'lte', field: 'p', value: 500 }] },
    { op: 'and', children: [{ op: 'gt', field: 'p', value: 600 }, { op: 'lt', field: 'p', value: 100 }] },
    { op: 'and', children: [{ op: 'gte', field: 'q', value: 10 }, { op: 'lt', field: 'q', value: 12 }, { op: 'lt', field: 'p', value: 900 }] },
    { op: 'and', children: [{ op: 'gte', field: 'p', value: 100 }, { op: 'lt', field: 'p', value: 400 }, { op: 'eq', field: 's', value: 'red' }] },
    // Broad parts of comparable size, intersected (exact over the fresh index when every part is indexed).
    { op: 'and', children: [{ op: 'lt', field: 'q', value: 25 }, { op: 'eq', field: 's', value: 'red' }] },
    { op: 'and', children: [{ op: 'in', field: 'p', values: [0, 500, 'a'] }, { op: 'eq', field: 's', value: 'green' }, { op: 'lt', field: 'q', value: 40 }] },
    { op: 'or', children: [{ op: 'gt', field: 'p', value: 900 }, { op: 'eq', field: 'q', value: 3 }, { op: 'lt', field: 'p', value: 1 }] },
    { op: 'or', children: [{ op: 'gt', field: 'p', value: 900 }, { op: 'and', children: [{ op: 'eq', field: 's', value: 'green' }, { op: 'lt', field: 'q', value: 2 }] }] },
  ];

  const INTERSECTED = FILTERS.findIndex((f) => f.op === 'and' && f.children.length === 2 && f.children[0]!.op === 'lt' && f.children[0]!.field === 'q');

  for (const indexed of [undefined, new Set(['p', 's'])]) {
    it(`narrows to the live matches, exactly when it says so, through adds, replacements and removals (${indexed === undefined ? 'every field' : 'declared fields'})`, () => {
      const random = rng(indexed === undefined ? 17 : 19);
      const index = new MetadataIndex(indexed);
      const metadata: (RecordMetadata | undefined)[] = [];
      const alive: boolean[] = [];
      const live: number[] = [];
      const holds = (slot: number, field: string, value: Scalar): boolean => alive[slot] === true && holdsValue(metadata[slot], field, value);
      let exact = 0;
      const check = (): void => {
        // The index as written, and one built afresh from the live records (as a compaction or a restore
        // does: nothing stale, so its answers are exact wherever they can be).
        const fresh = new MetadataIndex(indexed);
        for (const slot of live) fresh.add(slot, metadata[slot]);
        for (const [filter, built] of FILTERS.flatMap((f) => [[f, index] as const, [f, fresh] as const])) {
          const candidates = built.candidates(filter);
          const predicate = compileFilter(filter);
          const matches = live.filter((slot) => predicate(metadata[slot]));
          if (candidates === undefined) {
            // Only a filter on an undeclared field cannot be narrowed.
            expect(indexed !== undefined && JSON.stringify(filter).includes('"q"')).toBe(true);
            continue;
          }
          expectAnswers(candidates, matches);
          if (candidates.exact) exact++;
          // A single range, value or list over the fresh index needs no predicate.
          if (built === fresh && onePart(filter)) expect(candidates.exact).toBe(true);
          // So do broad parts of comparable size, all indexed: their intersection is the match set.
          if (built === fresh && filter === FILTERS[INTERSECTED]) expect(candidates.exact).toBe(indexed === undefined);
        }
      };
      for (let step = 0; step < 24_000; step++) {
        const r = random();
        if (r < 0.6 || live.length === 0) {
          const slot = metadata.length;
          metadata.push(metadataOf(random));
          alive.push(true);
          live.push(slot);
          index.add(slot, metadata[slot]);
        } else {
          const at = Math.floor(random() * live.length);
          const slot = live[at]!;
          if (r < 0.85) {
            // setMetadata's order: the new in place (sometimes the same again), then the old removed, the new added.
            const before = metadata[slot];
            if (random() < 0.7) metadata[slot] = metadataOf(random);
            index.remove(slot, before, holds);
            index.add(slot, metadata[slot]);
          } else {
            // kill's order: dead first, then removed.
            alive[slot] = false;
            live[at] = live[live.length - 1]!;
            live.pop();
            index.remove(slot, metadata[slot], holds);
          }
        }
        if (step % 5999 === 0) check();
      }
      check();
      const stats = index.stats();
      // `p` went past the posting lists' threshold: its numbers are in a sorted index (12 bytes a pair).
      expect(stats.sorted).toBeGreaterThan(2048);
      expect(stats.sortedBytes).toBeLessThanOrEqual(stats.sorted * 12 * 1.25);
      expect(exact).toBeGreaterThan(0);
    });
  }

  it('keeps the stale slots of the posting lists it takes over counted (no exact answer with dead slots in it)', () => {
    const index = new MetadataIndex();
    const alive = new Set<number>();
    const holds = (slot: number): boolean => alive.has(slot);
    for (let slot = 0; slot < 10; slot++) {
      index.add(slot, { p: 7 });
      alive.add(slot);
    }
    // 4 of 10 removed: stale, not yet rewritten.
    for (let slot = 0; slot < 4; slot++) {
      alive.delete(slot);
      index.remove(slot, { p: 7 }, holds);
    }
    expect(index.stats()).toMatchObject({ stale: 4, sorted: 0 });
    // Past 2048 distinct numbers the field's numbers move to the sorted index, stale ones included.
    for (let slot = 10; slot < 2100; slot++) {
      index.add(slot, { p: slot + 0.5 });
      alive.add(slot);
    }
    expect(index.stats()).toMatchObject({ stale: 4, sorted: 2100 });
    expectAnswers(index.candidates({ op: 'eq', field: 'p', value: 7 })!, [4, 5, 6, 7, 8, 9]);
    expectAnswers(index.candidates({ op: 'lt', field: 'p', value: 100 })!, [4, 5, 6, 7, 8, 9, ...Array.from({ length: 90 }, (_, i) => i + 10)]);
    expect(index.candidates({ op: 'lt', field: 'p', value: 100 })!.exact).toBe(false);
  });
});
