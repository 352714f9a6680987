// Per-key request limits (rate_limit_per_second; null = unlimited). A fixed one-second window counted in
// Redis, so every replica shares one budget per key. When Redis is unavailable (or absent: single-node mode)
// each replica counts locally: the limit then holds per replica, so a cluster of N replicas may let through
// up to N times the limit until Redis is back. Requests are never refused because Redis is down.
import type { KeyCacheRedisRepository } from './key-cache.redis.repository.js';

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterMs: number };

const ALLOWED: RateDecision = { allowed: true };
const LOCAL_MAX_KEYS = 100_000;

export class RateLimiter {
  private readonly local = new Map<string, { window: number; count: number }>();

  constructor(private readonly shared: Pick<KeyCacheRedisRepository, 'available' | 'countRequest'> | null) {}

  async check(keyId: string, limitPerSecond: number | null, now: number): Promise<RateDecision> {
    if (limitPerSecond === null) return ALLOWED;
    const window = Math.floor(now / 1000);
    const retryAfterMs = (window + 1) * 1000 - now;
    if (limitPerSecond <= 0) return { allowed: false, retryAfterMs };
    let count: number | undefined;
    if (this.shared?.available) {
      try {
        count = await this.shared.countRequest(keyId, window);
      } catch {
        count = undefined;
      }
    }
    if (count === undefined) count = this.countLocally(keyId, window);
    return count <= limitPerSecond ? ALLOWED : { allowed: false, retryAfterMs };
  }

  private countLocally(keyId: string, window: number): number {
    const current = this.local.get(keyId);
    if (current && current.window === window) return ++current.count;
    if (!current && this.local.size >= LOCAL_MAX_KEYS) {
      for (const [id, state] of this.local) if (state.window !== window) this.local.delete(id);
      if (this.local.size >= LOCAL_MAX_KEYS) this.local.clear();
    }
    this.local.set(keyId, { window, count: 1 });
    return 1;
  }
}
