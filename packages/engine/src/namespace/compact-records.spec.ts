// The compact per-record structures of a namespace: ids in a byte arena with an open-addressing table
// (id-table.ts) and posting lists of slot numbers with lazy removal (metadata-index.ts), checked against
// plain Map/Set references through random writes, and through the namespace (replace, update, delete,
// compaction, a restore from a frozen view), range filters over many distinct numbers included.
import { describe, expect, it } from '@jest/globals';
import { compileFilter, parseFilter, type FilterNode, type RecordMetadata } from '@conifer/contracts';
import { refMatches } from '@conifer/test-utils';
import { compile, matchingSlots } from '../filter/matching.js';
import { holdsValue, MetadataIndex } from '../filter/metadata-index.js';
import { IdTable } from './id-table.js';
import { NamespaceStore } from './namespace-store.js';

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

const ODD_IDS = ['', 'a', 'é', 'ü-ß', '漢字', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud83d', '\ud83d\ude00\ud83d', 'A'.repeat(512), 'é'.repeat(300)];

/** The slot of every id that may be asked for (undefined when absent). */
const found = (table: { get(id: string): number | undefined }): (number | undefined)[] => Array.from({ length: 3000 }, (_, k) => table.get(`id-${k}`));

describe('IdTable', () => {
  it('gives back every id exactly (any UTF-16, lone surrogates included) and finds each by its value', () => {
    const table = new IdTable();
    ODD_IDS.forEach((id, slot) => table.set(slot, id));
    ODD_IDS.forEach((id, slot) => {
      expect(table.idOf(slot)).toBe(id);
      expect(table.get(id)).toBe(slot);
    });
    // Lone surrogates are kept apart (a UTF-8 encoder would map both to U+FFFD).
    expect(table.get('\udc00')).toBeUndefined();
    expect(table.get('\ud801')).toBeUndefined();
    expect(table.get('b')).toBeUndefined();
  });

  it('agrees with a Map through random sets and deletes (growth, probe runs, backward-shift deletion)', () => {
    const random = rng(7);
    const table = new IdTable();
    const reference = new Map<string, number>();
    const idAt: string[] = [];
    let next = 0;
    for (let step = 0; step < 30_000; step++) {
      const id = `id-${Math.floor(random() * 3000)}`;
      const r = random();
      if (r < 0.6) {
        const previous = reference.get(id);
        if (previous !== undefined) table.delete(previous);
        // Sometimes skip slots (a restored snapshot's dead slots).
        const slot = next + (r < 0.05 ? 3 : 0);
        table.set(slot, id);
        idAt[slot] = id;
        reference.set(id, slot);
        next = slot + 1;
      } else {
        const slot = reference.get(id);
        if (slot !== undefined) {
          table.delete(slot);
          reference.delete(id);
        }
      }
      if (step % 5000 === 0) expect(found(table)).toEqual(found(reference));
    }
    expect(table.size).toBe(reference.size);
    expect(found(table)).toEqual(found(reference));
    expect(Array.from({ length: next }, (_, slot) => table.idOf(slot))).toEqual(Array.from({ length: next }, (_, slot) => idAt[slot] ?? ''));
  });

  it('answers every lookup while a doubling moves its cells over, through sets, deletes and re-sets (tombstones)', () => {
    const random = rng(19);
    const table = new IdTable();
    const reference = new Map<string, number>();
    let next = 0;
    // Grows to ~20k live ids: doublings at 32, 64, … 32768 cells, each moved over 64 cells per set while ids keep
    // being deleted and set again; every step checks the id it touched and a sample of others, every 500 steps all.
    const all = (): (number | undefined)[] => Array.from({ length: 24_000 }, (_, k) => table.get(`id-${k}`));
    const allReference = (): (number | undefined)[] => Array.from({ length: 24_000 }, (_, k) => reference.get(`id-${k}`));
    for (let step = 0; step < 40_000; step++) {
      const id = `id-${Math.floor(random() * Math.min(24_000, 16 + step))}`;
      if (random() < 0.7) {
        const previous = reference.get(id);
        if (previous !== undefined) table.delete(previous);
        table.set(next, id);
        reference.set(id, next++);
      } else {
        const slot = reference.get(id);
        if (slot !== undefined) {
          table.delete(slot);
          reference.delete(id);
        }
      }
      expect(table.get(id)).toBe(reference.get(id));
      for (let n = 0; n < 8; n++) {
        const other = `id-${Math.floor(random() * 24_000)}`;
        if (table.get(other) !== reference.get(other)) throw new Error(`step ${step}: ${other} → ${table.get(other)}, expected ${reference.get(other)}`);
      }
      if (step % 500 === 0) expect(all()).toEqual(allReference());
      expect(table.size).toBe(reference.size);
    }
    expect(all()).toEqual(allReference());
  });

  it('keeps a view readable while the table grows afterwards', () => {
    const table = new IdTable();
    for (let slot = 0; slot < 10; slot++) table.set(slot, `first-${slot}`);
    const view = table.view();
    for (let slot = 10; slot < 5000; slot++) table.set(slot, `later-${slot}`);
    for (let slot = 0; slot < 10; slot++) expect(view.idOf(slot)).toBe(`first-${slot}`);
  });

  it('refuses a slot below one already set', () => {
    const table = new IdTable();
    table.set(5, 'x');
    expect(() => table.set(3, 'y')).toThrow(/out of order/);
  });
});

describe('MetadataIndex (posting lists of slot numbers)', () => {
  const FIELDS = ['color', 'n', 'tags', 'flag'];
  const metadataOf = (random: () => number): RecordMetadata | undefined => {
    if (random() < 0.1) return undefined;
    const m: RecordMetadata = {};
    if (random() < 0.8) m.color = ['red', 'green', 'blue'][Math.floor(random() * 3)]!;
    if (random() < 0.8) m.n = Math.floor(random() * 40);
    if (random() < 0.5) m.tags = Array.from({ length: Math.floor(random() * 3) }, () => `t${Math.floor(random() * 5)}`);
    if (random() < 0.3) m.flag = random() < 0.5;
    return m;
  };

  it('narrows to a superset of the live matches through adds, replacements and removals, and stays compact', () => {
    const random = rng(11);
    const index = new MetadataIndex();
    const metadata: (RecordMetadata | undefined)[] = [];
    const alive: boolean[] = [];
    const live: number[] = [];
    const holds = (slot: number, field: string, value: string | number | boolean): boolean => alive[slot] === true && holdsValue(metadata[slot], field, value);
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      if (r < 0.5 || live.length === 0) {
        const slot = metadata.length;
        metadata.push(metadataOf(random));
        alive.push(true);
        live.push(slot);
        index.add(slot, metadata[slot]);
      } else {
        const at = Math.floor(random() * live.length);
        const slot = live[at]!;
        if (r < 0.75) {
          // Replace the metadata (setMetadata's order: the new in place, then the old removed, the new added).
          const before = metadata[slot];
          metadata[slot] = metadataOf(random);
          index.remove(slot, before, holds);
          index.add(slot, metadata[slot]);
        } else {
          alive[slot] = false;
          live[at] = live[live.length - 1]!;
          live.pop();
          index.remove(slot, metadata[slot], holds);
        }
      }
    }
    const filters: FilterNode[] = [
      { op: 'eq', field: 'color', value: 'red' },
      { op: 'eq', field: 'tags', value: 't3' },
      { op: 'eq', field: 'flag', value: false },
      { op: 'in', field: 'n', values: [1, 2, 39, 77] },
      { op: 'gte', field: 'n', value: 30 },
      { op: 'lt', field: 'n', value: 3 },
      { op: 'and', children: [{ op: 'eq', field: 'color', value: 'blue' }, { op: 'eq', field: 'n', value: 5 }] },
      { op: 'or', children: [{ op: 'eq', field: 'color', value: 'blue' }, { op: 'in', field: 'tags', values: ['t0', 't1'] }] },
      { op: 'eq', field: 'missing', value: 1 },
    ];
    for (const filter of filters) {
      const candidates = index.candidates(filter)!;
      const set = new Set(candidates);
      const predicate = compileFilter(filter);
      const missed = live.filter((slot) => predicate(metadata[slot]) && !set.has(slot));
      expect(missed).toEqual([]);
      expect([...candidates].length).toBe(candidates.size);
    }
    // Lazy removal keeps at most about as many stale entries as valid ones.
    let valid = 0;
    for (let slot = 0; slot < metadata.length; slot++) {
      const m = metadata[slot];
      if (!alive[slot] || m === undefined) continue;
      for (const field of FIELDS) {
        const v = m[field];
        if (v !== undefined) valid += Array.isArray(v) ? v.length : 1;
      }
    }
    const stats = index.stats();
    expect(stats.slots).toBeGreaterThanOrEqual(valid);
    expect(stats.slots).toBeLessThanOrEqual(2 * valid + 2 * stats.values);
  });

  it('drops a value whose last slot goes, and keeps a one-slot value as that slot', () => {
    const index = new MetadataIndex();
    const never = (): boolean => false;
    index.add(0, { k: 'a' });
    index.add(1, { k: 'b' });
    index.add(2, { k: 'b' });
    expect(index.stats()).toMatchObject({ values: 2, slots: 3, stale: 0, sorted: 0 });
    index.remove(0, { k: 'a' }, never);
    expect([...index.candidates({ op: 'eq', field: 'k', value: 'a' })!]).toEqual([]);
    index.remove(1, { k: 'b' }, (slot) => slot === 2);
    // Half of the list was stale: rewritten to the one slot left.
    expect(index.stats()).toMatchObject({ values: 1, slots: 1, stale: 0, sorted: 0 });
    expect([...index.candidates({ op: 'eq', field: 'k', value: 'b' })!]).toEqual([2]);
  });
});

