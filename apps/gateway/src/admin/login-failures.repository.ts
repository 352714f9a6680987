// Failed token requests per client address in Redis (a sorted set of failure times per address), so every
// replica sees the same count. Only used when Redis is configured.
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';

@Injectable()
export class LoginFailuresRepository {
  constructor(@Inject(RedisService) private readonly redis: RedisService) {}

  get enabled(): boolean {
    return this.redis.enabled;
  }

  private key(address: string): string {
    return this.redis.key(`admin-login-failures:${address}`);
  }

  /** Failure times (ms) within the window, oldest first. */
  async recent(address: string, now: number, windowMs: number): Promise<number[]> {
    const key = this.key(address);
    const results = await this.redis.client!.multi().zremrangebyscore(key, '-inf', now - windowMs).zrange(key, 0, -1, 'WITHSCORES').exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
    const flat = results[1]![1] as string[];
    const times: number[] = [];
    for (let i = 1; i < flat.length; i += 2) times.push(Number(flat[i]));
    return times;
  }

  /** Adds a failure; keeps at most `keep` entries and lets the set expire with the window. */
  async add(address: string, now: number, windowMs: number, keep: number): Promise<void> {
    const key = this.key(address);
    const results = await this.redis
      .client!.multi()
      .zadd(key, now, `${now}:${randomBytes(4).toString('hex')}`)
      .zremrangebyrank(key, 0, -(keep + 1))
      .pexpire(key, windowMs)
      .exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('Redis transaction aborted');
  }
}
