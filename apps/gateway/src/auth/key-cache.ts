// The in-process layer of the key cache: stored keys by public id (hash and metadata, never the key), and a
// bounded negative cache of public ids that Postgres does not know.
//
// Stale fills: a lookup that read Redis or Postgres before a revocation must not store what it read after the
// eviction. Every eviction bumps a global epoch; a fill takes the epoch when it starts (`fillToken()`) and
// its result is stored only if no eviction happened meanwhile. Evictions are rare, so a global epoch costs
// at most a few refetches and needs no per-key bookkeeping.
import type { StoredKey } from './stored-key.js';

export interface CachedKey {
  readonly key: StoredKey;
  /** Until when the entry may be used without asking Redis/Postgres again. */
  readonly freshUntil: number;
  /** When Postgres last confirmed the record (directly or through Redis): bounds the Postgres-outage grace. */
  readonly confirmedAt: number;
}

export interface KeyCacheLimits {
  readonly maxEntries: number;
  readonly maxNegativeEntries: number;
}

export class KeyCache {
  private readonly entries = new Map<string, CachedKey>();
  /** Catalog id → public id, so a change announced by catalog id evicts too. */
  private readonly byCatalogId = new Map<string, string>();
  private readonly negative = new Map<string, number>();
  private epoch = 0;

  constructor(private readonly limits: KeyCacheLimits) {}

  get(keyId: string): CachedKey | undefined {
    return this.entries.get(keyId);
  }

  /** True while `keyId` is known not to exist. */
  isKnownMissing(keyId: string, now: number): boolean {
    const until = this.negative.get(keyId);
    if (until === undefined) return false;
    if (until > now) return true;
    this.negative.delete(keyId);
    return false;
  }

  fillToken(): number {
    return this.epoch;
  }

  /** Stores unless an eviction happened since `token` was taken; returns whether it stored. */
  set(entry: CachedKey, token: number): boolean {
    if (token !== this.epoch) return false;
    const { keyId, id } = entry.key;
    if (!this.entries.has(keyId) && this.entries.size >= this.limits.maxEntries) this.dropOldest(this.entries, true);
    this.entries.delete(keyId);
    this.entries.set(keyId, entry);
    this.byCatalogId.set(id, keyId);
    this.negative.delete(keyId);
    return true;
  }

  setMissing(keyId: string, until: number, token: number): boolean {
    if (token !== this.epoch) return false;
    if (!this.negative.has(keyId) && this.negative.size >= this.limits.maxNegativeEntries) this.dropOldest(this.negative, false);
    this.negative.delete(keyId);
    this.negative.set(keyId, until);
    return true;
  }

  /** Evicts a key by public or catalog id and invalidates fills in flight. */
  evict(id: string): void {
    const keyId = this.byCatalogId.get(id) ?? id;
    const entry = this.entries.get(keyId);
    if (entry) {
      this.entries.delete(keyId);
      this.byCatalogId.delete(entry.key.id);
    }
    this.negative.delete(keyId);
    this.epoch++;
  }

  /** The public id for a catalog id, when cached here. */
  publicIdOf(id: string): string {
    return this.byCatalogId.get(id) ?? id;
  }

  clear(): void {
    this.entries.clear();
    this.byCatalogId.clear();
    this.negative.clear();
    this.epoch++;
  }

  get size(): number {
    return this.entries.size;
  }

  get negativeSize(): number {
    return this.negative.size;
  }

  private dropOldest(map: Map<string, unknown>, positive: boolean): void {
    const oldest = map.keys().next();
    if (oldest.done) return;
    if (positive) {
      const entry = this.entries.get(oldest.value);
      if (entry) this.byCatalogId.delete(entry.key.id);
    }
    map.delete(oldest.value);
  }
}