describe('NamespaceStore with compact ids and postings', () => {
  it('answers ids, metadata and filters exactly through replacements, updates, deletes, compaction and a restore', () => {
    const random = rng(3);
    const dim = 4;
    const ns = new NamespaceStore(dim);
    const reference = new Map<string, RecordMetadata | undefined>();
    const vector = (): Float32Array => Float32Array.from({ length: dim }, () => random() - 0.5);
    const check = (store: NamespaceStore): void => {
      expect(store.liveCount).toBe(reference.size);
      for (const [id, metadata] of reference) {
        const slot = store.slotOf(id)!;
        expect(store.idOf(slot)).toBe(id);
        expect(store.metadataOf(slot)).toEqual(metadata);
      }
      expect(store.sortedIds()).toEqual([...reference.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      for (const value of ['x', 'y', 'z']) {
        const filter: FilterNode = { op: 'eq', field: 'g', value };
        const candidates = new Set(store.filterCandidates(filter)!);
        for (const [id, metadata] of reference) if (metadata?.g === value) expect(candidates.has(store.slotOf(id)!)).toBe(true);
      }
      // `f` has a distinct float per record (a sorted index past 2048 of them), `i` a distinct integer.
      const ranges = [{ f: { $lt: 0.1 } }, { f: { $gte: 0.5, $lt: 0.52 } }, { i: { $gt: 4000 } }, { $or: [{ f: { $gt: 0.97 } }, { g: 'x', i: { $lt: 0 } }] }, { f: 0.25 }];
      for (const filter of ranges) {
        const want = [...reference].filter(([, m]) => refMatches(filter, m)).map(([id]) => store.slotOf(id)!);
        expect(matchingSlots(store, compile(parseFilter(filter))!)).toEqual(want.sort((a, b) => a - b));
      }
    };
    const float = (): number => (random() < 0.1 ? 0.25 : random());
    for (let k = 0; k < 3000; k++) {
      const metadata = { g: 'z', f: float(), i: -1 };
      ns.put(`bulk-${k}`, vector(), undefined, metadata);
      reference.set(`bulk-${k}`, metadata);
    }
    check(ns);
    for (let step = 0; step < 6000; step++) {
      const id = `r${Math.floor(random() * 800)}${step % 7 === 0 ? '-é' : ''}`;
      const r = random();
      const slot = ns.slotOf(id);
      if (r < 0.55 || slot === undefined) {
        const metadata = random() < 0.9 ? { g: ['x', 'y', 'z'][Math.floor(random() * 3)]!, i: step, f: float() } : undefined;
        ns.put(id, vector(), undefined, metadata);
        reference.set(id, metadata);
      } else if (r < 0.8) {
        const metadata: RecordMetadata = random() < 0.5 ? { g: ['x', 'y', 'z'][Math.floor(random() * 3)]!, i: -step, f: float() } : { ...reference.get(id), i: -step };
        ns.setMetadata(slot, metadata);
        reference.set(id, metadata);
      } else {
        ns.kill(slot);
        reference.delete(id);
      }
      if (step % 1000 === 0) check(ns);
      if (step === 3000) {
        ns.beginCompaction();
      }
      if (step > 3000 && ns.compacting) ns.compactStep(50);
    }
    while (ns.compactStep(1000));
    check(ns);
    ns.compact();
    check(ns);
    // A restore from a frozen view (what a snapshot holds) keeps the slots and gives the same answers.
    const frozen = ns.freeze();
    const restored = new NamespaceStore(dim);
    for (let s = 0; s < frozen.slotCount; s++) {
      if (frozen.isLive(s)) restored.putAt(s, frozen.idOf(s), frozen.valuesOf(s), frozen.sparseOf(s), frozen.metadataOf(s));
    }
    check(restored);
    for (const id of reference.keys()) expect(restored.slotOf(id)).toBe(ns.slotOf(id));
  });
});

describe('NamespaceStore postings purged in the middle of a metadata update', () => {
  // A purge (half a list stale) keeps the entries whose slot still holds their value and then calls the list
  // exact (readers skip the predicate); the slot being updated must not count as still holding its old value.
  it.each([
    ['a sorted numeric index', { f: { $lt: 3000 } }, () => true],
    ['a posting list', { g: 's3' }, (k: number) => k % 7 === 3],
  ] as const)('answers exactly right after the update that triggered the purge of %s', (_, filter, matchesBefore) => {
    const ns = new NamespaceStore(2);
    const n = 3000;
    for (let k = 0; k < n; k++) ns.put(`v${k}`, Float32Array.of(1, k), undefined, { f: k, g: `s${k % 7}` });
    const slots = Array.from({ length: n }, (_, k) => ns.slotOf(`v${k}`)!);
    const compiled = compile(parseFilter(filter))!;
    for (let k = 0; k < n; k++) {
      ns.setMetadata(slots[k]!, { f: n + k, g: 'moved' });
      const want: number[] = [];
      for (let j = k + 1; j < n; j++) if (matchesBefore(j)) want.push(slots[j]!);
      const got = matchingSlots(ns, compiled);
      want.sort((a, b) => a - b);
      // Compared as text first: jest's deep equality over 3000 steps of 3000 slots took seconds.
      if (got.join() !== want.join()) expect({ step: k, got }).toEqual({ step: k, got: want });
    }
  });
});
