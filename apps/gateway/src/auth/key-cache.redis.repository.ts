// The only ioredis access of the auth module: the shared key cache (entries authenticated with a MAC keyed from
// the pepper, so an entry edited in Redis is a miss, never a grant), its per-key generation counters (which
// keep a fill that read Postgres before a revocation from being stored after it), the key-change channel and
// the per-key rate-limit counters. Every method fails fast: RedisService has no offline queue, and each call
// here gives up after REDIS_TIMEOUT_MS (a Redis that stops answering without closing the connection must not
// hang requests); callers fall back to Postgres or to local state.
import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedSecrets } from '@conifer/config';
import { derivePepperKey, macMatches, macOf } from '@conifer/keys';
import type { Redis } from 'ioredis';
import { SECRETS } from '../config/runtime.js';
import { RedisService } from '../redis/redis.service.js';
import type { KeyChange } from './key-events.js';
import type { StoredKey } from './stored-key.js';

/** A cached record plus when Postgres last confirmed it. */
export interface SharedKeyEntry {
  readonly key: StoredKey;
  readonly confirmedAt: number;
}

/** Result of a shared-cache read: the entry if any, and the generation to hand back when storing a fill (null: do not store). */
export interface SharedKeyRead {
  readonly entry: SharedKeyEntry | null;
  readonly generation: string | null;
}

