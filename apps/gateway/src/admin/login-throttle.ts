// Throttles POST /oauth/token per client address over a sliding window: at most CONIFER_ADMIN_LOGIN_MAX_FAILURES
// failed attempts per CONIFER_ADMIN_LOGIN_WINDOW_SECONDS. Each attempt is counted before the credentials are
// checked (check and count in one step: in process synchronously, in Redis in one Lua call) and un-counted when
// they were right, so 40 concurrent wrong attempts against a limit of 10 get 10 answers and 30 × 429. With Redis
// the count is shared by every replica; without it, or while Redis is unreachable, each replica counts its own
// (so an address gets at most N× the limit across N replicas).
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';
import { LoginFailuresRepository } from './login-failures.repository.js';

const MAX_ADDRESSES = 50_000;

/** A counted attempt: call `succeeded` when the credentials were right (it is then not a failure). */
export interface LoginAttempt {
  readonly retryAfterSeconds: 0;
  succeeded(): Promise<void>;
}

@Injectable()
export class LoginThrottle {
  private readonly attempts = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(
    @Inject(CONFIG) config: ConiferConfig,
    @Inject(LoginFailuresRepository) private readonly shared: Pick<LoginFailuresRepository, 'enabled' | 'attempt' | 'forget'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.limit = config.gateway.adminLoginMaxFailures;
    this.windowMs = config.gateway.adminLoginWindowSeconds * 1000;
  }

  /** Refused ({retryAfterSeconds > 0}, nothing counted) or counted. */
  async attempt(address: string, now = Date.now()): Promise<LoginAttempt | { readonly retryAfterSeconds: number }> {
    // Locally first, synchronously (no await between the check and the count).
    const times = this.recent(address, now);
    if (times.length >= this.limit && !this.shared.enabled) return { retryAfterSeconds: this.wait(times[times.length - this.limit]!, now) };
    const local = times.length < this.limit;
    if (local) this.remember(address, times, now);
    const undoLocal = () => {
      const current = this.attempts.get(address);
      const at = current?.lastIndexOf(now) ?? -1;
      if (at !== -1) current!.splice(at, 1);
    };
    if (!this.shared.enabled) return { retryAfterSeconds: 0, succeeded: async () => undoLocal() };
    try {
      const outcome = await this.shared.attempt(address, now, this.windowMs, this.limit);
      if (!outcome.counted) {
        if (local) undoLocal();
        return { retryAfterSeconds: this.wait(outcome.oldest, now) };
      }
      return {
        retryAfterSeconds: 0,
        succeeded: async () => {
          if (local) undoLocal();
          await this.shared.forget(address, outcome.member).catch((error: unknown) => {
            this.logger.debug({ err: (error as Error).message }, 'login throttle: Redis unavailable');
          });
        },
      };
    } catch (error) {
      this.logger.debug({ err: (error as Error).message }, 'login throttle: Redis unavailable, counting locally');
      if (!local) return { retryAfterSeconds: this.wait(times[times.length - this.limit]!, now) };
      return { retryAfterSeconds: 0, succeeded: async () => undoLocal() };
    }
  }

  private wait(oldest: number, now: number): number {
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  private remember(address: string, times: number[], now: number): void {
    times.push(now);
    this.attempts.delete(address);
    this.attempts.set(address, times);
    if (this.attempts.size > MAX_ADDRESSES) this.attempts.delete(this.attempts.keys().next().value as string);
  }

  private recent(address: string, now: number): number[] {
    const times = this.attempts.get(address) ?? [];
    const cutoff = now - this.windowMs;
    while (times.length > 0 && times[0]! <= cutoff) times.shift();
    if (times.length === 0) this.attempts.delete(address);
    return times;
  }
}
