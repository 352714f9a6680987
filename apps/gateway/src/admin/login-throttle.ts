// Throttles failed POST /oauth/token attempts per client address over a sliding window. With Redis the count
// is shared by every replica; without it, or while Redis is unreachable, each replica counts its own (so an
// address gets at most N× the limit across N replicas).
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';
import { LoginFailuresRepository } from './login-failures.repository.js';

const MAX_ADDRESSES = 50_000;

@Injectable()
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(
    @Inject(CONFIG) config: ConiferConfig,
    @Inject(LoginFailuresRepository) private readonly shared: Pick<LoginFailuresRepository, 'enabled' | 'recent' | 'add'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.limit = config.gateway.adminLoginMaxFailures;
    this.windowMs = config.gateway.adminLoginWindowSeconds * 1000;
  }

  /** Seconds until the address may try again, or 0 when it may try now. */
  async retryAfterSeconds(address: string, now = Date.now()): Promise<number> {
    let times = this.recent(address, now);
    if (this.shared.enabled) {
      try {
        times = await this.shared.recent(address, now, this.windowMs);
      } catch (error) {
        this.logger.debug({ err: (error as Error).message }, 'login throttle: Redis unavailable, counting locally');
      }
    }
    if (times.length < this.limit) return 0;
    return Math.max(1, Math.ceil((times[times.length - this.limit]! + this.windowMs - now) / 1000));
  }

  async recordFailure(address: string, now = Date.now()): Promise<void> {
    const times = this.recent(address, now);
    times.push(now);
    if (times.length > this.limit) times.splice(0, times.length - this.limit);
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
    if (this.shared.enabled) {
      await this.shared.add(address, now, this.windowMs, this.limit).catch((error: unknown) => {
        this.logger.debug({ err: (error as Error).message }, 'login throttle: Redis unavailable, counting locally');
      });
    }
  }

  private recent(address: string, now: number): number[] {
    const times = this.failures.get(address) ?? [];
    const cutoff = now - this.windowMs;
    while (times.length > 0 && times[0]! <= cutoff) times.shift();
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
