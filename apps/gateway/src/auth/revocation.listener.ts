// Key changes reach every cache on every replica, by two paths:
//  1. Broadcast (fast): the key service calls KeyEvents.keyChanged after its transaction commits. This replica
//     invalidates the shared Redis entry (bumping the key's generation, so no fill that read Postgres earlier
//     can store itself afterwards), evicts its in-process cache (fills of that key started earlier are not stored either), and
//     PUBLISHes; every other replica evicts on the message.
//  2. Poll (durable backstop): every replica reads new key_revocations rows every revocationPollMs and does
//     the same invalidation for each, so a lost message, a crash between commit and publish, or an
//     invalidation sent before the commit (a fill may have re-read the old row) still ends in refusal within
//     one poll period. Sequence numbers are taken at insert but become visible at commit, possibly out of
//     order: numbers skipped by a poll are re-asked as "gaps" for GAP_WAIT_MS.
// Shared invalidations that fail while Redis is down are retried on each poll once it is back, and until then
// this replica does not trust the shared entry of those keys. Single-node mode: in-process events + the poll.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';
import { KeyCache } from './key-cache.js';
import { KeyCacheRedisRepository, type SharedKeyEntry, type SharedKeyRead } from './key-cache.redis.repository.js';
import { KeyEvents, type KeyChange, type KeyChangeListener } from './key-events.js';
import { KeyRepository } from './key.repository.js';
import type { SharedKeyCache } from './key-verifier.js';

const GAP_WAIT_MS = 30_000;
const MAX_GAPS = 1_000;
const MAX_PENDING_SHARED = 100_000;

@Injectable()
export class RevocationListener extends KeyEvents implements OnModuleInit, OnModuleDestroy {
  private readonly listeners: KeyChangeListener[] = [];
  private readonly shared: KeyCacheRedisRepository | null;
  /** Keys whose shared entry could not be invalidated (Redis down): retried, and not read from Redis meanwhile. */
  private readonly pendingShared = new Set<string>();
  private lastSeq: bigint | null = null;
  private readonly gaps = new Map<bigint, number>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private pollFailing = false;
  private unsubscribe: (() => Promise<void>) | null = null;
  /** Test hook: drop outgoing broadcasts (simulates a lost pub/sub message). */
  suppressBroadcast = false;

  constructor(
    @Inject(KeyCache) private readonly cache: KeyCache,
    @Inject(KeyRepository) private readonly keys: KeyRepository,
    @Inject(KeyCacheRedisRepository) shared: KeyCacheRedisRepository,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
    this.shared = shared.enabled ? shared : null;
  }

  async onModuleInit(): Promise<void> {
    if (this.shared) this.unsubscribe = this.shared.subscribe((change) => void this.evictLocally(change));
    await this.poll();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.unsubscribe?.();
  }

  /** Called by the key service after commit. Resolves once this replica refuses the key and the change is broadcast. */
  async keyChanged(change: KeyChange): Promise<void> {
    const keyId = this.cache.publicIdOf(change.keyId);
    await this.invalidateShared([keyId]);
    await this.evictLocally({ ...change, keyId });
    if (this.shared && !this.suppressBroadcast) {
      await this.shared.publish({ ...change, keyId }).catch((error: Error) => {
        this.logger.warn({ err: error.message }, 'key change broadcast failed; replicas will catch up by polling');
      });
    }
  }

  subscribe(listener: KeyChangeListener): void {
    this.listeners.push(listener);
  }

  /** The shared cache as the verifier may use it: keys with a failed invalidation are not read from Redis. */
  sharedCache(): SharedKeyCache | null {
    const shared = this.shared;
    if (!shared) return null;
    const pending = this.pendingShared;
    return {
      enabled: true,
      get available() {
        return shared.available;
      },
      read: async (keyId: string): Promise<SharedKeyRead> =>
        pending.has(keyId) ? { entry: null, generation: null } : shared.read(keyId),
      store: (entry: SharedKeyEntry, generation: string, ttlMs: number) => shared.store(entry, generation, ttlMs),
    };
  }

  /** One poll of key_revocations (also run by tests to step it). */
  async poll(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.pollOnce();
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
    if (this.pendingShared.size > 0 && this.shared?.available) {
      const keyIds = [...this.pendingShared];
      await this.shared.invalidate(keyIds, this.generationTtlMs());
      for (const keyId of keyIds) this.pendingShared.delete(keyId);
    }
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
    this.lastSeq = expected - 1n > this.lastSeq ? expected - 1n : this.lastSeq;
    const keyIds = [...new Set(rows.map((row) => row.keyId))];
    await this.invalidateShared(keyIds);
    for (const keyId of keyIds) await this.evictLocally({ keyId, reason: 'updated' });
  }

  private async invalidateShared(keyIds: string[]): Promise<void> {
    if (!this.shared) return;
    try {
      if (!this.shared.available) throw new Error('Redis unavailable');
      await this.shared.invalidate(keyIds, this.generationTtlMs());
    } catch {
      for (const keyId of keyIds) if (this.pendingShared.size < MAX_PENDING_SHARED) this.pendingShared.add(keyId);
    }
  }

  private async evictLocally(change: KeyChange): Promise<void> {
    this.cache.evict(change.keyId);
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
