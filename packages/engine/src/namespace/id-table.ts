// The ids of a namespace's slots, compactly: every slot's id as UTF-8 bytes in one append-only arena (its end
// offset by slot), and an open-addressing hash table (linear probing, slot + 1 per cell, 0 empty) from id
// to slot for the live ones. A `string[]` of ids plus a `Map<string, number>` cost ~100 B per record on
// the JS heap (a string object, a map entry and its share of a hash table twice the entries); this costs
// the id's bytes plus 4 (end offset) + 4 (hash) + 8–16 (table cells at a load of ¼–½) bytes, in typed
// arrays outside the heap, and the restored ids are no garbage for the collector to trace.
//
// Slots are assigned in ascending order (`set`); a slot skipped (a dead slot of a restored snapshot) gets an
// empty id. Bytes below the arena's end are never rewritten (growth copies into a new buffer), so a
// `view()` taken at some point stays readable for the slots it covers while writes go on.
//
// The table doubles when half full, and moves its cells over incrementally: the old table stays searchable
// (behind the new one) while every `set` moves the next MOVE_CELLS of its cells, and a delete meanwhile leaves
// a tombstone in it (never a backward shift, which could carry a cell behind the moving point). Reinserting a
// 1M-id table at once held the event loop 60–100 ms (bench/RESULTS.md, session 20).

const INITIAL_TABLE = 64;
/** Old-table cells moved per `set` while a doubling is under way (done long before the next one is due). */
const MOVE_CELLS = 64;
/** An old-table cell whose id was deleted while the table was being moved: probes continue past it. */
const TOMBSTONE = -1;

/** A read-only view of the ids of slots [0, count) as they were when taken. */
export interface IdView {
  idOf(slot: number): string;
}

export class IdTable {
  private bytes = new Uint8Array(256);
  private used = 0;
  /** End of each slot's id in `bytes` (its start is the previous slot's end). */
  private ends = new Uint32Array(64);
  /** FNV-1a hash of each slot's id. */
  private hashes = new Int32Array(64);
  private count = 0;
  private table = new Int32Array(INITIAL_TABLE);
  /** The table being moved into `table` (cells below `moved` are moved); undefined when none. */
  private old: Int32Array | undefined;
  private moved = 0;
  private entries = 0;
  /** Scratch for the bytes of an id being looked up. */
  private key = new Uint8Array(64);
  private keyLength = 0;

  /** Live ids (slots findable by id). */
  get size(): number {
    return this.entries;
  }

  /** The id of a slot (an empty string for a skipped slot). */
  idOf(slot: number): string {
    return decodeId(this.bytes, slot === 0 ? 0 : this.ends[slot - 1]!, this.ends[slot]!);
  }

  /** The live slot holding an id, if any. */
  get(id: string): number | undefined {
    const hash = this.encodeKey(id);
    return this.find(this.table, hash) ?? (this.old === undefined ? undefined : this.find(this.old, hash));
  }

  /** The index of a slot's cell in one table, -1 when it is not there. */
  private cellOf(table: Int32Array, slot: number): number {
    const mask = table.length - 1;
    for (let i = this.hashes[slot]! & mask; ; i = (i + 1) & mask) {
      const cell = table[i]!;
      if (cell === 0) return -1;
      if (cell === slot + 1) return i;
    }
  }

