// Key changes reach every cache on every replica, by two paths:
//  1. Broadcast (fast): the key service calls KeyEvents.keyChanged after its transaction commits. This replica
//     evicts its in-process cache (fills of that key that started earlier are not stored either), invalidates
//     the shared Redis entry (bumping the key's generation, so no fill that read Postgres earlier can store
//     itself afterwards) and PUBLISHes; every other replica evicts on the message.
//  2. Poll (durable backstop): every replica reads new key_revocations rows every revocationPollMs and does
//     the same eviction and invalidation for each, so a lost message, a crash between commit and publish, or
//     an invalidation sent before the commit (a fill may have re-read the old row) still ends in refusal
//     within one poll period. Sequence numbers are taken at insert but become visible at commit, possibly out
//     of order: numbers skipped by a poll are asked for again as "gaps" for GAP_WAIT_MS.
// While a key's shared invalidation has not succeeded (in progress, or failed because Redis is down or hung),
// the key is "pending": this replica does not read its shared entry (it asks Postgres) and retries the
// invalidation on every poll once Redis answers again. So a stale entry left in an unreachable Redis is never
// trusted afterwards. Single-node mode (no Redis): in-process events + the poll.
import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthMetrics, type EvictionSource } from './auth.metrics.js';
import { KeyCache } from './key-cache.js';
import { KeyCacheRedisRepository, type SharedKeyEntry, type SharedKeyRead } from './key-cache.redis.repository.js';
import { KeyEvents, type KeyChange, type KeyChangeListener } from './key-events.js';
import type { SharedKeyCache } from './key-verifier.js';

const GAP_WAIT_MS = 30_000;
const MAX_GAPS = 1_000;
const MAX_PENDING_SHARED = 100_000;
const NOT_SHARED: SharedKeyRead = { entry: null, generation: null };

@Injectable()
export class RevocationListener extends KeyEvents implements OnModuleInit, OnModuleDestroy {
  private readonly listeners: KeyChangeListener[] = [];
  private readonly shared: KeyCacheRedisRepository | null;
  /** Keys whose shared entry is not known to be invalidated: not read from Redis, invalidation retried. */
  private readonly pendingShared = new Set<string>();
  /** When too many keys are pending to track, no shared entry is trusted until this time (their TTL). */
  private sharedUntrustedUntil = 0;
  private retrying = false;
  private lastSeq: bigint | null = null;
  private readonly gaps = new Map<bigint, number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private pollFailing = false;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    @Inject(KeyCache) private readonly cache: KeyCache,
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(KeyCacheRedisRepository) shared: KeyCacheRedisRepository,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(AuthMetrics) private readonly metrics?: AuthMetrics,
  ) {
    super();
    this.shared = shared.enabled ? shared : null;
  }

  async onModuleInit(): Promise<void> {
    if (this.shared) this.unsubscribe = this.shared.subscribe((change) => void this.evictLocally(change, 'broadcast'));
    await this.poll();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unsubscribe?.();
  }

  /**
   * Called by the key service after commit. When it resolves, this replica refuses the key and the change has
   * been broadcast (or, Redis being unavailable, is left to the other replicas' polls).
   */
  async keyChanged(change: KeyChange): Promise<void> {
    const keyId = this.cache.publicIdOf(change.keyId);
    this.markPending([keyId]);
    await this.evictLocally({ ...change, keyId }, 'event');
    const invalidated = await this.invalidateShared([keyId]);
    if (this.shared && invalidated) {
      await this.shared.publish({ ...change, keyId }).catch((error: Error) => {
        this.logger.warn({ err: error.message }, 'key change broadcast failed; replicas will catch up by polling');
      });
    }
  }

  subscribe(listener: KeyChangeListener): void {
    this.listeners.push(listener);
  }

  /** The shared cache as the verifier may use it: pending keys are not read from Redis. */
  sharedCache(): SharedKeyCache | null {
    const shared = this.shared;
    if (!shared) return null;
    return {
      enabled: true,
      get available() {
        return shared.available;
      },
      read: async (keyId: string): Promise<SharedKeyRead> =>
        this.pendingShared.has(keyId) || Date.now() < this.sharedUntrustedUntil ? NOT_SHARED : shared.read(keyId),
      store: (entry: SharedKeyEntry, generation: string, ttlMs: number) => shared.store(entry, generation, ttlMs),
    };
  }

  /** One poll of key_revocations (also run by tests to step it). */
  async poll(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.retryPending();
      await this.pollOnce();
      this.metrics?.pollSucceeded();
      if (this.pollFailing) this.logger.info('key revocation poll recovered');
      this.pollFailing = false;
    } catch (error) {
      if (!this.pollFailing) this.logger.warn({ err: (error as Error).message }, 'key revocation poll failed; retrying');
      this.pollFailing = true;
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.poll(), this.config.gateway.revocationPollMs);
      this.timer.unref();
    }
  }

  private async pollOnce(): Promise<void> {
    if (this.lastSeq === null) {
      this.lastSeq = await this.keys.latestRevocationSeq();
      // Anything cached before the sequence was known may predate a revocation this replica never saw.
      if (this.cache.size > 0) this.cache.clear();
      return;
    }
    const rows = await this.keys.revocationsAfter(this.lastSeq, [...this.gaps.keys()]);
    const now = Date.now();
    for (const [seq, since] of this.gaps) if (now - since > GAP_WAIT_MS) this.gaps.delete(seq);
    if (rows.length === 0) return;
    let expected = this.lastSeq + 1n;
    for (const row of rows) {
      if (row.seq < expected) {
        this.gaps.delete(row.seq);
        continue;
      }
      for (let missing = expected; missing < row.seq && this.gaps.size < MAX_GAPS; missing++) this.gaps.set(missing, now);
      expected = row.seq + 1n;
    }
    if (expected - 1n > this.lastSeq) this.lastSeq = expected - 1n;
    const keyIds = [...new Set(rows.map((row) => row.keyId))];
    this.markPending(keyIds);
    for (const keyId of keyIds) await this.evictLocally({ keyId, reason: 'updated' }, 'poll');
    // Not awaited: a hung Redis must not slow the poll down.
    void this.invalidateShared(keyIds);
  }

  private markPending(keyIds: readonly string[]): void {
    if (!this.shared) return;
    for (const keyId of keyIds) {
      if (this.pendingShared.size < MAX_PENDING_SHARED) this.pendingShared.add(keyId);
      else this.sharedUntrustedUntil = Date.now() + this.config.gateway.keyCacheTtlMs;
    }
  }

  /** Invalidates the shared entries; true when Redis confirmed it (the keys are no longer pending). */
  private async invalidateShared(keyIds: readonly string[]): Promise<boolean> {
    if (!this.shared || !this.shared.available) return false;
    try {
      await this.shared.invalidate(keyIds, this.generationTtlMs());
      for (const keyId of keyIds) this.pendingShared.delete(keyId);
      return true;
    } catch {
      return false;
    }
  }

  private retryPending(): void {
    if (this.retrying || this.pendingShared.size === 0 || !this.shared?.available) return;
    this.retrying = true;
    void this.invalidateShared([...this.pendingShared]).finally(() => {
      this.retrying = false;
    });
  }

  private async evictLocally(change: KeyChange, source: EvictionSource): Promise<void> {
    this.cache.evict(change.keyId);
    this.metrics?.eviction(source);
    for (const listener of this.listeners) {
      try {
        await listener(change);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'key change listener failed');
      }
    }
  }

  /** A generation must outlive any fill in flight and the entries it guards. */
  private generationTtlMs(): number {
    return this.config.gateway.keyCacheTtlMs + 60_000;
  }
}
