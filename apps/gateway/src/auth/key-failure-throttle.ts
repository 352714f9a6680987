// Throttles invalid API keys per client address: after MAX_FAILURES malformed or unknown keys (wrong secret
// included) within one window, every Api-Key request from that address is answered 429 until the window ends,
// valid key or not, so guessing gets no answers. Missing, revoked and expired keys are not guesses and do not
// count. Fixed windows counted in process: each replica counts its own (N replicas: up to N× the limit).
import { Injectable } from '@nestjs/common';

export const KEY_FAILURE_LIMIT = 1_000;
export const KEY_FAILURE_WINDOW_MS = 60_000;
const MAX_ADDRESSES = 50_000;

@Injectable()
export class KeyFailureThrottle {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number = KEY_FAILURE_LIMIT,
    private readonly windowMs: number = KEY_FAILURE_WINDOW_MS,
  ) {}

  /** Seconds until the address may present keys again, or 0 when it may now. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (!window) return 0;
    if (now - window.start >= this.windowMs) {
      this.windows.delete(address);
      return 0;
    }
    return window.count >= this.limit ? Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)) : 0;
  }

  recordFailure(address: string, now = Date.now()): void {
    const window = this.windows.get(address);
    if (window && now - window.start < this.windowMs) {
      window.count++;
      return;
    }
    if (!window && this.windows.size >= MAX_ADDRESSES) {
      for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
      if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value as string);
    }
    this.windows.set(address, { start: now, count: 1 });
  }
}
