// Throttles failed POST /oauth/token attempts per client address: a sliding window of failure times kept in
// process (each replica counts its own; with N replicas an address gets at most N× the limit).
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import { CONFIG } from '../config/runtime.js';

const MAX_ADDRESSES = 50_000;

@Injectable()
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;

  constructor(@Inject(CONFIG) config: ConiferConfig) {
    this.limit = config.gateway.adminLoginMaxFailures;
    this.windowMs = config.gateway.adminLoginWindowSeconds * 1000;
  }

  /** Seconds until the address may try again, or 0 when it may try now. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const times = this.recent(address, now);
    if (times.length < this.limit) return 0;
    return Math.max(1, Math.ceil((times[times.length - this.limit]! + this.windowMs - now) / 1000));
  }

  recordFailure(address: string, now = Date.now()): void {
    const times = this.recent(address, now);
    times.push(now);
    if (times.length > this.limit) times.splice(0, times.length - this.limit);
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recent(address: string, now: number): number[] {
    const times = this.failures.get(address) ?? [];
    const cutoff = now - this.windowMs;
    while (times.length > 0 && times[0]! <= cutoff) times.shift();
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
