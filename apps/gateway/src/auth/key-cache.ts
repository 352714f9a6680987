// The in-process layer of the key cache: stored keys by public id (hash and metadata, never the key), and a
// bounded negative cache of public ids that Postgres does not know.
//
// Stale fills: a lookup that read Redis or Postgres before a revocation must not store what it read after the
// eviction. Evictions are numbered; a fill takes the current number when it starts (`fillToken()`) and its
// result is stored only if its key was not evicted since. The per-key eviction numbers are kept for the most
// recent MAX_EVICTION_HISTORY evictions; a fill older than the history's horizon is refused (never accepted).
import type { StoredKey } from './stored-key.js';

const MAX_EVICTION_HISTORY = 10_000;

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
  /** Number of the latest eviction. */
  private evictions = 0;
  /** Key id → number of its latest eviction (recent ones only). */
  private readonly evictedAt = new Map<string, number>();
  /** Fills that started before this eviction number are refused (history pruned or cache cleared). */
  private horizon = 0;

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
    return this.evictions;
  }

  /** Whether a fill of `keyId` that started at `token` may still be stored (or joined). */
  canStore(keyId: string, token: number): boolean {
    if (token < this.horizon) return false;
    const evicted = this.evictedAt.get(keyId);
    return evicted === undefined || evicted <= token;
  }

  /** Stores unless an eviction happened since `token` was taken; returns whether it stored. */
  set(entry: CachedKey, token: number): boolean {
    const { keyId, id } = entry.key;
    if (!this.canStore(keyId, token)) return false;
    if (!this.entries.has(keyId) && this.entries.size >= this.limits.maxEntries) this.dropOldest(this.entries, true);
    this.entries.delete(keyId);
    this.entries.set(keyId, entry);
    this.byCatalogId.set(id, keyId);
    this.negative.delete(keyId);
    return true;
  }

  setMissing(keyId: string, until: number, token: number): boolean {
    if (!this.canStore(keyId, token)) return false;
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
    this.evictions++;
    this.evictedAt.delete(keyId);
    this.evictedAt.set(keyId, this.evictions);
    if (this.evictedAt.size > MAX_EVICTION_HISTORY) {
      const [oldestKey, oldestNumber] = this.evictedAt.entries().next().value as [string, number];
      this.evictedAt.delete(oldestKey);
      this.horizon = Math.max(this.horizon, oldestNumber);
    }
  }

  /** The public id for a catalog id, when cached here. */
  publicIdOf(id: string): string {
    return this.byCatalogId.get(id) ?? id;
  }

  clear(): void {
    this.entries.clear();
    this.byCatalogId.clear();
    this.negative.clear();
    this.evictions++;
    this.horizon = this.evictions;
    this.evictedAt.clear();
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