// Store only if the key's generation is still the one read before Postgres was asked.
const STORE_IF_GENERATION = `
local generation = redis.call('GET', KEYS[2]) or ''
if generation == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

// Bump the generation (fills in flight will not be stored) and drop the entry.
const INVALIDATE = `
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
return 1`;

// Fixed one-second window per key; the window id is part of the key, so counters expire by themselves.
const RATE_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/** Longest wait for Redis on the request path before falling back. */
const REDIS_TIMEOUT_MS = 200;

/** Invalidations and broadcasts (off the request path) may wait longer; a timeout counts as a failure and is retried. */
const INVALIDATE_TIMEOUT_MS = 1_000;

class RedisTimeoutError extends Error {}

/** After a timeout, Redis counts as unavailable for this long (requests stop paying the timeout). */
const SUSPEND_AFTER_TIMEOUT_MS = 1_000;

type ScriptedRedis = Redis & {
  coniferKeyStore(entryKey: string, generationKey: string, generation: string, value: string, ttlMs: number): Promise<number>;
  coniferKeyInvalidate(entryKey: string, generationKey: string, generationTtlMs: number): Promise<number>;
  coniferRateWindow(counterKey: string, ttlMs: number): Promise<number>;
};

@Injectable()
export class KeyCacheRedisRepository {
  private readonly client: ScriptedRedis | null;
  private readonly channel: string;
  private suspendedUntil = 0;

  /** Entries are `<mac>.<json>`, the MAC over the entry's Redis key and JSON with a key derived from the pepper. */
  private readonly macKey: Buffer;
  /** Entries refused because their MAC did not match (edited in Redis, or written under another pepper). */
  rejectedEntries = 0;

  constructor(@Inject(RedisService) private readonly redis: RedisService, @Inject(SECRETS) secrets: ResolvedSecrets) {
    this.macKey = derivePepperKey(secrets.keyPepper, 'redis key cache entries');
    this.client = redis.client as ScriptedRedis | null;
    this.channel = redis.key('auth:key-changes');
    if (this.client) {
      this.client.defineCommand('coniferKeyStore', { numberOfKeys: 2, lua: STORE_IF_GENERATION });
      this.client.defineCommand('coniferKeyInvalidate', { numberOfKeys: 2, lua: INVALIDATE });
      this.client.defineCommand('coniferRateWindow', { numberOfKeys: 1, lua: RATE_WINDOW });
    }
  }

  /** Configured (not single-node mode). */
  get enabled(): boolean {
    return this.client !== null;
  }

  /** Configured, connected, and not recently timed out. */
  get available(): boolean {
    return this.client !== null && this.client.status === 'ready' && Date.now() >= this.suspendedUntil;
  }

  async read(keyId: string): Promise<SharedKeyRead> {
    const entryKey = this.entryKey(keyId);
    const [value, generation] = await this.timed(this.requireClient().mget(entryKey, this.generationKey(keyId)));
    return { entry: value ? this.open(entryKey, keyId, value) : null, generation: generation ?? '' };
  }

  /** The entry if its MAC is right and it is about this key; otherwise a miss (Postgres is asked and refills it). */
  private open(entryKey: string, keyId: string, value: string): SharedKeyEntry | null {
    const dot = value.indexOf('.');
    const json = dot === -1 ? '' : value.slice(dot + 1);
    if (dot === -1 || !macMatches(this.macKey, value.slice(0, dot), entryKey, json)) {
      this.rejectedEntries++;
      return null;
    }
    try {
      const entry = JSON.parse(json) as SharedKeyEntry;
      return entry?.key?.keyId === keyId ? entry : null;
    } catch {
      return null;
    }
  }

  private seal(entryKey: string, entry: SharedKeyEntry): string {
    const json = JSON.stringify(entry);
    return `${macOf(this.macKey, entryKey, json)}.${json}`;
  }

  /** Stores a fill unless the key changed since `generation` was read. */
  async store(entry: SharedKeyEntry, generation: string, ttlMs: number): Promise<boolean> {
    const keyId = entry.key.keyId;
    const entryKey = this.entryKey(keyId);
    const stored = await this.timed(
      this.requireClient().coniferKeyStore(
        entryKey,
        this.generationKey(keyId),
        generation,
        this.seal(entryKey, entry),
        Math.max(1, Math.round(ttlMs)),
      ),
    );
    return stored === 1;
  }

  /** Drops the shared entry and makes fills in flight unstorable; the generation outlives any fill. */
  async invalidate(keyIds: readonly string[], generationTtlMs: number): Promise<void> {
    if (keyIds.length === 0) return;
    const client = this.requireClient();
    const ttl = Math.max(1, Math.round(generationTtlMs));
    if (keyIds.length === 1) {
      await this.timed(client.coniferKeyInvalidate(this.entryKey(keyIds[0]!), this.generationKey(keyIds[0]!), ttl), INVALIDATE_TIMEOUT_MS);
      return;
    }
    const pipeline = client.pipeline() as unknown as { exec(): Promise<[Error | null, unknown][] | null> } & Record<string, (...args: unknown[]) => unknown>;
    for (const keyId of keyIds) pipeline.coniferKeyInvalidate!(this.entryKey(keyId), this.generationKey(keyId), ttl);
    const results = (await this.timed(pipeline.exec(), INVALIDATE_TIMEOUT_MS)) ?? [];
    const failure = results.find(([error]) => error);
    if (failure) throw failure[0];
  }

  async publish(change: KeyChange): Promise<void> {
    await this.timed(this.requireClient().publish(this.channel, JSON.stringify({ keyId: change.keyId, reason: change.reason })), INVALIDATE_TIMEOUT_MS);
  }

  /** Subscribes on a dedicated connection; returns a function that closes it. */
  subscribe(onChange: (change: KeyChange) => void): () => Promise<void> {
    const subscriber = this.redis.connect('subscriber');
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const change = JSON.parse(message) as KeyChange;
        if (typeof change?.keyId === 'string') onChange(change);
      } catch {
        // not ours
      }
    });
    void subscriber.subscribe(this.channel).catch(() => {
      // ioredis re-subscribes when the connection comes back
    });
    return async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    };
  }

  /** Counts one request in the key's current one-second window; returns the count so far. */
  async countRequest(keyId: string, windowId: number): Promise<number> {
    return this.timed(this.requireClient().coniferRateWindow(this.redis.key(`auth:rate:${keyId}:${windowId}`), 2_000));
  }

  private timed<T>(operation: Promise<T>, ms = REDIS_TIMEOUT_MS): Promise<T> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.suspendedUntil = Date.now() + SUSPEND_AFTER_TIMEOUT_MS;
        reject(new RedisTimeoutError(`Redis did not answer within ${ms} ms`));
      }, ms);
    });
    operation.catch(() => {}); // a late failure after the timeout is not unhandled
    return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
  }

  private entryKey(keyId: string): string {
    return this.redis.key(`auth:key:${keyId}`);
  }

  private generationKey(keyId: string): string {
    return this.redis.key(`auth:key-gen:${keyId}`);
  }

  private requireClient(): ScriptedRedis {
    if (!this.client) throw new Error('Redis is not configured');
    return this.client;
  }
}