  /** The slot of the encoded key in one table. */
  private find(table: Int32Array, hash: number): number | undefined {
    const mask = table.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const cell = table[i]!;
      if (cell === 0) return undefined;
      if (cell === TOMBSTONE) continue;
      const slot = cell - 1;
      if (this.hashes[slot] === hash && this.keyEquals(slot)) return slot;
    }
  }

  /**
   * Gives `slot` (≥ every slot set so far) the id, findable from now on. The caller removes a live slot
   * holding the same id first (`delete`).
   */
  set(slot: number, id: string): void {
    if (slot < this.count) throw new Error(`id slot ${slot} set out of order (next ${this.count})`);
    const hash = this.encodeKey(id);
    this.reserveSlots(slot + 1);
    // Skipped slots get empty ids.
    for (let s = this.count; s < slot; s++) {
      this.ends[s] = this.used;
      this.hashes[s] = 0;
    }
    const length = this.keyLength;
    if (this.used + length > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < this.used + length) size *= 2;
      const bytes = new Uint8Array(size);
      bytes.set(this.bytes.subarray(0, this.used));
      this.bytes = bytes;
    }
    this.bytes.set(this.key.subarray(0, length), this.used);
    this.used += length;
    this.ends[slot] = this.used;
    this.hashes[slot] = hash;
    this.count = slot + 1;
    if ((this.entries + 1) * 2 > this.table.length) this.grow();
    this.insert(slot, hash);
    this.entries++;
    if (this.old !== undefined) this.move(MOVE_CELLS);
  }

  /** Makes a slot's id unfindable (its bytes stay: `idOf` still answers). */
  delete(slot: number): void {
    if (this.old !== undefined) {
      // Its cell, if still there, must not answer any more (moved already or not).
      const at = this.cellOf(this.old, slot);
      if (at >= 0) {
        this.old[at] = TOMBSTONE;
        // Not moved yet: it was never in the new table (the entry is counted once, here).
        if (at >= this.moved) {
          this.entries--;
          return;
        }
      }
    }
    const table = this.table;
    const mask = table.length - 1;
    const i = this.cellOf(table, slot);
    if (i < 0) return; // not in the table
    // Backward-shift deletion: move later cells of the probe run into the hole when their home allows.
    let hole = i;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const cell = table[j]!;
      if (cell === 0) break;
      const home = this.hashes[cell - 1]! & mask;
      // The cell may fill the hole when its home is not cyclically in (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        table[hole] = cell;
        hole = j;
      }
    }
    table[hole] = 0;
    this.entries--;
  }

  /** The ids of slots [0, slotCount) as they are now (later writes do not change what it reads). */
  view(): IdView {
    const bytes = this.bytes;
    const ends = this.ends;
    return { idOf: (slot) => decodeId(bytes, slot === 0 ? 0 : ends[slot - 1]!, ends[slot]!) };
  }

  private reserveSlots(n: number): void {
    if (n <= this.ends.length) return;
    let size = this.ends.length * 2;
    while (size < n) size *= 2;
    const ends = new Uint32Array(size);
    ends.set(this.ends.subarray(0, this.count));
    const hashes = new Int32Array(size);
    hashes.set(this.hashes.subarray(0, this.count));
    this.ends = ends;
    this.hashes = hashes;
  }

  private insert(slot: number, hash: number): void {
    const mask = this.table.length - 1;
    let i = hash & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
  }

  /** Starts moving into a table twice the size (after finishing a move still under way). */
  private grow(): void {
    if (this.old !== undefined) this.move(this.old.length);
    this.old = this.table;
    this.moved = 0;
    this.table = new Int32Array(this.old.length * 2);
  }

  /** Moves up to `cells` more cells of the old table into the new one. */
  private move(cells: number): void {
    const old = this.old!;
    const end = Math.min(old.length, this.moved + cells);
    for (let i = this.moved; i < end; i++) {
      const cell = old[i]!;
      if (cell > 0) this.insert(cell - 1, this.hashes[cell - 1]!);
    }
    this.moved = end;
    if (end === old.length) this.old = undefined;
  }

  /** Writes the id's UTF-8 bytes to the key scratch; returns their hash (FNV-1a). */
  private encodeKey(id: string): number {
    // Up to 3 bytes per UTF-16 unit.
    if (this.key.length < id.length * 3) this.key = new Uint8Array(id.length * 3);
    const key = this.key;
    let n = 0;
    for (let i = 0; i < id.length; i++) {
      let c = id.charCodeAt(i);
      if (c < 0x80) key[n++] = c;
      else if (c < 0x800) {
        key[n++] = 0xc0 | (c >> 6);
        key[n++] = 0x80 | (c & 63);
      } else {
        const next = i + 1 < id.length ? id.charCodeAt(i + 1) : 0;
        if (c >= 0xd800 && c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          key[n++] = 0xf0 | (c >> 18);
          key[n++] = 0x80 | ((c >> 12) & 63);
        } else key[n++] = 0xe0 | (c >> 12); // a lone surrogate too (WTF-8: every string round-trips)
        key[n++] = 0x80 | ((c >> 6) & 63);
        key[n++] = 0x80 | (c & 63);
      }
    }
    this.keyLength = n;
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
    return h | 0;
  }

  private keyEquals(slot: number): boolean {
    const start = slot === 0 ? 0 : this.ends[slot - 1]!;
    const end = this.ends[slot]!;
    const n = this.keyLength;
    if (end - start !== n) return false;
    const bytes = this.bytes;
    const key = this.key;
    for (let i = 0; i < n; i++) if (bytes[start + i] !== key[i]) return false;
    return true;
  }
}

/** The id written by `encodeKey` (UTF-8, lone surrogates as 3-byte sequences) as UTF-16 code units. */
function decodeId(bytes: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  for (let i = start; i < end; ) {
    const b = bytes[i]!;
    if (b < 0x80) {
      units.push(b);
      i++;
    } else if (b < 0xe0) {
      units.push(((b & 31) << 6) | (bytes[i + 1]! & 63));
      i += 2;
    } else if (b < 0xf0) {
      units.push(((b & 15) << 12) | ((bytes[i + 1]! & 63) << 6) | (bytes[i + 2]! & 63));
      i += 3;
    } else {
      const c = (((b & 7) << 18) | ((bytes[i + 1]! & 63) << 12) | ((bytes[i + 2]! & 63) << 6) | (bytes[i + 3]! & 63)) - 0x10000;
      units.push(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
      i += 4;
    }
  }
  return String.fromCharCode.apply(null, units);
}
