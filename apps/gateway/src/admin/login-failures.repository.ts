// Token-request attempts per client address in Redis (a sorted set of attempt times per address), so every
// replica sees the same count. An attempt is checked and counted in one Lua call before the credentials are
// checked, and removed again when they were right: concurrent attempts cannot all pass the check. Only used
// when Redis is configured.
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisService } from '../redis/redis.service.js';

// KEYS[1] the set; ARGV: now, window ms, limit, member. Returns {1, member} when counted, {0, oldest counted time}
// when the limit is reached (the time that leaves the window first, for Retry-After).
const ATTEMPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local first = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return {0, first[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return {1, ARGV[4]}`;

type ScriptedRedis = Redis & { coniferLoginAttempt(key: string, now: number, windowMs: number, limit: number, member: string): Promise<[number, string]> };

export type SharedAttempt = { readonly counted: true; readonly member: string } | { readonly counted: false; readonly oldest: number };

@Injectable()
export class LoginFailuresRepository {
  constructor(@Inject(RedisService) private readonly redis: RedisService) {
    redis.client?.defineCommand('coniferLoginAttempt', { numberOfKeys: 1, lua: ATTEMPT });
  }

  get enabled(): boolean {
    return this.redis.enabled;
  }

  private key(address: string): string {
    return this.redis.key(`admin-login-failures:${address}`);
  }

  /** Counts an attempt unless `limit` attempts are already counted within the window. */
  async attempt(address: string, now: number, windowMs: number, limit: number): Promise<SharedAttempt> {
    const member = `${now}:${randomBytes(6).toString('hex')}`;
    const [counted, value] = await (this.redis.client as ScriptedRedis).coniferLoginAttempt(this.key(address), now, windowMs, limit, member);
    return counted === 1 ? { counted: true, member: value } : { counted: false, oldest: Number(value) };
  }

  /** Un-counts an attempt whose credentials were right. */
  async forget(address: string, member: string): Promise<void> {
    await this.redis.client!.zrem(this.key(address), member);
  }
}
